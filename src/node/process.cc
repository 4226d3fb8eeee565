#include "node/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "common/log.h"
#include "node/process_child.h"

namespace xblocks {
namespace {

constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";
constexpr std::chrono::milliseconds kTerminatePollInterval{20};
// How long Terminate waits for a SIGKILLed process before it reports failure.
constexpr std::chrono::seconds kKillTimeout{30};

Status ErrnoError(const std::string& what) { return Internal(fmt::format("{}: {}", what, std::strerror(errno))); }

// Fds 0-2 are overwritten in the child, so the fds it copies from must be above them.
int AboveStdio(int fd) {
  if (fd < 0 || fd > STDERR_FILENO) return fd;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  ::close(fd);
  return moved;
}

// Closes a set of fds when it goes out of scope.
class FdSet {
 public:
  ~FdSet() {
    for (int fd : fds_) {
      if (fd >= 0) ::close(fd);
    }
  }
  int Add(int fd) {
    fds_.push_back(fd);
    return fd;
  }
  void AddPipe(const int ends[2]) {
    Add(ends[0]);
    Add(ends[1]);
    peers_[ends[0]] = ends[1];
    peers_[ends[1]] = ends[0];
  }
  // The other end of a pipe added with AddPipe.
  int Peer(int fd) const { return peers_.at(fd); }
  void Close(int fd) {
    for (int& held : fds_) {
      if (held == fd && fd >= 0) {
        ::close(fd);
        held = -1;
      }
    }
  }

 private:
  std::vector<int> fds_;
  std::map<int, int> peers_;
};

bool HasNul(const std::string& text) { return text.find('\0') != std::string::npos; }

Status ValidateSpec(const ProcessSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) return Invalid("invalid process spec: argv must name a program");
  if (spec.log_path.empty()) return Invalid("invalid process spec: log_path is required");
  for (const std::string& arg : spec.argv) {
    if (HasNul(arg)) return Invalid("invalid process spec: an argv entry contains a NUL byte");
  }
  for (const std::string& entry : spec.env) {
    if (HasNul(entry) || entry.find('=') == std::string::npos || entry.front() == '=') {
      return Invalid(fmt::format("invalid process spec: env entry \"{}\" must be NAME=value", entry));
    }
  }
  if (HasNul(spec.working_dir) || HasNul(spec.log_path)) return Invalid("invalid process spec: a path contains a NUL byte");
  if (spec.cgroup_driver != nullptr) return ValidateCgroupName(spec.cgroup_name);
  return Status::Ok();
}

std::vector<char*> PointersTo(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (const std::string& text : strings) pointers.push_back(const_cast<char*>(text.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

ExitStatus ToExitStatus(const siginfo_t& info) {
  ExitStatus status;
  if (info.si_code == CLD_EXITED) {
    status.exit_code = info.si_status;
  } else {
    status.signal = info.si_status;
    status.exit_code = 128 + info.si_status;
  }
  return status;
}

int OpenPidfd(pid_t pid) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
}

// Reads the child's ready byte: it then leads its own session, so group signals reach it.
void AwaitReady(int ready_read_fd) {
  char byte;
  ssize_t n;
  do {
    n = ::read(ready_read_fd, &byte, 1);
  } while (n < 0 && errno == EINTR);
}

Status SendGo(int go_write_fd) {
  char byte = 'g';
  ssize_t n;
  do {
    n = ::write(go_write_fd, &byte, 1);
  } while (n < 0 && errno == EINTR);
  return n == 1 ? Status::Ok() : ErrnoError("write to the child's start pipe");
}

ChildPlan BuildPlan(const ProcessSpec& spec) {
  ChildPlan plan;
  plan.program = ResolveProgram(spec.argv[0], spec.env);
  plan.argv = PointersTo(spec.argv);
  plan.envp = PointersTo(spec.env);
  plan.working_dir = spec.working_dir.empty() ? nullptr : spec.working_dir.c_str();
  plan.exec_error_prefix = fmt::format("exec {}: ", spec.argv[0]);
  plan.chdir_error_prefix = fmt::format("chdir {}: ", spec.working_dir);
  plan.parent_pid = ::getpid();
  return plan;
}

// Opens the log file, /dev/null and the two handshake pipes into `plan`; `fds` owns them all.
Status OpenChildFds(const ProcessSpec& spec, FdSet& fds, ChildPlan& plan) {
  plan.log_fd = fds.Add(AboveStdio(::open(spec.log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)));
  if (plan.log_fd < 0) return ErrnoError(fmt::format("open log file {}", spec.log_path));
  plan.null_fd = fds.Add(AboveStdio(::open("/dev/null", O_RDONLY | O_CLOEXEC)));
  if (plan.null_fd < 0) return ErrnoError("open /dev/null");

  int ready[2];
  int go[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return ErrnoError("pipe");
  fds.AddPipe(ready);
  if (::pipe2(go, O_CLOEXEC) != 0) return ErrnoError("pipe");
  fds.AddPipe(go);
  plan.ready_write_fd = ready[1];
  plan.go_read_fd = go[0];
  return Status::Ok();
}

Status PlaceInCgroup(const ProcessSpec& spec, pid_t pid) {
  if (spec.cgroup_driver == nullptr) return Status::Ok();
  Status placed = spec.cgroup_driver->AddProcess(spec.cgroup_name, pid);
  if (placed.ok()) return placed;
  return Status(placed.code(), fmt::format("place pid {} in cgroup {}: {}", pid, spec.cgroup_name, placed.message()));
}

}  // namespace

std::string ResolveProgram(const std::string& program, const std::vector<std::string>& env) {
  if (program.find('/') != std::string::npos) return program;
  std::string path = kDefaultPath;
  for (const std::string& entry : env) {
    if (entry.rfind("PATH=", 0) == 0) path = entry.substr(5);
  }
  std::istringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return program;
}

PosixProcessLauncher::~PosixProcessLauncher() {
  for (auto& [pid, child] : children_) {
    if (child.pidfd >= 0) ::close(child.pidfd);
  }
}

Result<ProcessHandle> PosixProcessLauncher::Start(const ProcessSpec& spec) {
  XB_RETURN_IF_ERROR(ValidateSpec(spec));
  FdSet fds;
  ChildPlan plan = BuildPlan(spec);
  XB_RETURN_IF_ERROR(OpenChildFds(spec, fds, plan));
  int ready_read = fds.Peer(plan.ready_write_fd);
  int go_write = fds.Peer(plan.go_read_fd);

  pid_t pid = ::fork();
  if (pid < 0) return ErrnoError("fork");
  if (pid == 0) RunChild(plan);

  // Only the child's copies of these ends stay open, so a dead child reads as EOF.
  fds.Close(plan.ready_write_fd);
  fds.Close(plan.go_read_fd);
  AwaitReady(ready_read);
  int pidfd = OpenPidfd(pid);

  Status placed = PlaceInCgroup(spec, pid);
  if (!placed.ok()) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    if (pidfd >= 0) ::close(pidfd);
    return placed;
  }

  Status sent = SendGo(go_write);
  std::lock_guard<std::mutex> lock(mutex_);
  children_[pid] = Child{pidfd, std::nullopt};
  if (!sent.ok()) XB_LOG_WARN("child not started", {{"pid", std::to_string(pid)}, {"err", sent.message()}});
  XB_LOG_DEBUG("process started", {{"pid", std::to_string(pid)}, {"program", plan.program}});
  return ProcessHandle{pid};
}

Status PosixProcessLauncher::Signal(const ProcessHandle& handle, int signal) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!children_.count(handle.pid)) return NotFound(fmt::format("process {} was not started by this launcher", handle.pid));
  }
  if (::kill(-handle.pid, signal) == 0) return Status::Ok();
  if (errno == ESRCH) return NotFound(fmt::format("process group {} has no processes left", handle.pid));
  return ErrnoError(fmt::format("kill process group {} with signal {}", handle.pid, signal));
}

