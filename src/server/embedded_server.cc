#include "server/embedded_server.h"

#include <unistd.h>

#include <set>

#include <fmt/format.h>

#include "api/scheme.h"
#include "api/yaml.h"
#include "apiserver/api_handler.h"
#include "apiserver/credentials.h"
#include "apiserver/http_server.h"
#include "apiserver/object_meta.h"
#include "apiserver/registry.h"
#include "common/embedded_files.h"
#include "common/log.h"
#include "client/local_client.h"
#include "controllers/controller_manager.h"
#include "controllers/definitions_controller.h"
#include "controllers/garbage_collector.h"
#include "controllers/namespace_controller.h"
#include "node/cgroups.h"
#include "node/nodes.h"
#include "node/process.h"
#include "node/process_agent.h"
#include "node/scheduler.h"
#include "node/service_proxy.h"
#include "node/simulated_agent.h"
#include "server/kubeblocks_controllers.h"

namespace xblocks::server {
namespace {

using apiserver::ApiHandler;
using apiserver::EnsureCredentials;
using apiserver::Credentials;
using apiserver::HttpRequest;
using apiserver::HttpServer;
using apiserver::Name;
using apiserver::Namespace;
using apiserver::Registry;
using apiserver::WriteFileAtomic;
using apiserver::WriteKubeconfig;

namespace fs = std::filesystem;

constexpr const char* kAddonMarker = "addons-installed";
constexpr const char* kBuiltinNamespaces[] = {"default", "kube-system", "kube-public", "kube-node-lease"};

Status EnsureNamespaces(Registry& registry) {
  const api::ResourceType* type = registry.scheme().Find("", "v1", "namespaces");
  for (const char* name : kBuiltinNamespaces) {
    Json object = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
    auto created = registry.Create(*type, "", object, {});
    if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) return created.status();
  }
  return Status::Ok();
}

Status CreateIfAbsent(Registry& registry, const Json& object, std::string_view source) {
  const auto* type = registry.scheme().FindByKind(object.value("apiVersion", ""), object.value("kind", ""));
  if (type == nullptr) {
    return Internal(fmt::format("{}: no resource serves {} {}", source, object.value("apiVersion", ""),
                                object.value("kind", "")));
  }
  auto created = registry.Create(*type, Namespace(object), object, {.field_manager = "xblocks"});
  if (created.ok()) {
    XB_LOG_INFO("addon object installed", {{"kind", type->kind}, {"name", Name(object)}});
    return Status::Ok();
  }
  if (created.status().code() == StatusCode::kAlreadyExists) return Status::Ok();
  return Internal(fmt::format("{}: {}", source, created.status().message()));
}

// Installs every object under addons/ once per data dir; a user may delete them afterwards.
Status InstallAddons(Registry& registry, const fs::path& data_dir) {
  if (fs::exists(data_dir / kAddonMarker)) return Status::Ok();
  for (const auto& file : EmbeddedFiles()) {
    if (file.path.rfind("addons/", 0) != 0) continue;
    auto documents = api::ParseYamlDocuments(file.content);
    if (!documents.ok()) return Internal(fmt::format("{}: {}", file.path, documents.status().message()));
    for (const Json& object : *documents) {
      if (object.is_null()) continue;
      XB_RETURN_IF_ERROR(CreateIfAbsent(registry, object, file.path));
    }
  }
  return WriteFileAtomic(data_dir / kAddonMarker, "xinference\n", 0644);
}

// Registers the nodes of the node agent and returns their names.
Result<std::set<std::string>> RegisterAgentNodes(client::Client& client, int count, bool simulated) {
  node::NodeOptions options;
  char host[256] = "xblocks";
  ::gethostname(host, sizeof(host) - 1);
  options.host_name = host;
  options.virtual_nodes = count;
  options.simulated = simulated;
  XB_RETURN_IF_ERROR(node::ValidateNodeOptions(options));
  std::vector<Json> nodes = node::BuildNodes(options, node::ReadHostResources());
  XB_RETURN_IF_ERROR(node::RegisterNodes(client, nodes));
  std::set<std::string> names;
  for (const Json& object : nodes) names.insert(Name(object));
  return names;
}

// Wakes the process agent on every store change, through the controller manager's debounce.
class AgentTrigger : public controllers::Controller {
 public:
  explicit AgentTrigger(node::ProcessAgent& agent) : agent_(agent) {}
  std::string_view name() const override { return "process-agent-trigger"; }
  Status Sync() override {
    agent_.Notify();
    return Status::Ok();
  }

