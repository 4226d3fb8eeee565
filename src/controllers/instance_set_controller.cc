#include "controllers/instance_set_controller.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "apiserver/object_meta.h"
#include "controllers/component_objects.h"
#include "controllers/kubeblocks_names.h"
#include "controllers/phases.h"

namespace xblocks::controllers {
namespace {

using client::resources::kInstanceSets;
using client::resources::kPersistentVolumeClaims;
using client::resources::kPods;

// The ordinal at the end of `pod_name` after "<its>-", or -1.
int Ordinal(const std::string& its_name, const std::string& pod_name) {
  const std::string prefix = its_name + "-";
  if (pod_name.rfind(prefix, 0) != 0) return -1;
  const std::string_view digits = std::string_view(pod_name).substr(prefix.size());
  int value = -1;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || value < 0) return -1;
  return value;
}

bool IsOwnedBy(const Json& object, const std::string& uid) {
  for (const auto& ref : object["metadata"].value("ownerReferences", Json::array())) {
    if (ref.value("uid", "") == uid) return true;
  }
  return false;
}

std::string Revision(const Json& pod) {
  const Json& labels = pod["metadata"].value("labels", Json::object());
  return labels.value(kb::kRevisionHashLabel, "");
}

int Replicas(const Json& instance_set) {
  const Json& replicas = instance_set["spec"].value("replicas", Json(1));
  return replicas.is_number_integer() ? std::max(0, replicas.get<int>()) : 1;
}

Status IgnoreNotFound(Status status) {
  return status.code() == StatusCode::kNotFound ? Status::Ok() : status;
}

}  // namespace

std::vector<std::pair<int, Json>> InstanceSetReconciler::OwnedPods(const Json& instance_set) const {
  const std::string name = apiserver::Name(instance_set);
  const std::string uid = apiserver::Uid(instance_set);
  auto listed = pods_.List(apiserver::Namespace(instance_set),
                           std::string(kb::kWorkloadInstanceLabel) + "=" + name);
  std::vector<std::pair<int, Json>> pods;
  if (!listed.ok()) return pods;
  for (Json& pod : *listed) {
    if (IsOwnedBy(pod, uid)) pods.emplace_back(Ordinal(name, apiserver::Name(pod)), std::move(pod));
  }
  std::sort(pods.begin(), pods.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return pods;
}

Status InstanceSetReconciler::Finalize(const Json& instance_set, const std::vector<std::pair<int, Json>>& pods,
                                       const ReconcileContext& context) {
  for (const auto& [ordinal, pod] : pods) {
    if (apiserver::IsDeleting(pod)) continue;
    XB_RETURN_IF_ERROR(IgnoreNotFound(client_.Delete(kPods, apiserver::Namespace(pod), apiserver::Name(pod), {})));
    context.Info("pod deleted", {{"pod", apiserver::Name(pod)}, {"reason", "instanceset deleting"}});
  }
  if (!pods.empty()) return Status::Ok();
  Json updated = instance_set;
  apiserver::RemoveFinalizer(updated, kb::kInstanceSetFinalizer);
  apiserver::RemoveFinalizer(updated, kb::kComponentFinalizer);
  if (!updated["metadata"].contains("finalizers")) updated["metadata"]["finalizers"] = Json::array();
  auto written = client_.Update(kInstanceSets, updated);
  return written.ok() ? Status::Ok() : IgnoreNotFound(written.status());
}

Status InstanceSetReconciler::CreateClaims(const Json& instance_set, int ordinal, const ReconcileContext& context) {
  for (const Json& claim_template : VolumeClaimTemplates(instance_set)) {
    const Json claim = BuildPersistentVolumeClaim(instance_set, claim_template, ordinal);
    auto created = client_.Create(kPersistentVolumeClaims, claim);
    if (created.ok()) {
      context.Info("pvc created", {{"object", apiserver::Name(claim)}});
    } else if (created.status().code() != StatusCode::kAlreadyExists) {
      return created.status();
    }
  }
  return Status::Ok();
}

Result<bool> InstanceSetReconciler::StepPods(const Json& instance_set, const std::vector<std::pair<int, Json>>& pods,
                                             const ReconcileContext& context) {
  const int desired = Replicas(instance_set);
  const std::string revision = TemplateHash(instance_set["spec"]["template"]);

  // A pod on its way out blocks every other step, so at most one pod is unavailable.
  for (const auto& [ordinal, pod] : pods) {
    if (apiserver::IsDeleting(pod)) return false;
  }

  // Scale in: the highest ordinal at or above the desired count goes first.
  for (auto it = pods.rbegin(); it != pods.rend(); ++it) {
    if (it->first >= 0 && it->first < desired) continue;
    XB_RETURN_IF_ERROR(IgnoreNotFound(client_.Delete(kPods, apiserver::Namespace(it->second),
                                                     apiserver::Name(it->second), {})));
    context.Info("pod deleted", {{"pod", apiserver::Name(it->second)}, {"reason", "scale in"}});
    return true;
  }

  // An outdated pod that is not Ready (crash-looping, failed, evicted or still starting) serves
  // nothing, so it is replaced before anything else rather than blocking the rollout.
  for (auto it = pods.rbegin(); it != pods.rend(); ++it) {
    if (Revision(it->second) == revision || PodReady(it->second)) continue;
    XB_RETURN_IF_ERROR(IgnoreNotFound(client_.Delete(kPods, apiserver::Namespace(it->second),
                                                     apiserver::Name(it->second), {})));
    context.Info("pod deleted", {{"pod", apiserver::Name(it->second)}, {"reason", "outdated and not ready"},
                                 {"revision", revision}});
    return true;
  }

  // Scale out: the lowest missing ordinal, once every lower pod is Ready.
  for (int ordinal = 0; ordinal < desired; ++ordinal) {
    auto found = std::find_if(pods.begin(), pods.end(), [&](const auto& p) { return p.first == ordinal; });
    if (found != pods.end()) continue;
    for (const auto& [lower, pod] : pods) {
      if (lower < ordinal && !PodReady(pod)) return false;
    }
    XB_RETURN_IF_ERROR(CreateClaims(instance_set, ordinal, context));
    auto created = client_.Create(kPods, BuildPod(instance_set, ordinal));
    if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) return created.status();
    context.Info("pod created", {{"pod", kb::PodName(apiserver::Name(instance_set), ordinal)},
                                 {"revision", revision},
                                 {"pods", fmt::format("{}/{}", pods.size() + 1, desired)}});
    return true;
  }

  // Update: once every pod is Ready, recreate the highest-ordinal outdated one.
  for (const auto& [ordinal, pod] : pods) {
    if (!PodReady(pod)) return false;
  }
  for (auto it = pods.rbegin(); it != pods.rend(); ++it) {
    if (Revision(it->second) == revision) continue;
    XB_RETURN_IF_ERROR(IgnoreNotFound(client_.Delete(kPods, apiserver::Namespace(it->second),
                                                     apiserver::Name(it->second), {})));
    context.Info("pod deleted", {{"pod", apiserver::Name(it->second)}, {"reason", "outdated revision"},
                                 {"revision", revision}});
    return true;
  }
  return false;
}

