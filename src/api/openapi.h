// OpenAPI v3 documents for GET /openapi/v3 and GET /openapi/v3/<group-version>, built from the
// scheme. kubectl reads them for `kubectl explain` and to detect server-side field validation,
// which needs a `fieldValidation` parameter on every PATCH operation. Strategic merge patch is
// never offered, so kubectl uses its compiled-in types for built-in kinds and merge patch for
// CRD kinds.
//
// Thread-safety: the functions only read the scheme and may run concurrently.
#pragma once

#include <string>
#include <string_view>

#include "api/scheme.h"
#include "common/json.h"
#include "common/status.h"

namespace xblocks::api {

// Returns {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=<HEX>"}, ...}},
// one entry per group version of the scheme. The hash changes whenever the
// group version's document changes, so clients may cache documents by URL.
Json OpenApiV3Root(const Scheme& scheme);

// Returns the OpenAPI 3.0 document of one group version, addressed as in the root ("api/v1" or
// "apis/apps.kubeblocks.io/v1alpha1"; a leading '/' is accepted). It holds a path for every
// collection, item and /status endpoint and a component schema per kind, named in
// reversed-group style (io.kubeblocks.apps.v1alpha1.Cluster, io.k8s.api.core.v1.Pod), plus the
// meta.k8s.io schemas they reference. Returns kNotFound for an unknown group version.
Result<Json> OpenApiV3Document(const Scheme& scheme, std::string_view group_version_path);

// Returns the upper-case hex SHA-256 digest of a document's compact JSON serialization.
std::string OpenApiV3Hash(const Json& document);

// Returns the component schema name of a kind, e.g. "io.kubeblocks.apps.v1alpha1.Cluster".
std::string OpenApiSchemaName(const ResourceType& type);

}  // namespace xblocks::api
