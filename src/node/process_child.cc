#include "node/process_child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace xblocks {
namespace {

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    size -= static_cast<size_t>(n);
  }
}

// Writes "<prefix><reason>\n" to stderr (the log file) as one write, so it stays one line.
[[noreturn]] void FailWith(const std::string& prefix, int error) {
  char line[1024];
  const char* reason = ::strerrordesc_np(error);
  if (reason == nullptr) reason = "unknown error";
  size_t used = 0;
  for (const char* part : {prefix.c_str(), reason, "\n"}) {
    size_t length = std::min(std::strlen(part), sizeof(line) - 1 - used);
    std::memcpy(line + used, part, length);
    used += length;
  }
  WriteAll(STDERR_FILENO, line, used);
  ::_exit(kExecFailedExitCode);
}

// Restores default dispositions, then unblocks every signal. In that order a signal that arrives
// meanwhile waits, blocked, and then takes its default action, instead of running a handler
// inherited from the agent.
void ResetSignals() {
  sigset_t all;
  ::sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) {
    if (signal != SIGKILL && signal != SIGSTOP) ::sigaction(signal, &action, nullptr);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

void CloseInheritedFds() {
  if (::syscall(SYS_close_range, 3U, UINT_MAX, 0U) == 0) return;
  // Kernels before 5.9 have no close_range.
  struct rlimit limit {};
  int max_fd = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < 65536 ? static_cast<int>(limit.rlim_cur) : 65536;
  for (int fd = 3; fd < max_fd; ++fd) ::close(fd);
}

void WaitForGo(const ChildPlan& plan) {
  char byte = 'r';
  WriteAll(plan.ready_write_fd, &byte, 1);
  ssize_t n;
  do {
    n = ::read(plan.go_read_fd, &byte, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(kAbandonedExitCode);
}

}  // namespace

void RunChild(const ChildPlan& plan) {
  ::setsid();
  // The child dies with the agent, and the check closes the race with a parent that died first.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != plan.parent_pid) ::_exit(kAbandonedExitCode);
  ResetSignals();
  WaitForGo(plan);

  ::dup2(plan.null_fd, STDIN_FILENO);
  ::dup2(plan.log_fd, STDOUT_FILENO);
  ::dup2(plan.log_fd, STDERR_FILENO);
  CloseInheritedFds();
  if (plan.working_dir != nullptr && ::chdir(plan.working_dir) != 0) FailWith(plan.chdir_error_prefix, errno);

  ::execve(plan.program.c_str(), plan.argv.data(), plan.envp.data());
  FailWith(plan.exec_error_prefix, errno);
}

}  // namespace xblocks
