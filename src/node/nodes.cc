// Building the Node objects, and reading the host facts they report.
#include "node/nodes.h"

#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>

namespace xblocks::node {
namespace {

constexpr char kKubeletVersion[] = "v1.33.0";
constexpr char kContainerRuntimeVersion[] = "xblocks://0.1.0";
// The kubelet's default maxPods.
constexpr int kMaxPodsPerNode = 110;
constexpr size_t kMaxLabelValueLength = 63;
// Room for "-5000", the longest virtual-node suffix.
constexpr size_t kMaxBaseNameLength = kMaxLabelValueLength - 5;

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return "";
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string GoArchitecture(const std::string& machine) {
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64" || machine == "arm64") return "arm64";
  if (machine == "i686" || machine == "i386") return "386";
  return machine;
}

int64_t AvailableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? online : 1;
}

Json Condition(const std::string& type, const std::string& status, const std::string& reason,
               const std::string& message, const std::string& time) {
  return {{"type", type},     {"status", status},          {"reason", reason},
          {"message", message}, {"lastHeartbeatTime", time}, {"lastTransitionTime", time}};
}

Json NodeStatus(const std::string& name, const HostResources& host, const std::string& time) {
  const Json resources = {{"cpu", std::to_string(std::max<int64_t>(host.cpus, 1))},
                          {"memory", fmt::format("{}Ki", std::max<int64_t>(host.memory_bytes, 0) / 1024)},
                          {"pods", std::to_string(kMaxPodsPerNode)}};
  return {
      {"capacity", resources},
      {"allocatable", resources},
      {"conditions",
       {Condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available",
                  time),
        Condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", time),
        Condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available", time),
        Condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", time)}},
      {"addresses", {{{"type", "InternalIP"}, {"address", "127.0.0.1"}}, {{"type", "Hostname"}, {"address", name}}}},
      {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 0}}}}},
      {"nodeInfo",
       {{"machineID", ""},
        {"systemUUID", ""},
        {"bootID", ""},
        {"kernelVersion", host.kernel_version},
        {"osImage", host.os_image},
        {"containerRuntimeVersion", kContainerRuntimeVersion},
        {"kubeletVersion", kKubeletVersion},
        {"kubeProxyVersion", ""},
        {"operatingSystem", "linux"},
        {"architecture", host.architecture}}},
  };
}

Json BuildNode(const std::string& name, bool is_virtual, const NodeOptions& options, const HostResources& host,
               const std::string& time) {
  Json labels = {{"kubernetes.io/hostname", name},
                 {"kubernetes.io/os", "linux"},
                 {"kubernetes.io/arch", host.architecture},
                 {"node.kubernetes.io/instance-type", "xblocks"}};
  if (is_virtual) labels[kVirtualNodeLabel] = "true";
  if (options.simulated) labels[kSimulatedLabel] = "true";
  const Json annotations = {{kPodRuntimeAnnotation, options.simulated ? "simulated" : "process"}};
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", name}, {"labels", labels}, {"annotations", annotations}}},
          {"spec", Json::object()},
          {"status", NodeStatus(name, host, time)}};
}

}  // namespace

std::string ParseOsReleasePrettyName(const std::string& content) {
  std::istringstream lines(content);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("PRETTY_NAME=", 0) != 0) continue;
    std::string value = line.substr(12);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return "";
}

int64_t ParseMemTotalBytes(const std::string& content) {
  std::istringstream lines(content);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("MemTotal:", 0) != 0) continue;
    std::istringstream fields(line.substr(9));
    int64_t kib = 0;
    if (!(fields >> kib) || kib <= 0 || kib > std::numeric_limits<int64_t>::max() / 1024) return 0;
    return kib * 1024;
  }
  return 0;
}

HostResources ReadHostResources() {
  HostResources host;
  host.cpus = AvailableCpus();
  host.memory_bytes = ParseMemTotalBytes(ReadFile("/proc/meminfo"));
  host.os_image = ParseOsReleasePrettyName(ReadFile("/etc/os-release"));
  struct utsname names {};
  if (uname(&names) == 0) {
    host.kernel_version = names.release;
    host.architecture = GoArchitecture(names.machine);
  }
  return host;
}

Status ValidateNodeOptions(const NodeOptions& options) {
  if (options.virtual_nodes < 0 || options.virtual_nodes > kMaxNodes) {
    return Invalid(fmt::format("nodes: Invalid value: {}: must be between 0 and {}", options.virtual_nodes, kMaxNodes));
  }
  return Status::Ok();
}

std::string NodeNameForHost(const std::string& host_name) {
  std::string name;
  for (char c : host_name) {
    const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool allowed = (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9');
    name.push_back(allowed ? lower : '-');
  }
  if (name.size() > kMaxBaseNameLength) name.resize(kMaxBaseNameLength);
  const size_t first = name.find_first_not_of('-');
  if (first == std::string::npos) return "xblocks-node";
  const size_t last = name.find_last_not_of('-');
  return name.substr(first, last - first + 1);
}

std::vector<Json> BuildNodes(const NodeOptions& options, const HostResources& host) {
  const TimePoint heartbeat = options.heartbeat_time == TimePoint{} ? SystemClock().Now() : options.heartbeat_time;
  const std::string time = FormatRfc3339(heartbeat);
  const std::string base = NodeNameForHost(options.host_name);
  const int total = std::clamp(options.virtual_nodes, 1, kMaxNodes);

  std::vector<Json> nodes;
  nodes.push_back(BuildNode(base, false, options, host, time));
  for (int i = 1; i < total; ++i) nodes.push_back(BuildNode(fmt::format("{}-{}", base, i), true, options, host, time));
  return nodes;
}

}  // namespace xblocks::node
