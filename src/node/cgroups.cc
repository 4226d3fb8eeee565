#include "node/cgroups.h"

#include <signal.h>

#include <fmt/format.h>

namespace xblocks {
namespace {

constexpr size_t kMaxCgroupNameLength = 200;
// One million CPUs: far above any machine, far below the kernel's maximum CFS quota.
constexpr int64_t kMaxCpuMillis = 1'000'000'000;
// The largest pids.max the kernel accepts (PID_MAX_LIMIT on 64-bit Linux).
constexpr int64_t kMaxPids = 4'194'304;
constexpr std::chrono::milliseconds kRemoveRetryInterval{20};

bool IsNameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

Status CheckLimit(const std::optional<int64_t>& value, const char* field, int64_t max) {
  if (!value) return Status::Ok();
  if (*value <= 0 || *value > max) {
    return Invalid(fmt::format("invalid cgroup limit {}={}: must be between 1 and {}", field, *value, max));
  }
  return Status::Ok();
}

void SignalAll(CgroupFs& fs, const std::string& dir) {
  Result<std::string> procs = fs.ReadFile(dir + "/cgroup.procs");
  if (!procs.ok()) return;
  for (pid_t pid : ParsePidList(*procs)) {
    // A failed kill shows up as a busy rmdir below, which carries the error to the caller.
    (void)fs.Kill(pid, SIGKILL);
  }
}

Status RemoveWithRetry(CgroupFs& fs, const std::string& dir, std::chrono::milliseconds timeout) {
  std::chrono::milliseconds waited{0};
  while (true) {
    Status removed = fs.RemoveDir(dir);
    if (removed.ok() || removed.code() == StatusCode::kNotFound) return Status::Ok();
    if (removed.code() != StatusCode::kConflict || waited >= timeout) {
      return Status(removed.code(), fmt::format("{} (after {} ms)", removed.message(), waited.count()));
    }

    // Busy: a process forked after the first signal, or the kernel has not finished exiting them.
    SignalAll(fs, dir);
    fs.Sleep(kRemoveRetryInterval);
    waited += kRemoveRetryInterval;
  }
}

}  // namespace

Status ValidateCgroupName(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.size() > kMaxCgroupNameLength) {
    return Invalid(fmt::format("invalid cgroup name \"{}\": use 1 to {} characters of [A-Za-z0-9._-], not \".\" or \"..\"",
                               name, kMaxCgroupNameLength));
  }
  for (char c : name) {
    if (!IsNameCharacter(c)) {
      return Invalid(fmt::format("invalid cgroup name \"{}\": only [A-Za-z0-9._-] are allowed", name));
    }
  }
  return Status::Ok();
}

Status ValidateLimits(const Limits& limits) {
  XB_RETURN_IF_ERROR(CheckLimit(limits.cpu_millis, "cpu_millis", kMaxCpuMillis));
  XB_RETURN_IF_ERROR(CheckLimit(limits.memory_bytes, "memory_bytes", INT64_MAX / 2));
  return CheckLimit(limits.pids, "pids", kMaxPids);
}

int64_t CfsQuotaMicros(int64_t cpu_millis) {
  return std::max(kMinCfsQuotaMicros, cpu_millis * kCfsPeriodMicros / 1000);
}

Status KillAndRemove(CgroupFs& fs, const std::vector<std::string>& dirs, std::chrono::milliseconds timeout) {
  for (const std::string& dir : dirs) {
    if (fs.Exists(dir)) SignalAll(fs, dir);
  }
  for (const std::string& dir : dirs) {
    if (!fs.Exists(dir)) continue;
    XB_RETURN_IF_ERROR(RemoveWithRetry(fs, dir, timeout));
  }
  return Status::Ok();
}

Status NoCgroupDriver::Create(const std::string& name, const Limits& limits) {
  return Status(StatusCode::kUnavailable, fmt::format("resource limits are not enforced: {}", reason_));
}

Status NoCgroupDriver::Update(const std::string& name, const Limits& limits) { return Create(name, limits); }

Result<Usage> NoCgroupDriver::Read(const std::string& name) const {
  return Status(StatusCode::kUnavailable, fmt::format("no cgroup usage is available: {}", reason_));
}

std::string NoCgroupDriver::Describe() const { return fmt::format("no cgroup driver ({})", reason_); }

}  // namespace xblocks
