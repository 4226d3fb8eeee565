// The Pod printer: READY, STATUS and RESTARTS computed the way kube-apiserver computes them
// from container statuses, init containers (including restartable sidecars) and deletion.
#include <fmt/format.h>

#include <optional>

#include "api/json_fields.h"
#include "api/table_printers.h"

namespace xblocks::api {
namespace {

// The state of a pod's rows while its container statuses are read.
struct PodSummary {
  std::string reason;
  int64_t ready = 0;
  int64_t total = 0;
  int64_t restarts = 0;
  std::optional<TimePoint> last_restart;
};

bool HasObject(const Json& value, std::string_view path) {
  const Json* found = FindPath(value, path);
  return found != nullptr && found->is_object();
}

bool ConditionIsTrue(const Json& pod, std::string_view type) {
  for (const Json& condition : ArrayAt(pod, "status.conditions")) {
    if (StringAt(condition, "type") == type) return StringAt(condition, "status") == "True";
  }
  return false;
}

// Sidecars: init containers with restartPolicy Always keep running beside the main containers.
bool IsRestartableInit(const Json& pod, const std::string& name) {
  for (const Json& container : ArrayAt(pod, "spec.initContainers")) {
    if (StringAt(container, "name") == name) return StringAt(container, "restartPolicy") == "Always";
  }
  return false;
}

// The later of `current` and the container's last termination time.
std::optional<TimePoint> LaterRestart(std::optional<TimePoint> current, const Json& status) {
  std::optional<TimePoint> finished = ParseRfc3339(StringAt(status, "lastState.terminated.finishedAt"));
  if (!finished) return current;
  return current && *current > *finished ? current : finished;
}

// "Signal:9" or "ExitCode:1" for a terminated container without a reason.
std::string TerminatedText(const Json& status) {
  int64_t signal = IntAt(status, "state.terminated.signal");
  if (signal != 0) return fmt::format("Signal:{}", signal);
  return fmt::format("ExitCode:{}", IntAt(status, "state.terminated.exitCode"));
}

// Reads init container statuses. Returns true while initialization is still in progress or
// has failed, and then sets `summary.reason` to "Init:...".
bool ReadInitContainers(const Json& pod, PodSummary& summary, PodSummary& sidecars) {
  const Json& statuses = ArrayAt(pod, "status.initContainerStatuses");
  const size_t init_count = ArrayAt(pod, "spec.initContainers").size();
  for (size_t i = 0; i < statuses.size(); ++i) {
    const Json& status = statuses[i];
    bool restartable = IsRestartableInit(pod, StringAt(status, "name"));
    summary.restarts += IntAt(status, "restartCount");
    summary.last_restart = LaterRestart(summary.last_restart, status);
    if (restartable) {
      sidecars.restarts += IntAt(status, "restartCount");
      sidecars.last_restart = LaterRestart(sidecars.last_restart, status);
    }

    if (HasObject(status, "state.terminated") && IntAt(status, "state.terminated.exitCode") == 0) continue;
    const Json* started = FindPath(status, "started");
    if (restartable && started != nullptr && *started == true) {
      if (FindPath(status, "ready") != nullptr && *FindPath(status, "ready") == true) ++summary.ready;
      continue;
    }
    std::string waiting = StringAt(status, "state.waiting.reason");
    if (HasObject(status, "state.terminated")) {
      std::string reason = StringAt(status, "state.terminated.reason");
      summary.reason = "Init:" + (reason.empty() ? TerminatedText(status) : reason);
    } else if (!waiting.empty() && waiting != "PodInitializing") {
      summary.reason = "Init:" + waiting;
    } else {
      summary.reason = fmt::format("Init:{}/{}", i, init_count);
    }
    return true;
  }
  return false;
}

// Reads main container statuses, last to first, so the first container's state wins.
void ReadContainers(const Json& pod, PodSummary& summary) {
  const Json& statuses = ArrayAt(pod, "status.containerStatuses");
  bool has_running = false;
  for (auto it = statuses.rbegin(); it != statuses.rend(); ++it) {
    const Json& status = *it;
    summary.restarts += IntAt(status, "restartCount");
    summary.last_restart = LaterRestart(summary.last_restart, status);
    std::string waiting = StringAt(status, "state.waiting.reason");
    std::string terminated = StringAt(status, "state.terminated.reason");
    const Json* ready = FindPath(status, "ready");
    if (!waiting.empty()) {
      summary.reason = waiting;
    } else if (!terminated.empty()) {
      summary.reason = terminated;
    } else if (HasObject(status, "state.terminated")) {
      summary.reason = TerminatedText(status);
    } else if (ready != nullptr && *ready == true && HasObject(status, "state.running")) {
      has_running = true;
      ++summary.ready;
    }
  }
  // A completed container beside a running one does not make the pod Completed.
  if (summary.reason == "Completed" && has_running) {
    summary.reason = ConditionIsTrue(pod, "Ready") ? "Running" : "NotReady";
  }
}

PodSummary SummarizePod(const Json& pod) {
  PodSummary summary;
  std::string phase = StringAt(pod, "status.phase");
  std::string pod_reason = StringAt(pod, "status.reason");
  summary.reason = pod_reason.empty() ? phase : pod_reason;
  summary.total = static_cast<int64_t>(ArrayAt(pod, "spec.containers").size());
  for (const Json& init : ArrayAt(pod, "spec.initContainers")) {
    if (StringAt(init, "restartPolicy") == "Always") ++summary.total;
  }
  for (const Json& condition : ArrayAt(pod, "status.conditions")) {
    if (StringAt(condition, "type") == "PodScheduled" && StringAt(condition, "reason") == "SchedulingGated") {
      summary.reason = "SchedulingGated";
    }
  }

  PodSummary sidecars;
  bool initializing = ReadInitContainers(pod, summary, sidecars);
  if (!initializing || ConditionIsTrue(pod, "Initialized")) {
    // Once initialized, only sidecar restarts count among the init containers.
    summary.restarts = sidecars.restarts;
    summary.last_restart = sidecars.last_restart;
    ReadContainers(pod, summary);
  }

  bool deleting = FindPath(pod, "metadata.deletionTimestamp") != nullptr &&
                  !FindPath(pod, "metadata.deletionTimestamp")->is_null();
  if (deleting && pod_reason == "NodeLost") {
    summary.reason = "Unknown";
  } else if (deleting && phase != "Failed" && phase != "Succeeded") {
    summary.reason = "Terminating";
  }
  return summary;
}

std::string RestartsText(const PodSummary& summary, TimePoint now) {
  if (summary.restarts == 0 || !summary.last_restart) return std::to_string(summary.restarts);
  std::string ago = HumanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *summary.last_restart));
  return fmt::format("{} ({} ago)", summary.restarts, ago);
}

