// Empties a namespace that is being deleted: deletes every namespaced object in it, waits until
// all are gone (objects with finalizers wait for their controllers), then clears the namespace's
// `kubernetes` finalizer so the Namespace itself is removed.
#pragma once

#include "apiserver/registry.h"
#include "controllers/controller.h"

namespace xblocks::controllers {

class NamespaceController : public Controller {
 public:
  explicit NamespaceController(apiserver::Registry& registry) : registry_(registry) {}
  std::string_view name() const override { return "namespace"; }
  Status Sync() override;

 private:
  // Deletes what is left in `ns`; returns how many objects remain.
  Result<size_t> DeleteContent(const std::string& ns);
  Status Finalize(const api::ResourceType& type, const Json& ns_object);

  apiserver::Registry& registry_;
};

}  // namespace xblocks::controllers
