#include "api/openapi.h"

#include <openssl/evp.h>

#include <fmt/format.h>

#include "api/openapi_schemas.h"

namespace xblocks::api {
namespace {

// The group version an OpenAPI path addresses: "api/v1" -> ("", "v1").
struct GroupVersion {
  std::string group;
  std::string version;
};

std::string GroupVersionPath(const ResourceType& type) { return type.PathPrefix().substr(1); }

Json QueryParameter(const char* name, const char* type, const char* description) {
  return {{"name", name}, {"in", "query"}, {"description", description}, {"schema", {{"type", type}}},
          {"uniqueItems", true}};
}

Json PathParameter(const char* name, const char* description) {
  return {{"name", name}, {"in", "path"}, {"required", true}, {"description", description},
          {"schema", {{"type", "string"}}}, {"uniqueItems", true}};
}

Json WriteParameters(bool patch) {
  Json parameters = Json::array({
      QueryParameter("dryRun", "string", "When All, the request is validated but not persisted."),
      QueryParameter("fieldManager", "string", "Name of the actor making the change, for managed fields."),
      QueryParameter("fieldValidation", "string",
                     "How unknown or duplicate fields are handled: Ignore, Warn or Strict."),
  });
  if (patch) {
    parameters.push_back(QueryParameter("force", "boolean", "Takes ownership of conflicting fields in an apply patch."));
  }
  return parameters;
}

Json ListParameters() {
  return Json::array({
      QueryParameter("labelSelector", "string", "Selects objects by their labels."),
      QueryParameter("fieldSelector", "string", "Selects objects by their fields."),
      QueryParameter("limit", "integer", "Maximum number of objects to return in one page."),
      QueryParameter("continue", "string", "Token of the next page, from the previous response."),
      QueryParameter("resourceVersion", "string", "Which version of the collection to serve."),
      QueryParameter("watch", "boolean", "Streams changes instead of returning a list."),
      QueryParameter("allowWatchBookmarks", "boolean", "Asks for BOOKMARK events in a watch."),
      QueryParameter("timeoutSeconds", "integer", "Ends the request after this many seconds."),
  });
}

Json JsonContent(const Json& schema) {
  return {{"application/json", {{"schema", schema}}}, {"application/yaml", {{"schema", schema}}}};
}

Json OkResponse(const Json& schema) {
  return {{"200", {{"description", "OK"}, {"content", JsonContent(schema)}}}};
}

Json PatchBody() {
  Json schema = SchemaRef(kPatchSchema);
  // Strategic merge is never offered, so kubectl does not compute strategic patches from
  // these schemas (which lack the patch-strategy extensions).
  return {{"required", true},
          {"content", {{"application/apply-patch+yaml", {{"schema", schema}}},
                       {"application/json-patch+json", {{"schema", schema}}},
                       {"application/merge-patch+json", {{"schema", schema}}}}}};
}

struct OperationSpec {
  const char* method;
  const char* action;
  const char* verb;  // operationId prefix
};

// One operation of `type` at one path.
Json Operation(const ResourceType& type, const OperationSpec& spec, const std::string& id_suffix,
               const std::string& kind_schema) {
  std::string action = spec.action;
  Json operation = {{"operationId", spec.verb + id_suffix},
                    {"description", fmt::format("{} {}", spec.verb, type.kind)},
                    {"x-kubernetes-action", action},
                    {"x-kubernetes-group-version-kind", GroupVersionKind(type, type.kind)},
                    {"tags", Json::array({GroupVersionPath(type)})}};
  Json object_ref = SchemaRef(kind_schema);
  if (action == "list") {
    operation["parameters"] = ListParameters();
    operation["responses"] = OkResponse(SchemaRef(kind_schema + "List"));
  } else if (action == "get") {
    operation["responses"] = OkResponse(object_ref);
  } else if (action == "delete" || action == "deletecollection") {
    operation["parameters"] = Json::array({QueryParameter("dryRun", "string", "When All, nothing is deleted."),
                                           QueryParameter("propagationPolicy", "string",
                                                          "Orphan, Background or Foreground.")});
    operation["responses"] = OkResponse(SchemaRef(kStatusSchema));
  } else if (action == "patch") {
    operation["parameters"] = WriteParameters(/*patch=*/true);
    operation["requestBody"] = PatchBody();
    operation["responses"] = OkResponse(object_ref);
  } else {  // post, put
    operation["parameters"] = WriteParameters(/*patch=*/false);
    operation["requestBody"] = {{"required", true}, {"content", JsonContent(object_ref)}};
    operation["responses"] = OkResponse(object_ref);
  }
  return operation;
}

Json PathItem(const ResourceType& type, std::initializer_list<OperationSpec> specs, const std::string& id_suffix,
              Json parameters) {
  const std::string kind_schema = OpenApiSchemaName(type);
  Json item = {{"parameters", std::move(parameters)}};
  for (const OperationSpec& spec : specs) item[spec.method] = Operation(type, spec, id_suffix, kind_schema);
  return item;
}

void AddResourcePaths(const ResourceType& type, Json& paths) {
  const std::string scope = type.namespaced ? "Namespaced" : "";
  const std::string base = type.namespaced ? type.PathPrefix() + "/namespaces/{namespace}/" + type.plural
                                           : type.PathPrefix() + "/" + type.plural;
  Json scope_parameters = Json::array();
  if (type.namespaced) scope_parameters.push_back(PathParameter("namespace", "Namespace of the objects."));
  Json item_parameters = scope_parameters;
  item_parameters.push_back(PathParameter("name", "Name of the object."));
  const std::string id = scope + type.kind;

  paths[base] = PathItem(type, {{"get", "list", "list"}, {"post", "post", "create"},
                                {"delete", "deletecollection", "deletecollection"}},
                         id, scope_parameters);
  paths[base + "/{name}"] = PathItem(type, {{"get", "get", "read"}, {"put", "put", "replace"},
                                            {"patch", "patch", "patch"}, {"delete", "delete", "delete"}},
                                     id, item_parameters);
  if (type.has_status) {
    paths[base + "/{name}/status"] = PathItem(
        type, {{"get", "get", "read"}, {"put", "put", "replace"}, {"patch", "patch", "patch"}}, id + "Status",
        item_parameters);
  }
  if (type.namespaced) {
    paths[type.PathPrefix() + "/" + type.plural] =
        PathItem(type, {{"get", "list", "list"}}, type.kind + "ForAllNamespaces", Json::array());
  }
}

Result<GroupVersion> ParseGroupVersionPath(std::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.substr(0, 4) == "api/") return GroupVersion{"", std::string(path.substr(4))};
  if (path.substr(0, 5) == "apis/") {
    std::string_view rest = path.substr(5);
    size_t slash = rest.find('/');
    if (slash != std::string_view::npos && slash > 0) {
      return GroupVersion{std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1))};
    }
  }
  return NotFound("the server could not find the requested resource");
}

}  // namespace

