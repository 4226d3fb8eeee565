// The node agent of `xblocks server --runtime process`: a small kubelet. Every pod bound to one
// of its nodes becomes a set of process groups, one per container, in one cgroup per pod that
// carries the pod's CPU and memory limits. The agent:
//   - gives each pod its own loopback address (127.x.y.z) as status.podIP;
//   - resolves each image to a local command (see container_plan.h), and leaves a container
//     Waiting with a reason that explains how to map its image when nothing does;
//   - runs startup, liveness and readiness probes, which drive the Ready condition;
//   - restarts exited containers by the pod's restartPolicy with kubelet's back-off, counts
//     restarts, and reports an OOM kill as OOMKilled;
//   - stops a pod marked for deletion. It sends the container's stop signal to each process
//     group, waits for the grace period, sends SIGKILL to whatever is left in the cgroup, and
//     then deletes the pod;
//   - keeps each container's output, one file per run, for `kubectl logs` (-f, --previous);
//   - keeps volumes as directories under the data dir: emptyDir for the pod's life, PVC
//     directories until the PVC is deleted.
//
// It runs on its own thread: a pass every `tick`, and at once when Notify() is called (the
// embedded server calls it on every store change).
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "apiserver/api_handler.h"
#include "client/client.h"
#include "common/time.h"
#include "node/cgroups.h"
#include "node/container_plan.h"
#include "node/process.h"
#include "node/restart_backoff.h"

namespace xblocks::node {

// The condition a pod carries about its cgroup limits: True when they are enforced, False with
// the reason when they cannot be.
inline constexpr char kLimitsEnforcedCondition[] = "xblocks.io/LimitsEnforced";

class ProcessAgent : public apiserver::LogSource {
 public:
  struct Options {
    std::filesystem::path data_dir;  // pods live in data_dir/pods/<uid>, PVCs in data_dir/volumes/<ns>/<claim>
    std::set<std::string> nodes;     // the nodes whose pods this agent runs
    ImageCommands images;            // from --image-command; ClusterVersions add theirs
    std::vector<std::string> base_env;  // "NAME=value" every container starts with (PATH, LANG ...)
    std::chrono::milliseconds tick{200};
    RestartBackoffOptions backoff;
  };

  ProcessAgent(client::Client& client, const Clock& clock, ProcessLauncher& launcher, CgroupDriver& cgroups,
               Options options);
  ~ProcessAgent() override;

  // Prepares the cgroup subtree and starts the agent thread.
  Status Start();
  // Stops every pod's processes (stop signal, then SIGKILL after a short grace), removes the
  // cgroup subtree and joins the thread. The pods stay in the API; the next Start runs them
  // again.
  void Stop();
  // Wakes the agent thread for a pass now, e.g. after a pod changed.
  void Notify();

  // apiserver::LogSource: GET pods/<name>/log with container, previous, follow, tailLines,
  // limitBytes.
  apiserver::HttpResponse ServeLogs(const Json& pod, const apiserver::HttpRequest& request) override;

  // The log file of run `run` (0-based) of a container; public for tests.
  std::filesystem::path LogPath(const std::string& pod_uid, const std::string& container, int run) const;

 private:
  struct ContainerRuntime;
  struct PodRuntime;

  void Run();
  void Pass();
  void Shutdown();
  void SyncPod(const Json& pod);
  void AdmitPod(const Json& pod);
  // Builds the container's plan from the pod and the current image mappings.
  void PlanContainer(PodRuntime& pod, ContainerRuntime& container);
  void StartContainer(PodRuntime& pod, ContainerRuntime& container);
  void CheckExit(PodRuntime& pod, ContainerRuntime& container);
  void RunProbes(PodRuntime& pod, ContainerRuntime& container);
  void StopContainer(PodRuntime& pod, ContainerRuntime& container, std::chrono::seconds grace, const std::string& why);
  // Advances the termination of a pod; true once every process is gone and the cgroup removed.
  bool Terminate(PodRuntime& pod);
  void FinishPod(const std::string& uid, bool delete_object);
  void WriteStatus(PodRuntime& pod);
  void RemoveStaleVolumes();
  Json ContainerStatus(const PodRuntime& pod, const ContainerRuntime& container) const;
  std::string AllocateIp(const std::string& uid);
  void Event(const PodRuntime& pod, const std::string& type, const std::string& reason, const std::string& message);

  client::Client& client_;
  const Clock& clock_;
  ProcessLauncher& launcher_;
  CgroupDriver& cgroups_;
  Options options_;

  std::mutex mu_;  // guards pods_ and ips_; held through a pass
  std::map<std::string, std::unique_ptr<PodRuntime>> pods_;  // by pod uid
  std::set<std::string> ips_;
  TimePoint last_volume_sweep_{};

  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool woken_ = false;      // guarded by wake_mu_
  bool stopping_ = false;   // guarded by wake_mu_
  std::thread thread_;
};

}  // namespace xblocks::node
