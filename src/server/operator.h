// Operator mode: the KubeBlocks controllers of embedded mode, run against a real kube-apiserver
// through RestClient. kube-scheduler and the kubelets (or kwok) run the pods, and
// kube-controller-manager collects garbage, so only the KubeBlocks controllers and the
// ClusterDefinition/ClusterVersion status loop run here.
//
// Start() returns at once. A background thread waits for the API server and the CRDs (logging
// every failed attempt), then, with leader election on, waits for the Lease and starts the
// controllers only while it holds it. A replica that loses the Lease stops its controllers and
// reports lost(); the command then exits non-zero so that its Deployment restarts it.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

namespace xblocks::server {

struct OperatorOptions {
  // The kubeconfig file; when empty, $KUBECONFIG, then the in-cluster service account, then
  // ~/.kube/config, as controller-runtime looks them up.
  std::string kubeconfig;
  std::string context;  // the kubeconfig context; empty for its current-context
  bool leader_elect = true;
  // The namespace of the Lease; empty for the namespace of the kubeconfig context or the pod.
  std::string lease_namespace;
  std::string lease_name = "xblocks-operator";
  std::string identity;  // empty for "<host name>_<pid>"
  double qps = 50;
  int burst = 100;
  int workers = 8;  // reconcile workers per controller
};

class Operator {
 public:
  // Loads the configuration and starts the background thread. Fails only on a configuration that
  // cannot work, such as an unreadable kubeconfig.
  static Result<std::unique_ptr<Operator>> Start(const OperatorOptions& options);
  ~Operator();

  // True once this replica lost the Lease and stopped its controllers.
  bool lost() const;
  // Stops the controllers and, when leading, releases the Lease. Idempotent.
  void Stop();

  struct State;

 private:
  explicit Operator(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace xblocks::server
