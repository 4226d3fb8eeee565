#include "controllers/ops_request_controller.h"

#include <algorithm>
#include <chrono>
#include <functional>

#include <fmt/format.h>

#include "api/json_fields.h"
#include "apiserver/object_meta.h"
#include "client/events.h"
#include "controllers/kubeblocks_names.h"
#include "controllers/model_controller.h"
#include "controllers/ops_request_types.h"

namespace xblocks::controllers {
namespace {

namespace res = client::resources;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds kPollActive{500};
constexpr milliseconds kPollQueued{1000};
constexpr size_t kMaxQueue = 20;
constexpr char kComponentName[] = "ops-request-controller";
// On an OpsRequest: when it reached the head of its cluster's queue after waiting there.
constexpr char kQueueEndTimeAnnotation[] = "kubeblocks.io/queue-end-time";

int64_t IntAt(const Json& object, const char* key, int64_t fallback = 0) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

bool Terminal(const std::string& phase) {
  return phase == "Succeed" || phase == "Failed" || phase == "Cancelled" || phase == "Aborted";
}

// The queue of the cluster's kubeblocks.io/ops-request annotation; an unreadable value is an
// empty queue.
Json ReadQueue(const Json& cluster) {
  const std::string text = api::StringMemberOf(cluster["metadata"].value("annotations", Json::object()), kb::kOpsRequestAnnotation);
  Json queue = text.empty() ? Json::array() : Json::parse(text, nullptr, false);
  return queue.is_array() ? queue : Json::array();
}

// Writes `queue` into the cluster's annotation; false when it is already there.
bool SetQueue(Json& cluster, const Json& queue) {
  Json& annotations = cluster["metadata"]["annotations"];
  if (!annotations.is_object()) annotations = Json::object();
  if (queue.empty()) {
    if (!annotations.contains(kb::kOpsRequestAnnotation)) return false;
    annotations.erase(kb::kOpsRequestAnnotation);
    return true;
  }
  const std::string text = queue.dump();
  if (api::StringMemberOf(annotations, kb::kOpsRequestAnnotation) == text) return false;
  annotations[kb::kOpsRequestAnnotation] = text;
  return true;
}

const char* StartedCondition(const std::string& type) {
  if (type == "Restart") return "Restarting";
  if (type == "Stop") return "Stopping";
  if (type == "Start") return "Starting";
  return type == "VerticalScaling" ? "VerticalScaling" : "HorizontalScaling";
}

const char* StartedReason(const std::string& type) {
  if (type == "Restart") return "RestartStarted";
  if (type == "Stop") return "StopStarted";
  if (type == "Start") return "StartCluster";
  return type == "VerticalScaling" ? "VerticalScalingStarted" : "HorizontalScalingStarted";
}

std::string StartedMessage(const std::string& type, const std::string& cluster) {
  if (type == "Restart") return fmt::format("Start to restart database in Cluster: {}", cluster);
  if (type == "Stop") return fmt::format("Start to stop the Cluster: {}", cluster);
  if (type == "Start") return fmt::format("Start the Cluster: {}", cluster);
  if (type == "VerticalScaling") return fmt::format("Start to vertical scale resources in Cluster: {}", cluster);
  return fmt::format("Start to horizontal scale replicas in Cluster: {}", cluster);
}

// Whether a newer operation of `newer_type` overrides a running `older_type` on shared
// components, so the older one is aborted.
bool Overrides(const std::string& newer_type, const std::string& older_type) {
  if (newer_type == "Stop") {
    return older_type == "HorizontalScaling" || older_type == "Start" || older_type == "Restart" ||
           older_type == "VerticalScaling";
  }
  if (newer_type == "Start") return older_type == "Stop";
  if (newer_type == "HorizontalScaling") return older_type == "Start" || older_type == "Stop";
  return newer_type == older_type;  // Restart over Restart, VerticalScaling over VerticalScaling
}

// One reconcile of one OpsRequest.
class OpsRun {
 public:
  OpsRun(client::Client& client, const Clock& clock, const Informer& pods, const Informer* models, Json ops,
         const ReconcileContext& context)
      : client_(client), clock_(clock), pods_(pods), models_(models), ops_(std::move(ops)), context_(context) {
    ns_ = apiserver::Namespace(ops_);
    name_ = apiserver::Name(ops_);
    const Json& spec = ops_.value("spec", Json::object());
    type_ = api::StringMemberOf(spec, "type");
    cluster_name_ = api::StringMemberOf(spec, "clusterName");
    if (cluster_name_.empty()) cluster_name_ = api::StringMemberOf(spec, "clusterRef");
    status_ = ops_.value("status", Json::object());
    if (!status_.is_object()) status_ = Json::object();
    phase_ = api::StringMemberOf(status_, "phase");
  }

