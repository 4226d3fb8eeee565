#include "controllers/models_gate.h"

#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "api/json_fields.h"
#include "apiserver/object_meta.h"
#include "controllers/kubeblocks_names.h"
#include "controllers/model_controller.h"

namespace xblocks::controllers {
namespace {

bool HasGate(const Json& pod) {
  for (const Json& gate : api::ArrayAt(pod, "spec.readinessGates")) {
    if (api::StringMemberOf(gate, "conditionType") == kModelsReadyGate) return true;
  }
  return false;
}

std::string ClusterOf(const Json& pod) {
  return api::StringMemberOf(api::ObjectAt(pod, "metadata.labels"), kb::kInstanceLabel);
}

// The latest start of a running container of `pod`, or nullopt when none runs.
std::optional<TimePoint> LatestContainerStart(const Json& pod) {
  std::optional<TimePoint> latest;
  for (const Json& container : api::ArrayAt(pod, "status.containerStatuses")) {
    auto started = ParseRfc3339(api::StringAt(container, "state.running.startedAt"));
    if (started && (!latest || *started > *latest)) latest = *started;
  }
  return latest;
}

}  // namespace

bool SettledSinceContainersStarted(const Json& gate, const Json& pod) {
  if (api::StringMemberOf(gate, "status") != "True") return false;
  auto since = ParseRfc3339(api::StringMemberOf(gate, "lastTransitionTime"));
  std::optional<TimePoint> started = LatestContainerStart(pod);
  return since && started && *since > *started;
}

ModelsGate EvaluateModelsGate(const Json& pod, const std::vector<Json>& models) {
  std::vector<std::string> loading;
  size_t declared = 0;
  for (const Json& model : models) {
    if (apiserver::IsDeleting(model)) continue;
    ++declared;
    std::string state;
    for (const Json& replica : api::ArrayAt(model, "status.replicas")) {
      if (api::StringMemberOf(replica, "podUID") == apiserver::Uid(pod)) state = api::StringMemberOf(replica, "state");
    }
    if (state == "Ready" || state == "Failed") continue;
    loading.push_back(fmt::format("{} ({})", apiserver::Name(model), state.empty() ? "Pending" : state));
  }
  if (!loading.empty()) {
    return {false, "ModelsLoading", fmt::format("waiting for declared models: {}", fmt::join(loading, ", "))};
  }
  return {true, "ModelsServed",
          declared == 0 ? "the cluster declares no models" : fmt::format("{} declared models settled", declared)};
}

MapFn ModelToPods(const Informer& pods) {
  return [&pods](const Json& model) -> std::vector<Request> {
    const std::string cluster = api::StringAt(model, "spec.clusterName");
    if (cluster.empty()) return {};
    std::vector<Request> requests;
    auto listed = pods.List(apiserver::Namespace(model), fmt::format("{}={}", kb::kInstanceLabel, cluster));
    if (!listed.ok()) return {};
    for (const Json& pod : *listed) requests.push_back({apiserver::Namespace(pod), apiserver::Name(pod)});
    return requests;
  };
}

ReconcileResult ModelsGateReconciler::Reconcile(const Request& request, const ReconcileContext& context) {
  std::optional<Json> pod = pods_.Get(request.ns, request.name);
  if (!pod || !HasGate(*pod) || apiserver::IsDeleting(*pod)) return ReconcileResult::Done();

  Json conditions = Json::array();
  const Json* previous = nullptr;
  for (const Json& condition : api::ArrayAt(*pod, "status.conditions")) {
    if (api::StringMemberOf(condition, "type") == kModelsReadyGate) {
      previous = &condition;
    } else {
      conditions.push_back(condition);
    }
  }
  if (previous != nullptr && SettledSinceContainersStarted(*previous, *pod)) return ReconcileResult::Done();

  const ModelsGate gate = EvaluateModelsGate(*pod, ModelsOfCluster(models_, request.ns, ClusterOf(*pod)));
  const std::string status = gate.ready ? "True" : "False";
  // A True gate is left as it is, whichever component set it: kwok and the simulated runtime
  // set every gate True at start. A False one is rewritten when its message changes, to show
  // which models the pod still waits for.
  if (previous != nullptr && api::StringMemberOf(*previous, "status") == status &&
      (gate.ready || (api::StringMemberOf(*previous, "reason") == gate.reason &&
                      api::StringMemberOf(*previous, "message") == gate.message))) {
    return ReconcileResult::Done();
  }
  const std::string since = previous != nullptr && api::StringMemberOf(*previous, "status") == status
                                ? api::StringMemberOf(*previous, "lastTransitionTime")
                                : FormatRfc3339(clock_.Now());
  conditions.push_back({{"type", kModelsReadyGate},
                        {"status", status},
                        {"reason", gate.reason},
                        {"message", gate.message},
                        {"lastProbeTime", nullptr},
                        {"lastTransitionTime", since}});
  // A merge patch replaces the whole list, so the resourceVersion makes it fail, and retry,
  // rather than overwrite a condition written after the informer's copy.
  const Json patch = {{"metadata", {{"resourceVersion", api::StringAt(*pod, "metadata.resourceVersion")}}},
                      {"status", {{"conditions", conditions}}}};
  auto patched = client_.PatchStatus(client::resources::kPods, request.ns, request.name, patch);
  if (!patched.ok()) {
    if (patched.status().code() == StatusCode::kNotFound) return ReconcileResult::Done();
    return ReconcileResult::Retry(patched.status());
  }
  context.Info("models gate set", {{"pod", request.name}, {"status", status}, {"reason", gate.reason},
                                   {"message", gate.message}});
  return ReconcileResult::Done();
}

}  // namespace xblocks::controllers
