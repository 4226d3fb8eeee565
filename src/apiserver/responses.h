// Building HTTP responses the way kube-apiserver shapes them: Status bodies for errors,
// content negotiation for Table output, and `Warning` headers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "apiserver/http_server.h"
#include "common/json.h"
#include "common/status.h"

namespace xblocks::apiserver {

// The metav1.Status JSON for `status` (which must not be ok).
Json StatusJson(const Status& status);
// A response carrying StatusJson(status) with its HTTP code.
HttpResponse ErrorResponse(const Status& status);
HttpResponse JsonResponse(int code, const Json& body);
// Adds `Warning: 299 - "<text>"` headers, as kube-apiserver sends for deprecations and
// fieldValidation=Warn.
void AddWarnings(HttpResponse& response, const std::vector<std::string>& warnings);

// The Table media type a client requested in its Accept header.
struct TableRequest {
  std::string api_version;  // "meta.k8s.io/v1" or "meta.k8s.io/v1beta1"
};
// The Table version requested, or nullopt when the client wants plain objects.
std::optional<TableRequest> WantsTable(const std::string& accept);
// kNotAcceptable when the client accepts neither JSON nor a Table (e.g. protobuf only).
Status CheckAcceptable(const std::string& accept);

}  // namespace xblocks::apiserver