  ReconcileResult Run();

 private:
  ReconcileResult Finalize();
  Status EnsureMetadata(bool& changed);
  ReconcileResult HandleTerminal();
  ReconcileResult Pending();
  ReconcileResult Creating();
  ReconcileResult Running();
  Status StampComponents();
  Status AbortOverridden();
  Status CancelQueued(const std::string& reason);
  Status UpdateCluster(const std::function<bool(Json&)>& mutate);

  void SetCondition(const std::string& type, const std::string& status, const std::string& reason,
                    const std::string& message);
  // Moves to `phase` with the condition, writes the status and records the Event.
  ReconcileResult Transition(const std::string& phase, const std::string& condition, const std::string& status,
                             const std::string& reason, const std::string& message, milliseconds requeue);
  ReconcileResult Fail(const std::string& condition, const std::string& reason, const std::string& message);
  Status WriteStatus();
  void Event(const std::string& type, const std::string& reason, const std::string& message);

  client::Client& client_;
  const Clock& clock_;
  const Informer& pods_;
  const Informer* models_;
  Json ops_;
  const ReconcileContext& context_;
  std::string ns_, name_, type_, cluster_name_, phase_;
  Json status_;
  Json cluster_;
};

void OpsRun::SetCondition(const std::string& type, const std::string& status, const std::string& reason,
                          const std::string& message) {
  Json& conditions = status_["conditions"];
  if (!conditions.is_array()) conditions = Json::array();
  const std::string now = FormatRfc3339(clock_.Now());
  for (auto& condition : conditions) {
    if (api::StringMemberOf(condition, "type") != type) continue;
    if (api::StringMemberOf(condition, "status") != status) condition["lastTransitionTime"] = now;
    condition["status"] = status;
    condition["reason"] = reason;
    condition["message"] = message;
    return;
  }
  conditions.push_back({{"type", type},
                        {"status", status},
                        {"reason", reason},
                        {"message", message},
                        {"lastTransitionTime", now},
                        {"observedGeneration", ops_["metadata"].value("generation", 1)}});
}

Status OpsRun::WriteStatus() {
  if (!status_.contains("progress")) status_["progress"] = "-/-";
  auto written = client_.PatchStatus(res::kOpsRequests, ns_, name_, {{"status", status_}});
  if (!written.ok()) return written.status();
  ops_ = std::move(*written);
  return Status::Ok();
}

void OpsRun::Event(const std::string& type, const std::string& reason, const std::string& message) {
  Status recorded = client::RecordEvent(client_, clock_, ops_, {type, reason, message, kComponentName});
  if (!recorded.ok()) context_.Warn("event not recorded", {{"reason", reason}, {"err", recorded.message()}});
}

ReconcileResult OpsRun::Transition(const std::string& phase, const std::string& condition, const std::string& status,
                                   const std::string& reason, const std::string& message, milliseconds requeue) {
  const std::string previous = phase_;
  phase_ = phase;
  status_["phase"] = phase;
  if (!condition.empty()) SetCondition(condition, status, reason, message);
  if (Terminal(phase) && !status_.contains("completionTimestamp")) {
    status_["completionTimestamp"] = FormatRfc3339(clock_.Now());
  }
  if (Status written = WriteStatus(); !written.ok()) return ReconcileResult::Retry(written);
  if (!condition.empty()) Event(phase == "Failed" ? "Warning" : "Normal", reason, message);
  context_.Info("opsrequest phase changed", {{"ops", name_}, {"type", type_}, {"cluster", cluster_name_},
                                            {"from", previous}, {"phase", phase},
                                            {"progress", api::StringMemberOf(status_, "progress")}});
  if (Terminal(phase)) return HandleTerminal();
  return requeue.count() > 0 ? ReconcileResult::RequeueAfter(requeue) : ReconcileResult::Done();
}

ReconcileResult OpsRun::Fail(const std::string& condition, const std::string& reason, const std::string& message) {
  return Transition("Failed", condition, "False", reason, message, milliseconds(0));
}

Status OpsRun::UpdateCluster(const std::function<bool(Json&)>& mutate) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto cluster = client_.Get(res::kClusters, ns_, cluster_name_);
    if (!cluster.ok()) return cluster.status();
    Json updated = *cluster;
    if (!mutate(updated)) {
      cluster_ = std::move(*cluster);
      return Status::Ok();
    }
    auto written = client_.Update(res::kClusters, updated);
    if (written.ok()) {
      cluster_ = std::move(*written);
      return Status::Ok();
    }
    if (written.status().code() != StatusCode::kConflict) return written.status();
  }
  return Conflict(fmt::format("cluster {} kept changing while the operation updated it", cluster_name_));
}

