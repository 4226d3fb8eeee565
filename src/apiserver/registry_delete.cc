// Registry: delete with preconditions, propagation finalizers and deletionTimestamp.
#include <algorithm>
#include <optional>

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

// A pod bound to a node is deleted gracefully, as kube-apiserver does: the delete only marks
// it, and the node's agent removes it (with a grace period of 0) once its containers are
// stopped. Returns the grace period in seconds, or nullopt to delete at once.
std::optional<int64_t> PodGracePeriod(const api::ResourceType& type, const Json& pod, const DeleteOptions& options) {
  if (!type.group.empty() || type.plural != "pods") return std::nullopt;
  const Json& spec = pod.value("spec", Json::object());
  if (!spec.is_object() || spec.value("nodeName", "").empty()) return std::nullopt;
  const std::string phase = pod.value("status", Json::object()).value("phase", "");
  if (phase == "Succeeded" || phase == "Failed") return std::nullopt;
  int64_t grace = 30;
  if (spec.contains("terminationGracePeriodSeconds") && spec["terminationGracePeriodSeconds"].is_number_integer()) {
    grace = spec["terminationGracePeriodSeconds"].get<int64_t>();
  }
  if (options.grace_period_seconds) grace = *options.grace_period_seconds;
  // kube-apiserver turns a negative period into 1 s, and treats 0 as "now".
  if (grace < 0) grace = 1;
  const Json& meta = pod["metadata"];
  if (IsDeleting(pod) && meta.contains("deletionGracePeriodSeconds") &&
      meta["deletionGracePeriodSeconds"].is_number_integer()) {
    // A second delete may shorten the period, never lengthen it.
    grace = std::min(grace, meta["deletionGracePeriodSeconds"].get<int64_t>());
  }
  if (grace == 0) return std::nullopt;
  return grace;
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
    const std::optional<int64_t> grace = PodGracePeriod(type, object, options);
    const bool wait = !Finalizers(object).empty() || WaitsForNamespaceFinalizer(type, object) || grace.has_value();

    DeleteResult result;
    if (options.dry_run) {
      result.object = std::move(object);
      result.finalized = !wait;
      return result;
    }
    if (grace.has_value()) {
      const Json& meta = object["metadata"];
      const bool shorter = !meta.contains("deletionGracePeriodSeconds") ||
                           meta.value("deletionGracePeriodSeconds", int64_t{0}) != *grace;
      if (!IsDeleting(object) || shorter) {
        object["metadata"]["deletionTimestamp"] = FormatRfc3339(clock_.Now() + std::chrono::seconds(*grace));
        object["metadata"]["deletionGracePeriodSeconds"] = *grace;
      }
    } else if (wait && !IsDeleting(object)) {
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
