// The Client of operator mode: the Kubernetes REST API over HTTPS, as client-go speaks it.
//
// Requests share a pool of keep-alive TLS connections, pass a client-side token bucket (qps and
// burst, as client-go's rate limiter), and time out after `request_timeout`. A request on a pooled
// connection that the server had already closed is sent again once on a new connection. Errors
// come back as the server's Status: its reason becomes the StatusCode, its message and causes are
// kept. A transport failure is kUnavailable.
//
// Watches each hold their own connection and a reader thread. They ask for bookmarks, and a watch
// that the server ends, or that reports 410 Gone, returns kGone so that the informer lists again.
//
// Thread-safety: all methods may be called from many threads at once.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "client/client.h"
#include "client/rest_config.h"

namespace xblocks::client {

struct RestClientOptions {
  double qps = 50;
  int burst = 100;
  std::chrono::milliseconds request_timeout{30000};
  // The server ends each watch after this long; the informer then resumes it.
  std::chrono::seconds watch_timeout{300};
  std::string user_agent = "xblocks-operator";
  // The fieldManager of every write.
  std::string field_manager = "xblocks-operator";
};

class RestClient : public Client {
 public:
  // Checks the configuration (the server URL, certificates and key). Connects lazily.
  static Result<std::unique_ptr<RestClient>> Create(const RestConfig& config, const RestClientOptions& options = {});
  ~RestClient() override;

  Result<Json> Get(const Resource& resource, const std::string& ns, const std::string& name) override;
  Result<ObjectList> List(const Resource& resource, const std::string& ns, const ListOptions& options) override;
  Result<Json> Create(const Resource& resource, const Json& object) override;
  Result<Json> Update(const Resource& resource, const Json& object) override;
  Result<Json> UpdateStatus(const Resource& resource, const Json& object) override;
  Result<Json> Patch(const Resource& resource, const std::string& ns, const std::string& name, PatchType type,
                     const Json& patch) override;
  Result<Json> PatchStatus(const Resource& resource, const std::string& ns, const std::string& name,
                           const Json& merge_patch) override;
  Status Delete(const Resource& resource, const std::string& ns, const std::string& name,
                const DeleteOptions& options) override;
  Result<std::unique_ptr<WatchStream>> Watch(const Resource& resource, const std::string& ns,
                                             int64_t resource_version, const ListOptions& options) override;

  // GET of any path, e.g. "/version" or "/readyz"; returns the body.
  Result<std::string> GetRaw(const std::string& path);

  struct Impl;

 private:
  explicit RestClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The path of a resource collection or object: /api/v1/namespaces/NS/pods[/NAME][/SUBRESOURCE].
std::string ResourcePath(const Resource& resource, const std::string& ns, const std::string& name = "",
                         const std::string& subresource = "");

// The Status that an error response carries: the reason of a metav1.Status body mapped to its
// code, or the HTTP code's reason when the body is not a Status.
Status StatusFromResponse(int http_code, const std::string& body);

}  // namespace xblocks::client
