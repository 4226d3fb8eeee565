// Discovery documents built from the scheme: /version, aggregated discovery (apidiscovery.k8s.io
// v2 and v2beta1, chosen by the Accept header) and the legacy /api, /apis, /api/v1 and
// /apis/<group>/<version> documents.
#pragma once

#include <optional>
#include <string>

#include "api/scheme.h"
#include "apiserver/http_server.h"

namespace xblocks::apiserver {

// The Kubernetes version the server reports. kubectl's dispatcher on this machine runs the
// kubectl binary whose minor version matches.
inline constexpr const char* kKubernetesGitVersion = "v1.33.0";

HttpResponse ServeVersion();
HttpResponse ServeApi(const api::Scheme& scheme, const HttpRequest& request);   // GET /api
HttpResponse ServeApis(const api::Scheme& scheme, const HttpRequest& request);  // GET /apis
// GET /api/v1 or /apis/<group>/<version>; nullopt when the group version is not served.
std::optional<HttpResponse> ServeResourceList(const api::Scheme& scheme, const std::string& group,
                                              const std::string& version);
// GET /apis/<group>; nullopt when the group is not served.
std::optional<HttpResponse> ServeGroup(const api::Scheme& scheme, const std::string& group);

}  // namespace xblocks::apiserver
