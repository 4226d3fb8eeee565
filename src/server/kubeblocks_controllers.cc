#include "server/kubeblocks_controllers.h"

#include "api/json_fields.h"
#include "apiserver/object_meta.h"
#include "controllers/kubeblocks_names.h"
#include "controllers/request_mappers.h"

namespace xblocks::server {
namespace {

// Maps a pod to the Component that owns its InstanceSet, by the labels KubeBlocks puts on pods.
controllers::MapFn PodToComponent() {
  return [](const Json& pod) -> std::vector<controllers::Request> {
    const Json& labels = pod["metadata"].value("labels", Json::object());
    const std::string cluster = labels.value(controllers::kb::kInstanceLabel, "");
    const std::string component = labels.value(controllers::kb::kComponentNameLabel, "");
    if (cluster.empty() || component.empty()) return {};
    return {{apiserver::Namespace(pod), controllers::kb::ComponentName(cluster, component)}};
  };
}

// Maps a Model to its Cluster.
controllers::MapFn ModelToCluster() {
  return [](const Json& model) -> std::vector<controllers::Request> {
    const std::string cluster = api::StringAt(model, "spec.clusterName");
    if (cluster.empty()) return {};
    return {{apiserver::Namespace(model), cluster}};
  };
}

// Maps a Model to the unfinished OpsRequests of its Cluster, which may be waiting for it.
controllers::MapFn ModelToOpsRequests(const controllers::Informer& ops_requests) {
  return [&ops_requests](const Json& model) -> std::vector<controllers::Request> {
    std::vector<controllers::Request> requests;
    auto listed = ops_requests.List(apiserver::Namespace(model));
    if (!listed.ok()) return {};
    const std::string cluster = api::StringAt(model, "spec.clusterName");
    for (const Json& ops : *listed) {
      const std::string phase = api::StringAt(ops, "status.phase");
      if (phase == "Succeed" || phase == "Failed" || phase == "Cancelled" || phase == "Aborted") continue;
      const std::string target = api::StringAt(ops, "spec.clusterName").empty() ? api::StringAt(ops, "spec.clusterRef")
                                                                                 : api::StringAt(ops, "spec.clusterName");
      if (target == cluster) requests.push_back({apiserver::Namespace(ops), apiserver::Name(ops)});
    }
    return requests;
  };
}

}  // namespace

KubeBlocksControllers::KubeBlocksControllers(client::Client& client, const Clock& clock, int workers,
                                             controllers::ModelReconcilerOptions model_options)
    : clusters_(client, client::resources::kClusters),
      components_(client, client::resources::kComponents),
      instance_sets_(client, client::resources::kInstanceSets),
      pods_(client, client::resources::kPods),
      ops_requests_(client, client::resources::kOpsRequests),
      models_(client, client::resources::kModels),
      cluster_reconciler_(client, clusters_, components_, &models_),
      component_reconciler_(client, components_, instance_sets_, pods_),
      instance_set_reconciler_(client, instance_sets_, pods_),
      ops_request_reconciler_(client, clock, pods_, &models_),
      model_reconciler_(client, clock, models_, clusters_, pods_, std::move(model_options)),
      models_gate_reconciler_(client, clock, pods_, models_),
      cluster_controller_(cluster_reconciler_, clock, {.workers = workers}),
      component_controller_(component_reconciler_, clock, {.workers = workers}),
      instance_set_controller_(instance_set_reconciler_, clock, {.workers = workers}),
      ops_request_controller_(ops_request_reconciler_, clock, {.workers = workers}),
      model_controller_(model_reconciler_, clock, {.workers = workers}),
      models_gate_controller_(models_gate_reconciler_, clock, {.workers = workers}) {
  cluster_controller_.Watches(clusters_);
  cluster_controller_.Watches(components_, controllers::OwnerMapper("Cluster"));
  component_controller_.Watches(components_);
  component_controller_.Watches(instance_sets_, controllers::OwnerMapper("Component"));
  component_controller_.Watches(pods_, PodToComponent());
  instance_set_controller_.Watches(instance_sets_);
  instance_set_controller_.Watches(pods_, controllers::OwnerMapper("InstanceSet"));
  ops_request_controller_.Watches(ops_requests_);
  // A Model changes what the cluster reports and what an operation waits for.
  cluster_controller_.Watches(models_, ModelToCluster());
  ops_request_controller_.Watches(models_, ModelToOpsRequests(ops_requests_));
  model_controller_.Watches(models_);
  model_controller_.Watches(pods_, controllers::PodToModels(models_));
  model_controller_.Watches(clusters_, controllers::ClusterToModels(models_));
  models_gate_controller_.Watches(pods_);
  models_gate_controller_.Watches(models_, controllers::ModelToPods(pods_));
}

Status KubeBlocksControllers::Start() {
  for (auto* informer : {&clusters_, &components_, &instance_sets_, &pods_, &ops_requests_, &models_}) {
    informer->Start();
  }
  XB_RETURN_IF_ERROR(cluster_controller_.Start());
  XB_RETURN_IF_ERROR(component_controller_.Start());
  XB_RETURN_IF_ERROR(instance_set_controller_.Start());
  XB_RETURN_IF_ERROR(ops_request_controller_.Start());
  XB_RETURN_IF_ERROR(model_controller_.Start());
  return models_gate_controller_.Start();
}

void KubeBlocksControllers::Stop() {
  models_gate_controller_.Stop();
  model_controller_.Stop();
  ops_request_controller_.Stop();
  instance_set_controller_.Stop();
  component_controller_.Stop();
  cluster_controller_.Stop();
  for (auto* informer : {&clusters_, &components_, &instance_sets_, &pods_, &ops_requests_, &models_}) {
    informer->Stop();
  }
}

}  // namespace xblocks::server
