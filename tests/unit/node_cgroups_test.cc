// The cgroup drivers against a temp directory that imitates cgroupfs: a new directory gets its
// control files, removing a directory removes them, and kill(2) is recorded, never sent.
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "node/cgroup_detect.h"
#include "node/cgroup_v1.h"
#include "node/cgroup_v2.h"
#include "node/cgroups.h"

namespace xblocks {
namespace {

namespace fs = std::filesystem;

using ControlFiles = std::map<std::string, std::string>;  // file name -> initial content

const ControlFiles kV1Cpu = {{"cgroup.procs", ""}, {"cpu.cfs_period_us", "100000"}, {"cpu.cfs_quota_us", "-1"}, {"cpu.stat", ""}};
const ControlFiles kV1Memory = {{"cgroup.procs", ""},
                                {"memory.limit_in_bytes", ""},
                                {"memory.memsw.limit_in_bytes", ""},
                                {"memory.usage_in_bytes", "0"},
                                {"memory.max_usage_in_bytes", "0"},
                                {"memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"}};
const ControlFiles kV1Pids = {{"cgroup.procs", ""}, {"pids.max", "max"}};
const ControlFiles kV1Cpuacct = {{"cgroup.procs", ""}, {"cpuacct.usage", "0"}};
const ControlFiles kV2 = {{"cgroup.procs", ""},         {"cgroup.controllers", "cpuset cpu io memory pids"},
                          {"cgroup.subtree_control", ""}, {"cgroup.kill", ""},
                          {"cpu.max", "max 100000"},    {"memory.max", "max"},
                          {"memory.swap.max", "max"},   {"pids.max", "max"},
                          {"memory.current", "0"},      {"memory.events", ""},
                          {"cpu.stat", ""}};

std::string ReadText(const std::string& path) {
  std::ifstream file(path);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

void WriteText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// A cgroupfs imitation rooted in a fresh temp directory. Directories created under a mounted
// hierarchy get that hierarchy's control files; the directory is removed with them.
class FakeCgroupTree : public PosixCgroupFs {
 public:
  FakeCgroupTree() {
    char pattern[] = "/tmp/xb-cgroup-test-XXXXXX";
    root_ = ::mkdtemp(pattern);
  }
  ~FakeCgroupTree() override { fs::remove_all(root_); }

  const std::string& root() const { return root_; }

  // Creates a hierarchy directory `name` under the root with its control files.
  std::string Mount(const std::string& name, const ControlFiles& files) {
    std::string path = root_ + (name.empty() ? "" : "/" + name);
    fs::create_directories(path);
    mounts_[path] = files;
    for (const auto& [file, content] : files) WriteText(path + "/" + file, content);
    return path;
  }

  Status MakeDir(const std::string& path) override {
    XB_RETURN_IF_ERROR(PosixCgroupFs::MakeDir(path));
    for (const auto& [file, content] : FilesFor(path)) WriteText(path + "/" + file, content);
    return Status::Ok();
  }

  Status RemoveDir(const std::string& path) override {
    if (busy_removals_ > 0) {
      --busy_removals_;
      return Conflict("rmdir " + path + ": Device or resource busy");
    }
    if (!fs::exists(path)) return NotFound("rmdir " + path + ": No such file or directory");
    for (const auto& entry : fs::directory_iterator(path)) {
      if (entry.is_directory()) return Conflict("rmdir " + path + ": Device or resource busy");
    }
    fs::remove_all(path);
    removed_.push_back(path);
    return Status::Ok();
  }

  Status WriteFile(const std::string& path, const std::string& value) override {
    writes_.push_back(path.substr(root_.size()) + "=" + value);
    return PosixCgroupFs::WriteFile(path, value);
  }

  Status Kill(pid_t pid, int signal) override {
    kills_.emplace_back(pid, signal);
    return Status::Ok();
  }

  void Sleep(std::chrono::milliseconds duration) override { slept_ += duration; }

  int busy_removals_ = 0;
  std::vector<std::string> writes_;  // "<path below root>=<value>"
  std::vector<std::string> removed_;
  std::vector<std::pair<pid_t, int>> kills_;
  std::chrono::milliseconds slept_{0};

 private:
  ControlFiles FilesFor(const std::string& path) const {
    for (const auto& [mount, files] : mounts_) {
      if (path.rfind(mount + "/", 0) == 0) return files;
    }
    return {};
  }

  std::string root_;
  std::map<std::string, ControlFiles> mounts_;
};

struct V1Setup {
  std::shared_ptr<FakeCgroupTree> tree = std::make_shared<FakeCgroupTree>();
  CgroupV1Hierarchies hierarchies;
  std::unique_ptr<CgroupV1Driver> driver;

  explicit V1Setup(bool with_memsw = true) {
    ControlFiles memory = kV1Memory;
    if (!with_memsw) memory.erase("memory.memsw.limit_in_bytes");
    hierarchies.cpu = tree->Mount("cpu", kV1Cpu);
    hierarchies.memory = tree->Mount("memory", memory);
    hierarchies.pids = tree->Mount("pids", kV1Pids);
    hierarchies.cpuacct = tree->Mount("cpuacct", kV1Cpuacct);
    driver = std::make_unique<CgroupV1Driver>(tree, hierarchies, "xblocks", std::chrono::milliseconds(100));
  }
  std::string Dir(const std::string& hierarchy, const std::string& name) const {
    return tree->root() + "/" + hierarchy + "/xblocks/" + name;
  }
};

struct V2Setup {
  std::shared_ptr<FakeCgroupTree> tree = std::make_shared<FakeCgroupTree>();
  std::unique_ptr<CgroupV2Driver> driver;

  explicit V2Setup(const std::string& controllers = "cpuset cpu io memory pids") {
    ControlFiles files = kV2;
    files["cgroup.controllers"] = controllers;
    tree->Mount("", files);
    driver = std::make_unique<CgroupV2Driver>(tree, tree->root(), "xblocks", std::chrono::milliseconds(100));
  }
  std::string Dir(const std::string& name) const { return tree->root() + "/xblocks/" + name; }
};

Limits FullLimits() { return Limits{250, 64 << 20, 100}; }

TEST(CgroupV1Driver, CreateWritesLimits) {
  V1Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  Status created = setup.driver->Create("pod-a", FullLimits());
  ASSERT_TRUE(created.ok()) << created.message();

  EXPECT_EQ(ReadText(setup.Dir("cpu", "pod-a") + "/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(ReadText(setup.Dir("cpu", "pod-a") + "/cpu.cfs_quota_us"), "25000");
  EXPECT_EQ(ReadText(setup.Dir("memory", "pod-a") + "/memory.limit_in_bytes"), "67108864");
  EXPECT_EQ(ReadText(setup.Dir("memory", "pod-a") + "/memory.memsw.limit_in_bytes"), "67108864");
  EXPECT_EQ(ReadText(setup.Dir("pids", "pod-a") + "/pids.max"), "100");
  EXPECT_TRUE(fs::is_directory(setup.Dir("cpuacct", "pod-a")));
}

TEST(CgroupV1Driver, LiftsMemswBeforeSettingLimit) {
  V1Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  ASSERT_TRUE(setup.driver->Create("pod-a", FullLimits()).ok());
  std::vector<std::string> memory_writes;
  for (const std::string& write : setup.tree->writes_) {
    if (write.find("/memory/") == 0) memory_writes.push_back(write);
  }
  std::vector<std::string> expected = {
      "/memory/xblocks/pod-a/memory.memsw.limit_in_bytes=-1",
      "/memory/xblocks/pod-a/memory.limit_in_bytes=67108864",
      "/memory/xblocks/pod-a/memory.memsw.limit_in_bytes=67108864",
  };
  EXPECT_EQ(memory_writes, expected);
}

TEST(CgroupV1Driver, UnsetLimitsAreUnlimited) {
  V1Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  ASSERT_TRUE(setup.driver->Create("pod-a", FullLimits()).ok());
  ASSERT_TRUE(setup.driver->Update("pod-a", Limits{}).ok());
  EXPECT_EQ(ReadText(setup.Dir("cpu", "pod-a") + "/cpu.cfs_quota_us"), "-1");
  EXPECT_EQ(ReadText(setup.Dir("memory", "pod-a") + "/memory.limit_in_bytes"), "-1");
  EXPECT_EQ(ReadText(setup.Dir("memory", "pod-a") + "/memory.memsw.limit_in_bytes"), "-1");
  EXPECT_EQ(ReadText(setup.Dir("pids", "pod-a") + "/pids.max"), "max");
}

TEST(CgroupV1Driver, SkipsMemswWhenAbsent) {
  V1Setup setup(/*with_memsw=*/false);
  ASSERT_TRUE(setup.driver->Init().ok());
  ASSERT_TRUE(setup.driver->Create("pod-a", FullLimits()).ok());
  EXPECT_EQ(ReadText(setup.Dir("memory", "pod-a") + "/memory.limit_in_bytes"), "67108864");
  EXPECT_FALSE(fs::exists(setup.Dir("memory", "pod-a") + "/memory.memsw.limit_in_bytes"));
}

TEST(CgroupV1Driver, SmallCpuLimitGetsMinimumQuota) {
  V1Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  ASSERT_TRUE(setup.driver->Create("pod-a", Limits{5, std::nullopt, std::nullopt}).ok());
  EXPECT_EQ(ReadText(setup.Dir("cpu", "pod-a") + "/cpu.cfs_quota_us"), "1000");
  ASSERT_TRUE(setup.driver->Update("pod-a", Limits{2500, std::nullopt, std::nullopt}).ok());
  EXPECT_EQ(ReadText(setup.Dir("cpu", "pod-a") + "/cpu.cfs_quota_us"), "250000");
}

TEST(CgroupV1Driver, AddProcessJoinsEveryHierarchy) {
  V1Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  ASSERT_TRUE(setup.driver->Create("pod-a", Limits{}).ok());
  ASSERT_TRUE(setup.driver->AddProcess("pod-a", 4321).ok());
  for (const char* hierarchy : {"cpu", "memory", "pids", "cpuacct"}) {
    EXPECT_EQ(ReadText(setup.Dir(hierarchy, "pod-a") + "/cgroup.procs"), "4321") << hierarchy;
  }
}

TEST(CgroupV1Driver, AddProcessToMissingCgroupFails) {
  V1Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  Status added = setup.driver->AddProcess("pod-missing", 4321);
  EXPECT_EQ(added.code(), StatusCode::kNotFound) << added.message();
}

TEST(CgroupV1Driver, RemoveKillsProcessesThenRemovesDirs) {
  V1Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  ASSERT_TRUE(setup.driver->Create("pod-a", Limits{}).ok());
  WriteText(setup.Dir("memory", "pod-a") + "/cgroup.procs", "4242\n4243\n");

  Status removed = setup.driver->Remove("pod-a");
  ASSERT_TRUE(removed.ok()) << removed.message();
  std::vector<std::pair<pid_t, int>> expected = {{4242, SIGKILL}, {4243, SIGKILL}};
  EXPECT_EQ(setup.tree->kills_, expected);
  for (const char* hierarchy : {"cpu", "memory", "pids", "cpuacct"}) {
    EXPECT_FALSE(fs::exists(setup.Dir(hierarchy, "pod-a"))) << hierarchy;
    EXPECT_TRUE(fs::is_directory(setup.tree->root() + "/" + hierarchy + "/xblocks")) << hierarchy;
  }
}

TEST(CgroupV1Driver, RemoveRetriesWhileBusy) {
  V1Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  ASSERT_TRUE(setup.driver->Create("pod-a", Limits{}).ok());
  WriteText(setup.Dir("cpu", "pod-a") + "/cgroup.procs", "77\n");
  setup.tree->busy_removals_ = 2;

  ASSERT_TRUE(setup.driver->Remove("pod-a").ok());
  EXPECT_EQ(setup.tree->kills_.size(), 3u);  // the first signal and one per busy retry
  EXPECT_GT(setup.tree->slept_.count(), 0);
  EXPECT_FALSE(fs::exists(setup.Dir("cpu", "pod-a")));
}

TEST(CgroupV1Driver, RemoveGivesUpAfterTimeout) {
  V1Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  ASSERT_TRUE(setup.driver->Create("pod-a", Limits{}).ok());
  setup.tree->busy_removals_ = 1000;

  Status removed = setup.driver->Remove("pod-a");
  EXPECT_EQ(removed.code(), StatusCode::kConflict);
  EXPECT_NE(removed.message().find("busy"), std::string::npos) << removed.message();
  EXPECT_LE(setup.tree->slept_.count(), 200);
}

TEST(CgroupV1Driver, RemoveMissingIsOk) {
  V1Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  EXPECT_TRUE(setup.driver->Remove("never-created").ok());
}

TEST(CgroupV1Driver, ReadParsesCounters) {
  V1Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  ASSERT_TRUE(setup.driver->Create("pod-a", Limits{}).ok());
  WriteText(setup.Dir("memory", "pod-a") + "/memory.usage_in_bytes", "1048576\n");
  WriteText(setup.Dir("memory", "pod-a") + "/memory.max_usage_in_bytes", "67108864\n");
  WriteText(setup.Dir("memory", "pod-a") + "/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  WriteText(setup.Dir("cpu", "pod-a") + "/cpu.stat", "nr_periods 32\nnr_throttled 30\nthrottled_time 2240000000\n");
  WriteText(setup.Dir("cpuacct", "pod-a") + "/cpuacct.usage", "123456789\n");

  Result<Usage> usage = setup.driver->Read("pod-a");
  ASSERT_TRUE(usage.ok()) << usage.status().message();
  EXPECT_EQ(usage->memory_bytes, 1048576);
  EXPECT_EQ(usage->memory_peak_bytes, 67108864);
  EXPECT_EQ(usage->oom_kills, 2);
  EXPECT_EQ(usage->cpu_throttled_periods, 30);
  EXPECT_EQ(usage->cpu_usage_nanos, 123456789);
}

TEST(CgroupV1Driver, ReadMissingIsNotFound) {
  V1Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  EXPECT_EQ(setup.driver->Read("pod-missing").status().code(), StatusCode::kNotFound);
}

TEST(CgroupV1Driver, CleanupRemovesSubtree) {
  V1Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  ASSERT_TRUE(setup.driver->Create("pod-a", Limits{}).ok());
  ASSERT_TRUE(setup.driver->Create("pod-b", Limits{}).ok());
  WriteText(setup.Dir("memory", "pod-b") + "/cgroup.procs", "99\n");

  Status cleaned = setup.driver->Cleanup();
  ASSERT_TRUE(cleaned.ok()) << cleaned.message();
  for (const char* hierarchy : {"cpu", "memory", "pids", "cpuacct"}) {
    EXPECT_FALSE(fs::exists(setup.tree->root() + "/" + hierarchy + "/xblocks")) << hierarchy;
    EXPECT_TRUE(fs::is_directory(setup.tree->root() + "/" + hierarchy)) << hierarchy;
  }
  EXPECT_EQ(setup.tree->kills_, (std::vector<std::pair<pid_t, int>>{{99, SIGKILL}}));
}

TEST(CgroupV1Driver, RejectsBadNamesWithoutWriting) {
  V1Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  size_t writes_before = setup.tree->writes_.size();
  for (const std::string& name : std::vector<std::string>{"", ".", "..", "../escape", "a/b", "pod a", std::string(201, 'x'), std::string("a\0b", 3)}) {
    Status created = setup.driver->Create(name, Limits{});
    EXPECT_EQ(created.code(), StatusCode::kInvalid) << name;
    EXPECT_EQ(setup.driver->AddProcess(name, 1).code(), StatusCode::kInvalid) << name;
    EXPECT_EQ(setup.driver->Remove(name).code(), StatusCode::kInvalid) << name;
  }
  EXPECT_EQ(setup.tree->writes_.size(), writes_before);
  EXPECT_FALSE(fs::exists(setup.tree->root() + "/cpu/escape"));
}

TEST(CgroupV1Driver, RejectsBadLimits) {
  V1Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  std::vector<Limits> bad = {
      {0, std::nullopt, std::nullopt},
      {-250, std::nullopt, std::nullopt},
      {std::nullopt, -1, std::nullopt},
      {std::nullopt, INT64_MAX, std::nullopt},
      {std::nullopt, std::nullopt, 0},
      {std::nullopt, std::nullopt, 5'000'000},
  };
  for (const Limits& limits : bad) {
    Status created = setup.driver->Create("pod-a", limits);
    EXPECT_EQ(created.code(), StatusCode::kInvalid) << created.message();
  }
  EXPECT_FALSE(fs::exists(setup.Dir("cpu", "pod-a")));
}

TEST(CgroupV1Driver, UpdateMissingIsNotFound) {
  V1Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  EXPECT_EQ(setup.driver->Update("pod-missing", FullLimits()).code(), StatusCode::kNotFound);
}

TEST(CgroupV1Driver, CreateTwiceReappliesLimits) {
  V1Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  ASSERT_TRUE(setup.driver->Init().ok());
  ASSERT_TRUE(setup.driver->Create("pod-a", FullLimits()).ok());
  ASSERT_TRUE(setup.driver->Create("pod-a", Limits{500, std::nullopt, std::nullopt}).ok());
  EXPECT_EQ(ReadText(setup.Dir("cpu", "pod-a") + "/cpu.cfs_quota_us"), "50000");
}

TEST(CgroupV2Driver, InitEnablesControllersInSubtree) {
  V2Setup setup;
  Status init = setup.driver->Init();
  ASSERT_TRUE(init.ok()) << init.message();
  EXPECT_EQ(ReadText(setup.tree->root() + "/xblocks/cgroup.subtree_control"), "+cpu +memory +pids");
  // The root's own subtree_control belongs to the root's owner, so Init leaves it alone.
  EXPECT_EQ(ReadText(setup.tree->root() + "/cgroup.subtree_control"), "");
}

TEST(CgroupV2Driver, InitWithoutPidsEnablesCpuAndMemory) {
  V2Setup setup("cpu memory");
  ASSERT_TRUE(setup.driver->Init().ok());
  EXPECT_EQ(ReadText(setup.tree->root() + "/xblocks/cgroup.subtree_control"), "+cpu +memory");
}

TEST(CgroupV2Driver, InitRejectsMissingControllers) {
  V2Setup setup("hugetlb");
  Status init = setup.driver->Init();
  EXPECT_EQ(init.code(), StatusCode::kUnavailable);
  EXPECT_NE(init.message().find("cgroup.subtree_control"), std::string::npos) << init.message();
}

TEST(CgroupV2Driver, CreateWritesLimits) {
  V2Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  ASSERT_TRUE(setup.driver->Create("pod-a", FullLimits()).ok());
  EXPECT_EQ(ReadText(setup.Dir("pod-a") + "/cpu.max"), "25000 100000");
  EXPECT_EQ(ReadText(setup.Dir("pod-a") + "/memory.max"), "67108864");
  EXPECT_EQ(ReadText(setup.Dir("pod-a") + "/memory.swap.max"), "0");
  EXPECT_EQ(ReadText(setup.Dir("pod-a") + "/pids.max"), "100");
}

TEST(CgroupV2Driver, UnsetLimitsAreMax) {
  V2Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  ASSERT_TRUE(setup.driver->Create("pod-a", FullLimits()).ok());
  ASSERT_TRUE(setup.driver->Update("pod-a", Limits{}).ok());
  EXPECT_EQ(ReadText(setup.Dir("pod-a") + "/cpu.max"), "max 100000");
  EXPECT_EQ(ReadText(setup.Dir("pod-a") + "/memory.max"), "max");
  EXPECT_EQ(ReadText(setup.Dir("pod-a") + "/pids.max"), "max");
}

TEST(CgroupV2Driver, AddProcessWritesCgroupProcs) {
  V2Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  ASSERT_TRUE(setup.driver->Create("pod-a", Limits{}).ok());
  ASSERT_TRUE(setup.driver->AddProcess("pod-a", 555).ok());
  EXPECT_EQ(ReadText(setup.Dir("pod-a") + "/cgroup.procs"), "555");
}

TEST(CgroupV2Driver, RemoveWritesCgroupKill) {
  V2Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  ASSERT_TRUE(setup.driver->Create("pod-a", Limits{}).ok());
  ASSERT_TRUE(setup.driver->Remove("pod-a").ok());
  auto kill_write = std::find(setup.tree->writes_.begin(), setup.tree->writes_.end(), "/xblocks/pod-a/cgroup.kill=1");
  EXPECT_NE(kill_write, setup.tree->writes_.end());
  EXPECT_FALSE(fs::exists(setup.Dir("pod-a")));
}

TEST(CgroupV2Driver, ReadParsesCounters) {
  V2Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  ASSERT_TRUE(setup.driver->Create("pod-a", Limits{}).ok());
  WriteText(setup.Dir("pod-a") + "/memory.current", "2097152\n");
  WriteText(setup.Dir("pod-a") + "/memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n");
  WriteText(setup.Dir("pod-a") + "/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 7\n");

  Result<Usage> usage = setup.driver->Read("pod-a");
  ASSERT_TRUE(usage.ok()) << usage.status().message();
  EXPECT_EQ(usage->memory_bytes, 2097152);
  EXPECT_FALSE(usage->memory_peak_bytes.has_value());  // no memory.peak in this tree
  EXPECT_EQ(usage->oom_kills, 1);
  EXPECT_EQ(usage->cpu_usage_nanos, 1500000);
  EXPECT_EQ(usage->cpu_throttled_periods, 7);
}

TEST(CgroupV2Driver, CleanupRemovesSubtree) {
  V2Setup setup;
  ASSERT_TRUE(setup.driver->Init().ok());
  ASSERT_TRUE(setup.driver->Create("pod-a", Limits{}).ok());
  ASSERT_TRUE(setup.driver->Cleanup().ok());
  EXPECT_FALSE(fs::exists(setup.tree->root() + "/xblocks"));
  EXPECT_TRUE(fs::exists(setup.tree->root() + "/cgroup.controllers"));
}

TEST(DetectCgroupDriver, ChoosesV2WhenControllersAreThere) {
  auto tree = std::make_shared<FakeCgroupTree>();
  tree->Mount("", kV2);
  Result<std::unique_ptr<CgroupDriver>> driver = DetectCgroupDriver(CgroupOptions{tree->root(), "", "xblocks", {}, tree});
  ASSERT_TRUE(driver.ok()) << driver.status().message();
  EXPECT_EQ((*driver)->Describe().rfind("cgroup v2", 0), 0u) << (*driver)->Describe();
  EXPECT_TRUE((*driver)->EnforcesLimits());
}

TEST(DetectCgroupDriver, ChoosesV1ForHybridLayout) {
  auto tree = std::make_shared<FakeCgroupTree>();
  tree->Mount("unified", {{"cgroup.controllers", "hugetlb"}});
  tree->Mount("cpu,cpuacct", kV1Cpu);
  tree->Mount("memory", kV1Memory);
  CgroupOptions options;
  options.root = tree->root();
  options.fs = tree;

  // A configured root is a v2 tree only when it has cgroup.controllers itself.
  Result<std::unique_ptr<CgroupDriver>> driver = DetectCgroupDriver(options);
  ASSERT_TRUE(driver.ok());
  std::string described = (*driver)->Describe();
  EXPECT_EQ(described.rfind("cgroup v1", 0), 0u) << described;
  EXPECT_NE(described.find("cpu,cpuacct"), std::string::npos) << described;
  EXPECT_NE(described.find("pids=none"), std::string::npos) << described;
}

TEST(DetectCgroupDriver, FallsBackToNoDriver) {
  auto tree = std::make_shared<FakeCgroupTree>();
  tree->Mount("memory", kV1Memory);  // memory without cpu is not enough
  CgroupOptions options;
  options.root = tree->root();
  options.fs = tree;

  Result<std::unique_ptr<CgroupDriver>> driver = DetectCgroupDriver(options);
  ASSERT_TRUE(driver.ok());
  EXPECT_FALSE((*driver)->EnforcesLimits());
  Status created = (*driver)->Create("pod-a", FullLimits());
  EXPECT_EQ(created.code(), StatusCode::kUnavailable);
  EXPECT_EQ(created.message().rfind("resource limits are not enforced: ", 0), 0u) << created.message();
  EXPECT_NE(created.message().find("no cgroup v1 cpu hierarchy"), std::string::npos) << created.message();
  EXPECT_TRUE((*driver)->AddProcess("pod-a", 1).ok());
  EXPECT_TRUE((*driver)->Remove("pod-a").ok());
  EXPECT_EQ((*driver)->Read("pod-a").status().code(), StatusCode::kUnavailable);
}

TEST(DetectCgroupDriver, ReadsMountinfo) {
  auto tree = std::make_shared<FakeCgroupTree>();
  std::string unified = tree->Mount("unified", {{"cgroup.controllers", "hugetlb\n"}});
  std::string cpu = tree->Mount("cpu", kV1Cpu);
  std::string memory = tree->Mount("memory", kV1Memory);
  std::string mountinfo = tree->root() + "/mountinfo";
  WriteText(mountinfo, "32 31 0:29 / " + cpu + " rw,relatime - cgroup cgroup rw,cpu\n" +
                           "35 31 0:32 / " + memory + " rw,relatime - cgroup cgroup rw,memory\n" +
                           "41 31 0:38 / " + unified + " rw,relatime - cgroup2 cgroup2 rw\n");
  CgroupOptions options;
  options.mountinfo_path = mountinfo;
  options.fs = tree;

  Result<std::unique_ptr<CgroupDriver>> driver = DetectCgroupDriver(options);
  ASSERT_TRUE(driver.ok());
  EXPECT_EQ((*driver)->Describe().rfind("cgroup v1 (cpu=" + cpu, 0), 0u) << (*driver)->Describe();
}

TEST(DetectCgroupDriver, RejectsBadSubtree) {
  CgroupOptions options;
  options.subtree = "../xblocks";
  EXPECT_EQ(DetectCgroupDriver(options).status().code(), StatusCode::kInvalid);
}

TEST(ParseCgroupMounts, ReadsV1AndV2Mounts) {
  CgroupMounts mounts = ParseCgroupMounts(
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
      "35 31 0:32 / /sys/fs/cgroup/mem\\040ory rw,relatime shared:5 - cgroup cgroup rw,memory\n"
      "36 31 0:33 / /other/memory rw - cgroup cgroup rw,memory\n"
      "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
      "garbage line\n");
  EXPECT_EQ(mounts.unified, "/sys/fs/cgroup/unified");
  EXPECT_EQ(mounts.v1.cpu, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(mounts.v1.cpuacct, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(mounts.v1.memory, "/sys/fs/cgroup/mem ory");
  EXPECT_EQ(mounts.v1.pids, "/sys/fs/cgroup/pids");
}

TEST(CgroupFiles, ParsesPidsAndKeyedValues) {
  EXPECT_EQ(ParsePidList("12\n  34 \n\nx\n-5\n0\n99999999999\n"), (std::vector<pid_t>{12, 34}));
  EXPECT_EQ(FindKeyedValue("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", "oom_kill"), 3);
  EXPECT_EQ(FindKeyedValue("oom_kill_disable 7\n", "oom_kill"), std::nullopt);
  EXPECT_EQ(FindKeyedValue("oom_kill many\n", "oom_kill"), std::nullopt);
  EXPECT_EQ(ParseSingleValue(" 42\n"), 42);
  EXPECT_EQ(ParseSingleValue("max\n"), std::nullopt);
}

}  // namespace
}  // namespace xblocks
