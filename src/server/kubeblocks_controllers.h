// The KubeBlocks controllers of both modes: Cluster -> Component -> InstanceSet -> Pods,
// OpsRequests, and xblocks' Model controller that keeps declared models served, each a ReconcileController fed by informers over one client. Embedded mode passes
// its in-process client, operator mode a RestClient to a real kube-apiserver.
#pragma once

#include "client/client.h"
#include "common/time.h"
#include "controllers/cluster_controller.h"
#include "controllers/component_controller.h"
#include "controllers/informer.h"
#include "controllers/instance_set_controller.h"
#include "controllers/model_controller.h"
#include "controllers/models_gate.h"
#include "controllers/ops_request_controller.h"
#include "controllers/reconcile_controller.h"

namespace xblocks::server {

class KubeBlocksControllers {
 public:
  // `workers` reconcile in parallel per controller. Each reconcile makes several API calls in a
  // row, so over HTTPS the number of workers, not CPU, bounds the throughput.
  KubeBlocksControllers(client::Client& client, const Clock& clock, int workers = 2,
                        controllers::ModelReconcilerOptions model_options = {});

  // Starts the informers, then the controllers.
  Status Start();
  // Stops the controllers, then the informers.
  void Stop();

 private:
  controllers::Informer clusters_;
  controllers::Informer components_;
  controllers::Informer instance_sets_;
  controllers::Informer pods_;
  controllers::Informer ops_requests_;
  controllers::Informer models_;
  controllers::ClusterReconciler cluster_reconciler_;
  controllers::ComponentReconciler component_reconciler_;
  controllers::InstanceSetReconciler instance_set_reconciler_;
  controllers::OpsRequestReconciler ops_request_reconciler_;
  controllers::ModelReconciler model_reconciler_;
  controllers::ModelsGateReconciler models_gate_reconciler_;
  controllers::ReconcileController cluster_controller_;
  controllers::ReconcileController component_controller_;
  controllers::ReconcileController instance_set_controller_;
  controllers::ReconcileController ops_request_controller_;
  controllers::ReconcileController model_controller_;
  controllers::ReconcileController models_gate_controller_;
};

}  // namespace xblocks::server
