#include "api/scheme.h"

#include <algorithm>

#include "api/builtin_kinds.h"
#include "api/validation.h"
#include "api/yaml.h"
#include "common/embedded_files.h"

namespace xblocks::api {
namespace {

constexpr std::string_view kCrdDirectory = "deploy/crds/";

const Json& Member(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto found = object.find(key);
  return found == object.end() ? kNull : *found;
}

bool BoolField(const Json& object, const char* key, bool fallback) {
  const Json& value = Member(object, key);
  return value.is_boolean() ? value.get<bool>() : fallback;
}

std::string StringField(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : "";
}

std::vector<std::string> StringList(const Json& object, const char* key) {
  std::vector<std::string> list;
  if (!object.is_object() || !object.contains(key) || !object[key].is_array()) return list;
  for (const Json& item : object[key]) {
    if (item.is_string()) list.push_back(item.get<std::string>());
  }
  return list;
}

std::vector<PrinterColumn> ParseColumns(const Json& version) {
  std::vector<PrinterColumn> columns;
  const Json& items = Member(version, "additionalPrinterColumns");
  if (!items.is_array()) return columns;
  for (const Json& item : items) {
    PrinterColumn column;
    column.name = StringField(item, "name");
    column.type = StringField(item, "type");
    column.format = StringField(item, "format");
    column.description = StringField(item, "description");
    column.json_path = StringField(item, "jsonPath");
    const Json& priority = Member(item, "priority");
    if (priority.is_number_integer()) column.priority = priority.get<int>();
    columns.push_back(std::move(column));
  }
  return columns;
}

// The ResourceType fields every version of the CRD shares.
Result<ResourceType> ParseNames(const Json& spec) {
  ResourceType type;
  type.builtin = false;
  type.group = StringField(spec, "group");
  const Json& names = Member(spec, "names");
  type.kind = StringField(names, "kind");
  type.plural = StringField(names, "plural");
  type.singular = StringField(names, "singular");
  type.short_names = StringList(names, "shortNames");
  type.categories = StringList(names, "categories");
  type.namespaced = StringField(spec, "scope") != "Cluster";
  if (type.group.empty() || type.kind.empty() || type.plural.empty()) {
    return Invalid("CustomResourceDefinition needs spec.group, spec.names.kind and spec.names.plural");
  }
  if (type.singular.empty()) {
    type.singular = type.kind;
    std::transform(type.singular.begin(), type.singular.end(), type.singular.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  return type;
}

Result<ResourceType> ParseVersion(const ResourceType& names, const Json& version) {
  ResourceType type = names;
  type.version = StringField(version, "name");
  if (type.version.empty()) return Invalid("CustomResourceDefinition version needs a name");
  type.columns = ParseColumns(version);
  type.has_status = Member(Member(version, "subresources"), "status").is_object();
  if (BoolField(version, "deprecated", false)) {
    std::string warning = StringField(version, "deprecationWarning");
    if (warning.empty()) warning = type.group + "/" + type.version + " " + type.kind + " is deprecated";
    type.deprecation_warning = warning;
  }
  type.schema = Member(Member(version, "schema"), "openAPIV3Schema");
  XB_RETURN_IF_ERROR(CheckSchemaSupported(type.schema));
  return type;
}

Status AddEmbeddedCrds(Scheme& scheme) {
  for (const EmbeddedFile& file : EmbeddedFiles()) {
    if (file.path.substr(0, kCrdDirectory.size()) != kCrdDirectory) continue;
    Result<std::vector<Json>> documents = ParseYamlDocuments(file.content);
    if (!documents.ok()) {
      return Internal("embedded CRD " + std::string(file.path) + " does not parse: " +
                      documents.status().message());
    }
    for (const Json& crd : *documents) {
      Status added = scheme.AddCustomResourceDefinition(crd);
      if (!added.ok()) {
        return Internal("embedded CRD " + std::string(file.path) + " is not usable: " + added.message());
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Scheme> Scheme::Load() {
  Scheme scheme;
  for (ResourceType& type : BuiltinKinds()) scheme.Add(std::move(type));
  XB_RETURN_IF_ERROR(AddEmbeddedCrds(scheme));
  return scheme;
}

Status Scheme::AddCustomResourceDefinition(const Json& crd) {
  if (!crd.is_object() || StringField(crd, "kind") != "CustomResourceDefinition") {
    return Invalid("not a CustomResourceDefinition");
  }
  const Json& spec = Member(crd, "spec");
  Result<ResourceType> names = ParseNames(spec);
  if (!names.ok()) return names.status();
  const Json& versions = Member(spec, "versions");
  if (!versions.is_array()) {
    return Invalid("CustomResourceDefinition " + names->plural + " has no spec.versions");
  }

  std::vector<ResourceType> parsed;
  for (const Json& version : versions) {
    if (!BoolField(version, "served", true)) continue;
    Result<ResourceType> type = ParseVersion(*names, version);
    if (!type.ok()) return type.status();
    parsed.push_back(std::move(*type));
  }
  for (ResourceType& type : parsed) Add(std::move(type));
  return Status::Ok();
}

void Scheme::Add(ResourceType type) {
  for (ResourceType& existing : types_) {
    if (existing.group == type.group && existing.version == type.version && existing.plural == type.plural) {
      existing = std::move(type);
      return;
    }
  }
  types_.push_back(std::move(type));
}

const ResourceType* Scheme::Find(const std::string& group, const std::string& version,
                                 const std::string& plural) const {
  for (const ResourceType& type : types_) {
    if (type.group == group && type.version == version && type.plural == plural) return &type;
  }
  return nullptr;
}

const ResourceType* Scheme::FindByKind(const std::string& api_version, const std::string& kind) const {
  for (const ResourceType& type : types_) {
    if (type.ApiVersion() == api_version && type.kind == kind) return &type;
  }
  return nullptr;
}

std::vector<std::string> Scheme::Groups() const {
  std::vector<std::string> groups;
  bool has_core = std::any_of(types_.begin(), types_.end(), [](const ResourceType& t) { return t.group.empty(); });
  if (has_core) groups.push_back("");
  for (const ResourceType& type : types_) {
    if (type.group.empty()) continue;
    if (std::find(groups.begin(), groups.end(), type.group) == groups.end()) groups.push_back(type.group);
  }
  return groups;
}

}  // namespace xblocks::api
