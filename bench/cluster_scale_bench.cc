// Measures how long an embedded server takes to bring many clusters to Running with simulated
// pods, against how long it takes only to acknowledge their creates.
//
//   build/cluster_scale_bench [--clusters N] [--namespaces K] [--clients C] [--nodes M]
//                             [--timeout SECONDS] [--xblocks PATH] [--manifest PATH]
//                             [--dir DIR] [--keep]
//
// The run starts `xblocks server` twice as a child process, each on a fresh data dir:
//   1. baseline: `--runtime none`, where pods stay Pending. It times the N creates of the
//      tutorial's Cluster (tests/fixtures/tutorial_cluster.yaml, with distinct names, spread over
//      K namespaces) until all are acknowledged. Then it times from the first create until every
//      cluster is Creating, which is where a cluster whose pods never start settles.
//   2. simulated: `--runtime simulated --nodes M`. It times the same creates, then the time from
//      the first create until every cluster's status.phase is Running.
// Both runs list the clusters once a second and print how many reached the phase. The output
// gives the create times, the times to the phase, their ratios, and each server's memory: VmRSS
// once the kubeconfig is written, VmRSS before SIGTERM and the peak VmHWM before SIGTERM. DIR,
// with each server's log, is removed after a successful run unless --keep is given.
//
// Each tutorial pod requests 1 CPU, and a simulated node offers the host's CPUs and 110 pods, so
// the default M gives every pod a place: max(N / 110, N / host CPUs), rounded up, at most 1000.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "api/yaml.h"
#include "common/json.h"
#include "https_client.h"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using xblocks::Json;
using xblocks::bench::Endpoint;
using xblocks::bench::HttpsClient;
using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

constexpr int kMaxNodes = 1000;       // the server's limit for --nodes
constexpr int kPodsPerNode = 110;     // a simulated node's pod capacity
constexpr auto kStartTimeout = std::chrono::seconds(60);
constexpr auto kStopTimeout = std::chrono::seconds(60);
constexpr const char* kClusters = "/apis/apps.kubeblocks.io/v1alpha1";


struct Flags {
  int clusters = 1000;
  int namespaces = 4;
  int clients = 4;
  int nodes = 0;  // 0: enough for every pod, see the file comment
  int timeout_seconds = 1800;
  fs::path xblocks;
  fs::path manifest;
  fs::path dir;
  bool keep = false;
};

int HostCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return std::max(1u, std::thread::hardware_concurrency());
}

int NodesFor(int clusters) {
  const int by_pods = (clusters + kPodsPerNode - 1) / kPodsPerNode;
  const int by_cpus = (clusters + HostCpus() - 1) / HostCpus();
  return std::clamp(std::max(by_pods, by_cpus), 1, kMaxNodes);
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string name = argv[i];
    if (name == "--keep") {
      flags.keep = true;
      continue;
    }
    if (i + 1 == argc) {
      std::cerr << "warning: flag " << name << " has no value and is ignored\n";
      break;
    }
    const char* value = argv[++i];
    if (name == "--clusters") flags.clusters = std::max(1, std::atoi(value));
    else if (name == "--namespaces") flags.namespaces = std::max(1, std::atoi(value));
    else if (name == "--clients") flags.clients = std::max(1, std::atoi(value));
    else if (name == "--nodes") flags.nodes = std::clamp(std::atoi(value), 1, kMaxNodes);
    else if (name == "--timeout") flags.timeout_seconds = std::max(1, std::atoi(value));
    else if (name == "--xblocks") flags.xblocks = value;
    else if (name == "--manifest") flags.manifest = value;
    else if (name == "--dir") flags.dir = value;
    else std::cerr << "warning: unknown flag " << name << " ignored\n";
  }
  if (flags.nodes == 0) flags.nodes = NodesFor(flags.clusters);
  // build/cluster_scale_bench sits beside build/xblocks, in the build dir of the checkout.
  const fs::path build_dir = fs::read_symlink("/proc/self/exe").parent_path();
  if (flags.xblocks.empty()) flags.xblocks = build_dir / "xblocks";
  if (flags.manifest.empty()) flags.manifest = build_dir.parent_path() / "tests/fixtures/tutorial_cluster.yaml";
  if (flags.dir.empty()) flags.dir = fs::temp_directory_path() / fmt::format("xblocks-scale-bench-{}", ::getpid());
  return flags;
}

