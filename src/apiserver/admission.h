// Admission for writes that the schema alone cannot express: server-set defaults of built-in
// kinds (Namespace finalizers, Service cluster IPs, Secret stringData) and delete policies
// (a Cluster with terminationPolicy DoNotTerminate cannot be deleted).
#pragma once

#include "api/scheme.h"
#include "common/json.h"
#include "common/status.h"

namespace xblocks::apiserver {

// Sets the fields kube-apiserver fills in on create for built-in kinds. `object` has metadata.
void DefaultBuiltinOnCreate(const api::ResourceType& type, Json& object);

// Checks that the version and kind in the body match the resource, and fills them in when
// absent. kBadRequest with kube-apiserver's wording on a mismatch.
Status CheckTypeMeta(const api::ResourceType& type, Json& object);

// Rejects a delete that a policy forbids: kForbidden for a Cluster whose terminationPolicy is
// DoNotTerminate, naming the field to change.
Status AdmitDelete(const api::ResourceType& type, const Json& object);

}  // namespace xblocks::apiserver