Status OpsRun::EnsureMetadata(bool& changed) {
  Json updated = ops_;
  Json& meta = updated["metadata"];
  if (!apiserver::HasFinalizer(updated, kb::kOpsRequestFinalizer)) apiserver::AddFinalizer(updated, kb::kOpsRequestFinalizer);
  if (!meta.contains("labels") || !meta["labels"].is_object()) meta["labels"] = Json::object();
  meta["labels"][kb::kInstanceLabel] = cluster_name_;
  meta["labels"][kb::kOpsTypeLabel] = type_;
  if (api::StringMemberOf(updated["spec"], "clusterName").empty() && !cluster_name_.empty()) {
    updated["spec"]["clusterName"] = cluster_name_;
  }
  if (!cluster_.is_null()) {
    Json owners = meta.value("ownerReferences", Json::array());
    const bool owned = std::any_of(owners.begin(), owners.end(),
                                   [&](const Json& owner) { return api::StringMemberOf(owner, "uid") == apiserver::Uid(cluster_); });
    if (!owned) {
      owners.push_back({{"apiVersion", "apps.kubeblocks.io/v1alpha1"},
                        {"kind", "Cluster"},
                        {"name", cluster_name_},
                        {"uid", apiserver::Uid(cluster_)}});
      meta["ownerReferences"] = owners;
    }
  }
  if (updated == ops_) return Status::Ok();
  auto written = client_.Update(res::kOpsRequests, updated);
  if (!written.ok()) return written.status();
  ops_ = std::move(*written);
  changed = true;
  return Status::Ok();
}

