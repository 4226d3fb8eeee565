#include "controllers/component_controller.h"

#include <fmt/format.h>

#include "apiserver/object_meta.h"
#include "controllers/apply.h"
#include "controllers/component_objects.h"
#include "controllers/kubeblocks_names.h"
#include "controllers/phases.h"

namespace xblocks::controllers {
namespace {

namespace res = client::resources;

Status IgnoreNotFound(const Status& status) {
  return status.code() == StatusCode::kNotFound ? Status::Ok() : status;
}

std::string Label(const Json& object, const char* key) {
  const Json& labels = object["metadata"].value("labels", Json::object());
  return labels.value(key, "");
}

int DesiredReplicas(const Json& component) {
  const Json& spec = component.value("spec", Json::object());
  if (spec.value("stop", false)) return 0;
  const Json& replicas = spec.value("replicas", Json(1));
  return replicas.is_number_integer() ? std::max(0, replicas.get<int>()) : 1;
}

// Applies `desired` and returns its status; logs creations.
Status Ensure(client::Client& client, const client::Resource& resource, const Json& desired,
              const ReconcileContext& context) {
  if (desired.is_null()) return Status::Ok();
  ApplyOutcome outcome = ApplyOutcome::kUnchanged;
  auto applied = ApplyObject(client, resource, desired, &outcome);
  if (!applied.ok()) return applied.status();
  if (outcome != ApplyOutcome::kUnchanged) {
    context.Info(outcome == ApplyOutcome::kCreated ? "object created" : "object updated",
                 {{"kind", desired.value("kind", "")}, {"object", apiserver::Name(desired)}});
  }
  return Status::Ok();
}

// Creates `desired` unless an object of its name exists, which is left as it is.
Status CreateIfAbsent(client::Client& client, const client::Resource& resource, const Json& desired,
                      const ReconcileContext& context) {
  auto live = client.Get(resource, apiserver::Namespace(desired), apiserver::Name(desired));
  if (live.ok()) return Status::Ok();
  if (live.status().code() != StatusCode::kNotFound) return live.status();
  auto created = client.Create(resource, desired);
  if (created.ok()) {
    context.Info("object created", {{"kind", desired.value("kind", "")}, {"object", apiserver::Name(desired)}});
    return Status::Ok();
  }
  return created.status().code() == StatusCode::kAlreadyExists ? Status::Ok() : created.status();
}

}  // namespace

Result<ComponentSource> ComponentReconciler::Source(const Json& component) {
  const std::string ns = apiserver::Namespace(component);
  auto cluster = client_.Get(res::kClusters, ns, Label(component, kb::kInstanceLabel));
  if (!cluster.ok()) return cluster.status();
  const Json& cluster_spec = (*cluster)["spec"];
  auto definition = client_.Get(res::kClusterDefinitions, "", cluster_spec.value("clusterDefinitionRef", ""));
  if (!definition.ok()) return definition.status();
  Json version = nullptr;
  const std::string version_name = cluster_spec.value("clusterVersionRef", "");
  if (!version_name.empty()) {
    auto found = client_.Get(res::kClusterVersions, "", version_name);
    if (!found.ok()) return found.status();
    version = std::move(*found);
  }
  Json component_spec = component["spec"];
  component_spec["name"] = Label(component, kb::kComponentNameLabel);
  return ResolveComponent(*cluster, component_spec, *definition, version);
}

Status ComponentReconciler::Finalize(const Json& component, const ReconcileContext& context) {
  const std::string ns = apiserver::Namespace(component);
  const std::string its_name = apiserver::Name(component);
  if (auto its = instance_sets_.Get(ns, its_name)) {
    if (!apiserver::IsDeleting(*its)) {
      XB_RETURN_IF_ERROR(IgnoreNotFound(client_.Delete(res::kInstanceSets, ns, its_name, {})));
      context.Info("instanceset deleted", {{"object", its_name}});
    }
    return Status::Ok();
  }
  Json updated = component;
  apiserver::RemoveFinalizer(updated, kb::kComponentFinalizer);
  if (!updated["metadata"].contains("finalizers")) updated["metadata"]["finalizers"] = Json::array();
  auto written = client_.Update(res::kComponents, updated);
  return written.ok() ? Status::Ok() : IgnoreNotFound(written.status());
}

Result<Json> ComponentReconciler::ApplyWorkload(const ComponentSource& source, const Json& component,
                                                const ReconcileContext& context) {
  auto pod_template = BuildPodTemplate(source);
  if (!pod_template.ok()) return pod_template.status();
  // A Restart operation stamps the Component; the stamp changes the template's revision, so
  // every pod is recreated.
  const Json& annotations = component["metadata"].value("annotations", Json::object());
  if (annotations.contains(kb::kRestartAnnotation) && annotations[kb::kRestartAnnotation].is_string()) {
    (*pod_template)["metadata"]["annotations"][kb::kRestartAnnotation] = annotations[kb::kRestartAnnotation];
  }
  const int replicas = DesiredReplicas(component);
  // The ServiceAccount comes before the InstanceSet, because kube-apiserver rejects a pod whose
  // ServiceAccount does not exist yet. The tutorial's clusters all name kb-xinference-cluster, so
  // several clusters in a namespace share it. As in KubeBlocks, the first creates it and the
  // others use it as it is.
  if (!source.component_spec.value("serviceAccountName", "").empty()) {
    XB_RETURN_IF_ERROR(CreateIfAbsent(client_, res::kServiceAccounts, BuildServiceAccount(source, component), context));
    XB_RETURN_IF_ERROR(CreateIfAbsent(client_, res::kRoleBindings, BuildRoleBinding(source, component), context));
  }
  XB_RETURN_IF_ERROR(Ensure(client_, res::kConfigMaps, BuildEnvConfigMap(source, component, replicas), context));
  ApplyOutcome outcome = ApplyOutcome::kUnchanged;
  auto its = ApplyObject(client_, res::kInstanceSets, BuildInstanceSet(source, component, *pod_template, replicas),
                         &outcome);
  if (!its.ok()) return its.status();
  if (outcome != ApplyOutcome::kUnchanged) {
    context.Info(outcome == ApplyOutcome::kCreated ? "instanceset created" : "instanceset updated",
                 {{"object", apiserver::Name(*its)}, {"replicas", std::to_string(replicas)}});
  }

  XB_RETURN_IF_ERROR(Ensure(client_, res::kServices, BuildService(source, component), context));
  XB_RETURN_IF_ERROR(Ensure(client_, res::kServices, BuildHeadlessService(source, *its, *pod_template), context));
  XB_RETURN_IF_ERROR(
      Ensure(client_, res::kConfigMaps, BuildInstanceSetEnvConfigMap(source, *its, replicas), context));
  return its;
}

Status ComponentReconciler::UpdatePhase(const Json& component, const Json& instance_set,
                                        const ReconcileContext& context) {
  const Json& its_status = instance_set.value("status", Json::object());
  const std::string generation = std::to_string(component["metadata"].value("generation", 1));
  const Json& annotations = instance_set["metadata"].value("annotations", Json::object());

  ComponentObservation observation;
  observation.instance_set_deleting = apiserver::IsDeleting(instance_set);
  observation.stopped = DesiredReplicas(component) == 0;
  observation.desired_replicas = DesiredReplicas(component);
  observation.current_replicas = its_status.value("replicas", 0);
  observation.ready_replicas = its_status.value("readyReplicas", 0);
  observation.up_to_date = annotations.value(kb::kGenerationAnnotation, "") == generation &&
                           its_status.value("observedGeneration", 0) == instance_set["metadata"].value("generation", 0) &&
                           its_status.value("updatedReplicas", 0) == observation.current_replicas;
  observation.current_phase = component.value("status", Json::object()).value("phase", "");
  auto pods = pods_.List(apiserver::Namespace(component),
                         std::string(kb::kWorkloadInstanceLabel) + "=" + apiserver::Name(instance_set));
  if (pods.ok()) {
    for (const auto& pod : *pods) observation.failure = observation.failure || PodFailed(pod);
  }
  const std::string phase = ComponentPhase(observation);
  Json status = component.value("status", Json::object());
  if (status.value("phase", "") == phase && status.value("observedGeneration", 0) == component["metadata"].value("generation", 0)) {
    return Status::Ok();
  }
  auto written = client_.PatchStatus(res::kComponents, apiserver::Namespace(component), apiserver::Name(component),
                                     {{"status", {{"phase", phase},
                                                  {"observedGeneration", component["metadata"].value("generation", 1)}}}});
  if (!written.ok()) return IgnoreNotFound(written.status());
  if (status.value("phase", "") != phase) context.Info("component phase changed", {{"phase", phase}});
  return Status::Ok();
}

ReconcileResult ComponentReconciler::Reconcile(const Request& request, const ReconcileContext& context) {
  std::optional<Json> component = components_.Get(request.ns, request.name);
  if (!component) return ReconcileResult::Done();
  if (apiserver::IsDeleting(*component)) {
    Status status = Finalize(*component, context);
    return status.ok() ? ReconcileResult::Done() : ReconcileResult::Retry(status);
  }
  if (!apiserver::HasFinalizer(*component, kb::kComponentFinalizer)) {
    Json updated = *component;
    apiserver::AddFinalizer(updated, kb::kComponentFinalizer);
    auto written = client_.Update(client::resources::kComponents, updated);
    return written.ok() ? ReconcileResult::Done() : ReconcileResult::Retry(written.status());
  }

  auto source = Source(*component);
  if (!source.ok()) {
    // A missing definition is fixed by creating it; the Cluster's status names the reason.
    context.Warn("component source not ready", {{"err", source.status().message()}});
    return ReconcileResult::RequeueAfter(std::chrono::seconds(1));
  }
  auto its = ApplyWorkload(*source, *component, context);
  if (!its.ok()) return ReconcileResult::Retry(its.status());
  Status status = UpdatePhase(*component, *its, context);
  return status.ok() ? ReconcileResult::Done() : ReconcileResult::Retry(status);
}

}  // namespace xblocks::controllers
