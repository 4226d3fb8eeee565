// Empties a namespace that is being deleted: deletes every namespaced object in it, waits until
// all are gone (objects with finalizers wait for their controllers), then clears the namespace's
// `kubernetes` finalizer so the Namespace itself is removed. While content remains, the
// namespace's status.conditions say why, as kube-controller-manager writes them: the deletes that
// failed (NamespaceDeletionContentFailure, e.g. a DoNotTerminate Cluster), what remains
// (NamespaceContentRemaining) and the finalizers it waits for (NamespaceFinalizersRemaining).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "apiserver/registry.h"
#include "controllers/controller.h"

namespace xblocks::controllers {

class NamespaceController : public Controller {
 public:
  explicit NamespaceController(apiserver::Registry& registry) : registry_(registry) {}
  std::string_view name() const override { return "namespace"; }
  Status Sync() override;

 private:
  // The objects, finalizers and failed deletes that a deletion pass left in a namespace.
  struct Remaining {
    std::map<std::string, int> resources;   // "clusters.apps.kubeblocks.io" -> objects left
    std::map<std::string, int> finalizers;  // finalizer -> objects that carry it
    std::vector<std::string> errors;        // deletes that failed, with the reason
    bool empty() const { return resources.empty(); }
  };

  // Deletes what is left in `ns` and reports what remains.
  Result<Remaining> DeleteContent(const std::string& ns);
  // Writes the deletion conditions of `remaining` to the namespace's status.
  Status WriteConditions(const api::ResourceType& type, const Json& ns_object, const Remaining& remaining);
  Status Finalize(const api::ResourceType& type, const Json& ns_object);

  apiserver::Registry& registry_;
};

}  // namespace xblocks::controllers
