// The cgroup v2 driver: one directory per pod under <root>/<subtree> in the unified hierarchy.
// Limits go to cpu.max ("quota period"), memory.max, memory.swap.max (always 0: pods get no
// swap, as with kubelet's default) and pids.max. Init enables the cpu, memory and pids
// controllers in the subtree's cgroup.subtree_control, so the parent of the subtree must
// already delegate them (list them in its own cgroup.subtree_control).
#pragma once

#include <memory>
#include <string>

#include "node/cgroups.h"

namespace xblocks {

// Thread-safety: calls for different cgroup names may run concurrently; calls for one name
// must not overlap.
class CgroupV2Driver : public CgroupDriver {
 public:
  // `root` is the cgroup2 mount (or a delegated cgroup in it); `subtree` one path component.
  CgroupV2Driver(std::shared_ptr<CgroupFs> fs, std::string root, std::string subtree,
                 std::chrono::milliseconds remove_timeout);

  // Also returns Unavailable when the subtree does not receive the memory and cpu controllers.
  Status Init() override;
  Status Cleanup() override;
  Status Create(const std::string& name, const Limits& limits) override;
  Status Update(const std::string& name, const Limits& limits) override;
  Status AddProcess(const std::string& name, pid_t pid) override;
  Status Remove(const std::string& name) override;
  Result<Usage> Read(const std::string& name) const override;
  std::string Describe() const override;

 private:
  std::string SubtreePath() const;
  std::string PathOf(const std::string& name) const;
  Status ApplyLimits(const std::string& dir, const Limits& limits);
  Status RemoveDir(const std::string& dir);

  std::shared_ptr<CgroupFs> fs_;
  std::string root_;
  std::string subtree_;
  std::chrono::milliseconds remove_timeout_;
};

// Whether a cgroup.controllers text lists `controller` as a whole word.
bool ListsController(const std::string& controllers, const std::string& controller);

}  // namespace xblocks
