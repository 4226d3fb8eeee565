#include "controllers/cluster_controller.h"

#include <random>
#include <set>

#include <fmt/format.h>

#include "api/json_fields.h"
#include "apiserver/object_meta.h"
#include "client/events.h"
#include "common/time.h"
#include "controllers/apply.h"
#include "controllers/component_objects.h"
#include "controllers/halt_recovery.h"
#include "controllers/model_controller.h"
#include "controllers/kubeblocks_names.h"
#include "controllers/phases.h"

namespace xblocks::controllers {
namespace {

namespace res = client::resources;

Status IgnoreNotFound(const Status& status) {
  return status.code() == StatusCode::kNotFound ? Status::Ok() : status;
}

std::string RandomPassword() {
  static constexpr std::string_view kAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<size_t> pick(0, kAlphabet.size() - 1);
  std::string out;
  for (int i = 0; i < 16; ++i) out.push_back(kAlphabet[pick(rng)]);
  return out;
}

Json Condition(const std::string& type, bool ok, const std::string& reason, const std::string& message,
               int64_t generation) {
  return {{"type", type},
          {"status", ok ? "True" : "False"},
          {"reason", reason},
          {"message", message},
          {"observedGeneration", generation},
          {"lastTransitionTime", FormatRfc3339(std::chrono::system_clock::now())}};
}

// Keeps lastTransitionTime of conditions whose status did not change.
Json MergeConditions(const Json& old_conditions, Json conditions) {
  for (Json& condition : conditions) {
    for (const auto& old : old_conditions) {
      if (old.value("type", "") == condition["type"] && old.value("status", "") == condition["status"]) {
        condition["lastTransitionTime"] = old.value("lastTransitionTime", condition["lastTransitionTime"]);
      }
    }
  }
  return conditions;
}

std::string ComponentLabel(const Json& component) {
  return component["metadata"].value("labels", Json::object()).value(kb::kComponentNameLabel, "");
}

Json DesiredComponent(const Json& cluster, const Json& component_spec) {
  const std::string cluster_name = apiserver::Name(cluster);
  const std::string component = component_spec.value("name", "");
  Json spec = component_spec;
  spec.erase("name");
  spec["compDef"] = "";
  // Always set, because ApplyObject keeps spec keys that the desired object leaves out and a
  // Start must be able to clear a Stop.
  spec["stop"] = component_spec.value("stop", false);
  Json object = {{"apiVersion", "apps.kubeblocks.io/v1alpha1"},
                 {"kind", "Component"},
                 {"metadata",
                  {{"name", kb::ComponentName(cluster_name, component)},
                   {"namespace", apiserver::Namespace(cluster)},
                   {"labels",
                    {{kb::kManagedByLabel, kb::kManagedByValue},
                     {kb::kInstanceLabel, cluster_name},
                     {kb::kComponentNameLabel, component},
                     {kb::kClusterUidLabel, apiserver::Uid(cluster)},
                     {kb::kComponentDefinitionLabel, ""}}},
                   {"annotations", {{kb::kGenerationAnnotation, std::to_string(cluster["metadata"].value("generation", 1))}}},
                   {"ownerReferences", Json::array({ControllerReference(cluster)})},
                   {"finalizers", {kb::kClusterFinalizer, kb::kComponentFinalizer}}}},
                 {"spec", spec}};
  return object;
}

}  // namespace

std::vector<Json> ClusterReconciler::OwnedComponents(const Json& cluster) const {
  auto listed = components_.List(apiserver::Namespace(cluster),
                                 std::string(kb::kInstanceLabel) + "=" + apiserver::Name(cluster));
  return listed.ok() ? *listed : std::vector<Json>{};
}

std::string ClusterReconciler::Precheck(const Json& cluster, Json& definition) {
  const std::string cd_name = cluster["spec"].value("clusterDefinitionRef", "");
  auto cd = client_.Get(res::kClusterDefinitions, "", cd_name);
  if (!cd.ok()) return fmt::format("clusterdefinitions.apps.kubeblocks.io \"{}\" not found", cd_name);
  if ((*cd).value("status", Json::object()).value("phase", "") != "Available") {
    return fmt::format("the referenced ClusterDefinition is unavailable: {}", cd_name);
  }
  definition = std::move(*cd);
  const std::string cv_name = cluster["spec"].value("clusterVersionRef", "");
  if (cv_name.empty()) return "";
  auto cv = client_.Get(res::kClusterVersions, "", cv_name);
  if (!cv.ok()) return fmt::format("clusterversions.apps.kubeblocks.io \"{}\" not found", cv_name);
  if ((*cv).value("status", Json::object()).value("phase", "") != "Available") {
    return fmt::format("the referenced ClusterVersion is not up to date: {}", cv_name);
  }
  return "";
}

Status ClusterReconciler::ApplyComponents(const Json& cluster, const ReconcileContext& context) {
  std::set<std::string> wanted;
  for (const auto& component_spec : cluster["spec"].value("componentSpecs", Json::array())) {
    Json desired = DesiredComponent(cluster, component_spec);
    wanted.insert(apiserver::Name(desired));
    ApplyOutcome outcome = ApplyOutcome::kUnchanged;
    auto applied = ApplyObject(client_, res::kComponents, desired, &outcome);
    if (!applied.ok()) return applied.status();
    if (outcome == ApplyOutcome::kCreated) context.Info("component created", {{"object", apiserver::Name(desired)}});
  }
  for (const Json& component : OwnedComponents(cluster)) {
    if (wanted.count(apiserver::Name(component)) > 0 || apiserver::IsDeleting(component)) continue;
    XB_RETURN_IF_ERROR(IgnoreNotFound(
        client_.Delete(res::kComponents, apiserver::Namespace(component), apiserver::Name(component), {})));
    context.Info("component deleted", {{"object", apiserver::Name(component)}});
  }
  return Status::Ok();
}

Status ClusterReconciler::ApplyConnectionSecret(const Json& cluster, const Json& definition) {
  const std::string name = kb::ConnectionSecretName(apiserver::Name(cluster));
  if (client_.Get(res::kSecrets, apiserver::Namespace(cluster), name).ok()) return Status::Ok();
  auto created = client_.Create(res::kSecrets, BuildConnectionSecret(cluster, definition, RandomPassword()));
  if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) return created.status();
  return Status::Ok();
}