Status InstanceSetReconciler::UpdateStatus(const Json& instance_set, const std::vector<std::pair<int, Json>>& pods) {
  const std::string revision = TemplateHash(instance_set["spec"]["template"]);
  int ready = 0;
  int updated = 0;
  for (const auto& [ordinal, pod] : pods) {
    if (PodReady(pod)) ++ready;
    if (Revision(pod) == revision) ++updated;
  }
  const bool current = updated == static_cast<int>(pods.size());
  Json status = instance_set.value("status", Json::object());
  Json wanted = status;
  wanted["observedGeneration"] = instance_set["metadata"].value("generation", 1);
  wanted["replicas"] = static_cast<int>(pods.size());
  wanted["readyReplicas"] = ready;
  wanted["availableReplicas"] = ready;
  wanted["updatedReplicas"] = updated;
  wanted["currentReplicas"] = updated;
  wanted["updateRevision"] = revision;
  if (current) wanted["currentRevision"] = revision;
  if (wanted == status) return Status::Ok();
  // A merge patch of status alone does not conflict with concurrent spec writes.
  auto written = client_.PatchStatus(kInstanceSets, apiserver::Namespace(instance_set), apiserver::Name(instance_set),
                                     {{"status", wanted}});
  return written.ok() ? Status::Ok() : IgnoreNotFound(written.status());
}

ReconcileResult InstanceSetReconciler::Reconcile(const Request& request, const ReconcileContext& context) {
  std::optional<Json> instance_set = instance_sets_.Get(request.ns, request.name);
  if (!instance_set) return ReconcileResult::Done();
  const auto pods = OwnedPods(*instance_set);

  if (apiserver::IsDeleting(*instance_set)) {
    Status status = Finalize(*instance_set, pods, context);
    return status.ok() ? ReconcileResult::Done() : ReconcileResult::Retry(status);
  }
  auto stepped = StepPods(*instance_set, pods, context);
  if (!stepped.ok()) return ReconcileResult::Retry(stepped.status());
  Status status = UpdateStatus(*instance_set, pods);
  if (!status.ok()) return ReconcileResult::Retry(status);
  return ReconcileResult::Done();
}

}  // namespace xblocks::controllers
