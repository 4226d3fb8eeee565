// The built-in Kubernetes kinds xblocks serves (core v1 and rbac.authorization.k8s.io/v1),
// with the names, scope and Table columns kube-apiserver uses for them.
#pragma once

#include <vector>

#include "api/scheme.h"

namespace xblocks::api {

// Returns the built-in kinds in discovery order. They have no schema (null), so admission
// checks only their ObjectMeta.
std::vector<ResourceType> BuiltinKinds();

}  // namespace xblocks::api
