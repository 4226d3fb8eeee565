// The code a forked child runs between fork(2) and execve(2). Everything it touches is prepared
// by the parent beforehand, because after fork in a multi-threaded process only
// async-signal-safe calls are allowed: no allocation, no locks, no stdio.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace xblocks {

struct ChildPlan {
  std::string program;               // resolved path for execve
  std::vector<char*> argv;           // null-terminated, pointing into caller-owned strings
  std::vector<char*> envp;           // null-terminated
  const char* working_dir = nullptr;  // null: keep the parent's
  std::string exec_error_prefix;     // "exec <program>: "
  std::string chdir_error_prefix;    // "chdir <dir>: "
  int log_fd = -1;                   // >= 3; becomes stdout and stderr
  int null_fd = -1;                  // >= 3; /dev/null, becomes stdin
  int ready_write_fd = -1;           // the child writes one byte once it leads its own session
  int go_read_fd = -1;               // the parent writes one byte once the child is in its cgroup
  pid_t parent_pid = 0;
};

// The exit code of a child that could not exec or chdir, as shells use for "command not found".
inline constexpr int kExecFailedExitCode = 127;
// The exit code of a child whose parent closed the go pipe without writing, i.e. gave up on it.
inline constexpr int kAbandonedExitCode = 126;

// Sets up the session, death signal, signal state and file descriptors, waits for the parent's
// go byte, then execs. Never returns. Async-signal-safe.
[[noreturn]] void RunChild(const ChildPlan& plan);

}  // namespace xblocks
