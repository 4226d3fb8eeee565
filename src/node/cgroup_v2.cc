#include "node/cgroup_v2.h"

#include <sstream>

#include <fmt/format.h>

#include "common/log.h"

namespace xblocks {
namespace {

std::string CpuMax(const Limits& limits) {
  if (!limits.cpu_millis) return fmt::format("max {}", kCfsPeriodMicros);
  return fmt::format("{} {}", CfsQuotaMicros(*limits.cpu_millis), kCfsPeriodMicros);
}

std::string ValueOrMax(const std::optional<int64_t>& value) {
  return value ? std::to_string(*value) : std::string("max");
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

bool ListsController(const std::string& controllers, const std::string& controller) {
  std::istringstream words(controllers);
  std::string word;
  while (words >> word) {
    if (word == controller) return true;
  }
  return false;
}

CgroupV2Driver::CgroupV2Driver(std::shared_ptr<CgroupFs> fs, std::string root, std::string subtree,
                               std::chrono::milliseconds remove_timeout)
    : fs_(std::move(fs)), root_(std::move(root)), subtree_(std::move(subtree)), remove_timeout_(remove_timeout) {}

std::string CgroupV2Driver::SubtreePath() const { return root_ + "/" + subtree_; }

std::string CgroupV2Driver::PathOf(const std::string& name) const { return SubtreePath() + "/" + name; }

Status CgroupV2Driver::Init() {
  Status made = fs_->MakeDir(SubtreePath());
  if (!made.ok() && made.code() != StatusCode::kAlreadyExists) return made;

  Result<std::string> available = fs_->ReadFile(SubtreePath() + "/cgroup.controllers");
  if (!available.ok()) return available.status();
  if (!ListsController(*available, "memory") || !ListsController(*available, "cpu")) {
    return Status(StatusCode::kUnavailable,
                  fmt::format("cgroup {} does not receive the memory and cpu controllers (it has \"{}\"); "
                              "enable them in the cgroup.subtree_control of {}",
                              SubtreePath(), *available, root_));
  }

  // Pod cgroups below the subtree get the controllers only once the subtree enables them.
  std::string enable = "+cpu +memory";
  if (ListsController(*available, "pids")) enable += " +pids";
  return fs_->WriteFile(SubtreePath() + "/cgroup.subtree_control", enable);
}

Status CgroupV2Driver::Cleanup() {
  if (!fs_->Exists(SubtreePath())) return Status::Ok();
  Result<std::vector<std::string>> children = fs_->ListDirs(SubtreePath());
  if (!children.ok()) return children.status();
  for (const std::string& child : *children) XB_RETURN_IF_ERROR(RemoveDir(PathOf(child)));
  return KillAndRemove(*fs_, {SubtreePath()}, remove_timeout_);
}

Status CgroupV2Driver::Create(const std::string& name, const Limits& limits) {
  XB_RETURN_IF_ERROR(ValidateCgroupName(name));
  XB_RETURN_IF_ERROR(ValidateLimits(limits));
  Status made = fs_->MakeDir(PathOf(name));
  if (!made.ok() && made.code() != StatusCode::kAlreadyExists) return made;
  return ApplyLimits(PathOf(name), limits);
}

Status CgroupV2Driver::Update(const std::string& name, const Limits& limits) {
  XB_RETURN_IF_ERROR(ValidateCgroupName(name));
  XB_RETURN_IF_ERROR(ValidateLimits(limits));
  if (!fs_->Exists(PathOf(name))) return NotFound(fmt::format("cgroup {} not found", PathOf(name)));
  return ApplyLimits(PathOf(name), limits);
}

Status CgroupV2Driver::ApplyLimits(const std::string& dir, const Limits& limits) {
  XB_RETURN_IF_ERROR(fs_->WriteFile(dir + "/cpu.max", CpuMax(limits)));
  XB_RETURN_IF_ERROR(fs_->WriteFile(dir + "/memory.max", ValueOrMax(limits.memory_bytes)));
  // memory.swap.max exists only when the kernel accounts swap.
  if (fs_->Exists(dir + "/memory.swap.max")) XB_RETURN_IF_ERROR(fs_->WriteFile(dir + "/memory.swap.max", "0"));

  if (fs_->Exists(dir + "/pids.max")) return fs_->WriteFile(dir + "/pids.max", ValueOrMax(limits.pids));
  if (limits.pids) XB_LOG_WARN("pids limit not enforced", {{"cgroup", dir}, {"err", "no pids.max in the cgroup"}});
  return Status::Ok();
}

Status CgroupV2Driver::AddProcess(const std::string& name, pid_t pid) {
  XB_RETURN_IF_ERROR(ValidateCgroupName(name));
  return fs_->WriteFile(PathOf(name) + "/cgroup.procs", std::to_string(pid));
}

Status CgroupV2Driver::Remove(const std::string& name) {
  XB_RETURN_IF_ERROR(ValidateCgroupName(name));
  return RemoveDir(PathOf(name));
}

Status CgroupV2Driver::RemoveDir(const std::string& dir) {
  if (!fs_->Exists(dir)) return Status::Ok();
  // cgroup.kill (Linux 5.14+) kills every process in the cgroup at once, forks included.
  if (fs_->Exists(dir + "/cgroup.kill")) XB_RETURN_IF_ERROR(fs_->WriteFile(dir + "/cgroup.kill", "1"));
  return KillAndRemove(*fs_, {dir}, remove_timeout_);
}

Result<Usage> CgroupV2Driver::Read(const std::string& name) const {
  XB_RETURN_IF_ERROR(ValidateCgroupName(name));
  std::string dir = PathOf(name);
  if (!fs_->Exists(dir)) return NotFound(fmt::format("cgroup {} not found", dir));

  Usage usage;
  usage.memory_bytes = ReadSingle(*fs_, dir + "/memory.current");
  usage.memory_peak_bytes = ReadSingle(*fs_, dir + "/memory.peak");
  usage.oom_kills = ReadKeyed(*fs_, dir + "/memory.events", "oom_kill");
  std::optional<int64_t> usage_micros = ReadKeyed(*fs_, dir + "/cpu.stat", "usage_usec");
  if (usage_micros) usage.cpu_usage_nanos = *usage_micros * 1000;
  usage.cpu_throttled_periods = ReadKeyed(*fs_, dir + "/cpu.stat", "nr_throttled");
  return usage;
}

std::string CgroupV2Driver::Describe() const { return fmt::format("cgroup v2 ({})", SubtreePath()); }

}  // namespace xblocks