Status ClusterReconciler::UpdateStatus(const Json& cluster, const std::string& precheck_failure) {
  const int64_t generation = cluster["metadata"].value("generation", 1);
  const Json old_status = cluster.value("status", Json::object());
  Json status = old_status;
  Json conditions = Json::array();
  if (!precheck_failure.empty()) {
    conditions.push_back(Condition("ProvisioningStarted", false, "PreCheckFailed", precheck_failure, generation));
  } else {
    conditions.push_back(Condition("ProvisioningStarted", true, "PreCheckSucceed",
                                   "The operator has started the provisioning of Cluster: " + apiserver::Name(cluster),
                                   generation));
    conditions.push_back(Condition("ApplyResources", true, "ApplyResourcesSucceed", "Successfully applied for resources",
                                   generation));
    std::vector<std::string> phases;
    std::vector<std::string> not_ready;
    Json components = Json::object();
    for (const Json& component : OwnedComponents(cluster)) {
      const std::string name = ComponentLabel(component);
      const std::string phase = component.value("status", Json::object()).value("phase", "");
      const bool pods_ready = phase == "Running" || phase == "Stopping" || phase == "Stopped";
      components[name] = {{"podsReady", pods_ready}};
      if (!phase.empty()) components[name]["phase"] = phase;
      phases.push_back(phase);
      if (!pods_ready) not_ready.push_back(name);
    }
    status["components"] = components;
    if (auto phase = ClusterPhase(phases)) status["phase"] = *phase;
    const std::string list = fmt::format("[{}]", fmt::join(not_ready, " "));
    conditions.push_back(not_ready.empty()
                             ? Condition("ReplicasReady", true, "AllReplicasReady", "all pods of components are ready, waiting for the probe detection successful", generation)
                             : Condition("ReplicasReady", false, "ReplicasNotReady", fmt::format("pods are not ready in Components: {}, refer to related component message in Cluster.status.components", list), generation));
    const bool running = status.value("phase", "") == "Running";
    // Declared models: a Running cluster is Ready only once every one of them is served.
    std::vector<Json> models;
    if (models_ != nullptr) models = ModelsOfCluster(*models_, apiserver::Namespace(cluster), apiserver::Name(cluster));
    std::vector<std::string> models_not_ready;
    for (const Json& model : models) {
      if (api::StringAt(model, "status.phase") != "Ready") {
        models_not_ready.push_back(fmt::format("{} ({})", apiserver::Name(model),
                                               api::StringAt(model, "status.phase").empty()
                                                   ? "Pending"
                                                   : api::StringAt(model, "status.phase")));
      }
    }
    if (!models.empty()) {
      const size_t ready = models.size() - models_not_ready.size();
      conditions.push_back(models_not_ready.empty()
                               ? Condition("ModelsReady", true, "AllModelsReady", fmt::format("{}/{} declared models are ready", ready, models.size()), generation)
                               : Condition("ModelsReady", false, "ModelsNotReady", fmt::format("{}/{} declared models are ready; not ready: {}", ready, models.size(), fmt::join(models_not_ready, ", ")), generation));
    }
    if (running && !models_not_ready.empty()) {
      conditions.push_back(Condition("Ready", false, "ModelsNotReady", fmt::format("the pods of Cluster: {} are running, but declared models are not ready: {}", apiserver::Name(cluster), fmt::join(models_not_ready, ", ")), generation));
    } else {
      conditions.push_back(running ? Condition("Ready", true, "ClusterReady", fmt::format("Cluster: {} is ready, current phase is Running", apiserver::Name(cluster)), generation)
                                   : Condition("Ready", false, "ComponentsNotReady", fmt::format("pods are unavailable in Components: {}, refer to related component message in Cluster.status.components", list), generation));
    }
  }
  status["conditions"] = MergeConditions(old_status.value("conditions", Json::array()), conditions);
  status["observedGeneration"] = generation;
  if (status == old_status) return Status::Ok();
  auto written = client_.PatchStatus(res::kClusters, apiserver::Namespace(cluster), apiserver::Name(cluster),
                                     {{"status", status}});
  if (!written.ok()) return IgnoreNotFound(written.status());
  return RecordTransitions(*written, old_status, status);
}

