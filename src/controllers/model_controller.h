// The Model controller: keeps every declared model (xblocks.io/v1alpha1 Model) served on every
// replica of its Cluster, through each replica's Xinference REST API.
//
// Xinference keeps its launched models in memory only, so every new pod (Restart, Stop/Start,
// VerticalScaling, a crash, an OOM kill) comes back with none. Each reconcile of a Model:
//   1. lists the Cluster's pods; a pod whose containers are not ready (GET /status, the
//      readiness probe) is Waiting. It does not wait for the pod's Ready condition, which the
//      models-ready readiness gate keeps False until the models are served (models_gate.h);
//   2. looks up the model's uid in each ready pod's GET /v1/models/instances, and never calls an
//      endpoint with a uid the server does not list;
//   3. launches the model where it is missing: registers a custom model from spec.modelPath
//      first, then POST /v1/models?wait_ready=true on a thread of its own, because only the
//      blocking call returns Xinference's error text;
//   4. maps a refused launch to a reason and a message that says what to change, and does not
//      retry it on that pod until the spec changes;
//   5. writes status (phase, N/M ready, the endpoint, one entry per pod) and the Ready condition,
//      and records an Event when the phase changes.
// A deleted Model is terminated on every pod that lists it before its finalizer is removed.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "client/client.h"
#include "common/time.h"
#include "controllers/informer.h"
#include "controllers/reconcile.h"
#include "controllers/request_mappers.h"
#include "controllers/xinference_client.h"

namespace xblocks::controllers {

inline constexpr const char* kModelFinalizer = "xblocks.io/model-termination";

// The cause of a failed launch, in words a user can act on.
struct LaunchFailure {
  std::string reason;   // UnknownModel, ModelPathNotFound, OutOfMemory, NoGpuSlot, InvalidSpec, LaunchFailed
  std::string message;  // names the cause and what to change
};

// Maps Xinference's refusal of a launch or registration of `model` on `pod` to a LaunchFailure.
LaunchFailure ClassifyLaunchFailure(const Json& model, const std::string& pod, const Refusal& refusal);

// The body of POST /v1/models for a Model's spec, and of POST /v1/model_registrations for its
// custom model (null when spec.modelPath is unset).
Json LaunchBody(const Json& model);
Json CustomModelSpec(const Json& model);
// spec.modelUid, or the Model's name.
std::string ModelUid(const Json& model);

// The Models declared for Cluster `cluster` in `ns`, from the informer's cache.
std::vector<Json> ModelsOfCluster(const Informer& models, const std::string& ns, const std::string& cluster);

// The models an operation still waits for before the Cluster's models count as back.
struct ModelsWait {
  bool failed = false;  // a Model failed on the current pods; waiting longer will not help
  std::string message;
};
// Returns nullopt when every Model reports Ready for its current spec with an entry in state
// Ready for each of `pods` (by uid), so a status written before the pods were recreated does
// not count.
std::optional<ModelsWait> WaitForModels(const std::vector<Json>& models, const std::vector<Json>& pods);

// Maps a pod to the Models of its Cluster (by the app.kubernetes.io/instance label).
MapFn PodToModels(const Informer& models);
// Maps a Cluster to its Models.
MapFn ClusterToModels(const Informer& models);

struct ModelReconcilerOptions {
  HttpTransport transport = MakeHttpTransport();
  // The maximum time a launch may load before it counts as failed.
  std::chrono::milliseconds launch_timeout{std::chrono::minutes(30)};
  // How often a Model is looked at again while nothing else changes: soon while launching, and
  // now and then when settled, to notice a model that Xinference dropped.
  std::chrono::milliseconds poll_launching{std::chrono::seconds(2)};
  std::chrono::milliseconds poll_settled{std::chrono::seconds(15)};
};

class ModelReconciler : public Reconciler {
 public:
  using Options = ModelReconcilerOptions;

  ModelReconciler(client::Client& client, const Clock& clock, const Informer& models, const Informer& clusters,
                  const Informer& pods, Options options = {});
  // Joins finished launch threads. A launch still loading keeps running on its own thread,
  // detached, until Xinference replies or the launch timeout passes, so stopping the
  // controllers never waits for a model to load.
  ~ModelReconciler() override;

  std::string_view name() const override { return "model"; }
  ReconcileResult Reconcile(const Request& request, const ReconcileContext& context) override;

 private:
  // One launch on one pod, run on its own thread.
  // Shared by the reconciler and the launch thread, which touches nothing else of the
  // reconciler.
  struct Launch {
    std::thread thread;  // guarded by ModelReconciler::mu_
    std::mutex mu;
    bool finished = false;  // guarded by mu
    // Set when Xinference rejected the launch; a transport error leaves both unset, so the
    // launch is tried again.
    std::optional<LaunchFailure> failure;  // guarded by mu
    bool answered = false;                 // guarded by mu
    // The container's restartCount when the launch started, to tell a launch that the replica
    // did not survive.
    int64_t restarts = 0;
  };
  struct LaunchState {
    bool running = false;
    bool answered = false;
    std::optional<LaunchFailure> failure;
    int64_t restarts = 0;
  };

  struct ReplicaState {
    std::string pod;
    std::string pod_uid;
    std::string state;  // Waiting, Launching, Ready, Failed
    std::string message;
    std::optional<LaunchFailure> failure;
    std::string endpoint;
  };

  ReplicaState ReconcileReplica(const Json& model, const Json& pod, const ReconcileContext& context);
  ReconcileResult Finalize(const Json& model, const ReconcileContext& context);
  Status EnsureFinalizer(const Json& model);
  Status WriteStatus(const Json& model, const std::vector<ReplicaState>& replicas, int expected,
                     const std::string& pending_message, const ReconcileContext& context);

  // Launch bookkeeping, keyed by pod uid, model uid and generation.
  std::optional<LaunchState> LaunchStateOf(const std::string& key);
  void StartLaunch(const std::string& key, const Json& model, const std::string& pod, int64_t restarts,
                   ReplicaEndpoint endpoint);
  // Whether another model's launch is in flight on the pod: one at a time per replica, so that
  // a launch that kills the replica is the one it is blamed on.
  bool LaunchRunningOnPod(const std::string& pod_uid);
  // Records `failure` for a finished launch, so it is not sent again to that pod.
  void FailLaunch(const std::string& key, LaunchFailure failure);
  void ForgetLaunch(const std::string& key);
  // Joins the thread of a finished launch whose failure is kept.
  void JoinFinished(const std::string& key);
  // Drops the finished launches of `uid` that are not for one of `pod_uids` at `generation`,
  // so pods that are gone and older specs leave nothing behind.
  void PruneLaunches(const std::string& uid, int64_t generation, const std::set<std::string>& pod_uids);

  client::Client& client_;
  const Clock& clock_;
  const Informer& models_;
  const Informer& clusters_;
  const Informer& pods_;
  const Options options_;

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Launch>> launches_;  // guarded by mu_
};

}  // namespace xblocks::controllers
