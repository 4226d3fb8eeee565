// The garbage collector follows metadata.ownerReferences:
//   - background: a dependent whose owners are all gone is deleted;
//   - foreground: an owner deleting with the `foregroundDeletion` finalizer has its dependents
//     deleted (foreground too), and loses the finalizer once none remain;
//   - orphan: an owner deleting with the `orphan` finalizer has its owner reference removed from
//     every dependent, then loses the finalizer.
#pragma once

#include "apiserver/registry.h"
#include "controllers/controller.h"

namespace xblocks::controllers {

class GarbageCollector : public Controller {
 public:
  explicit GarbageCollector(apiserver::Registry& registry) : registry_(registry) {}
  std::string_view name() const override { return "garbage-collector"; }
  Status Sync() override;

 private:
  apiserver::Registry& registry_;
};

}  // namespace xblocks::controllers