std::string PodIp(const Json& pod) {
  const Json& ips = ArrayAt(pod, "status.podIPs");
  std::string ip = ips.empty() ? StringAt(pod, "status.podIP") : StringAt(ips[0], "ip");
  return OrNone(ip);
}

std::string ReadinessGates(const Json& pod) {
  const Json& gates = ArrayAt(pod, "spec.readinessGates");
  if (gates.empty()) return "<none>";
  int64_t passing = 0;
  for (const Json& gate : gates) {
    if (ConditionIsTrue(pod, StringAt(gate, "conditionType"))) ++passing;
  }
  return fmt::format("{}/{}", passing, gates.size());
}

Json PodCells(const Json& pod, TimePoint now) {
  PodSummary summary = SummarizePod(pod);
  return Json::array({
      StringAt(pod, "metadata.name"),
      fmt::format("{}/{}", summary.ready, summary.total),
      summary.reason,
      RestartsText(summary, now),
      AgeAt(pod, "metadata.creationTimestamp", now),
      PodIp(pod),
      OrNone(StringAt(pod, "spec.nodeName")),
      OrNone(StringAt(pod, "status.nominatedNodeName")),
      ReadinessGates(pod),
  });
}

}  // namespace

BuiltinPrinter PodPrinter() {
  return {{NameColumn(),
           TextColumn("Ready", "Ready containers out of all containers."),
           TextColumn("Status", "The pod phase, or the reason a container is not running."),
           TextColumn("Restarts", "Container restarts, and how long ago the last one was."),
           TextColumn("Age", "Time since the object was created."),
           TextColumn("IP", "The pod's IP address.", 1),
           TextColumn("Node", "The node the pod is bound to.", 1),
           TextColumn("Nominated Node", "The node the scheduler nominated for preemption.", 1),
           TextColumn("Readiness Gates", "Readiness gates that pass out of all readiness gates.", 1)},
          PodCells};
}

}  // namespace xblocks::api
