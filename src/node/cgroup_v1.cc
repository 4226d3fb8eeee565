#include "node/cgroup_v1.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/log.h"

namespace xblocks {
namespace {

// v1 spells "unlimited" as -1 in cfs_quota_us and the memory limits.
constexpr const char* kV1Unlimited = "-1";

std::string ValueOrUnlimited(const std::optional<int64_t>& value) {
  return value ? std::to_string(*value) : std::string(kV1Unlimited);
}

std::optional<int64_t> ReadSingle(const CgroupFs& fs, const std::string& path) {
  Result<std::string> text = fs.ReadFile(path);
  if (!text.ok()) return std::nullopt;
  return ParseSingleValue(*text);
}

std::optional<int64_t> ReadKeyed(const CgroupFs& fs, const std::string& path, const std::string& key) {
  Result<std::string> text = fs.ReadFile(path);
  if (!text.ok()) return std::nullopt;
  return FindKeyedValue(*text, key);
}

}  // namespace

CgroupV1Driver::CgroupV1Driver(std::shared_ptr<CgroupFs> fs, CgroupV1Hierarchies hierarchies, std::string subtree,
                               std::chrono::milliseconds remove_timeout)
    : fs_(std::move(fs)),
      hierarchies_(std::move(hierarchies)),
      subtree_(std::move(subtree)),
      remove_timeout_(remove_timeout) {}

std::vector<std::string> CgroupV1Driver::Mounts() const {
  std::vector<std::string> mounts;
  for (const std::string* mount : {&hierarchies_.cpu, &hierarchies_.memory, &hierarchies_.pids, &hierarchies_.cpuacct}) {
    if (!mount->empty() && std::find(mounts.begin(), mounts.end(), *mount) == mounts.end()) mounts.push_back(*mount);
  }
  return mounts;
}

std::string CgroupV1Driver::SubtreeIn(const std::string& mount) const { return mount + "/" + subtree_; }

std::vector<std::string> CgroupV1Driver::DirsOf(const std::string& name) const {
  std::vector<std::string> dirs;
  for (const std::string& mount : Mounts()) dirs.push_back(SubtreeIn(mount) + "/" + name);
  return dirs;
}

Status CgroupV1Driver::Init() {
  for (const std::string& mount : Mounts()) {
    Status made = fs_->MakeDir(SubtreeIn(mount));
    if (!made.ok() && made.code() != StatusCode::kAlreadyExists) return made;
  }
  return Status::Ok();
}

Status CgroupV1Driver::Cleanup() {
  for (const std::string& mount : Mounts()) {
    std::string subtree = SubtreeIn(mount);
    if (!fs_->Exists(subtree)) continue;
    Result<std::vector<std::string>> children = fs_->ListDirs(subtree);
    if (!children.ok()) return children.status();
    std::vector<std::string> dirs;
    for (const std::string& child : *children) dirs.push_back(subtree + "/" + child);
    dirs.push_back(subtree);
    XB_RETURN_IF_ERROR(KillAndRemove(*fs_, dirs, remove_timeout_));
  }
  return Status::Ok();
}

Status CgroupV1Driver::Create(const std::string& name, const Limits& limits) {
  XB_RETURN_IF_ERROR(ValidateCgroupName(name));
  XB_RETURN_IF_ERROR(ValidateLimits(limits));
  for (const std::string& dir : DirsOf(name)) {
    Status made = fs_->MakeDir(dir);
    if (!made.ok() && made.code() != StatusCode::kAlreadyExists) return made;
  }
  return ApplyLimits(name, limits);
}

Status CgroupV1Driver::Update(const std::string& name, const Limits& limits) {
  XB_RETURN_IF_ERROR(ValidateCgroupName(name));
  XB_RETURN_IF_ERROR(ValidateLimits(limits));
  for (const std::string& dir : DirsOf(name)) {
    if (!fs_->Exists(dir)) return NotFound(fmt::format("cgroup {} not found", dir));
  }
  return ApplyLimits(name, limits);
}

Status CgroupV1Driver::ApplyLimits(const std::string& name, const Limits& limits) {
  XB_RETURN_IF_ERROR(ApplyCpu(SubtreeIn(hierarchies_.cpu) + "/" + name, limits));
  XB_RETURN_IF_ERROR(ApplyMemory(SubtreeIn(hierarchies_.memory) + "/" + name, limits));
  return ApplyPids(name, limits);
}

Status CgroupV1Driver::ApplyCpu(const std::string& dir, const Limits& limits) {
  XB_RETURN_IF_ERROR(fs_->WriteFile(dir + "/cpu.cfs_period_us", std::to_string(kCfsPeriodMicros)));
  std::string quota = limits.cpu_millis ? std::to_string(CfsQuotaMicros(*limits.cpu_millis)) : kV1Unlimited;
  return fs_->WriteFile(dir + "/cpu.cfs_quota_us", quota);
}

Status CgroupV1Driver::ApplyMemory(const std::string& dir, const Limits& limits) {
  std::string limit = ValueOrUnlimited(limits.memory_bytes);
  std::string memsw = dir + "/memory.memsw.limit_in_bytes";
  if (!fs_->Exists(memsw)) return fs_->WriteFile(dir + "/memory.limit_in_bytes", limit);

  // The kernel keeps memsw >= limit at every step, so lift memsw first, then set both.
  XB_RETURN_IF_ERROR(fs_->WriteFile(memsw, kV1Unlimited));
  XB_RETURN_IF_ERROR(fs_->WriteFile(dir + "/memory.limit_in_bytes", limit));
  return fs_->WriteFile(memsw, limit);
}

Status CgroupV1Driver::ApplyPids(const std::string& name, const Limits& limits) {
  if (hierarchies_.pids.empty()) {
    if (limits.pids) XB_LOG_WARN("pids limit not enforced", {{"cgroup", name}, {"err", "no pids hierarchy is mounted"}});
    return Status::Ok();
  }
  std::string value = limits.pids ? std::to_string(*limits.pids) : std::string("max");
  return fs_->WriteFile(SubtreeIn(hierarchies_.pids) + "/" + name + "/pids.max", value);
}

Status CgroupV1Driver::AddProcess(const std::string& name, pid_t pid) {
  XB_RETURN_IF_ERROR(ValidateCgroupName(name));
  for (const std::string& dir : DirsOf(name)) XB_RETURN_IF_ERROR(fs_->WriteFile(dir + "/cgroup.procs", std::to_string(pid)));
  return Status::Ok();
}

Status CgroupV1Driver::Remove(const std::string& name) {
  XB_RETURN_IF_ERROR(ValidateCgroupName(name));
  return KillAndRemove(*fs_, DirsOf(name), remove_timeout_);
}

Result<Usage> CgroupV1Driver::Read(const std::string& name) const {
  XB_RETURN_IF_ERROR(ValidateCgroupName(name));
  std::string memory = SubtreeIn(hierarchies_.memory) + "/" + name;
  std::string cpu = SubtreeIn(hierarchies_.cpu) + "/" + name;
  if (!fs_->Exists(memory)) return NotFound(fmt::format("cgroup {} not found", memory));

  Usage usage;
  usage.memory_bytes = ReadSingle(*fs_, memory + "/memory.usage_in_bytes");
  usage.memory_peak_bytes = ReadSingle(*fs_, memory + "/memory.max_usage_in_bytes");
  // The oom_kill line appeared in Linux 4.13; older kernels leave oom_kills empty.
  usage.oom_kills = ReadKeyed(*fs_, memory + "/memory.oom_control", "oom_kill");
  usage.cpu_throttled_periods = ReadKeyed(*fs_, cpu + "/cpu.stat", "nr_throttled");
  if (!hierarchies_.cpuacct.empty()) {
    usage.cpu_usage_nanos = ReadSingle(*fs_, SubtreeIn(hierarchies_.cpuacct) + "/" + name + "/cpuacct.usage");
  }
  return usage;
}

std::string CgroupV1Driver::Describe() const {
  return fmt::format("cgroup v1 (cpu={} memory={} pids={} cpuacct={}, subtree {})", hierarchies_.cpu,
                     hierarchies_.memory, hierarchies_.pids.empty() ? "none" : hierarchies_.pids,
                     hierarchies_.cpuacct.empty() ? "none" : hierarchies_.cpuacct, subtree_);
}

}  // namespace xblocks
