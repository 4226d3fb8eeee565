#include "node/simulated_agent.h"

#include <fmt/format.h>

#include "apiserver/object_meta.h"
#include "common/log.h"
#include "common/time.h"

namespace xblocks::node {
namespace {

bool Running(const Json& pod) {
  return pod.value("status", Json::object()).value("phase", "") == "Running";
}

Json ReadyCondition(const char* type, const std::string& now) {
  return {{"type", type}, {"status", "True"}, {"lastProbeTime", nullptr}, {"lastTransitionTime", now}};
}

}  // namespace

std::string SimulatedPodIp(const std::string& pod_uid) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : pod_uid) {
    hash ^= c;
    hash *= 16777619u;
  }
  const int a = 1 + static_cast<int>(hash % 254);
  const int b = static_cast<int>((hash >> 8) % 256);
  const int c = 1 + static_cast<int>((hash >> 16) % 254);
  return fmt::format("127.{}.{}.{}", a, b, c);
}

Json SimulatedRunningStatus(const Json& pod, const std::string& now) {
  const std::string ip = SimulatedPodIp(apiserver::Uid(pod));
  Json containers = Json::array();
  for (const auto& container : pod["spec"].value("containers", Json::array())) {
    containers.push_back({{"name", container.value("name", "")},
                          {"image", container.value("image", "")},
                          {"imageID", ""},
                          {"containerID", fmt::format("simulated://{}/{}", apiserver::Uid(pod), container.value("name", ""))},
                          {"ready", true},
                          {"started", true},
                          {"restartCount", 0},
                          {"state", {{"running", {{"startedAt", now}}}}}});
  }
  Json conditions = {ReadyCondition("Initialized", now), ReadyCondition("Ready", now),
                     ReadyCondition("ContainersReady", now), ReadyCondition("PodScheduled", now)};
  // As kwok does, a simulated pod's readiness gates are True from the start.
  for (const auto& gate : pod["spec"].value("readinessGates", Json::array())) {
    const std::string type = gate.is_object() ? gate.value("conditionType", "") : "";
    if (!type.empty()) conditions.push_back(ReadyCondition(type.c_str(), now));
  }
  return {{"phase", "Running"},
          {"hostIP", "127.0.0.1"},
          {"hostIPs", {{{"ip", "127.0.0.1"}}}},
          {"podIP", ip},
          {"podIPs", {{{"ip", ip}}}},
          {"startTime", now},
          {"qosClass", "Burstable"},
          {"conditions", conditions},
          {"containerStatuses", containers}};
}

Status SimulatedAgent::Sync() {
  auto pods = client_.List(client::resources::kPods, "", {});
  if (!pods.ok()) return pods.status();
  const std::string now = FormatRfc3339(std::chrono::system_clock::now());
  Status result = Status::Ok();
  for (const Json& pod : pods->items) {
    const std::string node = pod["spec"].value("nodeName", "");
    if (node.empty() || nodes_.count(node) == 0) continue;
    if (apiserver::IsDeleting(pod)) {
      // No process to stop: the pod goes as soon as it is marked.
      Status deleted = client_.Delete(client::resources::kPods, apiserver::Namespace(pod), apiserver::Name(pod),
                                      {.precondition_uid = apiserver::Uid(pod), .grace_period_seconds = 0});
      if (!deleted.ok() && deleted.code() != StatusCode::kNotFound && deleted.code() != StatusCode::kConflict) {
        result = deleted;
      }
      continue;
    }
    if (Running(pod)) continue;
    auto patched = client_.PatchStatus(client::resources::kPods, apiserver::Namespace(pod), apiserver::Name(pod),
                                       {{"status", SimulatedRunningStatus(pod, now)}});
    if (!patched.ok()) {
      if (patched.status().code() != StatusCode::kNotFound) result = patched.status();
      continue;
    }
    XB_LOG_INFO("pod running", {{"controller", "simulated-agent"},
                                {"namespace", apiserver::Namespace(pod)},
                                {"pod", apiserver::Name(pod)},
                                {"node", node}});
  }
  return result;
}

}  // namespace xblocks::node