Result<std::optional<ExitStatus>> PosixProcessLauncher::Poll(const ProcessHandle& handle) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = children_.find(handle.pid);
  if (found == children_.end()) return NotFound(fmt::format("process {} was not started by this launcher", handle.pid));
  Child& child = found->second;
  if (child.exit) return child.exit;

  siginfo_t info{};
  int rc = child.pidfd >= 0 ? ::waitid(P_PIDFD, child.pidfd, &info, WEXITED | WNOHANG)
                            : ::waitid(P_PID, handle.pid, &info, WEXITED | WNOHANG);
  if (rc != 0) return ErrnoError(fmt::format("waitid for pid {}", handle.pid));
  if (info.si_pid == 0) return std::optional<ExitStatus>();

  child.exit = ToExitStatus(info);
  if (child.pidfd >= 0) ::close(child.pidfd);
  child.pidfd = -1;
  return child.exit;
}

bool PosixProcessLauncher::GroupAlive(pid_t pgid) { return ::kill(-pgid, 0) == 0 || errno == EPERM; }

Status PosixProcessLauncher::Terminate(const ProcessHandle& handle, std::chrono::seconds grace) {
  Status signalled = Signal(handle, SIGTERM);
  if (!signalled.ok() && signalled.code() != StatusCode::kNotFound) return signalled;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!children_.count(handle.pid)) return signalled;
  }

  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    Result<std::optional<ExitStatus>> exit = Poll(handle);
    if (!exit.ok()) return exit.status();
    if (exit->has_value() && !GroupAlive(handle.pid)) return Status::Ok();
    std::this_thread::sleep_for(kTerminatePollInterval);
  }

  // The grace period is over: kill what is left of the group.
  if (::kill(-handle.pid, SIGKILL) != 0 && errno != ESRCH) {
    return ErrnoError(fmt::format("kill process group {} with SIGKILL", handle.pid));
  }
  return Reap(handle.pid);
}

Status PosixProcessLauncher::Reap(pid_t pid) {
  auto deadline = std::chrono::steady_clock::now() + kKillTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    Result<std::optional<ExitStatus>> exit = Poll(ProcessHandle{pid});
    if (!exit.ok()) return exit.status();
    if (exit->has_value()) return Status::Ok();
    std::this_thread::sleep_for(kTerminatePollInterval);
  }
  return Internal(fmt::format("process {} did not exit within {} s of SIGKILL", pid, kKillTimeout.count()));
}

Status PosixProcessLauncher::Release(const ProcessHandle& handle) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = children_.find(handle.pid);
  if (found == children_.end()) return NotFound(fmt::format("process {} was not started by this launcher", handle.pid));
  if (!found->second.exit) return Conflict(fmt::format("process {} is still running; Terminate it first", handle.pid));
  children_.erase(found);
  return Status::Ok();
}

}  // namespace xblocks
