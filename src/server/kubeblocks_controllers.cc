#include "server/kubeblocks_controllers.h"

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

}  // namespace

KubeBlocksControllers::KubeBlocksControllers(client::Client& client, const Clock& clock, int workers)
    : clusters_(client, client::resources::kClusters),
      components_(client, client::resources::kComponents),
      instance_sets_(client, client::resources::kInstanceSets),
      pods_(client, client::resources::kPods),
      ops_requests_(client, client::resources::kOpsRequests),
      cluster_reconciler_(client, clusters_, components_),
      component_reconciler_(client, components_, instance_sets_, pods_),
      instance_set_reconciler_(client, instance_sets_, pods_),
      ops_request_reconciler_(client, clock, pods_),
      cluster_controller_(cluster_reconciler_, clock, {.workers = workers}),
      component_controller_(component_reconciler_, clock, {.workers = workers}),
      instance_set_controller_(instance_set_reconciler_, clock, {.workers = workers}),
      ops_request_controller_(ops_request_reconciler_, clock, {.workers = workers}) {
  cluster_controller_.Watches(clusters_);
  cluster_controller_.Watches(components_, controllers::OwnerMapper("Cluster"));
  component_controller_.Watches(components_);
  component_controller_.Watches(instance_sets_, controllers::OwnerMapper("Component"));
  component_controller_.Watches(pods_, PodToComponent());
  instance_set_controller_.Watches(instance_sets_);
  instance_set_controller_.Watches(pods_, controllers::OwnerMapper("InstanceSet"));
  ops_request_controller_.Watches(ops_requests_);
}

Status KubeBlocksControllers::Start() {
  for (auto* informer : {&clusters_, &components_, &instance_sets_, &pods_, &ops_requests_}) informer->Start();
  XB_RETURN_IF_ERROR(cluster_controller_.Start());
  XB_RETURN_IF_ERROR(component_controller_.Start());
  XB_RETURN_IF_ERROR(instance_set_controller_.Start());
  return ops_request_controller_.Start();
}

void KubeBlocksControllers::Stop() {
  ops_request_controller_.Stop();
  instance_set_controller_.Stop();
  component_controller_.Stop();
  cluster_controller_.Stop();
  for (auto* informer : {&clusters_, &components_, &instance_sets_, &pods_, &ops_requests_}) informer->Stop();
}

}  // namespace xblocks::server
