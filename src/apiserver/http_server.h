// The HTTPS listener: TLS 1.2+ with the server's certificate, HTTP/1.1 keep-alive, one thread per
// connection. Handlers return a whole response or a stream (watch, logs -f) that writes chunks
// until it ends or the client goes away.
#pragma once

#include <atomic>
#include <cctype>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "apiserver/credentials.h"
#include "common/status.h"

namespace xblocks::apiserver {

struct HttpRequest {
  std::string method;
  std::string path;                         // percent-decoded path without the query
  std::map<std::string, std::string> query; // decoded; a repeated key keeps its last value
  std::string accept;
  std::string content_type;
  std::string authorization;
  std::string user_agent;
  std::string body;
  std::string remote;

  // The query value for `key`, or `fallback` when absent.
  std::string Query(const std::string& key, const std::string& fallback = "") const {
    auto it = query.find(key);
    return it == query.end() ? fallback : it->second;
  }

  // A boolean query parameter as Kubernetes reads it: true unless absent, empty, "0" or "false"
  // (in any case).
  bool Flag(const std::string& key) const {
    std::string value = Query(key);
    for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return !value.empty() && value != "0" && value != "false";
  }
};

// Writes the body of a streaming response. Owned by the connection thread.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Sends one chunk and flushes it. Returns false once the client is gone.
  virtual bool Write(std::string_view data) = 0;
  // True when the peer closed the connection or the server is stopping. Does not block.
  virtual bool Closed() = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the headers go out with chunked encoding and `stream` writes the body.
  std::function<void(ResponseStream&)> stream;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  struct Options {
    std::string address = "127.0.0.1";
    int port = 6443;                          // 0 picks a free port
    Credentials credentials;
    uint64_t max_body_bytes = 3 * 1024 * 1024; // kube-apiserver's request body limit
  };

  HttpServer(Options options, HttpHandler handler);
  ~HttpServer();

  // Binds and starts accepting. Returns kInternal naming the address on bind or TLS errors.
  Status Start();
  // The bound port (after Start).
  int port() const { return port_; }
  // Stops accepting, closes every connection and waits for their threads.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace xblocks::apiserver
