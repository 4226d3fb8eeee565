// Embedded mode: the store, the scheme, the registry, the controllers and the HTTPS API in one
// process. Start() returns once the server accepts requests and DIR/kubeconfig is written.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace xblocks::server {

class EmbeddedServer {
 public:
  struct Options {
    std::filesystem::path data_dir;
    std::string host = "127.0.0.1";
    int port = 6443;  // 0 picks a free port
    // "process": pods run as local process groups; "simulated": pods run without processes;
    // "none": no node agent, so pods stay Pending.
    std::string runtime = "process";
    int nodes = 1;  // nodes of the embedded node agent; more than 1 adds virtual nodes
    // false serves the API, the garbage collector and the node agent only, for an
    // `xblocks operator` that runs the KubeBlocks controllers against this server.
    bool kubeblocks_controllers = true;
    // IMAGE=PROGRAM [ARGS] mappings for the process runtime (see node/container_plan.h).
    std::vector<std::string> image_commands;
  };

  // Creates credentials on first start, opens the store, installs the built-in namespaces and
  // (on first start) the addon definitions, starts the controllers and the listener, and writes
  // the kubeconfig last.
  static Result<std::unique_ptr<EmbeddedServer>> Start(const Options& options);
  ~EmbeddedServer();

  int port() const;
  // Stops the listener, then the controllers, then closes the store. Idempotent.
  void Stop();

 private:
  struct State;
  explicit EmbeddedServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace xblocks::server
