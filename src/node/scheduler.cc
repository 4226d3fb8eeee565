#include "node/scheduler.h"

#include <algorithm>
#include <tuple>
#include <unordered_set>

#include <fmt/format.h>

#include "api/json_fields.h"
#include "common/log.h"
#include "client/events.h"

namespace xblocks::node {
namespace {

constexpr char kSchedulerName[] = "default-scheduler";
// The defaults of podInitialBackoffSeconds and podMaxBackoffSeconds in kube-scheduler's
// KubeSchedulerConfiguration (v1).
constexpr std::chrono::seconds kInitialBackoff{1};
constexpr std::chrono::seconds kMaxBackoff{10};

bool IsPendingForUs(const Json& pod) {
  if (!api::StringAt(pod, "spec.nodeName").empty()) return false;
  const std::string scheduler = api::StringAt(pod, "spec.schedulerName");
  if (!scheduler.empty() && scheduler != kSchedulerName) return false;
  if (api::FindPath(pod, "metadata.deletionTimestamp") != nullptr) return false;
  const std::string phase = api::StringAt(pod, "status.phase");
  return phase != "Succeeded" && phase != "Failed";
}

// Highest spec.priority first, then oldest, then by namespace and name.
bool SchedulesBefore(const Json& a, const Json& b) {
  auto key = [](const Json& pod) {
    return std::make_tuple(-api::IntAt(pod, "spec.priority", 0), api::StringAt(pod, "metadata.creationTimestamp"),
                           api::StringAt(pod, "metadata.namespace"), api::StringAt(pod, "metadata.name"));
  };
  return key(a) < key(b);
}

const Json* FindPodScheduled(const Json& pod) {
  for (const Json& condition : api::ArrayAt(pod, "status.conditions")) {
    if (api::StringAt(condition, "type") == "PodScheduled") return &condition;
  }
  return nullptr;
}

// The pod's conditions with PodScheduled replaced by (or extended with) `condition`.
Json ReplacePodScheduled(const Json& pod, const Json& condition) {
  Json conditions = Json::array();
  bool replaced = false;
  for (const Json& existing : api::ArrayAt(pod, "status.conditions")) {
    const bool is_scheduled = api::StringAt(existing, "type") == "PodScheduled";
    conditions.push_back(is_scheduled ? condition : existing);
    replaced = replaced || is_scheduled;
  }
  if (!replaced) conditions.push_back(condition);
  return conditions;
}

bool IsConflict(const Status& status) { return status.code() == StatusCode::kConflict; }

}  // namespace

Status Scheduler::Sync() {
  auto nodes = client_.List(client::resources::kNodes, "", {});
  if (!nodes.ok()) return nodes.status();
  auto pods = client_.List(client::resources::kPods, "", {});
  if (!pods.ok()) return pods.status();

  std::vector<Json> bound;
  std::vector<Json> pending;
  for (Json& pod : pods->items) {
    if (!api::StringAt(pod, "spec.nodeName").empty()) {
      bound.push_back(std::move(pod));
    } else if (IsPendingForUs(pod)) {
      pending.push_back(std::move(pod));
    }
  }
  std::sort(pending.begin(), pending.end(), SchedulesBefore);
  ForgetBackoffsExcept(pending);

  Status result = Status::Ok();
  for (const Json& pod : pending) {
    const ScheduleDecision decision = Schedule(pod, nodes->items, bound);
    Status status = decision.node.empty() ? MarkUnschedulable(pod, decision.message)
                                          : Bind(pod, decision.node, bound);
    if (status.ok()) continue;
    XB_LOG_WARN("pod scheduling not recorded", {{"controller", std::string(name())},
                                                 {"namespace", api::StringAt(pod, "metadata.namespace")},
                                                 {"pod", api::StringAt(pod, "metadata.name")},
                                                 {"err", status.message()}});
    result = status;
  }
  return result;
}

Status Scheduler::Bind(const Json& pod, const std::string& node, std::vector<Json>& bound_pods) {
  const std::string ns = api::StringAt(pod, "metadata.namespace");
  const std::string pod_name = api::StringAt(pod, "metadata.name");
  // The resourceVersion makes the patch fail with kConflict if the pod changed since the list.
  const Json patch = {{"metadata", {{"resourceVersion", api::StringAt(pod, "metadata.resourceVersion")}}},
                      {"spec", {{"nodeName", node}}}};
  auto patched = client_.Patch(client::resources::kPods, ns, pod_name, client::PatchType::kMerge, patch);
  if (!patched.ok()) return patched.status();

  XB_LOG_INFO("pod bound", {{"controller", std::string(name())}, {"namespace", ns}, {"pod", pod_name}, {"node", node}});
  bound_pods.push_back(*patched);
  XB_RETURN_IF_ERROR(SetPodScheduled(*patched, PodScheduledCondition(*patched, true, "")));
  const std::string message = fmt::format("Successfully assigned {}/{} to {}", ns, pod_name, node);
  return client::RecordEvent(client_, clock_, *patched, {"Normal", "Scheduled", message, kSchedulerName});
}

Status Scheduler::MarkUnschedulable(const Json& pod, const std::string& message) {
  const Json* current = FindPodScheduled(pod);
  const bool unchanged = current != nullptr && api::StringAt(*current, "status") == "False" &&
                         api::StringAt(*current, "reason") == "Unschedulable" &&
                         api::StringAt(*current, "message") == message;
  const std::string uid = api::StringAt(pod, "metadata.uid");
  if (unchanged && BackingOff(uid)) return Status::Ok();
  StartBackoff(uid, unchanged);
  if (!unchanged) {
    XB_LOG_INFO("pod unschedulable", {{"controller", std::string(name())},
                                      {"namespace", api::StringAt(pod, "metadata.namespace")},
                                      {"pod", api::StringAt(pod, "metadata.name")},
                                      {"message", message}});
    Status written = SetPodScheduled(pod, PodScheduledCondition(pod, false, message));
    // A pod that changed since the list is scheduled again on the next pass.
    if (IsConflict(written)) return Status::Ok();
    XB_RETURN_IF_ERROR(written);
  }
  return client::RecordEvent(client_, clock_, pod, {"Warning", "FailedScheduling", message, kSchedulerName});
}

bool Scheduler::BackingOff(const std::string& uid) const {
  auto found = backoffs_.find(uid);
  return found != backoffs_.end() && clock_.Now() < found->second.next_record;
}

void Scheduler::StartBackoff(const std::string& uid, bool repeated) {
  Backoff& backoff = backoffs_[uid];
  backoff.delay = repeated && backoff.delay.count() > 0 ? std::min(backoff.delay * 2, kMaxBackoff) : kInitialBackoff;
  backoff.next_record = clock_.Now() + backoff.delay;
}

void Scheduler::ForgetBackoffsExcept(const std::vector<Json>& pending) {
  std::unordered_set<std::string> uids;
  for (const Json& pod : pending) uids.insert(api::StringAt(pod, "metadata.uid"));
  std::erase_if(backoffs_, [&](const auto& entry) { return uids.count(entry.first) == 0; });
}

Status Scheduler::SetPodScheduled(const Json& pod, const Json& condition) {
  const Json patch = {{"metadata", {{"resourceVersion", api::StringAt(pod, "metadata.resourceVersion")}}},
                      {"status", {{"conditions", ReplacePodScheduled(pod, condition)}}}};
  auto patched = client_.PatchStatus(client::resources::kPods, api::StringAt(pod, "metadata.namespace"),
                                     api::StringAt(pod, "metadata.name"), patch);
  return patched.ok() ? Status::Ok() : patched.status();
}

Json Scheduler::PodScheduledCondition(const Json& pod, bool scheduled, const std::string& message) const {
  const std::string status = scheduled ? "True" : "False";
  Json condition = {{"type", "PodScheduled"}, {"status", status}, {"lastProbeTime", nullptr}};
  // lastTransitionTime moves only when the status does.
  const Json* current = FindPodScheduled(pod);
  const bool same_status = current != nullptr && api::StringAt(*current, "status") == status;
  const std::string since = same_status ? api::StringAt(*current, "lastTransitionTime") : "";
  condition["lastTransitionTime"] = since.empty() ? FormatRfc3339(clock_.Now()) : since;
  if (!scheduled) {
    condition["reason"] = "Unschedulable";
    condition["message"] = message;
  }
  return condition;
}

}  // namespace xblocks::node
