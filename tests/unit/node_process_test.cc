// PosixProcessLauncher against real child processes (/bin/sh, /usr/bin/env, sleep).
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "node/process.h"

namespace xblocks {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/xb-process-test-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadText(const std::string& path) {
  std::ifstream file(path);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

// Polls until `condition` is true or `timeout` passes, and returns the last value.
template <typename Condition>
bool Eventually(Condition condition, milliseconds timeout = milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return condition();
}

// The command name of `pid` from /proc, or "" when it has gone.
std::string Comm(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(file, name);
  return name;
}

ExitStatus WaitForExit(ProcessLauncher& launcher, const ProcessHandle& handle) {
  std::optional<ExitStatus> exit;
  bool exited = Eventually([&] {
    Result<std::optional<ExitStatus>> polled = launcher.Poll(handle);
    if (polled.ok()) exit = *polled;
    return exit.has_value();
  });
  EXPECT_TRUE(exited) << "process " << handle.pid << " did not exit";
  return exit.value_or(ExitStatus{-1, -1, false});
}

ProcessSpec Shell(const std::string& script, const TempDir& dir) {
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.log_path = dir.File("container.log");
  return spec;
}

bool ProcessGone(pid_t pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }

TEST(PosixProcessLauncher, WritesOutputToLogAndTerminates) {
  TempDir dir;
  PosixProcessLauncher launcher;
  Result<ProcessHandle> handle = launcher.Start(Shell("echo hi; sleep 30", dir));
  ASSERT_TRUE(handle.ok()) << handle.status().message();

  EXPECT_TRUE(Eventually([&] { return ReadText(dir.File("container.log")) == "hi\n"; }))
      << ReadText(dir.File("container.log"));
  Result<std::optional<ExitStatus>> running = launcher.Poll(*handle);
  ASSERT_TRUE(running.ok());
  EXPECT_FALSE(running->has_value());

  ASSERT_TRUE(launcher.Terminate(*handle, seconds(5)).ok());
  Result<std::optional<ExitStatus>> exit = launcher.Poll(*handle);
  ASSERT_TRUE(exit.ok());
  ASSERT_TRUE(exit->has_value());
  EXPECT_EQ((*exit)->signal, SIGTERM);
  EXPECT_EQ((*exit)->exit_code, 128 + SIGTERM);
  EXPECT_FALSE((*exit)->oom_killed);
}

TEST(PosixProcessLauncher, TerminateKillsGrandchildThatIgnoresSigterm) {
  TempDir dir;
  PosixProcessLauncher launcher;
  std::string pid_file = dir.File("grandchild.pid");
  Result<ProcessHandle> handle =
      launcher.Start(Shell("(trap '' TERM; exec sleep 30) & echo $! > " + pid_file + "; wait", dir));
  ASSERT_TRUE(handle.ok()) << handle.status().message();
  ASSERT_TRUE(Eventually([&] { return ReadText(pid_file).find('\n') != std::string::npos; }));
  pid_t grandchild = std::stoi(ReadText(pid_file));
  ASSERT_EQ(::getpgid(grandchild), handle->pid);

  ASSERT_TRUE(launcher.Terminate(*handle, seconds(1)).ok());
  EXPECT_TRUE(Eventually([&] { return ProcessGone(grandchild); })) << "grandchild " << grandchild << " survived";
  EXPECT_TRUE(ProcessGone(handle->pid));
}

TEST(PosixProcessLauncher, LeadsOwnSessionAndGroup) {
  TempDir dir;
  PosixProcessLauncher launcher;
  Result<ProcessHandle> handle = launcher.Start(Shell("sleep 30", dir));
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ(::getpgid(handle->pid), handle->pid);
  EXPECT_EQ(::getsid(handle->pid), handle->pid);
  EXPECT_NE(::getpgid(handle->pid), ::getpgrp());
  ASSERT_TRUE(launcher.Terminate(*handle, seconds(5)).ok());
}

TEST(PosixProcessLauncher, ReportsExitCode) {
  TempDir dir;
  PosixProcessLauncher launcher;
  Result<ProcessHandle> handle = launcher.Start(Shell("exit 3", dir));
  ASSERT_TRUE(handle.ok());
  ExitStatus exit = WaitForExit(launcher, *handle);
  EXPECT_EQ(exit.exit_code, 3);
  EXPECT_EQ(exit.signal, 0);

  // Later polls return the same status.
  Result<std::optional<ExitStatus>> again = launcher.Poll(*handle);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->exit_code, 3);
}

TEST(PosixProcessLauncher, ReportsKillingSignal) {
  TempDir dir;
  PosixProcessLauncher launcher;
  Result<ProcessHandle> handle = launcher.Start(Shell("kill -KILL $$", dir));
  ASSERT_TRUE(handle.ok());
  ExitStatus exit = WaitForExit(launcher, *handle);
  EXPECT_EQ(exit.signal, SIGKILL);
  EXPECT_EQ(exit.exit_code, 137);
}

TEST(PosixProcessLauncher, MissingBinaryExits127WithMessage) {
  TempDir dir;
  PosixProcessLauncher launcher;
  ProcessSpec spec;
  spec.argv = {"/nonexistent/xb-missing", "--flag"};
  spec.log_path = dir.File("container.log");
  Result<ProcessHandle> handle = launcher.Start(spec);
  ASSERT_TRUE(handle.ok()) << handle.status().message();

  ExitStatus exit = WaitForExit(launcher, *handle);
  EXPECT_EQ(exit.exit_code, 127);
  EXPECT_EQ(exit.signal, 0);
  EXPECT_EQ(ReadText(spec.log_path), "exec /nonexistent/xb-missing: No such file or directory\n");
}

TEST(PosixProcessLauncher, MissingProgramNameExits127) {
  TempDir dir;
  PosixProcessLauncher launcher;
  ProcessSpec spec;
  spec.argv = {"xb-no-such-program"};
  spec.env = {"PATH=" + dir.path()};
  spec.log_path = dir.File("container.log");
  Result<ProcessHandle> handle = launcher.Start(spec);
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ(WaitForExit(launcher, *handle).exit_code, 127);
  EXPECT_EQ(ReadText(spec.log_path), "exec xb-no-such-program: No such file or directory\n");
}

TEST(PosixProcessLauncher, FindsProgramInPathOfSpecEnv) {
  TempDir dir;
  PosixProcessLauncher launcher;
  ProcessSpec spec;
  spec.argv = {"echo", "found"};
  spec.env = {"PATH=/nonexistent:/bin:/usr/bin"};
  spec.log_path = dir.File("container.log");
  Result<ProcessHandle> handle = launcher.Start(spec);
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ(WaitForExit(launcher, *handle).exit_code, 0);
  EXPECT_EQ(ReadText(spec.log_path), "found\n");
}

TEST(PosixProcessLauncher, EnvironmentIsExactlyTheSpec) {
  TempDir dir;
  ::setenv("XB_AGENT_ONLY", "leaked", 1);
  PosixProcessLauncher launcher;
  ProcessSpec spec;
  spec.argv = {"/usr/bin/env"};
  spec.env = {"A=1", "B=two words", "EMPTY="};
  spec.log_path = dir.File("container.log");
  Result<ProcessHandle> handle = launcher.Start(spec);
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ(WaitForExit(launcher, *handle).exit_code, 0);
  EXPECT_EQ(ReadText(spec.log_path), "A=1\nB=two words\nEMPTY=\n");
  ::unsetenv("XB_AGENT_ONLY");
}

TEST(PosixProcessLauncher, RunsInWorkingDir) {
  TempDir dir;
  PosixProcessLauncher launcher;
  ProcessSpec spec = Shell("pwd", dir);
  spec.working_dir = dir.path();
  Result<ProcessHandle> handle = launcher.Start(spec);
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ(WaitForExit(launcher, *handle).exit_code, 0);
  EXPECT_EQ(ReadText(spec.log_path), dir.path() + "\n");
}

TEST(PosixProcessLauncher, MissingWorkingDirExits127) {
  TempDir dir;
  PosixProcessLauncher launcher;
  ProcessSpec spec = Shell("pwd", dir);
  spec.working_dir = dir.File("missing");
  Result<ProcessHandle> handle = launcher.Start(spec);
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ(WaitForExit(launcher, *handle).exit_code, 127);
  EXPECT_EQ(ReadText(spec.log_path), "chdir " + spec.working_dir + ": No such file or directory\n");
}

TEST(PosixProcessLauncher, AppendsToLog) {
  TempDir dir;
  PosixProcessLauncher launcher;
  ProcessSpec spec = Shell("echo out; echo err >&2", dir);
  std::ofstream(spec.log_path) << "earlier\n";
  Result<ProcessHandle> handle = launcher.Start(spec);
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ(WaitForExit(launcher, *handle).exit_code, 0);
  EXPECT_EQ(ReadText(spec.log_path), "earlier\nout\nerr\n");
}

TEST(PosixProcessLauncher, ClosesInheritedFds) {
  TempDir dir;
  int leaked = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC on purpose
  ASSERT_GE(leaked, 3);
  PosixProcessLauncher launcher;
  Result<ProcessHandle> handle = launcher.Start(Shell("ls /proc/$$/fd", dir));
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ(WaitForExit(launcher, *handle).exit_code, 0);
  ::close(leaked);
  EXPECT_EQ(ReadText(dir.File("container.log")), "0\n1\n2\n");
}

TEST(PosixProcessLauncher, SignalReachesGroup) {
  TempDir dir;
  PosixProcessLauncher launcher;
  Result<ProcessHandle> handle = launcher.Start(Shell("exec sleep 30", dir));
  ASSERT_TRUE(handle.ok());
  // Signal once sleep runs: a shell that is still starting may handle SIGINT itself, and under
  // load it lost the signal about once in twenty runs.
  ASSERT_TRUE(Eventually([&] { return Comm(handle->pid) == "sleep"; })) << Comm(handle->pid);
  ASSERT_TRUE(launcher.Signal(*handle, SIGINT).ok());
  EXPECT_EQ(WaitForExit(launcher, *handle).signal, SIGINT);
  EXPECT_EQ(launcher.Signal(*handle, SIGINT).code(), StatusCode::kNotFound);
}

TEST(PosixProcessLauncher, RejectsInvalidSpec) {
  TempDir dir;
  PosixProcessLauncher launcher;
  ProcessSpec empty_argv = Shell("true", dir);
  empty_argv.argv.clear();
  EXPECT_EQ(launcher.Start(empty_argv).status().code(), StatusCode::kInvalid);

  ProcessSpec bad_env = Shell("true", dir);
  bad_env.env = {"NO_EQUALS_SIGN"};
  EXPECT_EQ(launcher.Start(bad_env).status().code(), StatusCode::kInvalid);

  ProcessSpec no_log = Shell("true", dir);
  no_log.log_path.clear();
  EXPECT_EQ(launcher.Start(no_log).status().code(), StatusCode::kInvalid);

  ProcessSpec nul_arg = Shell("true", dir);
  nul_arg.argv.push_back(std::string("a\0b", 3));
  EXPECT_EQ(launcher.Start(nul_arg).status().code(), StatusCode::kInvalid);

  ProcessSpec bad_log = Shell("true", dir);
  bad_log.log_path = dir.File("missing-dir/container.log");
  EXPECT_EQ(launcher.Start(bad_log).status().code(), StatusCode::kInternal);
}

TEST(PosixProcessLauncher, UnknownHandleIsNotFound) {
  PosixProcessLauncher launcher;
  ProcessHandle stranger{::getpid()};
  EXPECT_EQ(launcher.Poll(stranger).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(launcher.Signal(stranger, 0).code(), StatusCode::kNotFound);
  EXPECT_EQ(launcher.Terminate(stranger, seconds(0)).code(), StatusCode::kNotFound);
  EXPECT_EQ(launcher.Release(stranger).code(), StatusCode::kNotFound);
}

TEST(PosixProcessLauncher, ReleaseOnlyAfterExit) {
  TempDir dir;
  PosixProcessLauncher launcher;
  Result<ProcessHandle> handle = launcher.Start(Shell("sleep 30", dir));
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ(launcher.Release(*handle).code(), StatusCode::kConflict);
  ASSERT_TRUE(launcher.Terminate(*handle, seconds(0)).ok());
  EXPECT_TRUE(launcher.Release(*handle).ok());
  EXPECT_EQ(launcher.Poll(*handle).status().code(), StatusCode::kNotFound);
}

// A CgroupDriver that records AddProcess and what the process was running at that moment.
// Every other call is a test failure.
class RecordingCgroupDriver : public CgroupDriver {
 public:
  Status Init() override { return Unexpected("Init"); }
  Status Cleanup() override { return Unexpected("Cleanup"); }
  Status Create(const std::string&, const Limits&) override { return Unexpected("Create"); }
  Status Update(const std::string&, const Limits&) override { return Unexpected("Update"); }
  Status Remove(const std::string&) override { return Unexpected("Remove"); }
  Result<Usage> Read(const std::string&) const override {
    ADD_FAILURE() << "unexpected CgroupDriver::Read";
    return Internal("unexpected call");
  }
  std::string Describe() const override { return "recording"; }

  Status AddProcess(const std::string& name, pid_t pid) override {
    added_name = name;
    added_pid = pid;
    char exe[4096] = {};
    ssize_t n = ::readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), exe, sizeof(exe) - 1);
    exe_at_placement = n > 0 ? std::string(exe, static_cast<size_t>(n)) : "";
    return fail ? Internal("cgroup.procs: Permission denied") : Status::Ok();
  }

