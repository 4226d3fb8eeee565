// Finding the cgroup hierarchies of this machine, for DetectCgroupDriver.
#pragma once

#include <string>

#include "node/cgroup_v1.h"

namespace xblocks {

struct CgroupMounts {
  std::string unified;  // the cgroup2 mount point, empty when none is mounted
  CgroupV1Hierarchies v1;
};

// Reads the cgroup and cgroup2 mounts of a /proc/<pid>/mountinfo text. For each controller the
// first mount wins. Octal escapes in mount points (\040 for a space) are decoded.
CgroupMounts ParseCgroupMounts(const std::string& mountinfo);

// The hierarchies of a configured root: `root` itself as a cgroup2 tree when it has
// cgroup.controllers, and v1 hierarchies in subdirectories named after their controllers
// ("cpu", "cpu,cpuacct", "memory", "pids", "cpuacct").
CgroupMounts ProbeCgroupRoot(const CgroupFs& fs, const std::string& root);

}  // namespace xblocks
