// The node agent of `xblocks server --runtime simulated`: pods bound to the given nodes become
// Running and Ready without any process, the way kwok fakes a kubelet. Tests and scale runs use
// it; nothing listens on the pod IPs it assigns.
#pragma once

#include <set>
#include <string>

#include "client/client.h"
#include "controllers/controller.h"

namespace xblocks::node {

class SimulatedAgent : public controllers::Controller {
 public:
  SimulatedAgent(client::Client& client, std::set<std::string> nodes) : client_(client), nodes_(std::move(nodes)) {}

  std::string_view name() const override { return "simulated-agent"; }
  // Marks every pending pod bound to one of the nodes Running and Ready, with a pod IP and one
  // running container status per container, and removes the pods marked for deletion.
  Status Sync() override;

 private:
  client::Client& client_;
  const std::set<std::string> nodes_;
};

// The loopback address of a pod: 127.<a>.<b>.<c> derived from its uid, never 127.0.0.x (the
// host's). NOTE: two pods may collide with a chance of about n²/2^25; the simulated runtime opens
// no sockets on them.
std::string SimulatedPodIp(const std::string& pod_uid);

// The status the simulated kubelet reports for a running `pod`.
Json SimulatedRunningStatus(const Json& pod, const std::string& now);

}  // namespace xblocks::node
