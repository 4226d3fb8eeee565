// Container probes (core v1 Probe) for embedded-mode pods: httpGet, tcpSocket and exec actions,
// and ProbeState, which turns single probe results into the probe's verdict the way kubelet
// does (initialDelaySeconds, periodSeconds, successThreshold, failureThreshold).
//
// Network probes only reach loopback addresses and the pod's own IP; any other host fails
// before a connection is attempted.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "common/time.h"
#include "node/process.h"

namespace xblocks {

enum class ProbeOutcome {
  kSuccess,
  kFailure,
  kUnknown,  // the probe could not run (bad probe spec, no launcher); ProbeState counts it as a failure
};

struct ProbeResult {
  ProbeOutcome outcome = ProbeOutcome::kUnknown;
  std::string message;  // why it failed, for the container's events; empty on success
};

// The environment and cgroup an exec probe runs in: those of the container.
struct ExecProbeContext {
  ProcessLauncher* launcher = nullptr;  // required for exec probes; must outlive RunProbe
  std::vector<std::string> env;         // the container's environment, "NAME=value" each
  std::string working_dir;
  // The command's stdout and stderr go here (appended); the tail of it becomes the message.
  std::string output_path;
  CgroupDriver* cgroup_driver = nullptr;  // optional: run the command in the pod's cgroup
  std::string cgroup_name;
};

struct ProbeContext {
  // The container's ports (a core v1 ContainerPort list), to resolve named probe ports.
  Json container_ports = Json::array();
  ExecProbeContext exec;
};

// Runs the action of `probe` once, waiting at most its timeoutSeconds (default 1). The HTTP
// client speaks plain HTTP/1.1 only; `scheme: HTTPS` and grpc probes return kUnknown.
// Thread-safe as far as the launcher is. A malformed probe returns kUnknown with
// a message naming the field.
ProbeResult RunProbe(const Json& probe, const std::string& pod_ip, const ProbeContext& context);

// httpGet: GET http://<host or pod_ip>:<port><path>; statuses 200-399 are success.
ProbeResult RunHttpGetProbe(const Json& action, const std::string& pod_ip, const Json& container_ports,
                            std::chrono::seconds timeout);
// tcpSocket: success when a TCP connection to <host or pod_ip>:<port> opens.
ProbeResult RunTcpSocketProbe(const Json& action, const std::string& pod_ip, const Json& container_ports,
                              std::chrono::seconds timeout);
// exec: runs `command` (no shell); exit code 0 is success. A command still running at the
// timeout is killed with its process group and the probe fails.
ProbeResult RunExecProbe(const Json& action, const ExecProbeContext& context, std::chrono::seconds timeout);

// Resolves a probe port (an int, or a name from `container_ports`, or a decimal string, as
// kubelet accepts). Returns Invalid naming the port when it is unknown or not in 1-65535.
Result<int> ResolveProbePort(const Json& port, const Json& container_ports);

// The timing and thresholds of a probe, with the API defaults for missing fields.
struct ProbeSettings {
  std::chrono::seconds initial_delay{0};
  std::chrono::seconds period{10};
  std::chrono::seconds timeout{1};
  int success_threshold = 1;
  int failure_threshold = 3;
};

// Reads the settings of a core v1 Probe. Zero or missing values take the API defaults; values
// below the API minimum, negative values and non-integers return Invalid naming the field.
Result<ProbeSettings> ParseProbeSettings(const Json& probe);

// The verdict of one probe of one container. Not thread-safe; the clock must outlive it.
class ProbeState {
 public:
  // `initial` is the verdict until the thresholds are met: kFailure for readiness, kSuccess for
  // liveness, kUnknown for startup, as kubelet starts them.
  ProbeState(ProbeSettings settings, const Clock& clock, TimePoint container_started, ProbeOutcome initial);

  // Whether a probe is due now: not before initialDelaySeconds after the container started,
  // then once per periodSeconds after the previous one.
  bool Due() const;
  TimePoint NextProbeTime() const { return next_probe_; }
  // Records a result taken now and schedules the next probe. The verdict becomes kSuccess after
  // successThreshold successes in a row and kFailure after failureThreshold failures in a row.
  void Record(const ProbeResult& result);

  ProbeOutcome verdict() const { return verdict_; }
  // The message of the last failed probe, cleared by a success.
  const std::string& last_message() const { return last_message_; }
  int consecutive_successes() const { return successes_; }
  int consecutive_failures() const { return failures_; }

 private:
  ProbeSettings settings_;
  const Clock& clock_;
  TimePoint next_probe_;
  ProbeOutcome verdict_;
  std::string last_message_;
  int successes_ = 0;
  int failures_ = 0;
};

}  // namespace xblocks
