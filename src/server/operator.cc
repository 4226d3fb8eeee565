#include "server/operator.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "client/leader_election.h"
#include "client/rest_client.h"
#include "client/rest_config.h"
#include "common/log.h"
#include "controllers/definitions_controller.h"
#include "server/kubeblocks_controllers.h"

namespace xblocks::server {
namespace {

namespace fs = std::filesystem;

constexpr std::chrono::seconds kRetryInterval{2};
// How often ClusterDefinition and ClusterVersion status is brought up to date.
constexpr std::chrono::seconds kDefinitionsInterval{2};

Result<client::RestConfig> LoadConfig(const OperatorOptions& options) {
  if (!options.kubeconfig.empty()) return client::LoadKubeconfig(options.kubeconfig, options.context);
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    const std::string first = std::string(env).substr(0, std::string(env).find(':'));
    return client::LoadKubeconfig(first, options.context);
  }
  auto in_cluster = client::InClusterConfig();
  if (in_cluster.ok() || in_cluster.status().code() != StatusCode::kNotFound) return in_cluster;
  const char* home = std::getenv("HOME");
  const fs::path fallback = fs::path(home != nullptr ? home : "") / ".kube" / "config";
  if (home != nullptr && fs::exists(fallback)) return client::LoadKubeconfig(fallback, options.context);
  return Status(StatusCode::kNotFound,
                "no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, or run in a pod");
}

std::string DefaultIdentity() {
  char host[256] = "xblocks";
  ::gethostname(host, sizeof(host) - 1);
  return fmt::format("{}_{}", host, ::getpid());
}

}  // namespace

struct Operator::State {
  OperatorOptions options;
  client::RestConfig config;
  std::unique_ptr<client::RestClient> client;
  SystemClock clock;
  std::unique_ptr<client::LeaderElector> elector;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;                               // guarded by mu
  std::unique_ptr<KubeBlocksControllers> controllers;  // guarded by mu
  std::atomic<bool> lost{false};
  std::thread starter;
  std::thread definitions;

  // Sleeps for `period` or until Stop(); returns false when stopping.
  bool Wait(std::chrono::seconds period) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, period, [this] { return stopping; });
    return !stopping;
  }

  // Retries until the API server responds and serves the KubeBlocks CRDs, or until Stop().
  bool WaitForApi() {
    int attempt = 0;
    while (true) {
      ++attempt;
      auto version = client->GetRaw("/version");
      if (!version.ok()) {
        XB_LOG_WARN("API server not reachable", {{"server", config.server},
                                                 {"attempt", std::to_string(attempt)},
                                                 {"err", version.status().message()}});
      } else {
        auto listed = client->List(client::resources::kClusterDefinitions, "", {});
        if (listed.ok()) listed = client->List(client::resources::kModels, "", {});
        if (listed.ok()) {
          const Json parsed = Json::parse(*version, nullptr, /*allow_exceptions=*/false);
          XB_LOG_INFO("API server ready", {{"server", config.server},
                                           {"version", parsed.is_object() ? parsed.value("gitVersion", "") : ""}});
          return true;
        }
        XB_LOG_WARN("KubeBlocks CRDs not served",
                    {{"server", config.server},
                     {"attempt", std::to_string(attempt)},
                     {"err", listed.status().message()},
                     {"fix", "install them with `xblocks manifests | kubectl apply -f -`"}});
      }
      if (!Wait(kRetryInterval)) return false;
    }
  }

  void StartControllers() {
    std::lock_guard lock(mu);
    if (stopping || controllers != nullptr) return;
    controllers = std::make_unique<KubeBlocksControllers>(*client, clock, options.workers);
    Status started = controllers->Start();
    if (!started.ok()) XB_LOG_ERROR("controllers failed to start", {{"err", started.message()}});
    definitions = std::thread([this] { DefinitionsLoop(); });
    XB_LOG_INFO("controllers started", {{"server", config.server}});
  }

  void StopControllers() {
    std::unique_ptr<KubeBlocksControllers> running;
    {
      std::lock_guard lock(mu);
      running = std::move(controllers);
      stopping = true;
    }
    cv.notify_all();
    if (running != nullptr) running->Stop();
    if (definitions.joinable() && definitions.get_id() != std::this_thread::get_id()) definitions.join();
  }

  void DefinitionsLoop() {
    controllers::DefinitionsController definitions_controller(*client);
    do {
      Status synced = definitions_controller.Sync();
      if (!synced.ok()) XB_LOG_WARN("definitions sync failed", {{"err", synced.message()}});
    } while (Wait(kDefinitionsInterval));
  }

  void Run() {
    if (!WaitForApi()) return;
    if (!options.leader_elect) {
      StartControllers();
      return;
    }
    client::LeaderElectionOptions election;
    election.lease_namespace = options.lease_namespace.empty() ? config.default_namespace : options.lease_namespace;
    election.lease_name = options.lease_name;
    election.identity = options.identity.empty() ? DefaultIdentity() : options.identity;
    {
      std::lock_guard lock(mu);
      if (stopping) return;
      elector = std::make_unique<client::LeaderElector>(*client, election);
    }
    elector->Run([this] { StartControllers(); },
                 [this] {
                   // Another replica may lead from now on, so nothing may reconcile here.
                   StopControllers();
                   lost = true;
                 });
  }
};

Operator::Operator(std::unique_ptr<State> state) : state_(std::move(state)) {}

Operator::~Operator() { Stop(); }

bool Operator::lost() const { return state_->lost.load(); }

Result<std::unique_ptr<Operator>> Operator::Start(const OperatorOptions& options) {
  auto state = std::make_unique<State>();
  state->options = options;
  auto config = LoadConfig(options);
  if (!config.ok()) return config.status();
  state->config = std::move(*config);
  auto client = client::RestClient::Create(
      state->config, {.qps = options.qps, .burst = options.burst, .field_manager = "xblocks-operator"});
  if (!client.ok()) return client.status();
  state->client = std::move(*client);
  XB_LOG_INFO("operator starting", {{"server", state->config.server},
                                    {"config", state->config.source},
                                    {"leader_elect", options.leader_elect ? "true" : "false"}});
  State* raw = state.get();
  state->starter = std::thread([raw] { raw->Run(); });
  return std::unique_ptr<Operator>(new Operator(std::move(state)));
}

void Operator::Stop() {
  if (state_ == nullptr) return;
  state_->StopControllers();
  if (state_->starter.joinable()) state_->starter.join();
  // Release after the controllers stopped, so nothing reconciles once another replica may lead.
  if (state_->elector != nullptr) state_->elector->Release();
  XB_LOG_INFO("operator stopped", {});
  state_.reset();
}

}  // namespace xblocks::server
