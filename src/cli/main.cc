// The xblocks command line: `xblocks server` runs embedded mode, `xblocks operator` runs the
// controllers against a Kubernetes cluster, `xblocks version` prints the version. main() only
// parses flags and wires the parts together.
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "server/embedded_server.h"
#include "server/manifests.h"
#include "server/operator.h"
#include "common/log.h"

namespace {

constexpr const char* kVersion = "0.1.0";

struct ServerFlags {
  std::string data_dir;
  std::string listen = "127.0.0.1:6443";
  std::string log_level = "info";
  std::string runtime = "process";
  int nodes = 1;
  bool controllers = true;
  std::vector<std::string> image_commands;
};

struct OperatorFlags {
  xblocks::server::OperatorOptions options;
  std::string log_level = "info";
};

// Blocks SIGINT and SIGTERM in every thread started after this call, so that only the main
// thread's sigwait or sigtimedwait receives them.
sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

std::string DefaultDataDir() {
  const char* home = std::getenv("HOME");
  return home != nullptr && *home != '\0' ? std::string(home) + "/.xblocks" : ".xblocks";
}

// Splits HOST:PORT or [IPv6]:PORT. Returns an error message on malformed input.
std::string ParseListen(const std::string& listen, std::string& host, int& port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    return fmt::format("invalid --listen \"{}\": expected HOST:PORT, such as 127.0.0.1:6443", listen);
  }
  host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return fmt::format("invalid --listen \"{}\": the host is empty", listen);
  const std::string port_text = listen.substr(colon + 1);
  if (port_text.find_first_not_of("0123456789") != std::string::npos || port_text.size() > 5) {
    return fmt::format("invalid --listen \"{}\": the port must be a number from 0 to 65535", listen);
  }
  port = std::stoi(port_text);
  if (port > 65535) return fmt::format("invalid --listen \"{}\": the port must be a number from 0 to 65535", listen);
  return "";
}

int RunServer(const ServerFlags& flags) {
  xblocks::log::Init(spdlog::level::from_str(flags.log_level));
  xblocks::server::EmbeddedServer::Options options;
  options.data_dir = flags.data_dir.empty() ? DefaultDataDir() : flags.data_dir;
  options.runtime = flags.runtime;
  options.nodes = flags.nodes;
  options.image_commands = flags.image_commands;
  options.kubeblocks_controllers = flags.controllers;
  if (std::string error = ParseListen(flags.listen, options.host, options.port); !error.empty()) {
    std::cerr << "error: " << error << "\n";
    return 2;
  }

  sigset_t signals = BlockStopSignals();
  auto server = xblocks::server::EmbeddedServer::Start(options);
  if (!server.ok()) {
    XB_LOG_ERROR("server failed to start", {{"err", server.status().message()}});
    return 1;
  }
  int received = 0;
  sigwait(&signals, &received);
  XB_LOG_INFO("stopping", {{"signal", received == SIGINT ? "SIGINT" : "SIGTERM"}});
  (*server)->Stop();
  return 0;
}

