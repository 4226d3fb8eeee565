// The readiness gate that keeps a replica out of its Services, and holds up a rolling update,
// until it serves the declared models.
//
// The Xinference addon's pods declare the readiness gate kModelsReadyGate. A pod is Ready only
// when its containers are ready and this condition is True, and the ModelsGateReconciler keeps
// the condition of each such pod:
//   - True (ModelsServed) when every Model of the pod's Cluster reports the pod Ready, or Failed
//     there: a launch that failed is not retried on that pod, so waiting longer cannot help, and
//     the Model's own status names the cause;
//   - False (ModelsLoading) while a Model is still launching on the pod or has not reached it.
// A pod of a Cluster without Models is True at once. Once True after the pod's containers last
// started, the condition stays True: a Model declared later never takes a serving replica out of
// its Services. A container that restarts lost its models, so its pod is evaluated again. The
// Model controller launches models once a pod's containers are ready (ContainersReady), which
// does not wait for this gate.
#pragma once

#include <string>
#include <vector>

#include "client/client.h"
#include "common/time.h"
#include "controllers/informer.h"
#include "controllers/reconcile.h"
#include "controllers/request_mappers.h"

namespace xblocks::controllers {

inline constexpr const char* kModelsReadyGate = "xblocks.io/models-ready";

// The gate's condition for `pod` from the Models of its Cluster.
struct ModelsGate {
  bool ready = false;
  std::string reason;   // ModelsServed or ModelsLoading
  std::string message;  // which models the pod still waits for
};
ModelsGate EvaluateModelsGate(const Json& pod, const std::vector<Json>& models);

// Whether the gate condition `gate` of `pod` turned True after the pod's containers last
// started. Such a gate stays True whatever Models are declared later.
bool SettledSinceContainersStarted(const Json& gate, const Json& pod);

// Maps a Model to the pods of its Cluster.
MapFn ModelToPods(const Informer& pods);

class ModelsGateReconciler : public Reconciler {
 public:
  ModelsGateReconciler(client::Client& client, const Clock& clock, const Informer& pods, const Informer& models)
      : client_(client), clock_(clock), pods_(pods), models_(models) {}

  std::string_view name() const override { return "models-gate"; }
  // Writes the gate's condition of the pod when it differs, with the pod's resourceVersion, so
  // it never drops a condition that kubelet or the node agent wrote meanwhile.
  ReconcileResult Reconcile(const Request& request, const ReconcileContext& context) override;

 private:
  client::Client& client_;
  const Clock& clock_;
  const Informer& pods_;
  const Informer& models_;
};

}  // namespace xblocks::controllers
