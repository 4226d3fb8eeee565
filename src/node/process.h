// Starting, signalling and reaping the processes of embedded-mode containers. ProcessLauncher
// is the seam: the node agent and the exec probe use it, and tests replace it with a fake.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "node/cgroups.h"

namespace xblocks {

struct ProcessSpec {
  // argv[0] is the program: a path, or a name looked up in the PATH of `env` (or
  // /usr/local/bin:/usr/bin:/bin when `env` has no PATH). Must not be empty.
  std::vector<std::string> argv;
  // The exact environment, "NAME=value" each. Nothing is inherited from the agent.
  std::vector<std::string> env;
  // The working directory; empty keeps the agent's.
  std::string working_dir;
  // stdout and stderr both go to this file, opened with O_APPEND so whole writes never
  // overwrite each other. Created with mode 0644 when missing. Required.
  std::string log_path;
  // When set, the process is moved into cgroup `cgroup_name` of this driver before it execs.
  // The driver must outlive the Start call.
  CgroupDriver* cgroup_driver = nullptr;
  std::string cgroup_name;
};

// One started process. It leads its own session and process group (pgid == pid).
struct ProcessHandle {
  pid_t pid = 0;
};

struct ExitStatus {
  int exit_code = 0;  // the exit status, or 128 + signal when killed by a signal, as shells report
  int signal = 0;     // the signal that killed the process, 0 when it exited
  bool oom_killed = false;  // never set by the launcher; the caller fills it from the cgroup's OOM count
};

class ProcessLauncher {
 public:
  virtual ~ProcessLauncher() = default;

  // Starts a process from `spec`. When Start returns, the process has its own session and
  // process group and sits in its cgroup, and will get SIGKILL if the agent's starting thread
  // exits. A program that cannot be executed still starts: it writes
  // "exec <program>: <reason>" to the log file and exits with code 127. Returns Invalid for a
  // bad spec, Internal when the log file cannot be opened, fork fails, or the cgroup placement
  // fails (the child is then killed and reaped).
  virtual Result<ProcessHandle> Start(const ProcessSpec& spec) = 0;
  // Sends `signal` to the whole process group. Returns NotFound when no process of the group is
  // left, and for a handle this launcher did not start.
  virtual Status Signal(const ProcessHandle& handle, int signal) = 0;
  // Reaps the process without blocking: nullopt while it runs, its ExitStatus once it exited
  // (the same value on every later call). Returns NotFound for an unknown handle.
  virtual Result<std::optional<ExitStatus>> Poll(const ProcessHandle& handle) = 0;
  // Sends SIGTERM to the group, waits up to `grace` for the group to exit, then sends SIGKILL to
  // the group and reaps the process. Blocks for up to `grace` plus the time the kernel takes to
  // kill. Group members that exited but are not yet reaped by their parent (usually init)
  // still count as alive, so an early return needs them reaped. Returns NotFound for an
  // unknown handle.
  virtual Status Terminate(const ProcessHandle& handle, std::chrono::seconds grace) = 0;
  // Forgets a process whose exit was reported by Poll. Returns Conflict while it still runs.
  virtual Status Release(const ProcessHandle& handle) = 0;
};

// fork/exec with pidfds. Thread-safe.
//
// NOTE: PR_SET_PDEATHSIG fires when the thread that called Start exits, not only the agent, so
// call Start from a thread that lives as long as the agent.
class PosixProcessLauncher : public ProcessLauncher {
 public:
  PosixProcessLauncher() = default;
  ~PosixProcessLauncher() override;
  PosixProcessLauncher(const PosixProcessLauncher&) = delete;
  PosixProcessLauncher& operator=(const PosixProcessLauncher&) = delete;

  Result<ProcessHandle> Start(const ProcessSpec& spec) override;
  Status Signal(const ProcessHandle& handle, int signal) override;
  Result<std::optional<ExitStatus>> Poll(const ProcessHandle& handle) override;
  Status Terminate(const ProcessHandle& handle, std::chrono::seconds grace) override;
  Status Release(const ProcessHandle& handle) override;

 private:
  struct Child {
    int pidfd = -1;  // -1 when the kernel has no pidfd_open (before Linux 5.3)
    std::optional<ExitStatus> exit;
  };

  // Blocks until the process exits and records its status. Returns NotFound for unknown pids.
  Status Reap(pid_t pid);
  // Whether any process of the group `pgid` is left (zombies included).
  static bool GroupAlive(pid_t pgid);

  std::mutex mutex_;
  std::map<pid_t, Child> children_;  // guarded by mutex_
};

// Finds `program` the way execvp does, in the PATH of `env`: returns it unchanged when it
// contains a '/', the first executable PATH entry otherwise, or `program` itself when none is.
std::string ResolveProgram(const std::string& program, const std::vector<std::string>& env);

}  // namespace xblocks