  bool fail = false;
  std::string added_name;
  pid_t added_pid = 0;
  std::string exe_at_placement;

 private:
  Status Unexpected(const char* call) {
    ADD_FAILURE() << "unexpected CgroupDriver::" << call;
    return Internal("unexpected call");
  }
};

TEST(PosixProcessLauncher, PlacesChildInCgroupBeforeExec) {
  TempDir dir;
  PosixProcessLauncher launcher;
  RecordingCgroupDriver driver;
  ProcessSpec spec = Shell("echo placed", dir);
  spec.cgroup_driver = &driver;
  spec.cgroup_name = "pod-a";
  Result<ProcessHandle> handle = launcher.Start(spec);
  ASSERT_TRUE(handle.ok()) << handle.status().message();

  EXPECT_EQ(driver.added_name, "pod-a");
  EXPECT_EQ(driver.added_pid, handle->pid);
  // At placement the child still runs this test binary: it has not exec'd /bin/sh yet.
  char self[4096] = {};
  ASSERT_GT(::readlink("/proc/self/exe", self, sizeof(self) - 1), 0);
  EXPECT_EQ(driver.exe_at_placement, std::string(self));
  EXPECT_EQ(WaitForExit(launcher, *handle).exit_code, 0);
  EXPECT_EQ(ReadText(spec.log_path), "placed\n");
}

TEST(PosixProcessLauncher, FailedPlacementKillsChild) {
  TempDir dir;
  PosixProcessLauncher launcher;
  RecordingCgroupDriver driver;
  driver.fail = true;
  ProcessSpec spec = Shell("echo never", dir);
  spec.cgroup_driver = &driver;
  spec.cgroup_name = "pod-a";
  Result<ProcessHandle> handle = launcher.Start(spec);
  ASSERT_FALSE(handle.ok());
  EXPECT_NE(handle.status().message().find("Permission denied"), std::string::npos) << handle.status().message();
  EXPECT_TRUE(ProcessGone(driver.added_pid));
  EXPECT_EQ(ReadText(spec.log_path), "");
}

TEST(ResolveProgram, SearchesPathOfEnv) {
  EXPECT_EQ(ResolveProgram("/bin/sh", {}), "/bin/sh");
  EXPECT_EQ(ResolveProgram("./run", {"PATH=/bin"}), "./run");
  EXPECT_EQ(ResolveProgram("sh", {"PATH=/nonexistent:/bin"}), "/bin/sh");
  EXPECT_EQ(ResolveProgram("xb-no-such-program", {"PATH=/bin"}), "xb-no-such-program");
}

}  // namespace
}  // namespace xblocks
