// Component schemas of the OpenAPI v3 documents: kind schemas and the meta.k8s.io types they
// reference (see openapi.h).
#pragma once

#include <string>

#include "api/scheme.h"
#include "common/json.h"

namespace xblocks::api {

inline constexpr const char* kObjectMetaSchema = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
inline constexpr const char* kListMetaSchema = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
inline constexpr const char* kStatusSchema = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
inline constexpr const char* kPatchSchema = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";

// "#/components/schemas/<name>".
Json SchemaRef(const std::string& name);
// The x-kubernetes-group-version-kind value of a kind: {"group", "version", "kind"}.
Json GroupVersionKind(const ResourceType& type, const std::string& kind);

// The schema of a kind: the CRD's openAPIV3Schema with metadata pointing at ObjectMeta, or a
// permissive object schema for built-in kinds.
Json KindSchema(const ResourceType& type);
// The schema of the kind's list (<Kind>List).
Json ListSchema(const ResourceType& type, const std::string& item_schema_name);
// Adds ObjectMeta, ListMeta, Status and Patch to `schemas`.
void AddMetaSchemas(Json& schemas);

}  // namespace xblocks::api
