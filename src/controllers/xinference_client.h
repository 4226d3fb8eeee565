// The calls the Model controller makes to an Xinference replica's REST API (0.11 dialect), and
// the checks on what the replica returns. The transport is a function, so tests pass a fake and
// the controller passes HttpTransport.
//
//   XinferenceClient replica(HttpTransport(), {"127.0.0.2", 9997});
//   auto instances = replica.ListInstances("minilm");   // GET /v1/models/instances?model_uid=minilm
//   auto launched = replica.Launch(body, std::chrono::minutes(30));  // blocks until loaded or failed
//
// A replica's answers are input like any other: a body that is not the documented shape is
// kBadRequest naming what was wrong, never a crash.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace xblocks::controllers {

struct ReplicaEndpoint {
  std::string host;  // the pod IP
  int port = 9997;

  std::string BaseUrl() const;  // http://host:port
};

// One HTTP exchange. `status` is never 0, because a request without a response is an error Status.
struct HttpReply {
  int status = 0;
  std::string body;
};

// Sends `method target` with an optional JSON body and waits up to `timeout` for the whole
// reply. Returns kUnavailable when the replica refuses or drops the connection, kTimeout when no
// reply arrives in time.
using HttpTransport = std::function<Result<HttpReply>(const ReplicaEndpoint& endpoint, const std::string& method,
                                                      const std::string& target, const std::optional<Json>& body,
                                                      std::chrono::milliseconds timeout)>;

// Plain HTTP/1.1 over TCP with Boost.Beast, one connection per call.
HttpTransport MakeHttpTransport();

// One entry of GET /v1/models/instances.
struct ModelInstance {
  std::string model_name;
  std::string model_uid;
  std::string status;  // CREATING, UPDATING, TERMINATING, TERMINATED, READY or ERROR
};

// Xinference refused a request: the HTTP status and the text of its {"detail": ...}, without the
// "[address=..., pid=...]" prefix that the actor framework puts in front.
struct Refusal {
  int status = 0;
  std::string detail;
};

class XinferenceClient {
 public:
  XinferenceClient(HttpTransport transport, ReplicaEndpoint endpoint);

  // GET /v1/models/instances?model_uid=UID: the instances of that uid (none, or one), in any
  // state including ERROR.
  Result<std::vector<ModelInstance>> ListInstances(const std::string& model_uid);
  // GET /v1/model_registrations/TYPE/NAME: whether Xinference lists the name, built in or
  // registered.
  Result<bool> IsRegistered(const std::string& model_type, const std::string& model_name);
  // POST /v1/model_registrations/TYPE with persist=false. A name that is already registered
  // counts as success, because registrations made before are what this call would make.
  Result<std::optional<Refusal>> Register(const std::string& model_type, const Json& spec);
  // POST /v1/models?wait_ready=true: returns once every copy has loaded (nullopt) or Xinference
  // refused it (the Refusal). The call can take as long as loading the model does.
  Result<std::optional<Refusal>> Launch(const Json& body, std::chrono::milliseconds timeout);
  // DELETE /v1/models/UID. A uid that Xinference does not list counts as success.
  Status Terminate(const std::string& model_uid);

  const ReplicaEndpoint& endpoint() const { return endpoint_; }

 private:
  Result<HttpReply> Call(const std::string& method, const std::string& target, const std::optional<Json>& body,
                         std::chrono::milliseconds timeout);

  HttpTransport transport_;
  ReplicaEndpoint endpoint_;
};

// The text of an error body {"detail": "..."} without the actor framework's
// "[address=..., pid=...] " prefix, or the body itself when it is not that shape.
std::string RefusalDetail(const std::string& body);

}  // namespace xblocks::controllers
