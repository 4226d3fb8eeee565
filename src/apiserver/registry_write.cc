// Registry: update, patch and delete, with the status subresource, generation and finalizers.
#include <fmt/format.h>

#include "api/patch.h"
#include "api/validation.h"
#include "apiserver/object_meta.h"
#include "apiserver/registry.h"

namespace xblocks::apiserver {
namespace {

constexpr int kMaxConflictRetries = 5;

// Metadata fields that only the server sets; an update keeps the stored values.
constexpr const char* kServerOwnedMeta[] = {"uid", "creationTimestamp", "deletionTimestamp",
                                            "deletionGracePeriodSeconds", "generation", "namespace"};

Status ConflictError(const api::ResourceType& type, const std::string& name) {
  return Conflict(fmt::format("Operation cannot be fulfilled on {} \"{}\": the object has been modified; please "
                              "apply your changes to the latest version and try again",
                              type.QualifiedResource(), name))
      .WithDetails({.name = name, .group = type.group, .kind = type.plural});
}

// Builds the object to store from the request's object and the stored one, following the
// status subresource rules: a main write keeps the stored status, a status write keeps
// everything but status.
Json MergeForUpdate(const api::ResourceType& type, const Json& current, Json updated, Subresource subresource) {
  if (subresource == Subresource::kStatus) {
    Json out = current;
    if (updated.contains("status")) {
      out["status"] = updated["status"];
    } else {
      out.erase("status");
    }
    return out;
  }
  if (type.has_status) {
    if (current.contains("status")) {
      updated["status"] = current["status"];
    } else {
      updated.erase("status");
    }
  }
  for (const char* field : kServerOwnedMeta) {
    if (current["metadata"].contains(field)) {
      updated["metadata"][field] = current["metadata"][field];
    } else {
      updated["metadata"].erase(field);
    }
  }
  return updated;
}

Status CheckIdentity(const api::ResourceType& type, const Json& updated, const std::string& name) {
  const std::string body_name = Name(updated);
  if (!body_name.empty() && body_name != name) {
    return BadRequest(fmt::format("the name of the object ({}) does not match the name on the URL ({})", body_name,
                                  name));
  }
  return Status::Ok();
}

// kube-apiserver reports a finalizer added to a deleting object as a field error (422).
Status CheckNoNewFinalizers(const api::ResourceType& type, const Json& current, const Json& updated) {
  if (!IsDeleting(current)) return Status::Ok();
  std::string added;
  for (const auto& finalizer : Finalizers(updated)) {
    if (!HasFinalizer(current, finalizer)) added += fmt::format("{}\"{}\"", added.empty() ? "" : ", ", finalizer);
  }
  if (added.empty()) return Status::Ok();
  const std::string cause = fmt::format(
      "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
      added);
  const std::string name = Name(current);
  return Invalid(fmt::format("{}.{} \"{}\" is invalid: metadata.finalizers: {}", type.kind, type.group, name, cause))
      .WithDetails({.name = name,
                    .group = type.group,
                    .kind = type.kind,
                    .causes = {{.type = "FieldValueForbidden", .message = cause, .field = "metadata.finalizers"}}});
}

Result<Json> ApplyPatch(const api::ResourceType& type, const Json& current, PatchType patch_type,
                        const Json& patch) {
  switch (patch_type) {
    case PatchType::kMerge:
      return api::ApplyMergePatch(current, patch);
    case PatchType::kJson:
      return api::ApplyJsonPatch(current, patch);
    case PatchType::kStrategic:
      if (!type.builtin) {
        return Status(StatusCode::kUnsupportedMediaType,
                      fmt::format("the body of the request was in an unknown format - accepted media types include: "
                                  "application/json-patch+json, application/merge-patch+json, "
                                  "application/apply-patch+yaml"));
      }
      return api::ApplyStrategicMergePatch(current, patch, type.kind);
    case PatchType::kApply:
      break;
  }
  return Internal("server-side apply is handled by the caller");
}

}  // namespace

Result<WriteResult> Registry::StoreUpdate(const api::ResourceType& type, const std::string& key,
                                          const Json& current, Json updated, const WriteOptions& options,
                                          int64_t expected_revision) {
  const std::string name = Name(current);
  XB_RETURN_IF_ERROR(CheckIdentity(type, updated, name));
  if (!updated.contains("metadata") || !updated["metadata"].is_object()) updated["metadata"] = Json::object();
  updated["metadata"]["name"] = name;
  Json object = MergeForUpdate(type, current, std::move(updated), options.subresource);
  XB_RETURN_IF_ERROR(CheckNoNewFinalizers(type, current, object));

  WriteResult result;
  if (options.subresource == Subresource::kNone) {
    XB_RETURN_IF_ERROR(Admit(type, object, &current, options, result.warnings));
  } else {
    // Status writes are checked against the schema too, so a stored object always validates.
    api::ApplyDefaults(type, object);
    XB_RETURN_IF_ERROR(api::ValidateObject(type, object, &current));
  }
  if (SpecPart(object) != SpecPart(current)) {
    object["metadata"]["generation"] = current["metadata"].value("generation", 1) + 1;
  }

  // A write that changes nothing is not stored and keeps the resourceVersion, as in Kubernetes.
  Json comparable = object;
  comparable["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"];
  Json current_defaulted = current;
  api::ApplyDefaults(type, current_defaulted);
  if (comparable == current_defaulted || options.dry_run) {
    result.object = options.dry_run ? std::move(comparable) : std::move(current_defaulted);
    return result;
  }

  const bool finalize = IsDeleting(object) && Finalizers(object).empty() &&
                        !(type.plural == "namespaces" && object["spec"].contains("finalizers") &&
                          !object["spec"]["finalizers"].empty());
  if (finalize) {
    auto deleted = store_.Delete(key, expected_revision);
    if (!deleted.ok()) {
      if (deleted.status().code() == StatusCode::kConflict) return ConflictError(type, name);
      return deleted.status();
    }
    result.object = std::move(*deleted);
    return result;
  }
  auto stored = store_.Update(key, std::move(object), expected_revision);
  if (!stored.ok()) {
    if (stored.status().code() == StatusCode::kConflict) return ConflictError(type, name);
    if (stored.status().code() == StatusCode::kNotFound) return NotFoundError(type, name);
    return stored.status();
  }
  result.object = std::move(*stored);
  api::ApplyDefaults(type, result.object);
  return result;
}

Result<WriteResult> Registry::Update(const api::ResourceType& type, const std::string& ns, const std::string& name,
                                     Json object, const WriteOptions& options) {
  if (!object.is_object()) return BadRequest("the request body must be a JSON or YAML object");
  // kube-apiserver checks the name before it looks at the stored object.
  XB_RETURN_IF_ERROR(CheckIdentity(type, object, name));
  const auto requested = ResourceVersion(object);
  if (!requested) {
    return Invalid(fmt::format("metadata.resourceVersion: Invalid value: \"{}\": must be a decimal number",
                               MetaString(object, "resourceVersion")));
  }
  const std::string key = Key(type, ns, name);
  for (int attempt = 0;; ++attempt) {
    auto current = store_.Get(key);
    if (!current.ok()) return NotFoundError(type, name);
    const int64_t current_revision = ResourceVersion(*current).value_or(0);
    if (*requested != 0 && *requested != current_revision) return ConflictError(type, name);
    auto result = StoreUpdate(type, key, *current, object, options, current_revision);
    const bool retry = !result.ok() && result.status().code() == StatusCode::kConflict && *requested == 0 &&
                       attempt < kMaxConflictRetries;
    if (!retry) return result;
  }
}

Result<WriteResult> Registry::PatchOnce(const api::ResourceType& type, const std::string& ns, const std::string& name,
                                        PatchType patch_type, const Json& patch, const WriteOptions& options) {
  const std::string key = Key(type, ns, name);
  auto current = store_.Get(key);
  if (patch_type == PatchType::kApply) {
    Json live = current.ok() ? *current : Json(nullptr);
    auto applied = api::ApplyServerSide(
        live, patch, {.field_manager = options.field_manager, .force = options.force, .api_version = type.ApiVersion(),
                      .now = clock_.Now()});
    if (!applied.ok()) return applied.status();
    if (!current.ok()) {
      auto created = Create(type, ns, std::move(*applied), options);
      if (created.ok()) created->created = true;
      return created;
    }
    return StoreUpdate(type, key, *current, std::move(*applied), options, ResourceVersion(*current).value_or(0));
  }

  if (!current.ok()) return NotFoundError(type, name);
  auto patched = ApplyPatch(type, *current, patch_type, patch);
  if (!patched.ok()) return patched.status();
  const auto requested = ResourceVersion(*patched);
  const int64_t current_revision = ResourceVersion(*current).value_or(0);
  if (!requested) return Invalid("metadata.resourceVersion: Invalid value: must be a decimal number");
  if (*requested != 0 && *requested != current_revision) return ConflictError(type, name);
  return StoreUpdate(type, key, *current, std::move(*patched), options, current_revision);
}

Result<WriteResult> Registry::Patch(const api::ResourceType& type, const std::string& ns, const std::string& name,
                                    PatchType patch_type, const Json& patch, const WriteOptions& options) {
  for (int attempt = 0;; ++attempt) {
    auto result = PatchOnce(type, ns, name, patch_type, patch, options);
    if (result.ok() || result.status().code() != StatusCode::kConflict || attempt >= kMaxConflictRetries) {
      return result;
    }
    // A conflict from a resourceVersion inside the patch is the client's; do not retry it.
    if (patch.is_object() && patch.contains("metadata") && patch["metadata"].is_object() &&
        patch["metadata"].contains("resourceVersion")) {
      return result;
    }
  }
}

}  // namespace xblocks::apiserver