ReconcileResult OpsRun::Run() {
  if (auto cluster = client_.Get(res::kClusters, ns_, cluster_name_); cluster.ok()) cluster_ = std::move(*cluster);
  const bool cluster_alive = !cluster_.is_null() && !apiserver::IsDeleting(cluster_);

  if (apiserver::IsDeleting(ops_)) {
    // A running operation finishes first, unless its cluster is going away.
    const bool active = phase_ == "Creating" || phase_ == "Running" || phase_ == "Cancelling";
    if (!active || !cluster_alive) return Finalize();
  }
  bool changed = false;
  if (Status ensured = EnsureMetadata(changed); !ensured.ok()) return ReconcileResult::Retry(ensured);

  if (Terminal(phase_)) return HandleTerminal();
  if (phase_.empty()) {
    return Transition("Pending", "WaitForProgressing", "True", "WaitForProgressing",
                      fmt::format("wait for the controller to process the OpsRequest: {} in Cluster: {}", name_,
                                  cluster_name_),
                      milliseconds(1));
  }
  if (cluster_.is_null()) {
    return Fail("Validated", "ClusterNotFound",
                fmt::format("spec.clusterName: Cluster \"{}\" is not found in namespace {}; create the cluster "
                            "first or correct the name",
                            cluster_name_, ns_));
  }
  if (!ops::Supported(type_)) {
    return Fail("Validated", "OpsTypeNotSupported", fmt::format("spec.type {} is not supported by xblocks", type_));
  }
  const bool cancel = ops_["spec"].value("cancel", false);
  if (cancel && phase_ == "Pending") {
    return Transition("Cancelled", "Cancelled", "True", "CancelSucceed",
                      fmt::format("Cancel OpsRequest \"{}\" successfully", name_), milliseconds(0));
  }
  if (cancel && ops::Cancellable(type_) && (phase_ == "Creating" || phase_ == "Running")) {
    if (Status restored = UpdateCluster([&](Json& cluster) {
          Json rolled = ops::ApplyToCluster(ops_, cluster, /*rollback=*/true);
          if (rolled == cluster) return false;
          cluster = std::move(rolled);
          return true;
        });
        !restored.ok()) {
      return ReconcileResult::Retry(restored);
    }
    status_["cancelTimestamp"] = FormatRfc3339(clock_.Now());
    return Transition("Cancelling", "Cancelled", "False", "Canceling",
                      fmt::format("Start to cancel OpsRequest \"{}\" and restore the last configuration", name_),
                      kPollActive);
  }
  if (phase_ == "Pending") return Pending();
  if (phase_ == "Creating") return Creating();
  return Running();
}

ReconcileResult OpsRun::Finalize() {
  if (!cluster_.is_null()) {
    Status dequeued = UpdateCluster([&](Json& cluster) {
      Json queue = ReadQueue(cluster);
      Json kept = Json::array();
      for (const auto& entry : queue) {
        if (api::StringMemberOf(entry, "name") != name_) kept.push_back(entry);
      }
      return SetQueue(cluster, kept);
    });
    if (!dequeued.ok() && dequeued.code() != StatusCode::kNotFound) return ReconcileResult::Retry(dequeued);
  }
  if (!apiserver::HasFinalizer(ops_, kb::kOpsRequestFinalizer)) return ReconcileResult::Done();
  Json updated = ops_;
  apiserver::RemoveFinalizer(updated, kb::kOpsRequestFinalizer);
  if (!updated["metadata"].contains("finalizers")) updated["metadata"]["finalizers"] = Json::array();
  auto written = client_.Update(res::kOpsRequests, updated);
  if (!written.ok() && written.status().code() != StatusCode::kNotFound) return ReconcileResult::Retry(written.status());
  context_.Info("opsrequest finalized", {{"ops", name_}, {"cluster", cluster_name_}});
  return ReconcileResult::Done();
}

