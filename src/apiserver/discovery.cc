#include "apiserver/discovery.h"

#include <sstream>

#include "apiserver/responses.h"

namespace xblocks::apiserver {
namespace {

// The aggregated discovery version the client lists first, if any.
std::optional<std::string> AggregatedVersion(const std::string& accept) {
  std::stringstream stream(accept);
  std::string range;
  while (std::getline(stream, range, ',')) {
    std::string cleaned;
    for (char c : range) {
      if (c != ' ') cleaned.push_back(c);
    }
    cleaned = ";" + cleaned + ";";
    if (cleaned.find(";as=APIGroupDiscoveryList;") == std::string::npos) continue;
    if (cleaned.find(";g=apidiscovery.k8s.io;") == std::string::npos) continue;
    if (cleaned.find(";v=v2;") != std::string::npos) return "v2";
    if (cleaned.find(";v=v2beta1;") != std::string::npos) return "v2beta1";
  }
  return std::nullopt;
}

std::vector<std::string> VersionsOf(const api::Scheme& scheme, const std::string& group) {
  std::vector<std::string> versions;
  for (const auto& type : scheme.types()) {
    if (type.group != group) continue;
    if (std::find(versions.begin(), versions.end(), type.version) == versions.end()) versions.push_back(type.version);
  }
  return versions;
}

Json AggregatedResource(const api::ResourceType& type) {
  Json kind = {{"group", type.group}, {"version", type.version}, {"kind", type.kind}};
  Json resource = {{"resource", type.plural},
                   {"singularResource", type.singular},
                   {"scope", type.namespaced ? "Namespaced" : "Cluster"},
                   {"responseKind", kind},
                   {"verbs", type.verbs}};
  if (!type.short_names.empty()) resource["shortNames"] = type.short_names;
  if (!type.categories.empty()) resource["categories"] = type.categories;
  Json subresources = Json::array();
  if (type.has_status) {
    subresources.push_back({{"subresource", "status"}, {"responseKind", kind}, {"verbs", {"get", "patch", "update"}}});
  }
  if (type.group.empty() && type.plural == "pods") {
    subresources.push_back({{"subresource", "log"},
                            {"responseKind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                            {"verbs", {"get"}}});
  }
  if (type.group.empty() && type.plural == "namespaces") {
    subresources.push_back({{"subresource", "finalize"}, {"responseKind", kind}, {"verbs", {"update"}}});
  }
  if (!subresources.empty()) resource["subresources"] = subresources;
  return resource;
}

Json AggregatedGroup(const api::Scheme& scheme, const std::string& group) {
  Json versions = Json::array();
  for (const auto& version : VersionsOf(scheme, group)) {
    Json resources = Json::array();
    for (const auto& type : scheme.types()) {
      if (type.group == group && type.version == version) resources.push_back(AggregatedResource(type));
    }
    versions.push_back({{"version", version}, {"resources", resources}, {"freshness", "Current"}});
  }
  Json metadata = {{"creationTimestamp", nullptr}};
  if (!group.empty()) metadata["name"] = group;
  return {{"metadata", metadata}, {"versions", versions}};
}

HttpResponse AggregatedResponse(const api::Scheme& scheme, const std::string& version, bool core) {
  Json items = Json::array();
  if (core) {
    items.push_back(AggregatedGroup(scheme, ""));
  } else {
    for (const auto& group : scheme.Groups()) {
      if (!group.empty()) items.push_back(AggregatedGroup(scheme, group));
    }
  }
  Json body = {{"kind", "APIGroupDiscoveryList"},
               {"apiVersion", "apidiscovery.k8s.io/" + version},
               {"metadata", Json::object()},
               {"items", items}};
  HttpResponse response = JsonResponse(200, body);
  response.content_type = "application/json;g=apidiscovery.k8s.io;v=" + version + ";as=APIGroupDiscoveryList";
  response.headers.emplace_back("Vary", "Accept");
  return response;
}

Json LegacyGroup(const api::Scheme& scheme, const std::string& group) {
  Json versions = Json::array();
  for (const auto& version : VersionsOf(scheme, group)) {
    versions.push_back({{"groupVersion", group + "/" + version}, {"version", version}});
  }
  return {{"name", group}, {"versions", versions}, {"preferredVersion", versions.empty() ? Json() : versions[0]}};
}

Json LegacyResource(const api::ResourceType& type, const std::string& name, const std::vector<std::string>& verbs) {
  Json resource = {{"name", name},
                   {"singularName", name == type.plural ? type.singular : ""},
                   {"namespaced", type.namespaced},
                   {"kind", type.kind},
                   {"verbs", verbs}};
  if (name == type.plural) {
    if (!type.short_names.empty()) resource["shortNames"] = type.short_names;
    if (!type.categories.empty()) resource["categories"] = type.categories;
  }
  return resource;
}

}  // namespace

HttpResponse ServeVersion() {
  return JsonResponse(200, {{"major", "1"},
                            {"minor", "33"},
                            {"gitVersion", kKubernetesGitVersion},
                            {"gitCommit", "xblocks"},
                            {"gitTreeState", "clean"},
                            {"buildDate", "2026-12-01T00:00:00Z"},
                            {"goVersion", "none (xblocks is C++)"},
                            {"compiler", "gcc"},
                            {"platform", "linux/amd64"}});
}

HttpResponse ServeApi(const api::Scheme& scheme, const HttpRequest& request) {
  if (auto version = AggregatedVersion(request.accept)) return AggregatedResponse(scheme, *version, true);
  return JsonResponse(200, {{"kind", "APIVersions"},
                            {"versions", {"v1"}},
                            {"serverAddressByClientCIDRs", Json::array()}});
}

HttpResponse ServeApis(const api::Scheme& scheme, const HttpRequest& request) {
  if (auto version = AggregatedVersion(request.accept)) return AggregatedResponse(scheme, *version, false);
  Json groups = Json::array();
  for (const auto& group : scheme.Groups()) {
    if (!group.empty()) groups.push_back(LegacyGroup(scheme, group));
  }
  return JsonResponse(200, {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}});
}

std::optional<HttpResponse> ServeResourceList(const api::Scheme& scheme, const std::string& group,
                                              const std::string& version) {
  Json resources = Json::array();
  for (const auto& type : scheme.types()) {
    if (type.group != group || type.version != version) continue;
    resources.push_back(LegacyResource(type, type.plural, type.verbs));
    if (type.has_status) resources.push_back(LegacyResource(type, type.plural + "/status", {"get", "patch", "update"}));
    if (type.group.empty() && type.plural == "pods") resources.push_back(LegacyResource(type, "pods/log", {"get"}));
  }
  if (resources.empty()) return std::nullopt;
  return JsonResponse(200, {{"kind", "APIResourceList"},
                            {"apiVersion", "v1"},
                            {"groupVersion", group.empty() ? version : group + "/" + version},
                            {"resources", resources}});
}

std::optional<HttpResponse> ServeGroup(const api::Scheme& scheme, const std::string& group) {
  if (VersionsOf(scheme, group).empty()) return std::nullopt;
  Json body = LegacyGroup(scheme, group);
  body["kind"] = "APIGroup";
  body["apiVersion"] = "v1";
  return JsonResponse(200, body);
}

}  // namespace xblocks::apiserver
