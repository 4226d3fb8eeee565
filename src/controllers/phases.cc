#include "controllers/phases.h"

#include <algorithm>
#include <set>

namespace xblocks::controllers {
namespace {

bool AllIn(const std::vector<std::string>& phases, const std::set<std::string>& allowed) {
  return std::all_of(phases.begin(), phases.end(), [&](const std::string& p) { return allowed.count(p) > 0; });
}

bool AnyIn(const std::vector<std::string>& phases, const std::set<std::string>& wanted) {
  return std::any_of(phases.begin(), phases.end(), [&](const std::string& p) { return wanted.count(p) > 0; });
}

bool ContainerFailing(const Json& status) {
  static const std::set<std::string> kWaitingFailures = {"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull",
                                                         "CreateContainerError", "RunContainerError"};
  if (!status.is_object() || !status.contains("state") || !status["state"].is_object()) return false;
  const Json& state = status["state"];
  if (state.contains("waiting") && state["waiting"].is_object()) {
    return kWaitingFailures.count(state["waiting"].value("reason", "")) > 0;
  }
  if (state.contains("terminated") && state["terminated"].is_object()) {
    return state["terminated"].value("exitCode", 0) != 0;
  }
  return false;
}

}  // namespace

std::string ComponentPhase(const ComponentObservation& o) {
  if (o.instance_set_deleting) return "Deleting";
  if (o.stopped && o.current_replicas > 0) return "Stopping";
  if (o.stopped) return "Stopped";
  if (o.up_to_date && o.ready_replicas == o.desired_replicas && o.current_replicas == o.desired_replicas) {
    return "Running";
  }
  if (!o.failure && (o.current_phase.empty() || o.current_phase == "Creating")) return "Creating";
  if (!o.failure) return "Updating";
  const bool available = o.up_to_date && o.ready_replicas > 0;
  return available ? "Abnormal" : "Failed";
}

namespace {

bool PodConditionTrue(const Json& pod, const std::string& type) {
  if (!pod.is_object() || !pod.contains("metadata")) return false;
  if (pod["metadata"].contains("deletionTimestamp")) return false;
  if (!pod.contains("status") || !pod["status"].contains("conditions")) return false;
  for (const auto& condition : pod["status"]["conditions"]) {
    if (condition.value("type", "") == type) return condition.value("status", "") == "True";
  }
  return false;
}

}  // namespace

bool PodReady(const Json& pod) { return PodConditionTrue(pod, "Ready"); }

bool PodContainersReady(const Json& pod) { return PodConditionTrue(pod, "ContainersReady"); }

bool PodFailed(const Json& pod) {
  if (!pod.is_object() || !pod.contains("status") || !pod["status"].is_object()) return false;
  const Json& status = pod["status"];
  if (status.value("phase", "") == "Failed") return true;
  for (const auto& container : status.value("containerStatuses", Json::array())) {
    if (ContainerFailing(container)) return true;
  }
  return false;
}

std::optional<std::string> ClusterPhase(const std::vector<std::string>& phases) {
  if (phases.empty()) return std::nullopt;
  if (AllIn(phases, {"Stopped"})) return "Stopped";
  if (AllIn(phases, {"Running", "Stopped"})) return "Running";
  if (AllIn(phases, {"Creating"})) return "Creating";
  if (AllIn(phases, {"Creating", "Running", "Updating"})) return "Updating";
  if (AnyIn(phases, {"Stopping"})) return "Stopping";
  if (AllIn(phases, {"Failed"})) return "Failed";
  if (AnyIn(phases, {"Abnormal", "Failed"})) return "Abnormal";
  return std::nullopt;
}

}  // namespace xblocks::controllers
