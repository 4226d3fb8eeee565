// The per-type rules of OpsRequests (apps.kubeblocks.io/v1alpha1) for Stop, Start, Restart,
// VerticalScaling and HorizontalScaling, as KubeBlocks 0.9 applies them: which cluster phases
// allow a type, what the controller validates, how the type changes the Cluster, and how its
// progress is counted from the pods. Pure functions over objects, so they are tested without
// an API server.
#pragma once

#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace xblocks::controllers::ops {

// Whether the controller handles `type`.
bool Supported(const std::string& type);
// Whether `type` may start while the cluster is in `cluster_phase`.
bool AllowedInPhase(const std::string& type, const std::string& cluster_phase);
// Whether `type` can be cancelled (VerticalScaling, HorizontalScaling).
bool Cancellable(const std::string& type);

// The names of the components the operation targets: the listed ones, or every component of
// the cluster for Stop and Start with an empty list.
std::vector<std::string> TargetComponents(const Json& ops, const Json& cluster);

// Checks the operation against the cluster. Returns "" when it is valid, else the message for
// condition Validated=False, naming the field and the fix.
std::string Validate(const Json& ops, const Json& cluster);

// status.lastConfiguration: the replicas and resources of each targeted component before the
// operation.
Json LastConfiguration(const Json& ops, const Json& cluster);

// The value the Restart operation stamps on its components; unique per operation, so a second
// Restart always rolls the pods again.
std::string RestartStamp(const Json& ops);

// Applies the operation to a copy of the cluster and returns it; Restart changes nothing here
// (it stamps the Components). With `rollback`, restores lastConfiguration instead (cancel).
Json ApplyToCluster(const Json& ops, Json cluster, bool rollback);

// One pod's progress entry (status.progressDetails[]).
struct PodProgress {
  std::string component;
  std::string pod;
  std::string status;  // "Pending", "Processing", "Succeed" or "Failed"
  std::string message;
};

struct Progress {
  int expected = 0;
  int completed = 0;      // pods done, the failed ones included
  bool any_failed = false;
  bool settled = false;   // every targeted component reached a phase the type waits for
  std::vector<PodProgress> pods;
};

// Counts the progress of a Running (or Cancelling) operation from the cluster and the pods of
// its components.
Progress ComputeProgress(const Json& ops, const Json& cluster, const std::vector<Json>& pods);

// Whether two quantity strings denote the same amount ("1Gi" and "1073741824").
bool SameQuantity(const std::string& a, const std::string& b);
// Whether a container's resources equal `wanted` (requests default to limits, as the API does).
bool SameResources(const Json& actual, const Json& wanted);

}  // namespace xblocks::controllers::ops