Status ClusterReconciler::RecordTransitions(const Json& cluster, const Json& old_status, const Json& status) {
  std::vector<client::EventSpec> events;
  // One event per component phase change, as KubeBlocks' ComponentPhaseTransition.
  const Json& old_components = api::MemberOf(old_status, "components");
  for (const auto& [name, component] : api::ObjectAt(status, "components").items()) {
    const std::string phase = api::StringMemberOf(component, "phase");
    if (phase.empty() || phase == api::StringMemberOf(api::MemberOf(old_components, name), "phase")) continue;
    const bool bad = phase == "Failed" || phase == "Abnormal";
    events.push_back({bad ? "Warning" : "Normal", "ComponentPhaseTransition",
                      fmt::format("component {} is {}", name, phase), "cluster-controller"});
  }
  // One event per condition whose status or reason changed, with the condition's reason.
  for (const Json& condition : api::ArrayAt(status, "conditions")) {
    bool changed = true;
    for (const Json& old : api::ArrayAt(old_status, "conditions")) {
      if (api::StringMemberOf(old, "type") != api::StringMemberOf(condition, "type")) continue;
      changed = api::StringMemberOf(old, "status") != api::StringMemberOf(condition, "status") ||
                api::StringMemberOf(old, "reason") != api::StringMemberOf(condition, "reason");
    }
    if (!changed) continue;
    const bool ok = api::StringMemberOf(condition, "status") == "True";
    events.push_back({ok ? "Normal" : "Warning", api::StringMemberOf(condition, "reason"),
                      api::StringMemberOf(condition, "message"), "cluster-controller"});
  }
  for (const auto& event : events) XB_RETURN_IF_ERROR(client::RecordEvent(client_, clock_, cluster, event));
  return Status::Ok();
}

Result<bool> ClusterReconciler::CheckHaltRecovery(const Json& cluster, const ReconcileContext& context) {
  const std::string ns = apiserver::Namespace(cluster);
  const client::ListOptions selector{std::string(kb::kInstanceLabel) + "=" + apiserver::Name(cluster), ""};
  auto claims = client_.List(res::kPersistentVolumeClaims, ns, selector);
  if (!claims.ok()) return claims.status();
  if (claims->items.empty()) return true;
  // Claims that this cluster's own InstanceSets made are not kept data. They show up here when
  // the informer has not yet delivered the first status write.
  auto instance_sets = client_.List(res::kInstanceSets, ns, selector);
  if (!instance_sets.ok()) return instance_sets.status();
  std::set<std::string> own_uids;
  for (const Json& instance_set : instance_sets->items) own_uids.insert(apiserver::Uid(instance_set));
  std::vector<Json> kept;
  for (const Json& claim : claims->items) {
    bool own = false;
    for (const Json& ref : api::ArrayAt(claim, "metadata.ownerReferences")) {
      own = own || own_uids.count(api::StringMemberOf(ref, "uid")) > 0;
    }
    if (!own) kept.push_back(claim);
  }

  auto failure = controllers::CheckHaltRecovery(cluster, kept);
  if (!failure) return true;
  context.Warn("halt recovery failed", {{"reason", failure->reason}, {"err", failure->message}});
  const int64_t generation = cluster["metadata"].value("generation", 1);
  Json conditions = Json::array();
  for (const Json& condition : api::ArrayAt(cluster, "status.conditions")) {
    if (api::StringMemberOf(condition, "type") != "HaltRecovery") conditions.push_back(condition);
  }
  conditions.push_back(Condition("HaltRecovery", false, failure->reason, failure->message, generation));
  Json status = api::ObjectAt(cluster, "status");
  status["conditions"] = MergeConditions(api::ArrayAt(cluster, "status.conditions"), conditions);
  if (status != api::ObjectAt(cluster, "status")) {
    auto written = client_.PatchStatus(res::kClusters, ns, apiserver::Name(cluster), {{"status", status}});
    if (!written.ok()) return IgnoreNotFound(written.status()).ok() ? Result<bool>(false) : written.status();
  }
  XB_RETURN_IF_ERROR(client::RecordEvent(client_, clock_, cluster,
                                         {"Warning", failure->reason, failure->message, "cluster-controller"}));
  return false;
}

}  // namespace xblocks::controllers