ReconcileResult OpsRun::HandleTerminal() {
  // Leave the queue, and when the head failed, cancel what waited behind it.
  if (!cluster_.is_null()) {
    bool was_queued = false;
    Status dequeued = UpdateCluster([&](Json& cluster) {
      Json kept = Json::array();
      for (const auto& entry : ReadQueue(cluster)) {
        if (api::StringMemberOf(entry, "name") == name_) {
          was_queued = true;
        } else {
          kept.push_back(entry);
        }
      }
      return SetQueue(cluster, kept);
    });
    if (!dequeued.ok()) return ReconcileResult::Retry(dequeued);
    if (was_queued && phase_ == "Failed") {
      if (Status cancelled = CancelQueued(name_); !cancelled.ok()) return ReconcileResult::Retry(cancelled);
    }
  }

  const Json& spec = ops_["spec"];
  const int64_t ttl = phase_ == "Succeed" ? IntAt(spec, "ttlSecondsAfterSucceed")
                                          : IntAt(spec, "ttlSecondsAfterUnsuccessfulCompletion");
  if (ttl <= 0) return ReconcileResult::Done();

  auto completed = ParseRfc3339(api::StringMemberOf(status_, "completionTimestamp"));
  if (!completed) return ReconcileResult::Done();
  const auto due = *completed + seconds(ttl);
  if (clock_.Now() < due) {
    return ReconcileResult::RequeueAfter(std::chrono::duration_cast<milliseconds>(due - clock_.Now()) + milliseconds(10));
  }
  Status deleted = client_.Delete(res::kOpsRequests, ns_, name_, {});
  if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) return ReconcileResult::Retry(deleted);
  context_.Info("opsrequest deleted", {{"ops", name_}, {"reason", "ttl expired"}, {"ttl_seconds", std::to_string(ttl)}});
  return ReconcileResult::Done();
}

Status OpsRun::CancelQueued(const std::string& failed_head) {
  auto listed = client_.List(res::kOpsRequests, ns_, {.label_selector = std::string(kb::kInstanceLabel) + "=" + cluster_name_});
  if (!listed.ok()) return listed.status();
  for (const Json& other : listed->items) {
    if (apiserver::Name(other) == failed_head) continue;
    const std::string phase = api::StringMemberOf(other.value("status", Json::object()), "phase");
    if (phase != "Pending" && !phase.empty()) continue;
    if (other["spec"].value("force", false) && !other["spec"].value("enqueueOnForce", false)) continue;
    OpsRun queued(client_, clock_, pods_, models_, other, context_);
    queued.cluster_ = cluster_;
    ReconcileResult result = queued.Transition(
        "Cancelled", "Cancelled", "True", "CancelByController",
        fmt::format("Cancelled by controller due to the failure of previous OpsRequest \"{}\"", failed_head),
        milliseconds(0));
    if (result.kind() == ReconcileResult::Kind::kRetry) return result.error();
  }
  return Status::Ok();
}