int RunOperator(const OperatorFlags& flags) {
  xblocks::log::Init(spdlog::level::from_str(flags.log_level));
  sigset_t signals = BlockStopSignals();
  auto started = xblocks::server::Operator::Start(flags.options);
  if (!started.ok()) {
    XB_LOG_ERROR("operator failed to start", {{"err", started.status().message()}});
    return 1;
  }
  std::unique_ptr<xblocks::server::Operator> op = std::move(*started);
  const timespec poll = {0, 200 * 1000 * 1000};
  while (!op->lost()) {
    const int received = sigtimedwait(&signals, nullptr, &poll);
    if (received == SIGINT || received == SIGTERM) {
      XB_LOG_INFO("stopping", {{"signal", received == SIGINT ? "SIGINT" : "SIGTERM"}});
      op->Stop();
      return 0;
    }
  }
  op->Stop();
  XB_LOG_ERROR("exiting: this replica lost the leader lease", {});
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"xblocks: create and manage Xinference clusters the way KubeBlocks does"};
  app.require_subcommand(1);

  ServerFlags flags;
  CLI::App* server = app.add_subcommand("server", "Serve the Kubernetes API with an embedded store (embedded mode)");
  server->add_option("--data-dir", flags.data_dir, "Directory for the store, credentials and kubeconfig (default ~/.xblocks)");
  server->add_option("--listen", flags.listen, "HOST:PORT to serve HTTPS on; port 0 picks a free port")
      ->capture_default_str();
  server->add_option("--log-level", flags.log_level, "Log level: trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();

  server->add_option("--runtime", flags.runtime,
                     "How pods run: process (local process groups with cgroup limits), simulated (Running "
                     "without a process) or none (pods stay Pending)")
      ->check(CLI::IsMember({"process", "simulated", "none"}))
      ->capture_default_str();
  server->add_option("--nodes", flags.nodes, "Number of nodes of the node agent; more than 1 adds virtual nodes")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();

  server->add_option("--image-command", flags.image_commands,
                     "IMAGE=PROGRAM [ARGS]: the local command that runs IMAGE in the process runtime; repeatable. "
                     "Overrides the ClusterVersion annotation xblocks.io/local-commands");

  server->add_option("--controllers", flags.controllers,
                     "Run the KubeBlocks controllers; false serves the API and runs the node agent only, "
                     "for an `xblocks operator` to drive")
      ->capture_default_str();

  OperatorFlags operator_flags;
  xblocks::server::OperatorOptions& op = operator_flags.options;
  CLI::App* operator_command =
      app.add_subcommand("operator", "Run the controllers against a Kubernetes API server (operator mode)");
  operator_command->add_option("--kubeconfig", op.kubeconfig,
                               "Kubeconfig file (default: $KUBECONFIG, the pod's service account, then "
                               "~/.kube/config)");
  operator_command->add_option("--context", op.context, "Kubeconfig context (default: its current-context)");
  operator_command->add_option("--leader-elect", op.leader_elect,
                               "Elect one leader among replicas through a coordination.k8s.io Lease")
      ->capture_default_str();
  operator_command->add_option("--lease-namespace", op.lease_namespace,
                               "Namespace of the Lease (default: the kubeconfig context's or the pod's)");
  operator_command->add_option("--lease-name", op.lease_name, "Name of the Lease")->capture_default_str();
  operator_command->add_option("--identity", op.identity, "This replica's holder identity (default HOST_PID)");
  operator_command->add_option("--qps", op.qps, "Client-side request rate limit")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  operator_command->add_option("--burst", op.burst, "Client-side request burst")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  operator_command->add_option("--workers", op.workers,
                               "Reconcile workers per controller; each waits on API calls, so more "
                               "workers reconcile more clusters at once")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  operator_command->add_option("--log-level", operator_flags.log_level, "Log level: trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();

  xblocks::server::ManifestOptions manifest_options;
  CLI::App* manifests = app.add_subcommand(
      "manifests", "Print the YAML that installs operator mode: xblocks manifests | kubectl apply -f -");
  manifests->add_option("--namespace", manifest_options.ns, "Namespace of the operator")->capture_default_str();
  manifests->add_option("--image", manifest_options.image, "Container image of the operator")
      ->capture_default_str();
  manifests->add_option("--replicas", manifest_options.replicas, "Operator replicas; one leads at a time")
      ->check(CLI::Range(1, 10))
      ->capture_default_str();
  manifests->add_option("--crds", manifest_options.crds, "Include the CRDs")->capture_default_str();
  manifests->add_option("--operator", manifest_options.operator_objects,
                        "Include the namespace, RBAC, Deployment and admission policy")
      ->capture_default_str();
  manifests->add_option("--addons", manifest_options.addons,
                        "Include the Xinference ClusterDefinition and ClusterVersions; apply them after the CRDs "
                        "are installed")
      ->capture_default_str();
  bool addons_only = false;
  manifests->add_flag("--addons-only", addons_only,
                      "Print only the Xinference addon, for a second kubectl apply after the install");

  CLI::App* version = app.add_subcommand("version", "Print the xblocks version");

  CLI11_PARSE(app, argc, argv);
  if (version->parsed()) {
    std::cout << "xblocks " << kVersion << "\n";
    return 0;
  }
  if (operator_command->parsed()) return RunOperator(operator_flags);
  if (manifests->parsed()) {
    if (addons_only) {
      manifest_options.crds = false;
      manifest_options.operator_objects = false;
      manifest_options.addons = true;
    }
    auto rendered = xblocks::server::RenderManifests(manifest_options);
    if (!rendered.ok()) {
      std::cerr << "error: " << rendered.status().message() << "\n";
      return 1;
    }
    std::cout << *rendered;
    return 0;
  }
  return RunServer(flags);
}