std::string OpenApiSchemaName(const ResourceType& type) {
  if (type.group.empty()) return "io.k8s.api.core." + type.version + "." + type.kind;
  const std::string kubernetes_suffix = ".k8s.io";
  if (type.group.size() > kubernetes_suffix.size() &&
      type.group.compare(type.group.size() - kubernetes_suffix.size(), std::string::npos, kubernetes_suffix) == 0) {
    return "io.k8s.api." + type.group.substr(0, type.group.find('.')) + "." + type.version + "." + type.kind;
  }
  // Reverse the DNS labels of the group: apps.kubeblocks.io -> io.kubeblocks.apps.
  std::string reversed;
  std::string_view group = type.group;
  while (!group.empty()) {
    size_t dot = group.rfind('.');
    std::string_view label = dot == std::string_view::npos ? group : group.substr(dot + 1);
    if (!reversed.empty()) reversed += ".";
    reversed += label;
    group = dot == std::string_view::npos ? std::string_view() : group.substr(0, dot);
  }
  return reversed + "." + type.version + "." + type.kind;
}

Result<Json> OpenApiV3Document(const Scheme& scheme, std::string_view group_version_path) {
  Result<GroupVersion> gv = ParseGroupVersionPath(group_version_path);
  if (!gv.ok()) return gv.status();

  Json paths = Json::object();
  Json schemas = Json::object();
  for (const ResourceType& type : scheme.types()) {
    if (type.group != gv->group || type.version != gv->version) continue;
    AddResourcePaths(type, paths);
    std::string name = OpenApiSchemaName(type);
    schemas[name] = KindSchema(type);
    schemas[name + "List"] = ListSchema(type, name);
  }
  if (schemas.empty()) return NotFound("the server could not find the requested resource");
  AddMetaSchemas(schemas);

  return Json{{"openapi", "3.0.0"},
              {"info", {{"title", "Kubernetes"}, {"version", "v1.29.0"}}},
              {"paths", std::move(paths)},
              {"components", {{"schemas", std::move(schemas)}}}};
}

Json OpenApiV3Root(const Scheme& scheme) {
  Json paths = Json::object();
  for (const ResourceType& type : scheme.types()) {
    std::string key = GroupVersionPath(type);
    if (paths.contains(key)) continue;
    Result<Json> document = OpenApiV3Document(scheme, key);
    std::string hash = document.ok() ? OpenApiV3Hash(*document) : "";
    paths[key] = {{"serverRelativeURL", "/openapi/v3/" + key + "?hash=" + hash}};
  }
  return {{"paths", std::move(paths)}};
}

std::string OpenApiV3Hash(const Json& document) {
  std::string text = document.dump(-1, ' ', false, Json::error_handler_t::replace);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) return "";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02X}", digest[i]);
  return hex;
}

}  // namespace xblocks::api