ReconcileResult OpsRun::Pending() {
  const Json& spec = ops_["spec"];
  const bool force = spec.value("force", false) && type_ != "Start";
  const bool queued_force = force && spec.value("enqueueOnForce", false);

  // Join the queue; wait while an earlier operation of the cluster is still there.
  bool in_queue = false;
  bool queue_full = false;
  bool left_queue = false;
  Status enqueued = UpdateCluster([&](Json& cluster) {
    Json queue = ReadQueue(cluster);
    size_t index = queue.size();
    for (size_t i = 0; i < queue.size(); ++i) {
      if (api::StringMemberOf(queue[i], "name") == name_) index = i;
    }
    if (index == queue.size()) {
      if (force && !queued_force) return false;  // forced: runs beside the queue
      if (queue.size() >= kMaxQueue) {
        queue_full = true;
        return false;
      }
      queue.push_back({{"name", name_}, {"type", type_}, {"inQueue", !queue.empty()}});
    } else if (queue[index].value("inQueue", false) && index == 0) {
      queue[index]["inQueue"] = false;  // the operations ahead finished
      left_queue = true;
    }
    for (const auto& entry : queue) {
      if (api::StringMemberOf(entry, "name") == name_) in_queue = entry.value("inQueue", false);
    }
    return SetQueue(cluster, queue);
  });
  if (!enqueued.ok()) return ReconcileResult::Retry(enqueued);
  if (left_queue) {
    // preConditionDeadlineSeconds counts from here for an operation that waited in the queue.
    const Json stamp = {{"metadata", {{"annotations", {{kQueueEndTimeAnnotation, FormatRfc3339(clock_.Now())}}}}}};
    auto stamped = client_.Patch(res::kOpsRequests, ns_, name_, client::PatchType::kMerge, stamp);
    if (!stamped.ok()) return ReconcileResult::Retry(stamped.status());
    // Only the annotation changed; `spec` above still refers to ops_, so keep the object.
    ops_["metadata"]["annotations"] = (*stamped)["metadata"]["annotations"];
    ops_["metadata"]["resourceVersion"] = (*stamped)["metadata"]["resourceVersion"];
  }
  if (queue_full) {
    return Fail("Validated", "ValidateFailed",
                fmt::format("The opsRequest queue is limited to a size of {}; wait for the queued operations of "
                            "cluster {} to finish",
                            kMaxQueue, cluster_name_));
  }
  if (in_queue) return ReconcileResult::RequeueAfter(kPollQueued);

  if (std::string invalid = ops::Validate(ops_, cluster_); !invalid.empty()) {
    return Fail("Validated", "ValidateFailed", invalid);
  }
  const std::string cluster_phase = api::StringMemberOf(cluster_.value("status", Json::object()), "phase");
  if (!force && !ops::AllowedInPhase(type_, cluster_phase)) {
    const int64_t deadline = IntAt(ops_["spec"], "preConditionDeadlineSeconds");
    // The deadline counts from when the operation left the queue, or from its creation.
    std::string since = api::StringMemberOf(api::ObjectAt(ops_, "metadata.annotations"), kQueueEndTimeAnnotation);
    if (since.empty()) since = api::StringMemberOf(ops_["metadata"], "creationTimestamp");
    auto started_waiting = ParseRfc3339(since);
    if (deadline > 0 && started_waiting && clock_.Now() < *started_waiting + seconds(deadline)) {
      return ReconcileResult::RequeueAfter(kPollQueued);
    }
    return Fail("Validated", "ValidateFailed",
                fmt::format("OpsRequest.spec.type={} is forbidden when Cluster.status.phase={}", type_,
                            cluster_phase.empty() ? "<none>" : cluster_phase));
  }

  status_["lastConfiguration"] = ops::LastConfiguration(ops_, cluster_);
  status_["startTimestamp"] = FormatRfc3339(clock_.Now());
  SetCondition("Validated", "True", "ValidateOpsRequestPassed", fmt::format("OpsRequest: {} is validated", name_));
  Event("Normal", "ValidateOpsRequestPassed", fmt::format("OpsRequest: {} is validated", name_));
  return Transition("Creating", StartedCondition(type_), "True", StartedReason(type_),
                    StartedMessage(type_, cluster_name_), milliseconds(1));
}

Status OpsRun::StampComponents() {
  const std::string stamp = ops::RestartStamp(ops_);
  for (const std::string& component : ops::TargetComponents(ops_, cluster_)) {
    const std::string name = kb::ComponentName(cluster_name_, component);
    for (int attempt = 0;; ++attempt) {
      auto live = client_.Get(res::kComponents, ns_, name);
      if (!live.ok()) return live.status();
      if (api::StringMemberOf((*live)["metadata"].value("annotations", Json::object()), kb::kRestartAnnotation) == stamp) break;
      Json updated = *live;
      updated["metadata"]["annotations"][kb::kRestartAnnotation] = stamp;
      auto written = client_.Update(res::kComponents, updated);
      if (written.ok()) break;
      if (written.status().code() != StatusCode::kConflict || attempt >= 4) return written.status();
    }
  }
  return Status::Ok();
}

