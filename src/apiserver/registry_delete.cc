// Registry: delete with preconditions, propagation finalizers and deletionTimestamp.
#include <fmt/format.h>

#include "apiserver/admission.h"
#include "apiserver/object_meta.h"
#include "apiserver/registry.h"

namespace xblocks::apiserver {
namespace {

constexpr int kMaxConflictRetries = 5;

Status CheckPreconditions(const api::ResourceType& type, const Json& current, const DeleteOptions& options) {
  const std::string name = Name(current);
  if (!options.precondition_uid.empty() && options.precondition_uid != Uid(current)) {
    return Conflict(fmt::format("Precondition failed: UID in precondition: {}, UID in object meta: {}",
                                options.precondition_uid, Uid(current)))
        .WithDetails({.name = name, .group = type.group, .kind = type.plural});
  }
  if (!options.precondition_resource_version.empty() &&
      options.precondition_resource_version != MetaString(current, "resourceVersion")) {
    return Conflict(fmt::format("Precondition failed: ResourceVersion in precondition: {}, ResourceVersion in object "
                                "meta: {}",
                                options.precondition_resource_version, MetaString(current, "resourceVersion")))
        .WithDetails({.name = name, .group = type.group, .kind = type.plural});
  }
  return Status::Ok();
}

// Namespaces always wait for the namespace controller, which empties them and then clears
// spec.finalizers.
bool WaitsForNamespaceFinalizer(const api::ResourceType& type, const Json& object) {
  return type.group.empty() && type.plural == "namespaces" && object.contains("spec") &&
         object["spec"].contains("finalizers") && !object["spec"]["finalizers"].empty();
}

}  // namespace

Result<DeleteResult> Registry::Delete(const api::ResourceType& type, const std::string& ns, const std::string& name,
                                      const DeleteOptions& options) {
  const std::string key = Key(type, ns, name);
  for (int attempt = 0;; ++attempt) {
    auto current = store_.Get(key);
    if (!current.ok()) return NotFoundError(type, name);
    XB_RETURN_IF_ERROR(CheckPreconditions(type, *current, options));
    XB_RETURN_IF_ERROR(AdmitDelete(type, *current));
    const int64_t revision = ResourceVersion(*current).value_or(0);

    Json object = *current;
    if (options.propagation == Propagation::kOrphan) AddFinalizer(object, "orphan");
    if (options.propagation == Propagation::kForeground) AddFinalizer(object, "foregroundDeletion");
    const bool wait = !Finalizers(object).empty() || WaitsForNamespaceFinalizer(type, object);

    DeleteResult result;
    if (options.dry_run) {
      result.object = std::move(object);
      result.finalized = !wait;
      return result;
    }
    if (wait && !IsDeleting(object)) {
      object["metadata"]["deletionTimestamp"] = FormatRfc3339(clock_.Now());
      object["metadata"]["deletionGracePeriodSeconds"] = 0;
      if (type.group.empty() && type.plural == "namespaces") object["status"]["phase"] = "Terminating";
    }
    Result<Json> written = !wait                ? store_.Delete(key, revision)
                           : object == *current ? Result<Json>(std::move(object))
                                                : store_.Update(key, std::move(object), revision);
    if (written.ok()) {
      result.object = std::move(*written);
      result.finalized = !wait;
      return result;
    }
    if (written.status().code() != StatusCode::kConflict || attempt >= kMaxConflictRetries) return written.status();
  }
}

}  // namespace xblocks::apiserver
