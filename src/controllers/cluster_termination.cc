// ClusterReconciler: the reconcile entry point and deletion under spec.terminationPolicy.
#include <set>

#include <fmt/format.h>

#include "api/json_fields.h"
#include "apiserver/object_meta.h"
#include "client/events.h"
#include "controllers/cluster_controller.h"
#include "controllers/kubeblocks_names.h"

namespace xblocks::controllers {
namespace {

namespace res = client::resources;

// How often a cluster whose Halt recovery failed checks the kept PVCs again.
constexpr std::chrono::seconds kHaltRecoveryRecheck{10};

Status IgnoreNotFound(const Status& status) {
  return status.code() == StatusCode::kNotFound ? Status::Ok() : status;
}

// Removes the cluster's finalizer from `object`, and its owner references to `removed_owners`:
// the uids of the cluster and of the Components and InstanceSets its deletion removes. Halt
// keeps an object this way, so the garbage collector does not follow those owners to it.
Status Preserve(client::Client& client, const client::Resource& resource, const Json& object, const Json& cluster,
                const std::set<std::string>& removed_owners) {
  Json updated = object;
  apiserver::RemoveFinalizer(updated, kb::kClusterFinalizer);
  if (!updated["metadata"].contains("finalizers")) updated["metadata"]["finalizers"] = Json::array();
  Json kept = Json::array();
  for (const auto& ref : updated["metadata"].value("ownerReferences", Json::array())) {
    if (removed_owners.count(ref.value("uid", "")) == 0) kept.push_back(ref);
  }
  updated["metadata"]["ownerReferences"] = kept;
  updated["metadata"]["annotations"]["apps.kubeblocks.io/last-applied-cluster"] = cluster.dump();
  if (updated == object) return Status::Ok();
  auto written = client.Update(resource, updated);
  return written.ok() ? Status::Ok() : IgnoreNotFound(written.status());
}

// Deletes `object`, releasing the cluster's finalizer on it first. Returns true while it exists.
Result<bool> Remove(client::Client& client, const client::Resource& resource, const Json& object) {
  const std::string ns = apiserver::Namespace(object);
  const std::string name = apiserver::Name(object);
  if (apiserver::HasFinalizer(object, kb::kClusterFinalizer)) {
    Json updated = object;
    apiserver::RemoveFinalizer(updated, kb::kClusterFinalizer);
    if (!updated["metadata"].contains("finalizers")) updated["metadata"]["finalizers"] = Json::array();
    auto written = client.Update(resource, updated);
    if (!written.ok()) return IgnoreNotFound(written.status()).ok() ? Result<bool>(false) : written.status();
  }
  if (!apiserver::IsDeleting(object)) XB_RETURN_IF_ERROR(IgnoreNotFound(client.Delete(resource, ns, name, {})));
  return true;
}

}  // namespace

Result<std::set<std::string>> ClusterReconciler::RemovedOwners(const Json& cluster,
                                                               const client::ListOptions& selector) const {
  std::set<std::string> uids = {apiserver::Uid(cluster)};
  for (const Json& component : OwnedComponents(cluster)) uids.insert(apiserver::Uid(component));
  auto instance_sets = client_.List(res::kInstanceSets, apiserver::Namespace(cluster), selector);
  if (!instance_sets.ok()) return instance_sets.status();
  for (const Json& instance_set : instance_sets->items) uids.insert(apiserver::Uid(instance_set));
  return uids;
}

Result<size_t> ClusterReconciler::RemoveData(const Json& cluster, const std::string& policy,
                                              const client::ListOptions& selector) {
  // Halt preserves on every pass, because a component reconcile that raced with the deletion
  // may have applied an owner reference again.
  auto removed_owners = RemovedOwners(cluster, selector);
  if (!removed_owners.ok()) return removed_owners.status();
  size_t remaining = 0;
  for (const auto* resource : {&res::kPersistentVolumeClaims, &res::kSecrets, &res::kConfigMaps}) {
    auto listed = client_.List(*resource, apiserver::Namespace(cluster), selector);
    if (!listed.ok()) return listed.status();
    for (const Json& object : listed->items) {
      if (policy == "Halt") {
        XB_RETURN_IF_ERROR(Preserve(client_, *resource, object, cluster, *removed_owners));
        continue;
      }
      auto removed = Remove(client_, *resource, object);
      if (!removed.ok()) return removed.status();
      remaining += *removed ? 1 : 0;
    }
  }
  return remaining;
}

Result<size_t> ClusterReconciler::RemoveWorkloads(const Json& cluster, const client::ListOptions& selector) {
  const std::string ns = apiserver::Namespace(cluster);
  size_t remaining = 0;
  // A component keeps the cluster finalizer until its own controller has released the
  // component finalizer, i.e. its InstanceSet is gone.
  for (const Json& component : OwnedComponents(cluster)) {
    ++remaining;
    if (!apiserver::IsDeleting(component)) {
      XB_RETURN_IF_ERROR(IgnoreNotFound(client_.Delete(res::kComponents, ns, apiserver::Name(component), {})));
    } else if (!apiserver::HasFinalizer(component, kb::kComponentFinalizer)) {
      auto removed = Remove(client_, res::kComponents, component);
      if (!removed.ok()) return removed.status();
    }
  }
  for (const auto* resource : {&res::kOpsRequests, &res::kServices, &res::kServiceAccounts, &res::kRoleBindings}) {
    auto listed = client_.List(*resource, ns, selector);
    if (!listed.ok()) return listed.status();
    for (const Json& object : listed->items) {
      auto removed = Remove(client_, *resource, object);
      if (!removed.ok()) return removed.status();
      remaining += *removed ? 1 : 0;
    }
  }
  return remaining;
}

Result<bool> ClusterReconciler::Terminate(const Json& cluster, const ReconcileContext& context) {
  const std::string ns = apiserver::Namespace(cluster);
  const std::string policy = cluster["spec"].value("terminationPolicy", "Delete");
  const client::ListOptions selector{std::string(kb::kInstanceLabel) + "=" + apiserver::Name(cluster), ""};
  if (cluster.value("status", Json::object()).value("phase", "") != "Deleting") {
    auto patched = client_.PatchStatus(res::kClusters, ns, apiserver::Name(cluster), {{"status", {{"phase", "Deleting"}}}});
    if (!patched.ok()) return IgnoreNotFound(patched.status()).ok() ? Result<bool>(false) : patched.status();
    context.Info("cluster deleting", {{"policy", policy}});
    XB_RETURN_IF_ERROR(client::RecordEvent(client_, clock_, cluster,
                                           {"Normal", "DeletingCR",
                                            fmt::format("Deleting cluster: {}", apiserver::Name(cluster)),
                                            "cluster-controller"}));
  }

  // Data first: Halt releases the data it keeps from its owners before any owner goes.
  auto data = RemoveData(cluster, policy, selector);
  if (!data.ok()) return data.status();
  auto workloads = RemoveWorkloads(cluster, selector);
  if (!workloads.ok()) return workloads.status();
  if (*data + *workloads > 0) return false;

  Json updated = cluster;
  apiserver::RemoveFinalizer(updated, kb::kClusterFinalizer);
  if (!updated["metadata"].contains("finalizers")) updated["metadata"]["finalizers"] = Json::array();
  auto written = client_.Update(res::kClusters, updated);
  if (!written.ok()) return IgnoreNotFound(written.status()).ok() ? Result<bool>(true) : written.status();
  context.Info("cluster deleted", {{"policy", policy}});
  return true;
}

ReconcileResult ClusterReconciler::Reconcile(const Request& request, const ReconcileContext& context) {
  std::optional<Json> cluster = clusters_.Get(request.ns, request.name);
  if (!cluster) return ReconcileResult::Done();
  if (apiserver::IsDeleting(*cluster)) {
    auto done = Terminate(*cluster, context);
    if (!done.ok()) return ReconcileResult::Retry(done.status());
    return *done ? ReconcileResult::Done() : ReconcileResult::RequeueAfter(std::chrono::seconds(1));
  }

  // Metadata first: the finalizer, and labels that tools select clusters by.
  Json labelled = *cluster;
  apiserver::AddFinalizer(labelled, kb::kClusterFinalizer);
  labelled["metadata"]["labels"][kb::kClusterDefinitionLabel] = (*cluster)["spec"].value("clusterDefinitionRef", "");
  labelled["metadata"]["labels"][kb::kClusterVersionLabel] = (*cluster)["spec"].value("clusterVersionRef", "");
  if (labelled != *cluster) {
    auto written = client_.Update(res::kClusters, labelled);
    return written.ok() ? ReconcileResult::Done() : ReconcileResult::Retry(written.status());
  }

  if (api::IntAt(*cluster, "status.observedGeneration", 0) == 0) {
    auto recovered = CheckHaltRecovery(*cluster, context);
    if (!recovered.ok()) return ReconcileResult::Retry(recovered.status());
    // A failed check waits for a spec edit, which the watch delivers, or for the user to delete
    // the kept PVCs, which no watch of this controller reports.
    if (!*recovered) return ReconcileResult::RequeueAfter(kHaltRecoveryRecheck);
  }

  Json definition;
  const std::string failure = Precheck(*cluster, definition);
  if (!failure.empty()) {
    context.Warn("cluster precheck failed", {{"err", failure}});
    Status status = UpdateStatus(*cluster, failure);
    if (!status.ok()) return ReconcileResult::Retry(status);
    return ReconcileResult::RequeueAfter(std::chrono::seconds(1));
  }
  if (Status status = ApplyComponents(*cluster, context); !status.ok()) return ReconcileResult::Retry(status);
  if (Status status = ApplyConnectionSecret(*cluster, definition); !status.ok()) return ReconcileResult::Retry(status);
  Status status = UpdateStatus(*cluster, "");
  return status.ok() ? ReconcileResult::Done() : ReconcileResult::Retry(status);
}

}  // namespace xblocks::controllers