Status OpsRun::AbortOverridden() {
  auto listed = client_.List(res::kOpsRequests, ns_, {.label_selector = std::string(kb::kInstanceLabel) + "=" + cluster_name_});
  if (!listed.ok()) return listed.status();
  const auto mine = ops::TargetComponents(ops_, cluster_);
  const auto created = api::StringMemberOf(ops_["metadata"], "creationTimestamp");
  for (const Json& other : listed->items) {
    if (apiserver::Name(other) == name_) continue;
    const std::string phase = api::StringMemberOf(other.value("status", Json::object()), "phase");
    if (phase != "Running" && phase != "Creating") continue;
    if (api::StringMemberOf(other["metadata"], "creationTimestamp") > created) continue;
    if (!Overrides(type_, api::StringMemberOf(other["spec"], "type"))) continue;
    const auto theirs = ops::TargetComponents(other, cluster_);
    const bool shared = std::any_of(theirs.begin(), theirs.end(), [&](const std::string& component) {
      return std::find(mine.begin(), mine.end(), component) != mine.end();
    });
    if (!shared) continue;
    OpsRun older(client_, clock_, pods_, models_, other, context_);
    older.cluster_ = cluster_;
    ReconcileResult result =
        older.Transition("Aborted", "Aborted", "True", "Aborted",
                         fmt::format("Aborted because the later OpsRequest \"{}\" overrides it", name_), milliseconds(0));
    if (result.kind() == ReconcileResult::Kind::kRetry) return result.error();
  }
  return Status::Ok();
}

ReconcileResult OpsRun::Creating() {
  if (Status aborted = AbortOverridden(); !aborted.ok()) return ReconcileResult::Retry(aborted);
  if (type_ == "Restart") {
    if (Status stamped = StampComponents(); !stamped.ok()) return ReconcileResult::Retry(stamped);
  } else {
    Status applied = UpdateCluster([&](Json& cluster) {
      Json changed = ops::ApplyToCluster(ops_, cluster, /*rollback=*/false);
      if (changed == cluster) return false;
      cluster = std::move(changed);
      return true;
    });
    if (!applied.ok()) return Fail("Failed", "OpsRequestFailed", applied.message());
  }
  status_["clusterGeneration"] = cluster_["metadata"].value("generation", 1);
  return Transition("Running", "", "", "", "", kPollActive);
}

