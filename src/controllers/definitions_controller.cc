#include "controllers/definitions_controller.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "apiserver/object_meta.h"
#include "common/log.h"

namespace xblocks::controllers {
namespace {

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

namespace res = client::resources;

bool DefinitionsController::Referenced(const client::Resource& resource, const std::string& key,
                                       const std::string& value) const {
  auto listed = client_.List(resource, "", {key + "=" + value, ""});
  return !listed.ok() || !listed->items.empty();
}

Status DefinitionsController::WriteStatus(const client::Resource& resource, const Json& object, const Json& status) {
  Json current_status = object.value("status", Json::object());
  Json merged = current_status;
  merged.update(status);
  if (merged == current_status) return Status::Ok();
  Json updated = object;
  updated["status"] = merged;
  auto written = client_.UpdateStatus(resource, updated);
  if (!written.ok() && written.status().code() != StatusCode::kNotFound) return written.status();
  XB_LOG_INFO("definition status updated", {{"controller", "definitions"},
                                            {"kind", object.value("kind", "")},
                                            {"name", apiserver::Name(object)},
                                            {"phase", merged.value("phase", "")}});
  return Status::Ok();
}

Result<std::optional<Json>> DefinitionsController::WriteMeta(const client::Resource& resource, Json object) {
  if (!object["metadata"].contains("finalizers")) object["metadata"]["finalizers"] = Json::array();
  auto written = client_.Update(resource, object);
  if (written.ok()) return std::optional<Json>(std::move(*written));
  if (written.status().code() == StatusCode::kNotFound) return std::optional<Json>();
  return written.status();
}

Status DefinitionsController::SyncClusterDefinition(const Json& object) {
  const std::string name = apiserver::Name(object);
  if (apiserver::IsDeleting(object)) {
    if (!apiserver::HasFinalizer(object, kCdFinalizer)) return Status::Ok();
    if (Referenced(res::kClusters, kCdLabel, name) || Referenced(res::kClusterVersions, kCdLabel, name)) {
      return Status::Ok();
    }
    Json updated = object;
    apiserver::RemoveFinalizer(updated, kCdFinalizer);
    return WriteMeta(res::kClusterDefinitions, std::move(updated)).status();
  }
  // The status follows in the same pass, so a definition is Available after one pass.
  Json current = object;
  if (!apiserver::HasFinalizer(object, kCdFinalizer)) {
    apiserver::AddFinalizer(current, kCdFinalizer);
    auto written = WriteMeta(res::kClusterDefinitions, std::move(current));
    if (!written.ok() || !written->has_value()) return written.status();
    current = std::move(**written);
  }
  return WriteStatus(res::kClusterDefinitions, current,
                     {{"phase", "Available"},
                      {"topologies", Topologies(object)},
                      {"serviceRefs", ""},
                      {"observedGeneration", current["metadata"].value("generation", 1)}});
}

Status DefinitionsController::SyncClusterVersion(const Json& object) {
  const std::string name = apiserver::Name(object);
  if (apiserver::IsDeleting(object)) {
    if (!apiserver::HasFinalizer(object, kCvFinalizer) || Referenced(res::kClusters, kCvLabel, name)) {
      return Status::Ok();
    }
    Json updated = object;
    apiserver::RemoveFinalizer(updated, kCvFinalizer);
    return WriteMeta(res::kClusterVersions, std::move(updated)).status();
  }
  const std::string cd_name = object["spec"].value("clusterDefinitionRef", "");
  const bool labelled = object["metadata"].contains("labels") && object["metadata"]["labels"].value(kCdLabel, "") == cd_name;
  Json current = object;
  if (!apiserver::HasFinalizer(object, kCvFinalizer) || !labelled) {
    apiserver::AddFinalizer(current, kCvFinalizer);
    current["metadata"]["labels"][kCdLabel] = cd_name;
    auto written = WriteMeta(res::kClusterVersions, std::move(current));
    if (!written.ok() || !written->has_value()) return written.status();
    current = std::move(**written);
  }
  Json cd = nullptr;
  auto found = client_.Get(res::kClusterDefinitions, "", cd_name);
  if (found.ok()) {
    cd = std::move(*found);
  } else if (found.status().code() != StatusCode::kNotFound) {
    return found.status();
  }
  return WriteStatus(res::kClusterVersions, current, ClusterVersionStatus(current, cd, cd_name));
}

Status DefinitionsController::Sync() {
  Status result = Status::Ok();
  for (const client::Resource* resource : {&res::kClusterDefinitions, &res::kClusterVersions}) {
    auto listed = client_.List(*resource, "", {});
    if (!listed.ok()) return listed.status();
    for (const Json& object : listed->items) {
      Status status = resource == &res::kClusterDefinitions ? SyncClusterDefinition(object) : SyncClusterVersion(object);
      if (!status.ok()) result = status;
    }
  }
  return result;
}

}  // namespace xblocks::controllers
