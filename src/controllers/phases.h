// KubeBlocks 0.9's phase rules: a component's phase from its InstanceSet and pods, and a
// cluster's phase from its components' phases. Pure functions, so the rules are tested alone.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/json.h"

namespace xblocks::controllers {

// The state the component controller observed in one pass.
struct ComponentObservation {
  bool instance_set_deleting = false;
  bool stopped = false;           // the component spec has stop: true, or replicas 0
  int current_replicas = 0;       // pods that exist
  bool up_to_date = false;        // the InstanceSet reflects the component's generation and every pod
                                  // runs the current template
  int desired_replicas = 0;
  int ready_replicas = 0;         // pods Ready (and not being deleted)
  bool failure = false;           // a pod failed, or a container keeps crashing
  std::string current_phase;      // the phase before this pass ("" at first)
};

// The component phase per KubeBlocks' ordered rules: Deleting, Stopping, Stopped, Running,
// Creating, Updating, Failed, Abnormal.
std::string ComponentPhase(const ComponentObservation& observation);

// True when `pod` is Ready: its Ready condition is True and it is not being deleted.
bool PodReady(const Json& pod);

// True when every container of `pod` is ready (its ContainersReady condition is True) and it is
// not being deleted. Unlike PodReady, it does not wait for the pod's readiness gates.
bool PodContainersReady(const Json& pod);

// True when `pod` failed: phase Failed, or a container waiting with reason CrashLoopBackOff,
// ImagePullBackOff, ErrImagePull, CreateContainerError or RunContainerError, or terminated with a
// non-zero exit code and not restarted.
bool PodFailed(const Json& pod);

// The cluster phase from its components' phases; nullopt means "leave the phase unchanged".
// Rules in order: all Stopped → Stopped; all in {Running, Stopped} → Running; all Creating →
// Creating; all in {Creating, Running, Updating} → Updating; any Stopping → Stopping; all Failed
// → Failed; any in {Abnormal, Failed} → Abnormal.
std::optional<std::string> ClusterPhase(const std::vector<std::string>& component_phases);

}  // namespace xblocks::controllers
