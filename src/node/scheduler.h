// The scheduler of embedded mode: it assigns pending pods to the Node objects that
// RegisterNodes() created, with the rules and messages of kube-scheduler's default profile, so
// `kubectl describe pod` reads as it would on Kubernetes.
//
// Schedule() is a pure function. Scheduler runs it over every pending pod on each Sync() and
// writes the outcome through the client: spec.nodeName and condition PodScheduled, or condition
// PodScheduled=False with reason Unschedulable and a FailedScheduling Event.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "client/client.h"
#include "common/json.h"
#include "common/time.h"
#include "controllers/controller.h"

namespace xblocks::node {

// The node chosen for a pod. An empty `node` means the pod fits nowhere, and `message` explains
// why in kube-scheduler's words, e.g. "0/3 nodes are available: 3 node(s) didn't match pod
// anti-affinity rules." `message` is empty when `node` is set.
struct ScheduleDecision {
  std::string node;
  std::string message;
};

// Chooses a node for `pod` among `nodes`, given `bound_pods`: the pods with spec.nodeName set,
// in any namespace. Pods on unknown nodes and pods in phase Succeeded or Failed are ignored, but
// pods being deleted still count.
//
// A node is feasible when it is not spec.unschedulable (unless the pod tolerates
// node.kubernetes.io/unschedulable), the pod tolerates its NoSchedule and NoExecute taints, it
// matches spec.nodeSelector and required node affinity, it has room for the pod's requests of
// cpu, memory, extended resources and pods, DoNotSchedule topology spread constraints keep
// their maxSkew, and no required pod anti-affinity term of the pod or of a bound pod is
// violated. Feasible nodes are ranked by kube-scheduler's default scores (PreferNoSchedule
// taints, preferred node affinity, least requested resources, ScheduleAnyway spreading,
// preferred pod affinity and anti-affinity, balanced allocation); ties go to the first node
// name in byte order.
//
// NOTE: required pod affinity (podAffinity.requiredDuringScheduling...) is not enforced, and
// a namespaceSelector sees only a namespace's kubernetes.io/metadata.name label.
//
// Any JSON shape is accepted; malformed fields count as absent. Thread-safe (pure).
ScheduleDecision Schedule(const Json& pod, const std::vector<Json>& nodes, const std::vector<Json>& bound_pods);

// A level-triggered pass that binds pending pods. Each Sync() lists nodes and pods and, for
// every pod with no spec.nodeName, schedulerName "default-scheduler" or empty, not being
// deleted and not finished, in order of spec.priority (highest first) then creation time:
//   - bound: sets spec.nodeName, condition PodScheduled=True, a Normal "Scheduled" Event, and
//     logs "pod bound";
//   - unschedulable: sets condition PodScheduled=False, reason Unschedulable, with the
//     message, and records a Warning "FailedScheduling" Event. When a later pass fails with the
//     same message, the Event's count grows only once the pod's backoff has passed: 1 s after
//     the first failure, doubling up to 10 s, as kube-scheduler's default pod backoff spaces
//     its attempts. Every store write triggers a pass, so a pass that wrote on each unchanged
//     failure would trigger the next one at once, without end.
// Pods bound earlier in the same pass count for the ones after them. Unschedulable pods are
// tried again on every pass, backoff or not, so capacity freed since the last pass is used.
//
// Sync() tries every pod, then returns the last write error (kConflict when a pod changed
// meanwhile, or any client error), and the next pass retries. Not thread-safe, so run one
// Sync() at a time. `client` and `clock` must outlive the scheduler.
class Scheduler : public controllers::Controller {
 public:
  Scheduler(client::Client& client, const Clock& clock) : client_(client), clock_(clock) {}

  std::string_view name() const override { return "scheduler"; }
  Status Sync() override;

 private:
  // Binds `pod` to `node` and appends the bound pod to `bound_pods`.
  Status Bind(const Json& pod, const std::string& node, std::vector<Json>& bound_pods);
  Status MarkUnschedulable(const Json& pod, const std::string& message);
  Status SetPodScheduled(const Json& pod, const Json& condition);
  Json PodScheduledCondition(const Json& pod, bool scheduled, const std::string& message) const;
  // Whether the pod with this uid failed recently and its backoff has not passed yet.
  bool BackingOff(const std::string& uid) const;
  // Starts the pod's next backoff: the initial delay after a new failure, else twice the last.
  void StartBackoff(const std::string& uid, bool repeated);
  // Drops the backoffs of pods that are no longer pending: bound, deleted or finished.
  void ForgetBackoffsExcept(const std::vector<Json>& pending);

  struct Backoff {
    TimePoint next_record;
    std::chrono::seconds delay{0};
  };

  client::Client& client_;
  const Clock& clock_;
  // The backoff of each pending pod that failed to schedule, by pod uid.
  std::unordered_map<std::string, Backoff> backoffs_;
};

}  // namespace xblocks::node