// A kB figure from /proc/<pid>/status, such as VmRSS or VmHWM, or -1 when it cannot be read.
long StatusKilobytes(pid_t pid, const std::string& field) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

// `xblocks server` as a child process on its own data dir, logging to <dir>/server.log. The
// destructor stops it with SIGTERM if Stop() was not called.
class ServerProcess {
 public:
  ServerProcess(const fs::path& xblocks, const fs::path& dir, std::vector<std::string> extra_args)
      : dir_(dir), data_dir_(dir / "data") {
    fs::create_directories(data_dir_);
    std::vector<std::string> args = {xblocks.string(), "server", "--data-dir", data_dir_.string(),
                                     "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    const std::string log = (dir / "server.log").string();
    pid_ = ::fork();
    if (pid_ == 0) Exec(args, log);
  }

  ~ServerProcess() { Stop(); }

  pid_t pid() const { return pid_; }
  const fs::path& dir() const { return dir_; }

  // Waits for the kubeconfig the server writes once it serves, and returns how to reach it.
  std::optional<Endpoint> WaitReady() {
    const fs::path kubeconfig = data_dir_ / "kubeconfig";
    const auto deadline = Clock::now() + kStartTimeout;
    while (Clock::now() < deadline) {
      if (::waitpid(pid_, &exit_status_, WNOHANG) == pid_) {
        pid_ = -1;
        std::cerr << "error: the server exited before it was ready; see " << (dir_ / "server.log") << "\n";
        return std::nullopt;
      }
      if (fs::exists(kubeconfig)) return ReadEndpoint(kubeconfig);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::cerr << "error: the server wrote no kubeconfig within " << kStartTimeout.count() << " s\n";
    return std::nullopt;
  }

  // Sends SIGTERM and waits for the exit. Returns the exit code, or -1 when the server had to be
  // killed or was not running.
  int Stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + kStopTimeout;
    while (Clock::now() < deadline) {
      if (::waitpid(pid_, &exit_status_, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(exit_status_) ? WEXITSTATUS(exit_status_) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::cerr << "error: the server did not exit within " << kStopTimeout.count() << " s of SIGTERM; killing it\n";
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &exit_status_, 0);
    pid_ = -1;
    return -1;
  }

 private:
  [[noreturn]] static void Exec(const std::vector<std::string>& args, const std::string& log) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    std::vector<char*> argv;
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "exec %s failed: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }

  std::optional<Endpoint> ReadEndpoint(const fs::path& kubeconfig) const {
    std::ifstream in(kubeconfig);
    std::stringstream text;
    text << in.rdbuf();
    auto config = xblocks::api::ParseYamlOrJson(text.str());
    if (!config.ok()) return std::nullopt;
    const std::string server = (*config)["clusters"][0]["cluster"].value("server", "");
    const size_t colon = server.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    return Endpoint{std::atoi(server.c_str() + colon + 1), data_dir_ / "ca.crt", xblocks::bench::ReadToken(data_dir_)};
  }

  fs::path dir_;
  fs::path data_dir_;
  pid_t pid_ = -1;
  int exit_status_ = 0;
};

std::string NamespaceName(int index) { return fmt::format("scale-{}", index); }

// Cluster i: "c-<i>" in namespace scale-<i mod K>.
std::string ClusterJson(const Json& manifest, const Flags& flags, int i) {
  Json cluster = manifest;
  cluster["metadata"]["name"] = fmt::format("c-{}", i);
  cluster["metadata"]["namespace"] = NamespaceName(i % flags.namespaces);
  return cluster.dump();
}

// Creates the namespaces, then the clusters. Returns the seconds until every create was
// acknowledged, or nullopt when any failed.
std::optional<double> CreateClusters(const Endpoint& endpoint, const Flags& flags, const Json& manifest) {
  auto namespaces = xblocks::bench::RunParallel(endpoint, 1, flags.namespaces, [](HttpsClient& client, int i) {
    const Json body = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", NamespaceName(i)}}}};
    return client.Send(http::verb::post, "/api/v1/namespaces", body.dump()).status == 201;
  });
  if (namespaces.failures > 0) {
    std::cerr << "error: creating the namespaces failed " << namespaces.error << "\n";
    return std::nullopt;
  }
  auto creates = xblocks::bench::RunParallel(endpoint, flags.clients, flags.clusters, [&](HttpsClient& client, int i) {
    const std::string ns = NamespaceName(i % flags.namespaces);
    const auto response = client.Send(http::verb::post, fmt::format("{}/namespaces/{}/clusters", kClusters, ns),
                                      ClusterJson(manifest, flags, i));
    if (response.status != 201) std::cerr << fmt::format("create c-{}: HTTP {}: {}\n", i, response.status, response.body);
    return response.status == 201;
  });
  if (creates.failures > 0) {
    std::cerr << "error: " << creates.failures << " cluster creates failed " << creates.error << "\n";
    return std::nullopt;
  }
  return creates.seconds;
}

// The clusters by status.phase ("" when unset), from one list of all namespaces.
std::optional<std::map<std::string, int>> CountPhases(HttpsClient& client) {
  const auto response = client.Send(http::verb::get, fmt::format("{}/clusters", kClusters));
  if (response.status != 200) return std::nullopt;
  const Json list = Json::parse(response.body, nullptr, false);
  if (list.is_discarded() || !list.contains("items")) return std::nullopt;
  std::map<std::string, int> phases;
  for (const Json& item : list["items"]) ++phases[item.value("status", Json::object()).value("phase", "")];
  return phases;
}

std::string FormatPhases(const std::map<std::string, int>& phases) {
  std::string text;
  for (const auto& [phase, count] : phases) {
    text += fmt::format("{}{}={}", text.empty() ? "" : " ", phase.empty() ? "(none)" : phase, count);
  }
  return text;
}

// Lists the clusters once a second until all are in `phase` or the timeout passes, printing
// progress. Returns the seconds since `start` when all were, and sets `slowest_list` to the
// longest list call.
std::optional<double> WaitAllInPhase(const Endpoint& endpoint, const Flags& flags, const std::string& phase,
                                     Clock::time_point start, double& slowest_list) {
  HttpsClient client(endpoint);
  const auto deadline = start + std::chrono::seconds(flags.timeout_seconds);
  int last_count = -1;
  std::map<std::string, int> phases;
  while (Clock::now() < deadline) {
    const auto listed_at = Clock::now();
    auto counted = CountPhases(client);
    const double list_seconds = Seconds(Clock::now() - listed_at).count();
    slowest_list = std::max(slowest_list, list_seconds);
    if (counted) phases = *counted;
    const int count = phases.count(phase) > 0 ? phases[phase] : 0;
    const double elapsed = Seconds(Clock::now() - start).count();
    if (count != last_count) {
      std::cout << fmt::format("{} {}/{} after {:.1f} s ({}), list took {:.2f} s", phase, count, flags.clusters,
                               elapsed, FormatPhases(phases), list_seconds)
                << std::endl;
      last_count = count;
    }
    if (count == flags.clusters) return elapsed;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  std::cerr << fmt::format("error: {} of {} clusters {} after {} s ({})\n", last_count, flags.clusters, phase,
                           flags.timeout_seconds, FormatPhases(phases));
  return std::nullopt;
}

// The figures of one server run.
struct RunFigures {
  double acknowledged_seconds = 0;
  double settled_seconds = 0;  // from the first create until every cluster is in the awaited phase
  long start_rss_kb = 0;
  long end_rss_kb = 0;
  long peak_hwm_kb = 0;
  double slowest_list_seconds = 0;
  int exit_code = 0;
};

// Starts a server with `args`, creates the clusters and waits until all are in `phase`.
std::optional<RunFigures> RunServer(const Flags& flags, const std::string& label, std::vector<std::string> args,
                                    const std::string& phase, const Json& manifest) {
  std::cout << fmt::format("== {}: xblocks server {}", label, fmt::join(args, " ")) << std::endl;
  ServerProcess server(flags.xblocks, flags.dir / label, std::move(args));
  auto endpoint = server.WaitReady();
  if (!endpoint) return std::nullopt;
  RunFigures figures;
  figures.start_rss_kb = StatusKilobytes(server.pid(), "VmRSS");

  const auto start = Clock::now();
  try {
    auto acknowledged = CreateClusters(*endpoint, flags, manifest);
    if (!acknowledged) return std::nullopt;
    figures.acknowledged_seconds = *acknowledged;
    std::cout << fmt::format("{} creates acknowledged in {:.2f} s", flags.clusters, *acknowledged) << std::endl;
    auto settled = WaitAllInPhase(*endpoint, flags, phase, start, figures.slowest_list_seconds);
    if (!settled) return std::nullopt;
    figures.settled_seconds = *settled;
  } catch (const std::exception& error) {
    // A connection that fails or closes mid-request, e.g. because the server exited.
    std::cerr << "error: a request to the server failed: " << error.what() << "\n";
    return std::nullopt;
  }
  figures.end_rss_kb = StatusKilobytes(server.pid(), "VmRSS");
  figures.peak_hwm_kb = StatusKilobytes(server.pid(), "VmHWM");
  figures.exit_code = server.Stop();
  return figures;
}

void PrintFigures(const std::string& label, const std::string& settled_name, const RunFigures& figures) {
  std::cout << fmt::format("{}: creates_acknowledged_s={:.2f} {}={:.2f} slowest_list_s={:.2f} rss_start_mib={:.1f} "
                           "rss_end_mib={:.1f} peak_hwm_mib={:.1f} exit_code={}\n",
                           label, figures.acknowledged_seconds, settled_name, figures.settled_seconds,
                           figures.slowest_list_seconds, figures.start_rss_kb / 1024.0, figures.end_rss_kb / 1024.0,
                           figures.peak_hwm_kb / 1024.0, figures.exit_code);
}

// The Cluster manifest at `path`, or nullopt after printing why it cannot be used.
std::optional<Json> ReadManifest(const fs::path& path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "error: cannot open the Cluster manifest " << path << "; pass its path with --manifest\n";
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto manifest = xblocks::api::ParseYamlOrJson(text.str());
  if (!manifest.ok() || !manifest->is_object()) {
    std::cerr << "error: " << path << " is not a YAML or JSON object"
              << (manifest.ok() ? "" : ": " + manifest.status().message()) << "\n";
    return std::nullopt;
  }
  return *manifest;
}

}  // namespace

int main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  auto manifest = ReadManifest(flags.manifest);
  if (!manifest) return 1;
  fs::create_directories(flags.dir);

  auto baseline = RunServer(flags, "none", {"--runtime", "none"}, "Creating", *manifest);
  if (!baseline) {
    std::cerr << "the baseline run failed; logs are in " << flags.dir << "\n";
    return 1;
  }
  auto simulated = RunServer(flags, "simulated", {"--runtime", "simulated", "--nodes", std::to_string(flags.nodes)},
                             "Running", *manifest);
  if (!simulated) {
    std::cerr << "the simulated run failed; logs are in " << flags.dir << "\n";
    return 1;
  }

  std::cout << fmt::format("machine_cores={} clusters={} namespaces={} clients={} nodes={}\n", HostCpus(),
                           flags.clusters, flags.namespaces, flags.clients, flags.nodes);
  PrintFigures("baseline_none", "all_creating_s", *baseline);
  PrintFigures("simulated", "all_running_s", *simulated);
  std::cout << fmt::format("ratio running / simulated creates = {:.2f}\n",
                           simulated->settled_seconds / simulated->acknowledged_seconds);
  std::cout << fmt::format("ratio running / baseline creates = {:.2f}\n",
                           simulated->settled_seconds / baseline->acknowledged_seconds);
  std::cout << fmt::format("ratio running / baseline creating = {:.2f}\n",
                           simulated->settled_seconds / baseline->settled_seconds);
  std::cout << fmt::format("ratio peak memory simulated / baseline = {:.2f}\n",
                           static_cast<double>(simulated->peak_hwm_kb) / baseline->peak_hwm_kb);
  if (!flags.keep) fs::remove_all(flags.dir);
  return baseline->exit_code == 0 && simulated->exit_code == 0 ? 0 : 1;
}
