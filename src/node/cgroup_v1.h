// The cgroup v1 driver: one directory per pod under <hierarchy>/<subtree> in each of the cpu,
// memory, pids and cpuacct hierarchies that are mounted. Limits go to cpu.cfs_period_us
// (100000) and cpu.cfs_quota_us, memory.limit_in_bytes and memory.memsw.limit_in_bytes (when
// the kernel accounts swap, set to the same value so pods get no swap), and pids.max.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "node/cgroups.h"

namespace xblocks {

// Mount points of the v1 hierarchies. An empty path means "not mounted". When cpu and cpuacct
// share one hierarchy ("cpu,cpuacct"), both fields hold the same path.
struct CgroupV1Hierarchies {
  std::string cpu;
  std::string memory;
  std::string pids;     // optional: without it pids limits are not enforced
  std::string cpuacct;  // optional: without it Read has no CPU usage
};

// Thread-safety: calls for different cgroup names may run concurrently; calls for one name
// must not overlap.
class CgroupV1Driver : public CgroupDriver {
 public:
  // Precondition: `hierarchies.cpu` and `hierarchies.memory` are set.
  CgroupV1Driver(std::shared_ptr<CgroupFs> fs, CgroupV1Hierarchies hierarchies, std::string subtree,
                 std::chrono::milliseconds remove_timeout);

  Status Init() override;
  Status Cleanup() override;
  Status Create(const std::string& name, const Limits& limits) override;
  Status Update(const std::string& name, const Limits& limits) override;
  Status AddProcess(const std::string& name, pid_t pid) override;
  Status Remove(const std::string& name) override;
  Result<Usage> Read(const std::string& name) const override;
  std::string Describe() const override;

 private:
  // The distinct mounted hierarchies, each once.
  std::vector<std::string> Mounts() const;
  std::string SubtreeIn(const std::string& mount) const;
  std::vector<std::string> DirsOf(const std::string& name) const;
  Status ApplyLimits(const std::string& name, const Limits& limits);
  Status ApplyCpu(const std::string& dir, const Limits& limits);
  Status ApplyMemory(const std::string& dir, const Limits& limits);
  Status ApplyPids(const std::string& name, const Limits& limits);

  std::shared_ptr<CgroupFs> fs_;
  CgroupV1Hierarchies hierarchies_;
  std::string subtree_;
  std::chrono::milliseconds remove_timeout_;
};

}  // namespace xblocks
