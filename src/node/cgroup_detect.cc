#include "node/cgroup_detect.h"

#include <algorithm>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "node/cgroup_v2.h"

namespace xblocks {
namespace {

bool IsOctalEscape(const std::string& text, size_t i) {
  if (text[i] != '\\' || i + 3 >= text.size()) return false;
  for (size_t j = i + 1; j <= i + 3; ++j) {
    if (text[j] < '0' || text[j] > '7') return false;
  }
  return true;
}

std::string DecodeOctalEscapes(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (IsOctalEscape(text, i)) {
      out.push_back(static_cast<char>(((text[i + 1] - '0') << 6) | ((text[i + 2] - '0') << 3) | (text[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::istringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) parts.push_back(part);
  return parts;
}

void AssignFirst(std::string& field, const std::string& mount_point) {
  if (field.empty()) field = mount_point;
}

// Records one mountinfo line: "id parent major:minor root mount-point options ... - fstype source super-options".
void AddMount(const std::string& line, CgroupMounts& mounts) {
  std::vector<std::string> fields = Split(line, ' ');
  auto separator = std::find(fields.begin(), fields.end(), "-");
  if (fields.size() < 5 || separator == fields.end() || fields.end() - separator < 4) return;
  std::string mount_point = DecodeOctalEscapes(fields[4]);
  const std::string& fstype = separator[1];

  if (fstype == "cgroup2") AssignFirst(mounts.unified, mount_point);
  if (fstype != "cgroup") return;
  for (const std::string& option : Split(separator[3], ',')) {
    if (option == "cpu") AssignFirst(mounts.v1.cpu, mount_point);
    if (option == "memory") AssignFirst(mounts.v1.memory, mount_point);
    if (option == "pids") AssignFirst(mounts.v1.pids, mount_point);
    if (option == "cpuacct") AssignFirst(mounts.v1.cpuacct, mount_point);
  }
}

std::string FirstExisting(const CgroupFs& fs, const std::string& root, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    std::string path = root + "/" + name;
    if (fs.Exists(path)) return path;
  }
  return "";
}

// Returns why the unified hierarchy cannot be used, or "" when it can.
std::string UnifiedProblem(const CgroupFs& fs, const std::string& unified) {
  if (unified.empty()) return "no cgroup2 hierarchy is mounted";
  Result<std::string> controllers = fs.ReadFile(unified + "/cgroup.controllers");
  if (!controllers.ok()) return fmt::format("cgroup2 at {} has no readable cgroup.controllers", unified);
  if (!ListsController(*controllers, "memory") || !ListsController(*controllers, "cpu")) {
    return fmt::format("cgroup2 at {} lacks the memory and cpu controllers (cgroup.controllers: \"{}\")", unified,
                       std::string(controllers->substr(0, controllers->find('\n'))));
  }
  if (!fs.Writable(unified)) return fmt::format("cgroup2 at {} is not writable", unified);
  return "";
}

// Returns why the v1 hierarchies cannot be used, or "" when they can.
std::string V1Problem(const CgroupFs& fs, const CgroupV1Hierarchies& v1) {
  for (auto [controller, path] : {std::pair{"memory", &v1.memory}, std::pair{"cpu", &v1.cpu}}) {
    if (path->empty()) return fmt::format("no cgroup v1 {} hierarchy is mounted", controller);
    if (!fs.Writable(*path)) return fmt::format("cgroup v1 {} hierarchy {} is not writable", controller, *path);
  }
  return "";
}

// Drops the optional hierarchies the agent cannot write to.
CgroupV1Hierarchies WritableOptional(const CgroupFs& fs, CgroupV1Hierarchies v1) {
  if (!v1.pids.empty() && !fs.Writable(v1.pids)) v1.pids.clear();
  if (!v1.cpuacct.empty() && !fs.Writable(v1.cpuacct)) v1.cpuacct.clear();
  return v1;
}

}  // namespace

CgroupMounts ParseCgroupMounts(const std::string& mountinfo) {
  CgroupMounts mounts;
  std::istringstream lines(mountinfo);
  std::string line;
  while (std::getline(lines, line)) AddMount(line, mounts);
  return mounts;
}

CgroupMounts ProbeCgroupRoot(const CgroupFs& fs, const std::string& root) {
  CgroupMounts mounts;
  if (fs.Exists(root + "/cgroup.controllers")) mounts.unified = root;
  mounts.v1.cpu = FirstExisting(fs, root, {"cpu", "cpu,cpuacct", "cpuacct,cpu"});
  mounts.v1.memory = FirstExisting(fs, root, {"memory"});
  mounts.v1.pids = FirstExisting(fs, root, {"pids"});
  mounts.v1.cpuacct = FirstExisting(fs, root, {"cpuacct", "cpu,cpuacct", "cpuacct,cpu"});
  return mounts;
}

Result<std::unique_ptr<CgroupDriver>> DetectCgroupDriver(const CgroupOptions& options) {
  XB_RETURN_IF_ERROR(ValidateCgroupName(options.subtree));
  std::shared_ptr<CgroupFs> fs = options.fs ? options.fs : std::make_shared<PosixCgroupFs>();

  CgroupMounts mounts;
  if (!options.root.empty()) {
    mounts = ProbeCgroupRoot(*fs, options.root);
  } else {
    Result<std::string> mountinfo = fs->ReadFile(options.mountinfo_path);
    if (!mountinfo.ok()) {
      return std::unique_ptr<CgroupDriver>(std::make_unique<NoCgroupDriver>(mountinfo.status().message()));
    }
    mounts = ParseCgroupMounts(*mountinfo);
  }

  std::string unified_problem = UnifiedProblem(*fs, mounts.unified);
  if (unified_problem.empty()) {
    return std::unique_ptr<CgroupDriver>(
        std::make_unique<CgroupV2Driver>(fs, mounts.unified, options.subtree, options.remove_timeout));
  }
  std::string v1_problem = V1Problem(*fs, mounts.v1);
  if (v1_problem.empty()) {
    return std::unique_ptr<CgroupDriver>(std::make_unique<CgroupV1Driver>(
        fs, WritableOptional(*fs, mounts.v1), options.subtree, options.remove_timeout));
  }
  return std::unique_ptr<CgroupDriver>(
      std::make_unique<NoCgroupDriver>(fmt::format("{}, and {}", unified_problem, v1_problem)));
}

}  // namespace xblocks
