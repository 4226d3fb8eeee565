#include "controllers/definitions_controller.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "apiserver/object_meta.h"
#include "common/log.h"

namespace xblocks::controllers {
namespace {

constexpr const char* kGroup = "apps.kubeblocks.io";
constexpr const char* kCdFinalizer = "clusterdefinition.kubeblocks.io/finalizer";
constexpr const char* kCvFinalizer = "clusterversion.kubeblocks.io/finalizer";
constexpr const char* kCdLabel = "clusterdefinition.kubeblocks.io/name";
constexpr const char* kCvLabel = "clusterversion.kubeblocks.io/name";

std::string Topologies(const Json& cd) {
  std::vector<std::string> names;
  if (cd.contains("spec") && cd["spec"].contains("topologies") && cd["spec"]["topologies"].is_array()) {
    for (const auto& topology : cd["spec"]["topologies"]) names.push_back(topology.value("name", ""));
  }
  std::sort(names.begin(), names.end());
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ",") + name;
  return joined;
}

std::set<std::string> ComponentDefNames(const Json& cd) {
  std::set<std::string> names;
  if (cd.contains("spec") && cd["spec"].contains("componentDefs") && cd["spec"]["componentDefs"].is_array()) {
    for (const auto& def : cd["spec"]["componentDefs"]) names.insert(def.value("name", ""));
  }
  return names;
}

// The ClusterVersion's status given its ClusterDefinition (null when missing).
Json ClusterVersionStatus(const Json& cv, const Json& cd, const std::string& cd_name) {
  Json status = {{"observedGeneration", cv["metadata"].value("generation", 1)}};
  if (cd.is_null()) {
    status["phase"] = "Unavailable";
    status["message"] = fmt::format("ClusterDefinition.apps.kubeblocks.io \"{}\" not found", cd_name);
    return status;
  }
  status["clusterDefGeneration"] = cd["metadata"].value("generation", 1);
  const auto defs = ComponentDefNames(cd);
  std::vector<std::string> missing;
  for (const auto& version : cv["spec"].value("componentVersions", Json::array())) {
    std::string ref = version.value("componentDefRef", "");
    if (defs.count(ref) == 0) missing.push_back(ref);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& ref : missing) list += (list.empty() ? "" : " ") + ref;
    status["phase"] = "Unavailable";
    status["message"] = fmt::format(
        "spec.componentSpecs[*].componentDefRef [{}] not found in ClusterDefinition.spec.componentDefs[*].name", list);
    return status;
  }
  status["phase"] = "Available";
  status["message"] = "";
  return status;
}

}  // namespace

bool DefinitionsController::Referenced(const std::string& plural, const std::string& key,
                                       const std::string& value) const {
  const api::ResourceType* type = registry_.scheme().Find(kGroup, "v1alpha1", plural);
  if (type == nullptr) return false;
  auto listed = registry_.List(*type, "", {.label_selector = key + "=" + value});
  return listed.ok() && !listed->items.empty();
}

Status DefinitionsController::WriteStatus(const api::ResourceType& type, const Json& object, const Json& status) {
  Json current_status = object.value("status", Json::object());
  Json merged = current_status;
  merged.update(status);
  if (merged == current_status) return Status::Ok();
  Json updated = object;
  updated["status"] = merged;
  auto written = registry_.Update(type, "", apiserver::Name(object), std::move(updated),
                                  {.subresource = apiserver::Subresource::kStatus});
  if (!written.ok() && written.status().code() != StatusCode::kNotFound) return written.status();
  XB_LOG_INFO("definition status updated", {{"controller", "definitions"},
                                            {"kind", type.kind},
                                            {"name", apiserver::Name(object)},
                                            {"phase", merged.value("phase", "")}});
  return Status::Ok();
}

Result<std::optional<Json>> DefinitionsController::WriteMeta(const api::ResourceType& type, Json object) {
  if (!object["metadata"].contains("finalizers")) object["metadata"]["finalizers"] = Json::array();
  const std::string name = apiserver::Name(object);
  auto written = registry_.Update(type, "", name, std::move(object),
                                  {.field_validation = apiserver::FieldValidation::kIgnore});
  if (written.ok()) return std::optional<Json>(std::move(written->object));
  if (written.status().code() == StatusCode::kNotFound) return std::optional<Json>();
  return written.status();
}

Status DefinitionsController::SyncClusterDefinition(const api::ResourceType& type, const Json& object) {
  const std::string name = apiserver::Name(object);
  if (apiserver::IsDeleting(object)) {
    if (!apiserver::HasFinalizer(object, kCdFinalizer)) return Status::Ok();
    if (Referenced("clusters", kCdLabel, name) || Referenced("clusterversions", kCdLabel, name)) return Status::Ok();
    Json updated = object;
    apiserver::RemoveFinalizer(updated, kCdFinalizer);
    return WriteMeta(type, std::move(updated)).status();
  }
  // The status follows in the same pass, so a definition is Available after one pass.
  Json current = object;
  if (!apiserver::HasFinalizer(object, kCdFinalizer)) {
    apiserver::AddFinalizer(current, kCdFinalizer);
    auto written = WriteMeta(type, std::move(current));
    if (!written.ok() || !written->has_value()) return written.status();
    current = std::move(**written);
  }
  return WriteStatus(type, current,
                     {{"phase", "Available"},
                      {"topologies", Topologies(object)},
                      {"serviceRefs", ""},
                      {"observedGeneration", current["metadata"].value("generation", 1)}});
}

Status DefinitionsController::SyncClusterVersion(const api::ResourceType& type, const Json& object) {
  const std::string name = apiserver::Name(object);
  if (apiserver::IsDeleting(object)) {
    if (!apiserver::HasFinalizer(object, kCvFinalizer) || Referenced("clusters", kCvLabel, name)) return Status::Ok();
    Json updated = object;
    apiserver::RemoveFinalizer(updated, kCvFinalizer);
    return WriteMeta(type, std::move(updated)).status();
  }
  const std::string cd_name = object["spec"].value("clusterDefinitionRef", "");
  const bool labelled = object["metadata"].contains("labels") && object["metadata"]["labels"].value(kCdLabel, "") == cd_name;
  Json current = object;
  if (!apiserver::HasFinalizer(object, kCvFinalizer) || !labelled) {
    apiserver::AddFinalizer(current, kCvFinalizer);
    current["metadata"]["labels"][kCdLabel] = cd_name;
    auto written = WriteMeta(type, std::move(current));
    if (!written.ok() || !written->has_value()) return written.status();
    current = std::move(**written);
  }
  const api::ResourceType* cd_type = registry_.scheme().Find(kGroup, "v1alpha1", "clusterdefinitions");
  Json cd = nullptr;
  if (cd_type != nullptr) {
    auto found = registry_.Get(*cd_type, "", cd_name);
    if (found.ok()) cd = std::move(*found);
  }
  return WriteStatus(type, current, ClusterVersionStatus(current, cd, cd_name));
}

Status DefinitionsController::Sync() {
  Status result = Status::Ok();
  for (const char* plural : {"clusterdefinitions", "clusterversions"}) {
    const api::ResourceType* type = registry_.scheme().Find(kGroup, "v1alpha1", plural);
    if (type == nullptr) return Internal(fmt::format("the scheme has no {}.{} resource", plural, kGroup));
    for (const Json& object : registry_.store().List(type->KeyPrefix()).items) {
      Status status = type->plural == "clusterdefinitions" ? SyncClusterDefinition(*type, object)
                                                           : SyncClusterVersion(*type, object);
      if (!status.ok()) result = status;
    }
  }
  return result;
}

}  // namespace xblocks::controllers
