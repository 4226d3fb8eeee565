// ApiHandler: authentication and routing of every path the server serves.
#include "apiserver/api_handler.h"

#include <openssl/crypto.h>

#include <chrono>
#include <sstream>

#include <fmt/format.h>

#include "api/openapi.h"
#include "apiserver/discovery.h"
#include "common/log.h"

namespace xblocks::apiserver {
namespace {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> segments;
  std::stringstream stream(path);
  std::string segment;
  while (std::getline(stream, segment, '/')) {
    if (!segment.empty()) segments.push_back(segment);
  }
  return segments;
}

Status PathNotFound() {
  return NotFound("the server could not find the requested resource");
}

bool IsPublicPath(const std::string& path) {
  return path == "/version" || path == "/healthz" || path == "/livez" || path == "/readyz";
}

// Parses the part of a resource URL after /api/v1 or /apis/<group>/<version>.
std::optional<ResourceRequest> ParseResourcePath(const api::Scheme& scheme, const std::string& group,
                                                 const std::string& version, const std::vector<std::string>& rest) {
  ResourceRequest out;
  std::string plural;
  size_t index = 0;
  const bool core = group.empty();
  if (rest.size() >= 3 && rest[0] == "namespaces" &&
      !(core && rest.size() == 3 && (rest[2] == "status" || rest[2] == "finalize"))) {
    out.ns = rest[1];
    plural = rest[2];
    index = 3;
  } else {
    plural = rest[0];
    index = 1;
  }
  if (index < rest.size()) out.name = rest[index++];
  if (index < rest.size()) out.subresource = rest[index++];
  if (index < rest.size()) return std::nullopt;
  out.type = scheme.Find(group, version, plural);
  if (out.type == nullptr) return std::nullopt;
  if (!out.type->namespaced && !out.ns.empty()) return std::nullopt;
  return out;
}

}  // namespace

ApiHandler::ApiHandler(Registry& registry, std::string token) : registry_(registry), token_(std::move(token)) {}

bool ApiHandler::Authenticated(const HttpRequest& request) const {
  constexpr std::string_view kPrefix = "Bearer ";
  if (request.authorization.size() <= kPrefix.size() || request.authorization.rfind(kPrefix, 0) != 0) return false;
  std::string_view presented = std::string_view(request.authorization).substr(kPrefix.size());
  return presented.size() == token_.size() && CRYPTO_memcmp(presented.data(), token_.data(), token_.size()) == 0;
}

HttpResponse ApiHandler::Handle(const HttpRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  HttpResponse response;
  if (!IsPublicPath(request.path) && !Authenticated(request)) {
    response = ErrorResponse(Status(StatusCode::kUnauthorized, "Unauthorized"));
  } else {
    response = Route(request);
  }
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  const bool write = request.method != "GET" && request.method != "HEAD";
  if (write || response.status >= 500) {
    XB_LOG_INFO("request served", {{"method", request.method},
                                   {"path", request.path},
                                   {"code", std::to_string(response.status)},
                                   {"micros", std::to_string(micros.count())},
                                   {"remote", request.remote}});
  } else {
    XB_LOG_DEBUG("request served", {{"method", request.method},
                                    {"path", request.path},
                                    {"code", std::to_string(response.status)},
                                    {"micros", std::to_string(micros.count())}});
  }
  return response;
}

HttpResponse ApiHandler::Route(const HttpRequest& request) {
  const auto segments = SplitPath(request.path);
  const api::Scheme& scheme = registry_.scheme();
  if (segments.empty()) {
    return JsonResponse(200, {{"paths", {"/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v2",
                                         "/openapi/v3", "/readyz", "/version"}}});
  }

  const std::string& head = segments[0];
  if (segments.size() == 1 && (head == "healthz" || head == "livez" || head == "readyz")) {
    HttpResponse ok;
    ok.content_type = "text/plain; charset=utf-8";
    ok.body = "ok";
    return ok;
  }
  const bool read_only_path = head == "version" || head == "openapi" || (head == "api" && segments.size() <= 2) ||
                              (head == "apis" && segments.size() <= 3);
  if (read_only_path && request.method != "GET") {
    return ErrorResponse(
        Status(StatusCode::kMethodNotAllowed, "the server does not allow this method on the requested resource"));
  }

  if (segments.size() == 1 && head == "version") return ServeVersion();
  if (head == "openapi") return RouteOpenApi(request, segments);
  if (head == "api") {
    if (segments.size() == 1) return ServeApi(scheme, request);
    if (segments[1] != "v1") return ErrorResponse(PathNotFound());
    return RouteGroupVersion(request, "", "v1", {segments.begin() + 2, segments.end()});
  }
  if (head == "apis") {
    if (segments.size() == 1) return ServeApis(scheme, request);
    if (segments.size() == 2) {
      auto group = ServeGroup(scheme, segments[1]);
      return group ? *group : ErrorResponse(PathNotFound());
    }
    return RouteGroupVersion(request, segments[1], segments[2], {segments.begin() + 3, segments.end()});
  }
  return ErrorResponse(PathNotFound());
}

HttpResponse ApiHandler::RouteOpenApi(const HttpRequest& request, const std::vector<std::string>& segments) {
  if (segments.size() == 2 && segments[1] == "v2") {
    // kubectl 1.27 and 1.28 need /openapi/v2 to parse as protobuf; an empty message does, and
    // they then use OpenAPI v3 for validation and explain.
    HttpResponse response;
    response.content_type = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
    return response;
  }
  if (segments.size() < 2 || segments[1] != "v3") return ErrorResponse(PathNotFound());
  if (segments.size() == 2) return JsonResponse(200, api::OpenApiV3Root(registry_.scheme()));
  std::string group_version;
  for (size_t i = 2; i < segments.size(); ++i) group_version += (i > 2 ? "/" : "") + segments[i];
  auto document = api::OpenApiV3Document(registry_.scheme(), group_version);
  if (!document.ok()) return ErrorResponse(PathNotFound());
  HttpResponse response = JsonResponse(200, *document);
  response.headers.emplace_back("Cache-Control", "public, immutable");
  return response;
}

HttpResponse ApiHandler::RouteGroupVersion(const HttpRequest& request, const std::string& group,
                                           const std::string& version, const std::vector<std::string>& rest) {
  if (rest.empty()) {
    auto list = ServeResourceList(registry_.scheme(), group, version);
    return list ? *list : ErrorResponse(PathNotFound());
  }
  auto target = ParseResourcePath(registry_.scheme(), group, version, rest);
  if (!target) return ErrorResponse(PathNotFound());
  HttpResponse response = ServeResource(request, *target);
  if (target->type->deprecation_warning) AddWarnings(response, {*target->type->deprecation_warning});
  return response;
}

}  // namespace xblocks::apiserver