 private:
  node::ProcessAgent& agent_;
};

// The cgroup subtree of a server: one per data dir, so two servers on one machine never kill
// each other's pods when they clean up, and a restarted server finds what its predecessor left.
std::string CgroupSubtree(const fs::path& data_dir) {
  std::error_code error;
  const fs::path canonical = fs::weakly_canonical(data_dir, error);
  uint32_t hash = 2166136261u;  // FNV-1a
  for (unsigned char c : (error ? data_dir : canonical).string()) {
    hash ^= c;
    hash *= 16777619u;
  }
  return fmt::format("xblocks-{:08x}", hash);
}

// The environment every container starts from: the server's PATH and locale, so that a mapped
// command such as xinference-local resolves as it does in the user's shell.
std::vector<std::string> BaseEnvironment() {
  std::vector<std::string> env;
  for (const char* name : {"PATH", "LANG", "LC_ALL", "TZ", "VIRTUAL_ENV"}) {
    if (const char* value = std::getenv(name); value != nullptr) env.push_back(fmt::format("{}={}", name, value));
  }
  return env;
}

}  // namespace

struct EmbeddedServer::State {
  SystemClock clock;
  std::unique_ptr<store::Store> store;
  api::Scheme scheme;
  std::unique_ptr<Registry> registry;
  std::unique_ptr<client::LocalClient> client;
  std::unique_ptr<ProcessLauncher> launcher;
  std::unique_ptr<CgroupDriver> cgroups;
  std::unique_ptr<node::ProcessAgent> agent;
  node::ServiceProxy* proxy = nullptr;  // owned by controllers
  std::unique_ptr<KubeBlocksControllers> kubeblocks;
  std::unique_ptr<controllers::ControllerManager> controllers;
  std::unique_ptr<ApiHandler> handler;
  std::unique_ptr<HttpServer> http;
  bool stopped = false;
};

EmbeddedServer::EmbeddedServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

EmbeddedServer::~EmbeddedServer() { Stop(); }

int EmbeddedServer::port() const { return state_->http->port(); }

