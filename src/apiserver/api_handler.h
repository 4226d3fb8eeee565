// The Kubernetes REST API over HTTP: authentication, routing, discovery and OpenAPI, and the
// resource endpoints (CRUD, list, watch, patch, subresources) on top of the registry.
#pragma once

#include <optional>
#include <string>

#include "api/scheme.h"
#include "apiserver/http_server.h"
#include "apiserver/registry.h"
#include "apiserver/responses.h"

namespace xblocks::apiserver {

// A request for a resource, parsed from its URL.
struct ResourceRequest {
  const api::ResourceType* type = nullptr;
  std::string ns;
  std::string name;
  std::string subresource;
};

// Serves pod logs; the node agent provides it in embedded mode. Returns a complete or streaming
// text/plain response.
class LogSource {
 public:
  virtual ~LogSource() = default;
  virtual HttpResponse ServeLogs(const Json& pod, const HttpRequest& request) = 0;
};

class ApiHandler {
 public:
  ApiHandler(Registry& registry, std::string token);

  // Sets the source of pod logs. Without one, log requests return 400 with the reason.
  void set_log_source(LogSource* source) { log_source_ = source; }

  // Authenticates and serves one request. Safe to call from many connection threads at once.
  HttpResponse Handle(const HttpRequest& request);

 private:
  bool Authenticated(const HttpRequest& request) const;
  HttpResponse Route(const HttpRequest& request);
  HttpResponse RouteOpenApi(const HttpRequest& request, const std::vector<std::string>& segments);
  HttpResponse RouteGroupVersion(const HttpRequest& request, const std::string& group, const std::string& version,
                                 const std::vector<std::string>& rest);
  HttpResponse ServeResource(const HttpRequest& request, const ResourceRequest& target);
  HttpResponse ServeCollection(const HttpRequest& request, const ResourceRequest& target);
  HttpResponse ServeItem(const HttpRequest& request, const ResourceRequest& target);
  HttpResponse ServeList(const HttpRequest& request, const ResourceRequest& target);
  HttpResponse ServeCreate(const HttpRequest& request, const ResourceRequest& target);
  HttpResponse ServeGet(const HttpRequest& request, const ResourceRequest& target);
  HttpResponse ServeUpdate(const HttpRequest& request, const ResourceRequest& target);
  HttpResponse ServePatch(const HttpRequest& request, const ResourceRequest& target);
  HttpResponse ServeDelete(const HttpRequest& request, const ResourceRequest& target);
  HttpResponse ServeDeleteCollection(const HttpRequest& request, const ResourceRequest& target);
  HttpResponse ServeFinalize(const HttpRequest& request, const ResourceRequest& target);
  HttpResponse ServeLogs(const HttpRequest& request, const ResourceRequest& target);
  HttpResponse ServeWatch(const HttpRequest& request, const ResourceRequest& target);
  // Renders one object or a list as JSON or, when asked, as a Table.
  HttpResponse ObjectResponse(const HttpRequest& request, const api::ResourceType& type, int code, const Json& object);

  Registry& registry_;
  const std::string token_;
  LogSource* log_source_ = nullptr;
};

}  // namespace xblocks::apiserver
