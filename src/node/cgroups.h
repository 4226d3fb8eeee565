// Resource limits for embedded-mode pods: one cgroup per pod, inside a subtree the node agent
// owns (default "xblocks" under each hierarchy). The agent creates the subtree at start (Init),
// removes it at stop (Cleanup), and never writes outside it.
//
// Two drivers: cgroup v2 where the unified hierarchy offers the memory and cpu controllers, and
// cgroup v1 where memory and cpu are v1 hierarchies (the common hybrid layout). Where neither is
// writable, NoCgroupDriver records why, so the pod can carry a condition saying limits are not
// enforced.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "node/cgroup_fs.h"

namespace xblocks {

// Limits of one cgroup. A field without a value means "unlimited".
struct Limits {
  std::optional<int64_t> cpu_millis;    // 1000 = one CPU; enforced as a CFS quota per 100 ms
  std::optional<int64_t> memory_bytes;  // hard limit; the kernel OOM-kills above it
  std::optional<int64_t> pids;          // maximum number of tasks
};

// The kernel's counters for one cgroup. A field is empty when this kernel or driver does not
// expose it.
struct Usage {
  std::optional<int64_t> memory_bytes;       // current usage
  std::optional<int64_t> memory_peak_bytes;  // maximum usage since creation
  std::optional<int64_t> oom_kills;          // processes killed by the OOM killer in this cgroup
  std::optional<int64_t> cpu_usage_nanos;    // total CPU time consumed
  std::optional<int64_t> cpu_throttled_periods;  // CFS periods in which the quota ran out
};

// The CFS period every driver writes: 100 ms, as kubelet uses.
inline constexpr int64_t kCfsPeriodMicros = 100000;
// The smallest quota the kernel accepts; smaller CPU limits are raised to it, as kubelet does.
inline constexpr int64_t kMinCfsQuotaMicros = 1000;

class CgroupDriver {
 public:
  virtual ~CgroupDriver() = default;

  // Creates the driver's subtree, or reuses it when it exists. Call once before Create.
  virtual Status Init() = 0;
  // Removes every pod cgroup in the subtree (killing what runs there), then the subtree.
  virtual Status Cleanup() = 0;

  // Creates the cgroup `name` in the subtree and applies `limits`. Creating a cgroup that
  // exists applies the limits to it, so an agent that restarts can adopt its cgroups.
  // `name` must be one path component of [A-Za-z0-9._-], at most 200 characters, not "." or
  // "..". Returns Invalid for a bad name or limit, Internal when the kernel rejects a write.
  virtual Status Create(const std::string& name, const Limits& limits) = 0;
  // Replaces the limits of an existing cgroup: fields without a value become unlimited.
  // Returns NotFound when the cgroup does not exist.
  virtual Status Update(const std::string& name, const Limits& limits) = 0;
  // Moves the process `pid` into the cgroup. Returns NotFound or Internal.
  virtual Status AddProcess(const std::string& name, pid_t pid) = 0;
  // Kills every process in the cgroup with SIGKILL, then removes it, retrying while the kernel
  // reports it busy (up to CgroupOptions::remove_timeout). Removing a missing cgroup is Ok.
  virtual Status Remove(const std::string& name) = 0;
  // Reads usage counters. Returns NotFound when the cgroup does not exist.
  virtual Result<Usage> Read(const std::string& name) const = 0;
  // One line for logs and pod conditions, e.g. "cgroup v1 (memory=/sys/fs/cgroup/memory ...)".
  virtual std::string Describe() const = 0;
  // Whether Create enforces limits; false only for NoCgroupDriver.
  virtual bool EnforcesLimits() const { return true; }
};

struct CgroupOptions {
  // The directory of the cgroup hierarchies. Empty: find the mounts in `mountinfo_path`. Set (tests, or
  // a delegated tree): a v2 tree when `root`/cgroup.controllers exists, else v1 hierarchies as
  // subdirectories named after their controllers (`root`/memory, `root`/cpu or cpu,cpuacct ...).
  std::string root;
  std::string mountinfo_path = "/proc/self/mountinfo";
  // The agent's own subtree under each hierarchy; one path component.
  std::string subtree = "xblocks";
  // How long Remove keeps retrying a busy cgroup.
  std::chrono::milliseconds remove_timeout{2000};
  // The kernel seam; PosixCgroupFs when null.
  std::shared_ptr<CgroupFs> fs;
};

// Chooses the driver for this machine: v2 when the unified hierarchy's root cgroup.controllers
// lists memory and cpu, else v1 when writable memory and cpu v1 hierarchies are mounted, else a
// NoCgroupDriver that carries the reason. Returns Invalid only for a bad `options.subtree`.
Result<std::unique_ptr<CgroupDriver>> DetectCgroupDriver(const CgroupOptions& options);

// The driver of a machine where limits cannot be enforced. Create returns an Unavailable status
// whose message explains why, so the caller can record it; AddProcess and Remove succeed
// without doing anything, so pods still run.
class NoCgroupDriver : public CgroupDriver {
 public:
  explicit NoCgroupDriver(std::string reason) : reason_(std::move(reason)) {}

  Status Init() override { return Status::Ok(); }
  Status Cleanup() override { return Status::Ok(); }
  Status Create(const std::string& name, const Limits& limits) override;
  Status Update(const std::string& name, const Limits& limits) override;
  Status AddProcess(const std::string& name, pid_t pid) override { return Status::Ok(); }
  Status Remove(const std::string& name) override { return Status::Ok(); }
  Result<Usage> Read(const std::string& name) const override;
  std::string Describe() const override;
  bool EnforcesLimits() const override { return false; }

 private:
  std::string reason_;
};

// Checks a cgroup name as CgroupDriver::Create documents it. Returns Invalid naming the value.
Status ValidateCgroupName(const std::string& name);
// Checks that every limit that has a value is positive and small enough for the kernel.
Status ValidateLimits(const Limits& limits);
// The CFS quota for `cpu_millis` over kCfsPeriodMicros, raised to kMinCfsQuotaMicros.
int64_t CfsQuotaMicros(int64_t cpu_millis);

// Kills the processes listed in each `procs_files` with SIGKILL, then removes each directory
// of `dirs`, re-signalling and retrying while a removal reports busy, for up to `timeout`.
// Directories that do not exist are skipped. Shared by both drivers.
Status KillAndRemove(CgroupFs& fs, const std::vector<std::string>& dirs, std::chrono::milliseconds timeout);

}  // namespace xblocks
