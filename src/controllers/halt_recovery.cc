#include "controllers/halt_recovery.h"

#include <fmt/format.h>

#include "api/json_fields.h"
#include "apiserver/object_meta.h"
#include "common/quantity.h"
#include "controllers/kubeblocks_names.h"
#include "controllers/ops_request_types.h"

namespace xblocks::controllers {
namespace {

// The first field where a new cluster's spec differs from the stored one.
struct Mismatch {
  std::string path;  // below "spec.", e.g. "componentSpecs[xinference].replicas"
  std::string current;
  std::string stored;
};

// Renders a field value the way it reads in YAML: strings bare, other values as compact JSON.
std::string Text(const Json& value) {
  if (value.is_null()) return "<unset>";
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// A copy of volume claim templates with every quantity under spec.resources replaced by its value
// in thousandths, so "1Gi", "1024Mi" and "1073741824" compare equal.
Json CanonicalTemplates(const Json& templates) {
  Json out = templates.is_array() ? templates : Json::array();
  for (Json& entry : out) {
    if (!entry.is_object() || !api::MemberOf(entry, "spec").is_object()) continue;
    Json& resources = entry["spec"]["resources"];
    if (!resources.is_object()) continue;
    for (const char* list : {"requests", "limits"}) {
      if (!resources.contains(list) || !resources[list].is_object()) continue;
      for (auto& [key, value] : resources[list].items()) {
        if (!value.is_string()) continue;
        auto parsed = ParseQuantity(value.get<std::string>());
        if (parsed.ok()) value = parsed->MilliValue();
      }
    }
  }
  return out;
}

bool AnnotationIsTrue(const Json& cluster, const char* key) {
  return api::StringMemberOf(api::ObjectAt(cluster, "metadata.annotations"), key) == "true";
}

std::optional<Mismatch> CompareComponent(const Json& current, const Json& stored, bool compare_resources) {
  const std::string name = api::StringMemberOf(stored, "name");
  const std::string prefix = fmt::format("componentSpecs[{}].", name);
  if (api::StringMemberOf(current, "name") != name) {
    return Mismatch{prefix + "name", api::StringMemberOf(current, "name"), name};
  }
  for (const char* field : {"componentDefRef", "replicas"}) {
    Json current_value = api::MemberOf(current, field);
    Json stored_value = api::MemberOf(stored, field);
    // replicas defaults to 1 in the Cluster CRD.
    if (std::string_view(field) == "replicas") {
      if (current_value.is_null()) current_value = 1;
      if (stored_value.is_null()) stored_value = 1;
    }
    if (current_value != stored_value) return Mismatch{prefix + field, Text(current_value), Text(stored_value)};
  }
  if (!compare_resources) return std::nullopt;

  const Json& current_templates = api::MemberOf(current, "volumeClaimTemplates");
  const Json& stored_templates = api::MemberOf(stored, "volumeClaimTemplates");
  if (CanonicalTemplates(current_templates) != CanonicalTemplates(stored_templates)) {
    return Mismatch{prefix + "volumeClaimTemplates", Text(current_templates), Text(stored_templates)};
  }
  if (api::MemberOf(current, "classDefRef") != api::MemberOf(stored, "classDefRef")) {
    return Mismatch{prefix + "classDefRef", Text(api::MemberOf(current, "classDefRef")),
                    Text(api::MemberOf(stored, "classDefRef"))};
  }
  const Json& current_resources = api::MemberOf(current, "resources");
  const Json& stored_resources = api::MemberOf(stored, "resources");
  if (!ops::SameResources(current_resources, stored_resources)) {
    return Mismatch{prefix + "resources", Text(current_resources), Text(stored_resources)};
  }
  return std::nullopt;
}

std::optional<Mismatch> CompareSpecs(const Json& cluster, const Json& stored_cluster) {
  const Json& current = api::ObjectAt(cluster, "spec");
  const Json& stored = api::ObjectAt(stored_cluster, "spec");
  std::vector<const char*> refs = {"clusterDefinitionRef"};
  if (!AnnotationIsTrue(cluster, kAllowInconsistentCvAnnotation)) refs.push_back("clusterVersionRef");
  for (const char* field : refs) {
    if (api::StringMemberOf(current, field) != api::StringMemberOf(stored, field)) {
      return Mismatch{field, api::StringMemberOf(current, field), api::StringMemberOf(stored, field)};
    }
  }

  const Json& current_components = api::ArrayAt(current, "componentSpecs");
  const Json& stored_components = api::ArrayAt(stored, "componentSpecs");
  if (current_components.size() != stored_components.size()) {
    return Mismatch{"componentSpecs (number of components)", std::to_string(current_components.size()),
                    std::to_string(stored_components.size())};
  }
  const bool compare_resources = !AnnotationIsTrue(cluster, kAllowInconsistentResourceAnnotation);
  for (size_t i = 0; i < stored_components.size(); ++i) {
    if (auto mismatch = CompareComponent(current_components[i], stored_components[i], compare_resources)) {
      return mismatch;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<HaltRecoveryFailure> CheckHaltRecovery(const Json& cluster, const std::vector<Json>& pvcs) {
  if (pvcs.empty()) return std::nullopt;
  const std::string ns = apiserver::Namespace(cluster);
  const std::string name = apiserver::Name(cluster);
  const std::string list_command =
      fmt::format("kubectl -n {} get pvc,secret,cm -l {}={}", ns, kb::kInstanceLabel, name);

  const Json& first = pvcs.front();
  const Json& stored_text = api::MemberOf(api::ObjectAt(first, "metadata.annotations"), kLastAppliedClusterAnnotation);
  if (!stored_text.is_string()) {
    return HaltRecoveryFailure{
        "UncleanedResources",
        fmt::format("found uncleaned resources, requires manual deletion, check with `{}`", list_command)};
  }
  Json stored = Json::parse(stored_text.get<std::string>(), nullptr, /*allow_exceptions=*/false);
  if (!stored.is_object()) {
    return HaltRecoveryFailure{
        "HaltRecoveryFailed",
        fmt::format("annotation {} of PersistentVolumeClaim {} is not a JSON object; delete the kept resources "
                    "(`{}`) or restore the annotation",
                    kLastAppliedClusterAnnotation, apiserver::Name(first), list_command)};
  }
  if (api::StringAt(stored, "metadata.uid") == apiserver::Uid(cluster)) return std::nullopt;

  auto mismatch = CompareSpecs(cluster, stored);
  if (!mismatch) return std::nullopt;
  return HaltRecoveryFailure{
      "HaltRecoveryFailed",
      fmt::format("spec.{}={} is not equal to last applied cluster.spec.{}={}; re-create the cluster with the "
                  "last applied spec (annotation {} on PersistentVolumeClaim {}), or delete the resources that "
                  "Halt kept (`{}`)",
                  mismatch->path, mismatch->current, mismatch->path, mismatch->stored, kLastAppliedClusterAnnotation,
                  apiserver::Name(first), list_command)};
}

}  // namespace xblocks::controllers