Result<std::unique_ptr<EmbeddedServer>> EmbeddedServer::Start(const Options& options) {
  auto state = std::make_unique<State>();
  auto credentials = EnsureCredentials(options.data_dir, options.host);
  if (!credentials.ok()) return credentials.status();

  auto store = store::Store::Open({.path = options.data_dir / "state.db"});
  if (!store.ok()) return store.status();
  state->store = std::move(*store);
  XB_LOG_INFO("store opened", {{"path", (options.data_dir / "state.db").string()},
                               {"rv", std::to_string(state->store->CurrentRevision())}});

  auto scheme = api::Scheme::Load();
  if (!scheme.ok()) return scheme.status();
  state->scheme = std::move(*scheme);
  state->registry = std::make_unique<Registry>(state->scheme, *state->store, state->clock);
  XB_RETURN_IF_ERROR(EnsureNamespaces(*state->registry));
  XB_RETURN_IF_ERROR(InstallAddons(*state->registry, options.data_dir));

  state->controllers = std::make_unique<controllers::ControllerManager>(*state->store,
                                                                        controllers::ControllerManager::Options{});
  state->controllers->Add(std::make_unique<controllers::GarbageCollector>(*state->registry));
  state->controllers->Add(std::make_unique<controllers::NamespaceController>(*state->registry));
  state->client = std::make_unique<client::LocalClient>(*state->registry, "xblocks-controller");
  if (options.kubeblocks_controllers) {
    state->controllers->Add(std::make_unique<controllers::DefinitionsController>(*state->client));
  }
  if (options.runtime == "simulated" || options.runtime == "process") {
    const bool simulated = options.runtime == "simulated";
    auto nodes = RegisterAgentNodes(*state->client, options.nodes, simulated);
    if (!nodes.ok()) return nodes.status();
    state->controllers->Add(std::make_unique<node::Scheduler>(*state->client, state->clock));
    if (simulated) {
      state->controllers->Add(std::make_unique<node::SimulatedAgent>(*state->client, *nodes));
    } else {
      node::ProcessAgent::Options agent_options;
      agent_options.data_dir = options.data_dir;
      agent_options.nodes = *nodes;
      agent_options.base_env = BaseEnvironment();
      for (const std::string& flag : options.image_commands) XB_RETURN_IF_ERROR(agent_options.images.AddFlag(flag));
      auto cgroups = DetectCgroupDriver({.subtree = CgroupSubtree(options.data_dir)});
      if (!cgroups.ok()) return cgroups.status();
      state->cgroups = std::move(*cgroups);
      state->launcher = std::make_unique<PosixProcessLauncher>();
      state->agent = std::make_unique<node::ProcessAgent>(*state->client, state->clock, *state->launcher,
                                                          *state->cgroups, std::move(agent_options));
      XB_RETURN_IF_ERROR(state->agent->Start());
      state->controllers->Add(std::make_unique<AgentTrigger>(*state->agent));
      // Replicas listen on their pod IPs here, so Service clusterIPs can lead to them.
      auto proxy = std::make_unique<node::ServiceProxy>(*state->client);
      XB_RETURN_IF_ERROR(proxy->Start());
      state->proxy = proxy.get();
      state->controllers->Add(std::move(proxy));
    }
  } else if (options.runtime != "none") {
    return BadRequest(fmt::format("--runtime {} is not supported; use process, simulated or none", options.runtime));
  }
  state->controllers->SyncAll();
  XB_RETURN_IF_ERROR(state->controllers->Start());
  if (options.kubeblocks_controllers) {
    state->kubeblocks = std::make_unique<KubeBlocksControllers>(*state->client, state->clock);
    XB_RETURN_IF_ERROR(state->kubeblocks->Start());
  }

  state->handler = std::make_unique<ApiHandler>(*state->registry, credentials->token);
  if (state->agent) state->handler->set_log_source(state->agent.get());
  ApiHandler* handler = state->handler.get();
  state->http = std::make_unique<HttpServer>(
      HttpServer::Options{.address = options.host, .port = options.port, .credentials = *credentials},
      [handler](const HttpRequest& request) { return handler->Handle(request); });
  XB_RETURN_IF_ERROR(state->http->Start());
  XB_RETURN_IF_ERROR(WriteKubeconfig(options.data_dir, *credentials, options.host, state->http->port()));
  XB_LOG_INFO("server ready", {{"addr", fmt::format("https://{}:{}", options.host, state->http->port())},
                               {"kubeconfig", (options.data_dir / "kubeconfig").string()}});
  return std::unique_ptr<EmbeddedServer>(new EmbeddedServer(std::move(state)));
}

void EmbeddedServer::Stop() {
  if (state_ == nullptr || state_->stopped) return;
  state_->stopped = true;
  if (state_->http) state_->http->Stop();
  if (state_->kubeblocks) state_->kubeblocks->Stop();
  if (state_->controllers) state_->controllers->Stop();
  if (state_->proxy) state_->proxy->Stop();
  if (state_->agent) state_->agent->Stop();
  state_->store.reset();
  XB_LOG_INFO("server stopped", {});
}

}  // namespace xblocks::server
