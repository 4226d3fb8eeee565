// The v1 driver against the kernel. Runs only as root on a machine whose cgroup v1 memory and
// cpu hierarchies are writable. Each test works in its own subtree "xblocks-test-<pid>" and
// removes it in TearDown, so it goes away also when an assertion fails.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "node/cgroups.h"
#include "node/process.h"

namespace xblocks {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class RealCgroupV1Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to write cgroups";
    CgroupOptions options;
    options.subtree = "xblocks-test-" + std::to_string(::getpid());
    Result<std::unique_ptr<CgroupDriver>> driver = DetectCgroupDriver(options);
    ASSERT_TRUE(driver.ok()) << driver.status().message();
    if ((*driver)->Describe().rfind("cgroup v1", 0) != 0) {
      GTEST_SKIP() << "no writable cgroup v1 memory and cpu hierarchies: " << (*driver)->Describe();
    }
    driver_ = std::move(*driver);
    Status init = driver_->Init();
    ASSERT_TRUE(init.ok()) << init.message();
    char pattern[] = "/tmp/xb-cgroup-real-XXXXXX";
    log_dir_ = ::mkdtemp(pattern);
  }

  void TearDown() override {
    if (driver_ == nullptr) return;
    Status cleaned = driver_->Cleanup();
    EXPECT_TRUE(cleaned.ok()) << cleaned.message();
    std::filesystem::remove_all(log_dir_);
  }

  Result<ProcessHandle> StartIn(const std::string& cgroup, std::vector<std::string> argv) {
    ProcessSpec spec;
    spec.argv = std::move(argv);
    spec.env = {"PATH=/usr/bin:/bin"};
    spec.log_path = log_dir_ + "/" + cgroup + ".log";
    spec.cgroup_driver = driver_.get();
    spec.cgroup_name = cgroup;
    return launcher_.Start(spec);
  }

  std::optional<ExitStatus> WaitForExit(const ProcessHandle& handle, seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      Result<std::optional<ExitStatus>> exit = launcher_.Poll(handle);
      if (!exit.ok() || exit->has_value()) return exit.ok() ? **exit : std::optional<ExitStatus>();
      std::this_thread::sleep_for(milliseconds(50));
    }
    return std::nullopt;
  }

  std::unique_ptr<CgroupDriver> driver_;
  PosixProcessLauncher launcher_;
  std::string log_dir_;
};

TEST_F(RealCgroupV1Test, MemoryLimitOomKillsChild) {
  if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/python3 to allocate memory";
  ASSERT_TRUE(driver_->Create("oom", Limits{std::nullopt, 64 << 20, std::nullopt}).ok());

  // Writing 200 MiB of bytes touches every page, so the memory is really charged.
  Result<ProcessHandle> handle = StartIn("oom", {"/usr/bin/python3", "-c", "data = b'x' * (200 << 20)"});
  ASSERT_TRUE(handle.ok()) << handle.status().message();
  std::optional<ExitStatus> exit = WaitForExit(*handle, seconds(60));
  ASSERT_TRUE(exit.has_value()) << "the allocating child did not exit";
  EXPECT_EQ(exit->signal, SIGKILL);

  Result<Usage> usage = driver_->Read("oom");
  ASSERT_TRUE(usage.ok()) << usage.status().message();
  ASSERT_TRUE(usage->oom_kills.has_value()) << "this kernel has no oom_kill line in memory.oom_control";
  EXPECT_GE(*usage->oom_kills, 1);
  EXPECT_TRUE(driver_->Remove("oom").ok());
}

TEST_F(RealCgroupV1Test, CpuLimitThrottlesBusyChild) {
  ASSERT_TRUE(driver_->Create("busy", Limits{250, std::nullopt, std::nullopt}).ok());
  Result<ProcessHandle> handle = StartIn("busy", {"/bin/sh", "-c", "while :; do :; done"});
  ASSERT_TRUE(handle.ok()) << handle.status().message();

  // No timing assertion: wait until the kernel reports a throttled period, for up to 20 s.
  std::optional<int64_t> throttled;
  auto deadline = std::chrono::steady_clock::now() + seconds(20);
  while (std::chrono::steady_clock::now() < deadline && throttled.value_or(0) == 0) {
    std::this_thread::sleep_for(milliseconds(100));
    Result<Usage> usage = driver_->Read("busy");
    ASSERT_TRUE(usage.ok()) << usage.status().message();
    throttled = usage->cpu_throttled_periods;
  }
  EXPECT_TRUE(launcher_.Terminate(*handle, seconds(0)).ok());
  ASSERT_TRUE(throttled.has_value()) << "cpu.stat has no nr_throttled";
  EXPECT_GT(*throttled, 0);
  EXPECT_TRUE(driver_->Remove("busy").ok());
}

TEST_F(RealCgroupV1Test, RemoveKillsRunningProcess) {
  ASSERT_TRUE(driver_->Create("sleeper", Limits{1000, 256 << 20, 64}).ok());
  Result<ProcessHandle> handle = StartIn("sleeper", {"sleep", "30"});
  ASSERT_TRUE(handle.ok()) << handle.status().message();

  Status removed = driver_->Remove("sleeper");
  EXPECT_TRUE(removed.ok()) << removed.message();
  std::optional<ExitStatus> exit = WaitForExit(*handle, seconds(10));
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->signal, SIGKILL);
}

}  // namespace
}  // namespace xblocks