ReconcileResult OpsRun::Running() {
  const int64_t timeout = IntAt(ops_["spec"], "timeoutSeconds");
  auto started = ParseRfc3339(api::StringMemberOf(status_, "startTimestamp"));
  if (phase_ == "Running" && timeout > 0 && started && clock_.Now() >= *started + seconds(timeout)) {
    return Transition("Aborted", "Aborted", "True", "Aborted",
                      fmt::format("Aborted due to exceeding the specified timeout period ({}s of timeoutSeconds)",
                                  timeout),
                      milliseconds(0));
  }
  auto pods = pods_.List(ns_, std::string(kb::kInstanceLabel) + "=" + cluster_name_);
  if (!pods.ok()) return ReconcileResult::Retry(pods.status());
  const ops::Progress progress = ops::ComputeProgress(ops_, cluster_, *pods);

  // status.components[<name>].progressDetails, and one Event per pod whose progress changed.
  const Json previous = status_.value("components", Json::object());
  Json components = Json::object();
  for (const std::string& component : ops::TargetComponents(ops_, cluster_)) {
    Json entry = {{"progressDetails", Json::array()}};
    const std::string phase =
        api::StringMemberOf(api::ObjectAt(cluster_, "status.components").value(component, Json::object()), "phase");
    if (!phase.empty()) entry["phase"] = phase;
    components[component] = entry;
  }
  const std::string now = FormatRfc3339(clock_.Now());
  for (const auto& pod : progress.pods) {
    Json detail = {{"group", pod.component}, {"objectKey", "Pod/" + pod.pod}, {"status", pod.status},
                   {"message", pod.message}};
    std::string before;
    const Json& old_details = api::MemberOf(api::MemberOf(previous, pod.component), "progressDetails");
    for (const auto& old : old_details.is_array() ? old_details : Json::array()) {
      if (api::StringMemberOf(old, "objectKey") != "Pod/" + pod.pod) continue;
      before = api::StringMemberOf(old, "status");
      if (old.contains("startTime")) detail["startTime"] = old["startTime"];
      if (old.contains("endTime")) detail["endTime"] = old["endTime"];
    }
    if (pod.status != "Pending" && !detail.contains("startTime")) detail["startTime"] = now;
    if ((pod.status == "Succeed" || pod.status == "Failed") && !detail.contains("endTime")) detail["endTime"] = now;
    if (before != pod.status && pod.status != "Pending") {
      Event(pod.status == "Failed" ? "Warning" : "Normal", pod.status, pod.message);
      context_.Info("opsrequest pod progress", {{"ops", name_}, {"pod", pod.pod}, {"status", pod.status}});
    }
    if (components.contains(pod.component)) components[pod.component]["progressDetails"].push_back(std::move(detail));
  }
  status_["components"] = components;
  status_["progress"] = fmt::format("{}/{}", progress.completed, progress.expected);

  const bool done = progress.completed >= progress.expected && progress.settled;
  if (!done) {
    if (Status written = WriteStatus(); !written.ok()) return ReconcileResult::Retry(written);
    return ReconcileResult::RequeueAfter(kPollActive);
  }
  if (phase_ == "Cancelling") {
    return Transition("Cancelled", "Cancelled", "True", "CancelSucceed",
                      fmt::format("Cancel OpsRequest \"{}\" successfully", name_), milliseconds(0));
  }
  if (progress.any_failed) {
    return Fail("Failed", "OpsRequestFailed",
                fmt::format("Failed to process OpsRequest: {} in cluster: {}, more detailed informations in "
                            "status.components",
                            name_, cluster_name_));
  }
  // Operations that bring up new pods succeed only once the cluster's declared models are served
  // by them again, because Xinference loses its models on every restart.
  if (models_ != nullptr && type_ != "Stop") {
    std::vector<Json> current;
    for (const Json& pod : *pods) {
      if (!apiserver::IsDeleting(pod)) current.push_back(pod);
    }
    if (auto wait = WaitForModels(ModelsOfCluster(*models_, ns_, cluster_name_), current)) {
      if (wait->failed) return Fail("Failed", "ModelsFailed", wait->message);
      // One condition, and one Event and log line each time the list of waiting models changes.
      bool changed = true;
      for (const Json& condition : api::ArrayAt(status_, "conditions")) {
        if (api::StringMemberOf(condition, "type") == "ModelsReady") {
          changed = api::StringMemberOf(condition, "message") != wait->message;
        }
      }
      SetCondition("ModelsReady", "False", "WaitForModels", wait->message);
      if (changed) {
        context_.Info("opsrequest waiting for models", {{"ops", name_}, {"err", wait->message}});
        Event("Normal", "WaitForModels", wait->message);
      }
      if (Status written = WriteStatus(); !written.ok()) return ReconcileResult::Retry(written);
      return ReconcileResult::RequeueAfter(kPollActive);
    }
  }
  if (models_ != nullptr) {
    for (const Json& condition : api::ArrayAt(status_, "conditions")) {
      if (api::StringMemberOf(condition, "type") == "ModelsReady") {
        SetCondition("ModelsReady", "True", "ModelsReady", "every declared model is served by the new pods");
      }
    }
  }
  return Transition("Succeed", "Succeed", "True", "OpsRequestProcessedSuccessfully",
                    fmt::format("Successfully processed the OpsRequest: {} in Cluster: {}", name_, cluster_name_),
                    milliseconds(0));
}

}  // namespace

ReconcileResult OpsRequestReconciler::Reconcile(const Request& request, const ReconcileContext& context) {
  auto ops = client_.Get(client::resources::kOpsRequests, request.ns, request.name);
  if (!ops.ok()) {
    return ops.status().code() == StatusCode::kNotFound ? ReconcileResult::Done() : ReconcileResult::Retry(ops.status());
  }
  OpsRun run(client_, clock_, pods_, models_, std::move(*ops), context);
  return run.Run();
}

}  // namespace xblocks::controllers
