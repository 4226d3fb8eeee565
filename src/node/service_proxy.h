// The Service proxy of `xblocks server --runtime process`: a small userspace kube-proxy, so that
// a Service's clusterIP works on this machine as it does in a Kubernetes cluster. Cluster IPs
// come from 127.96.0.0/16, a loopback block, and each TCP port of a Service with a selector gets
// a listener at clusterIP:port. Every accepted connection goes to the next Ready pod that the
// selector matches, at the port's targetPort (a number or a container port's name), and the
// proxy copies bytes both ways until both sides close. A pod that refuses the connection is
// skipped, and a connection that no pod takes is closed.
//
// Sync() runs on the controller manager's thread and hands the routes to the proxy's own I/O
// thread, which owns every socket.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "controllers/controller.h"

namespace xblocks::node {

// A destination for one connection: a Ready pod's IP and the resolved target port.
struct ProxyBackend {
  std::string pod;
  std::string ip;
  int port = 0;

  bool operator==(const ProxyBackend&) const = default;
};

// One listener and the pods behind it.
struct ProxyRoute {
  std::string service;    // namespace/name
  std::string port_name;  // the Service port's name, possibly empty
  std::string ip;         // the clusterIP
  int port = 0;
  std::vector<ProxyBackend> backends;

  std::string Address() const;  // "ip:port"
};

// The routes that `services` and `pods` call for, sorted by address. Services without a
// selector, headless ones, ports that are not TCP and clusterIPs outside 127.0.0.0/8 get none.
// A pod is a backend while it is Ready, has an IP and is not being deleted.
std::vector<ProxyRoute> ComputeProxyRoutes(const std::vector<Json>& services, const std::vector<Json>& pods);

class ServiceProxy : public controllers::Controller {
 public:
  explicit ServiceProxy(client::Client& client);
  ~ServiceProxy() override;

  std::string_view name() const override { return "service-proxy"; }
  // Starts the I/O thread.
  Status Start();
  // Closes every listener and connection and joins the I/O thread.
  void Stop();
  // Lists Services and Pods and applies their routes: opens listeners for new Service ports,
  // closes the ones whose Service port went, and updates every route's backends.
  Status Sync() override;

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::thread thread_;
  client::Client& client_;
};

}  // namespace xblocks::node
