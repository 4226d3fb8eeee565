// Functions that map a watched object to the Requests a controller reconciles for it. A
// controller watching its own kind uses ObjectKeyMapper(); one watching the objects it creates
// maps them back to their owner with OwnerMapper() or LabelMapper().
//
// Every mapper tolerates objects of any shape: a missing or mistyped field maps to no Request.
// Thread-safety: the returned functions are stateless and may be called from any thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/json.h"
#include "controllers/reconcile.h"

namespace xblocks::controllers {

using MapFn = std::function<std::vector<Request>(const Json& object)>;

// Maps an object to its own key (metadata.namespace, metadata.name).
MapFn ObjectKeyMapper();

// Maps an object to its controller owner, the ownerReferences entry with controller: true,
// when that owner's kind is `owner_kind` (e.g. "Component"). The owner is taken to be in the
// object's namespace, as owner references of namespaced objects require.
MapFn OwnerMapper(std::string owner_kind);

// Maps an object to the object named by its label `label_key` in the same namespace, e.g.
// LabelMapper("app.kubernetes.io/instance") maps a Pod to its Cluster. An empty or missing
// label maps to nothing.
MapFn LabelMapper(std::string label_key);

}  // namespace xblocks::controllers
