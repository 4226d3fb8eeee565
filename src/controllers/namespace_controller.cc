#include "controllers/namespace_controller.h"

#include "apiserver/object_meta.h"
#include "common/log.h"

namespace xblocks::controllers {

Result<size_t> NamespaceController::DeleteContent(const std::string& ns) {
  size_t remaining = 0;
  for (const auto& type : registry_.scheme().types()) {
    if (!type.namespaced) continue;
    for (const Json& object : registry_.store().List(apiserver::Registry::Prefix(type, ns)).items) {
      ++remaining;
      if (apiserver::IsDeleting(object)) continue;
      auto deleted = registry_.Delete(type, ns, apiserver::Name(object), {});
      if (!deleted.ok() && deleted.status().code() != StatusCode::kNotFound) {
        // A Cluster with terminationPolicy DoNotTerminate keeps its namespace until the policy changes.
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
    if (*remaining > 0) continue;
    if (Status s = Finalize(*type, ns_object); !s.ok()) result = s;
  }
  return result;
}

}  // namespace xblocks::controllers
