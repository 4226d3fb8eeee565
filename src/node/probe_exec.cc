#include <sys/stat.h>

#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "node/probes.h"

namespace xblocks {
namespace {

constexpr std::chrono::milliseconds kPollInterval{10};
// How much of the command's output goes into a failure message.
constexpr int64_t kMaxOutputBytes = 1024;

int64_t FileSize(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? static_cast<int64_t>(info.st_size) : 0;
}

// Returns what the command appended to `path` after `offset`: at most the last kMaxOutputBytes,
// without a trailing newline.
std::string OutputSince(const std::string& path, int64_t offset) {
  int64_t end = FileSize(path);
  int64_t start = std::max(offset, end - kMaxOutputBytes);
  if (end <= start) return "";
  std::ifstream file(path, std::ios::binary);
  file.seekg(start);
  std::string output(static_cast<size_t>(end - start), '\0');
  file.read(output.data(), static_cast<std::streamsize>(output.size()));
  output.resize(static_cast<size_t>(file.gcount()));
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  return output;
}

Result<std::vector<std::string>> ReadCommand(const Json& action) {
  if (!action.is_object() || !action.contains("command") || !action["command"].is_array() || action["command"].empty()) {
    return Invalid("invalid probe: exec.command must be a non-empty list of strings");
  }
  std::vector<std::string> command;
  for (const Json& arg : action["command"]) {
    if (!arg.is_string()) return Invalid("invalid probe: exec.command must be a non-empty list of strings");
    command.push_back(arg.get<std::string>());
  }
  return command;
}

// Polls until the process exits or the deadline passes; nullopt means it is still running.
Result<std::optional<ExitStatus>> WaitUntil(ProcessLauncher& launcher, const ProcessHandle& handle,
                                            std::chrono::steady_clock::time_point deadline) {
  while (true) {
    Result<std::optional<ExitStatus>> exit = launcher.Poll(handle);
    if (!exit.ok() || exit->has_value() || std::chrono::steady_clock::now() >= deadline) return exit;
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace

ProbeResult RunExecProbe(const Json& action, const ExecProbeContext& context, std::chrono::seconds timeout) {
  Result<std::vector<std::string>> command = ReadCommand(action);
  if (!command.ok()) return ProbeResult{ProbeOutcome::kUnknown, command.status().message()};
  if (context.launcher == nullptr) return ProbeResult{ProbeOutcome::kUnknown, "exec probe has no process launcher"};

  ProcessSpec spec;
  spec.argv = *command;
  spec.env = context.env;
  spec.working_dir = context.working_dir;
  spec.log_path = context.output_path.empty() ? "/dev/null" : context.output_path;
  spec.cgroup_driver = context.cgroup_driver;
  spec.cgroup_name = context.cgroup_name;
  int64_t offset = FileSize(spec.log_path);

  Result<ProcessHandle> handle = context.launcher->Start(spec);
  if (!handle.ok()) return ProbeResult{ProbeOutcome::kUnknown, fmt::format("exec probe: {}", handle.status().message())};
  Result<std::optional<ExitStatus>> exit = WaitUntil(*context.launcher, *handle, std::chrono::steady_clock::now() + timeout);

  ProbeResult result;
  if (!exit.ok()) {
    result = ProbeResult{ProbeOutcome::kUnknown, fmt::format("exec probe: {}", exit.status().message())};
  } else if (!exit->has_value()) {
    // The command and anything it started are killed, so probes never pile up.
    (void)context.launcher->Terminate(*handle, std::chrono::seconds(0));
    result = ProbeResult{ProbeOutcome::kFailure, fmt::format("command timed out after {}s", timeout.count())};
  } else if ((*exit)->exit_code == 0) {
    result = ProbeResult{ProbeOutcome::kSuccess, ""};
  } else {
    std::string output = spec.log_path == "/dev/null" ? "" : OutputSince(spec.log_path, offset);
    result = ProbeResult{ProbeOutcome::kFailure, fmt::format("command exited with code {}: {}", (*exit)->exit_code, output)};
  }
  (void)context.launcher->Release(*handle);
  return result;
}

}  // namespace xblocks
