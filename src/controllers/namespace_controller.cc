#include "controllers/namespace_controller.h"

#include <fmt/format.h>

#include "api/json_fields.h"
#include "apiserver/object_meta.h"
#include "common/log.h"
#include "common/time.h"

namespace xblocks::controllers {

Result<NamespaceController::Remaining> NamespaceController::DeleteContent(const std::string& ns) {
  Remaining remaining;
  for (const auto& type : registry_.scheme().types()) {
    if (!type.namespaced) continue;
    const std::string resource = type.group.empty() ? type.plural : type.plural + "." + type.group;
    for (const Json& object : registry_.store().List(apiserver::Registry::Prefix(type, ns)).items) {
      ++remaining.resources[resource];
      for (const auto& finalizer : api::ArrayAt(object, "metadata.finalizers")) {
        if (finalizer.is_string()) ++remaining.finalizers[finalizer.get<std::string>()];
      }
      if (apiserver::IsDeleting(object)) continue;
      auto deleted = registry_.Delete(type, ns, apiserver::Name(object), {});
      if (!deleted.ok() && deleted.status().code() != StatusCode::kNotFound) {
        // A Cluster with terminationPolicy DoNotTerminate keeps its namespace until the policy changes.
        remaining.errors.push_back(deleted.status().message());
        XB_LOG_WARN("namespace content not deleted", {{"controller", "namespace"},
                                                      {"namespace", ns},
                                                      {"kind", type.kind},
                                                      {"name", apiserver::Name(object)},
                                                      {"err", deleted.status().message()}});
      }
    }
  }
  return remaining;
}

Status NamespaceController::WriteConditions(const api::ResourceType& type, const Json& ns_object,
                                            const Remaining& remaining) {
  auto condition = [](const char* kind, bool failing, const char* reason_true, const std::string& message_true,
                      const char* reason_false, const char* message_false) {
    return Json{{"type", kind},
                {"status", failing ? "True" : "False"},
                {"reason", failing ? reason_true : reason_false},
                {"message", failing ? message_true : message_false}};
  };
  std::vector<std::string> resources;
  for (const auto& [resource, count] : remaining.resources) {
    resources.push_back(fmt::format("{} has {} resource instances", resource, count));
  }
  std::vector<std::string> finalizers;
  for (const auto& [finalizer, count] : remaining.finalizers) {
    finalizers.push_back(fmt::format("{} in {} resource instances", finalizer, count));
  }
  const Json conditions = {
      condition("NamespaceDeletionDiscoveryFailure", false, "", "", "ResourcesDiscovered",
                "All resources successfully discovered"),
      condition("NamespaceDeletionGroupVersionParsingFailure", false, "", "", "ParsedGroupVersions",
                "All legacy kube types successfully parsed"),
      condition("NamespaceDeletionContentFailure", !remaining.errors.empty(), "ContentDeletionFailed",
                fmt::format("Failed to delete all resource types, {} remaining: {}", remaining.errors.size(),
                            fmt::join(remaining.errors, ", ")),
                "ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
      condition("NamespaceContentRemaining", !resources.empty(), "SomeResourcesRemain",
                fmt::format("Some resources are remaining: {}", fmt::join(resources, ", ")), "ContentRemoved",
                "All content successfully removed"),
      condition("NamespaceFinalizersRemaining", !finalizers.empty(), "SomeFinalizersRemain",
                fmt::format("Some content in the namespace has finalizers remaining: {}", fmt::join(finalizers, ", ")),
                "ContentHasNoFinalizers", "All content-preserving finalizers finished"),
  };
  Json updated = ns_object;
  const Json& old_conditions = api::ArrayAt(ns_object, "status.conditions");
  Json merged = Json::array();
  const std::string now = FormatRfc3339(std::chrono::system_clock::now());
  for (Json entry : conditions) {
    entry["lastTransitionTime"] = now;
    for (const Json& old : old_conditions) {
      if (api::StringMemberOf(old, "type") != entry["type"]) continue;
      if (api::StringMemberOf(old, "status") == entry["status"]) {
        entry["lastTransitionTime"] = old.value("lastTransitionTime", now);
      }
    }
    merged.push_back(entry);
  }
  // Compare without times, so an unchanged state writes nothing.
  auto without_times = [](Json list) {
    for (Json& entry : list) {
      if (entry.is_object()) entry.erase("lastTransitionTime");
    }
    return list;
  };
  if (without_times(merged) == without_times(old_conditions)) return Status::Ok();
  updated["status"]["conditions"] = merged;
  auto written = registry_.Update(type, "", apiserver::Name(ns_object), std::move(updated),
                                  {.subresource = apiserver::Subresource::kStatus});
  if (!written.ok() && written.status().code() != StatusCode::kNotFound) return written.status();
  return Status::Ok();
}

Status NamespaceController::Finalize(const api::ResourceType& type, const Json& ns_object) {
  Json updated = ns_object;
  Json kept = Json::array();
  for (const auto& finalizer : updated["spec"].value("finalizers", Json::array())) {
    if (finalizer != "kubernetes") kept.push_back(finalizer);
  }
  updated["spec"]["finalizers"] = kept;
  auto written = registry_.Update(type, "", apiserver::Name(ns_object), std::move(updated),
                                  {.field_validation = apiserver::FieldValidation::kIgnore});
  if (!written.ok() && written.status().code() != StatusCode::kNotFound) return written.status();
  XB_LOG_INFO("namespace finalized", {{"controller", "namespace"}, {"name", apiserver::Name(ns_object)}});
  return Status::Ok();
}

Status NamespaceController::Sync() {
  const api::ResourceType* type = registry_.scheme().Find("", "v1", "namespaces");
  if (type == nullptr) return Internal("the scheme has no namespaces resource");
  Status result = Status::Ok();
  for (const Json& ns_object : registry_.store().List(type->KeyPrefix()).items) {
    if (!apiserver::IsDeleting(ns_object)) continue;
    const std::string ns = apiserver::Name(ns_object);
    auto remaining = DeleteContent(ns);
    if (!remaining.ok()) {
      result = remaining.status();
      continue;
    }
    if (!remaining->empty()) {
      if (Status s = WriteConditions(*type, ns_object, *remaining); !s.ok()) result = s;
      continue;
    }
    if (Status s = Finalize(*type, ns_object); !s.ok()) result = s;
  }
  return result;
}

}  // namespace xblocks::controllers
