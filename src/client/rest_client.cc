#include "client/rest_client.h"

#include <openssl/ssl.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <fmt/format.h>

#include "api/json_fields.h"
#include "common/log.h"

namespace xblocks::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr StatusCode kAllCodes[] = {
    StatusCode::kBadRequest,   StatusCode::kUnauthorized,          StatusCode::kForbidden,
    StatusCode::kNotFound,     StatusCode::kMethodNotAllowed,      StatusCode::kNotAcceptable,
    StatusCode::kAlreadyExists, StatusCode::kConflict,             StatusCode::kGone,
    StatusCode::kRequestEntityTooLarge, StatusCode::kUnsupportedMediaType, StatusCode::kInvalid,
    StatusCode::kTooManyRequests, StatusCode::kInternal,           StatusCode::kUnavailable,
    StatusCode::kTimeout};

StatusCode CodeOfHttp(int http_code) {
  for (StatusCode code : kAllCodes) {
    // 409 is AlreadyExists or Conflict by reason; without a reason it is a conflict.
    if (code == StatusCode::kAlreadyExists) continue;
    if (HttpCode(code) == http_code) return code;
  }
  return http_code >= 500 ? StatusCode::kInternal : StatusCode::kBadRequest;
}

StatusCode CodeOfReason(const std::string& reason, int http_code) {
  if (reason == "Gone") return StatusCode::kGone;
  for (StatusCode code : kAllCodes) {
    if (reason == ReasonName(code)) return code;
  }
  return CodeOfHttp(http_code);
}

int64_t ParseResourceVersion(const std::string& text) {
  if (text.empty()) return 0;
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  return (end != nullptr && *end == '\0' && value > 0) ? value : 0;
}

std::string Encode(const std::string& value) {
  return boost::urls::encode(value, boost::urls::unreserved_chars);
}

// The server URL's parts.
struct Endpoint {
  std::string host;  // without brackets for IPv6
  std::string port;
  std::string base_path;  // "" or "/prefix" without a trailing slash
};

Result<Endpoint> ParseServer(const std::string& server) {
  auto url = boost::urls::parse_uri(server);
  if (!url || url->scheme() != "https" || url->host().empty()) {
    return BadRequest(fmt::format("invalid server URL \"{}\": expected https://HOST[:PORT][/PATH]", server));
  }
  Endpoint endpoint;
  endpoint.host = url->host_type() == boost::urls::host_type::ipv6 ? std::string(url->encoded_host_address())
                                                                     : std::string(url->host());
  endpoint.port = url->has_port() ? std::string(url->port()) : "443";
  endpoint.base_path = std::string(url->path());
  while (!endpoint.base_path.empty() && endpoint.base_path.back() == '/') endpoint.base_path.pop_back();
  return endpoint;
}

bool IsIpAddress(const std::string& host) {
  boost::system::error_code error;
  asio::ip::make_address(host, error);
  return !error;
}

// One keep-alive TLS connection. Operations run asynchronously on the connection's own
// io_context, one at a time, bounded by the tcp_stream's expiry.
struct Connection {
  explicit Connection(ssl::context& tls) : stream(io, tls) {}

  asio::io_context io;
  beast::ssl_stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  bool reused = false;
};

// Runs the pending operations of `connection` and returns the error its handler stored.
template <typename Start>
beast::error_code Run(Connection& connection, Clock::duration timeout, Start start) {
  beast::error_code result;
  beast::get_lowest_layer(connection.stream).expires_after(timeout);
  start([&result](beast::error_code error, auto&&...) { result = error; });
  connection.io.restart();
  connection.io.run();
  return result;
}

class TokenBucket {
 public:
  TokenBucket(double qps, int burst) : qps_(qps), burst_(std::max(1, burst)), tokens_(burst_) {}

  // Blocks until a request may go. Reserving ahead keeps waiting callers in arrival order.
  void Acquire() {
    if (qps_ <= 0) return;
    Clock::duration wait{};
    {
      std::lock_guard lock(mu_);
      const auto now = Clock::now();
      tokens_ = std::min<double>(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * qps_);
      last_ = now;
      tokens_ -= 1;
      if (tokens_ < 0) wait = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(-tokens_ / qps_));
    }
    if (wait.count() > 0) std::this_thread::sleep_for(wait);
  }

 private:
  const double qps_;
  const int burst_;
  std::mutex mu_;
  double tokens_;  // guarded by mu_
  Clock::time_point last_ = Clock::now();  // guarded by mu_
};

struct Response {
  int status = 0;
  std::string body;
};

}  // namespace

Status StatusFromResponse(int http_code, const std::string& body) {
  Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object() || api::StringMemberOf(parsed, "kind") != "Status") {
    std::string text = body.substr(0, 512);
    return Status(CodeOfHttp(http_code), fmt::format("HTTP {}: {}", http_code, text));
  }
  Status status(CodeOfReason(api::StringMemberOf(parsed, "reason"), http_code), api::StringMemberOf(parsed, "message"));
  const Json& details = api::MemberOf(parsed, "details");
  StatusDetails out;
  out.name = api::StringMemberOf(details, "name");
  out.group = api::StringMemberOf(details, "group");
  out.kind = api::StringMemberOf(details, "kind");
  out.uid = api::StringMemberOf(details, "uid");
  for (const Json& cause : api::ArrayAt(details, "causes")) {
    out.causes.push_back({api::StringMemberOf(cause, "reason"), api::StringMemberOf(cause, "message"),
                          api::StringMemberOf(cause, "field")});
  }
  return status.WithDetails(std::move(out));
}

std::string ResourcePath(const Resource& resource, const std::string& ns, const std::string& name,
                         const std::string& subresource) {
  std::string path = resource.group.empty() ? "/api/" + resource.version
                                            : fmt::format("/apis/{}/{}", resource.group, resource.version);
  if (resource.namespaced && !ns.empty()) path += "/namespaces/" + Encode(ns);
  path += "/" + resource.plural;
  if (!name.empty()) path += "/" + Encode(name);
  if (!subresource.empty()) path += "/" + subresource;
  return path;
}

struct RestClient::Impl {
  Impl(const RestConfig& config, const RestClientOptions& options, Endpoint endpoint)
      : config(config), options(options), endpoint(std::move(endpoint)), tls(ssl::context::tls_client),
        limiter(options.qps, options.burst) {}

  Status Configure() {
    beast::error_code error;
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3);
    if (!config.ca_pem.empty()) {
      tls.add_certificate_authority(asio::buffer(config.ca_pem), error);
      if (error) return BadRequest(fmt::format("{}: invalid certificate authority: {}", config.source, error.message()));
    } else {
      tls.set_default_verify_paths(error);
    }
    if (!config.client_cert_pem.empty()) {
      tls.use_certificate_chain(asio::buffer(config.client_cert_pem), error);
      if (error) return BadRequest(fmt::format("{}: invalid client certificate: {}", config.source, error.message()));
      tls.use_private_key(asio::buffer(config.client_key_pem), ssl::context::pem, error);
      if (error) return BadRequest(fmt::format("{}: invalid client key: {}", config.source, error.message()));
    }
    tls.set_verify_mode(config.insecure_skip_tls_verify ? ssl::verify_none : ssl::verify_peer);
    return Status::Ok();
  }

  Result<std::unique_ptr<Connection>> Connect(Clock::duration timeout) {
    auto connection = std::make_unique<Connection>(tls);
    tcp::resolver resolver(connection->io);
    beast::error_code error;
    auto addresses = resolver.resolve(endpoint.host, endpoint.port, error);
    if (error) return Unavailable(fmt::format("resolve {}: {}", endpoint.host, error.message()));
    if (!IsIpAddress(endpoint.host)) SSL_set_tlsext_host_name(connection->stream.native_handle(), endpoint.host.c_str());
    if (!config.insecure_skip_tls_verify) connection->stream.set_verify_callback(ssl::host_name_verification(endpoint.host));
    error = Run(*connection, timeout, [&](auto handler) {
      beast::get_lowest_layer(connection->stream).async_connect(addresses, handler);
    });
    if (error) return Unavailable(fmt::format("connect to {}: {}", config.server, error.message()));
    error = Run(*connection, timeout, [&](auto handler) {
      connection->stream.async_handshake(ssl::stream_base::client, handler);
    });
    if (error) return Unavailable(fmt::format("TLS handshake with {}: {}", config.server, error.message()));
    return connection;
  }

  static Status Unavailable(std::string message) { return Status(StatusCode::kUnavailable, std::move(message)); }

  http::request<http::string_body> BuildRequest(http::verb verb, const std::string& target, const std::string& body,
                                                const std::string& content_type) const {
    http::request<http::string_body> request{verb, endpoint.base_path + target, 11};
    request.set(http::field::host, endpoint.host);
    request.set(http::field::user_agent, options.user_agent);
    request.set(http::field::accept, "application/json");
    if (!config.token.empty()) request.set(http::field::authorization, "Bearer " + config.token);
    if (!body.empty()) request.set(http::field::content_type, content_type);
    request.keep_alive(true);
    request.body() = body;
    request.prepare_payload();
    return request;
  }

  std::unique_ptr<Connection> TakeIdle() {
    std::lock_guard lock(pool_mu);
    if (idle.empty()) return nullptr;
    auto connection = std::move(idle.back());
    idle.pop_back();
    return connection;
  }

  void ReturnIdle(std::unique_ptr<Connection> connection) {
    connection->reused = true;
    std::lock_guard lock(pool_mu);
    idle.push_back(std::move(connection));
  }

  Result<Response> Send(http::verb verb, const std::string& target, const std::string& body = "",
                        const std::string& content_type = "application/json") {
    limiter.Acquire();
    const auto request = BuildRequest(verb, target, body, content_type);
    // The server may have closed a pooled connection while it was idle, so a failure there is
    // retried once on a new connection. A failure on a new connection is final.
    for (int attempt = 0; attempt < 2; ++attempt) {
      // The retry takes a new connection: other idle ones may have been closed as well.
      std::unique_ptr<Connection> connection = attempt == 0 ? TakeIdle() : nullptr;
      if (connection == nullptr) {
        auto connected = Connect(options.request_timeout);
        if (!connected.ok()) return connected.status();
        connection = std::move(*connected);
      }
      http::response_parser<http::string_body> parser;
      parser.body_limit(boost::none);
      beast::error_code error = Run(*connection, options.request_timeout, [&](auto handler) {
        http::async_write(connection->stream, request, handler);
      });
      if (!error) {
        error = Run(*connection, options.request_timeout, [&](auto handler) {
          http::async_read(connection->stream, connection->buffer, parser, handler);
        });
      }
      if (error) {
        if (connection->reused && attempt == 0 && error != beast::error::timeout) continue;
        return Unavailable(fmt::format("{} {}: {}", std::string(http::to_string(verb)), target, error.message()));
      }
      Response response{static_cast<int>(parser.get().result_int()), std::move(parser.get().body())};
      if (parser.get().keep_alive()) ReturnIdle(std::move(connection));
      return response;
    }
    return Unavailable(fmt::format("{} {}: connection closed", std::string(http::to_string(verb)), target));
  }

  // Sends the request and decodes the JSON body of a 2xx response, or returns the error Status.
  Result<Json> Call(http::verb verb, const std::string& target, const std::string& body = "",
                    const std::string& content_type = "application/json") {
    auto response = Send(verb, target, body, content_type);
    if (!response.ok()) return response.status();
    if (response->status < 200 || response->status >= 300) return StatusFromResponse(response->status, response->body);
    Json parsed = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      return Internal(fmt::format("{} {}: the server responded {} with a body that is not JSON",
                                  std::string(http::to_string(verb)), target, response->status));
    }
    return parsed;
  }

  std::string WriteQuery() const { return "?fieldManager=" + Encode(options.field_manager); }

  const RestConfig config;
  const RestClientOptions options;
  const Endpoint endpoint;
  ssl::context tls;
  TokenBucket limiter;
  std::mutex pool_mu;
  std::vector<std::unique_ptr<Connection>> idle;  // guarded by pool_mu
};

namespace {

std::string SelectorQuery(const ListOptions& options) {
  std::string query;
  if (!options.label_selector.empty()) query += "&labelSelector=" + Encode(options.label_selector);
  if (!options.field_selector.empty()) query += "&fieldSelector=" + Encode(options.field_selector);
  return query;
}

// A watch on its own connection. A reader thread parses the chunked body into events; Next()
// takes them from a queue.
class RestWatch : public WatchStream {
 public:
  RestWatch(std::unique_ptr<Connection> connection, std::unique_ptr<http::response_parser<http::string_body>> parser,
            std::string description)
      : connection_(std::move(connection)), parser_(std::move(parser)), description_(std::move(description)) {
    TakeBody();
    reader_ = std::thread([this] { Read(); });
  }

  ~RestWatch() override {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      connection_->io.stop();
    }
    reader_.join();
  }

  Result<std::optional<WatchEvent>> Next(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [this] { return !events_.empty() || ended_; });
    if (events_.empty()) {
      if (!ended_) return std::optional<WatchEvent>();
      const std::string message = fmt::format("watch {} ended: {}", description_, end_reason_);
      return ended_normally_ ? Status(StatusCode::kTimeout, message) : Gone(message);
    }
    Json line = std::move(events_.front());
    events_.pop_front();
    lock.unlock();
    return Decode(line);
  }

 private:
  Result<std::optional<WatchEvent>> Decode(const Json& line) const {
    const std::string type = api::StringMemberOf(line, "type");
    const Json& object = api::MemberOf(line, "object");
    if (type == "ERROR") {
      Status status = StatusFromResponse(static_cast<int>(api::IntAt(object, "code", 500)), object.dump());
      if (api::IntAt(object, "code", 0) == 410) return Gone(status.message());
      return status;
    }
    WatchEvent event;
    if (type == "ADDED") {
      event.type = WatchEventType::kAdded;
    } else if (type == "MODIFIED") {
      event.type = WatchEventType::kModified;
    } else if (type == "DELETED") {
      event.type = WatchEventType::kDeleted;
    } else if (type == "BOOKMARK") {
      event.type = WatchEventType::kBookmark;
    } else {
      return Internal(fmt::format("watch {}: unknown event type \"{}\"", description_, type));
    }
    if (!object.is_object()) return Internal(fmt::format("watch {}: a {} event without an object", description_, type));
    event.object = object;
    event.resource_version = ParseResourceVersion(api::StringAt(object, "metadata.resourceVersion"));
    return std::optional<WatchEvent>(std::move(event));
  }

  // Moves what the parser has read of the body into complete lines on the queue.
  void TakeBody() {
    std::string& body = parser_->get().body();
    pending_ += body;
    body.clear();
    size_t start = 0;
    std::vector<Json> lines;
    for (size_t newline = pending_.find('\n'); newline != std::string::npos; newline = pending_.find('\n', start)) {
      std::string_view text(pending_.data() + start, newline - start);
      start = newline + 1;
      if (text.find_first_not_of(" \r\t") == std::string_view::npos) continue;
      Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_discarded() || !parsed.is_object()) {
        lines.push_back({{"type", "ERROR"},
                         {"object", {{"kind", "Status"}, {"code", 500}, {"reason", "InternalError"},
                                     {"message", "a watch event that is not a JSON object"}}}});
        continue;
      }
      lines.push_back(std::move(parsed));
    }
    pending_.erase(0, start);
    if (lines.empty()) return;
    std::lock_guard lock(mu_);
    for (auto& line : lines) events_.push_back(std::move(line));
    cv_.notify_all();
  }

  void Read() {
    beast::get_lowest_layer(connection_->stream).expires_never();
    std::function<void(beast::error_code, size_t)> on_read = [this, &on_read](beast::error_code error, size_t) {
      TakeBody();
      if (error || parser_->is_done()) {
        Finish(error ? error.message() : "the server closed the watch", !error);
        return;
      }
      http::async_read_some(connection_->stream, connection_->buffer, *parser_, on_read);
    };
    if (parser_->is_done()) {
      Finish("the server closed the watch", true);
      return;
    }
    http::async_read_some(connection_->stream, connection_->buffer, *parser_, on_read);
    {
      // restart() would undo a stop() that the destructor already made.
      std::lock_guard lock(mu_);
      if (closing_) return;
      connection_->io.restart();
    }
    connection_->io.run();
    Finish("the watch was closed", false);
  }

  // `normally`: the server completed the response, as it does when timeoutSeconds passes.
  void Finish(const std::string& reason, bool normally) {
    std::lock_guard lock(mu_);
    if (ended_) return;
    ended_ = true;
    ended_normally_ = normally;
    end_reason_ = reason;
    cv_.notify_all();
  }

  std::unique_ptr<Connection> connection_;
  std::unique_ptr<http::response_parser<http::string_body>> parser_;
  const std::string description_;
  std::string pending_;  // read by the reader thread only, after construction
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Json> events_;  // guarded by mu_
  bool ended_ = false;       // guarded by mu_
  bool closing_ = false;     // guarded by mu_
  bool ended_normally_ = false;  // guarded by mu_
  std::string end_reason_;   // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<RestClient>> RestClient::Create(const RestConfig& config, const RestClientOptions& options) {
  auto endpoint = ParseServer(config.server);
  if (!endpoint.ok()) return endpoint.status();
  auto impl = std::make_unique<Impl>(config, options, std::move(*endpoint));
  XB_RETURN_IF_ERROR(impl->Configure());
  return std::unique_ptr<RestClient>(new RestClient(std::move(impl)));
}

RestClient::RestClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RestClient::~RestClient() = default;

Result<std::string> RestClient::GetRaw(const std::string& path) {
  auto response = impl_->Send(http::verb::get, path);
  if (!response.ok()) return response.status();
  if (response->status != 200) return StatusFromResponse(response->status, response->body);
  return std::move(response->body);
}

Result<Json> RestClient::Get(const Resource& resource, const std::string& ns, const std::string& name) {
  return impl_->Call(http::verb::get, ResourcePath(resource, ns, name));
}

Result<ObjectList> RestClient::List(const Resource& resource, const std::string& ns, const ListOptions& options) {
  std::string query = SelectorQuery(options);
  if (!query.empty()) query[0] = '?';
  auto listed = impl_->Call(http::verb::get, ResourcePath(resource, ns) + query);
  if (!listed.ok()) return listed.status();
  ObjectList out;
  out.resource_version = ParseResourceVersion(api::StringAt(*listed, "metadata.resourceVersion"));
  // Items of a list carry no apiVersion and kind; owner references and events need them.
  std::string kind = api::StringMemberOf(*listed, "kind");
  if (kind.size() > 4 && kind.ends_with("List")) kind.resize(kind.size() - 4);
  Json& items = (*listed)["items"];
  if (!items.is_array()) return out;
  for (Json& item : items) {
    if (!item.is_object()) continue;
    if (!item.contains("apiVersion")) item["apiVersion"] = resource.ApiVersion();
    if (!item.contains("kind")) item["kind"] = kind;
    out.items.push_back(std::move(item));
  }
  return out;
}

Result<Json> RestClient::Create(const Resource& resource, const Json& object) {
  const std::string ns = api::StringAt(object, "metadata.namespace");
  return impl_->Call(http::verb::post, ResourcePath(resource, ns) + impl_->WriteQuery(), object.dump());
}

Result<Json> RestClient::Update(const Resource& resource, const Json& object) {
  const std::string path =
      ResourcePath(resource, api::StringAt(object, "metadata.namespace"), api::StringAt(object, "metadata.name"));
  return impl_->Call(http::verb::put, path + impl_->WriteQuery(), object.dump());
}

Result<Json> RestClient::UpdateStatus(const Resource& resource, const Json& object) {
  const std::string path = ResourcePath(resource, api::StringAt(object, "metadata.namespace"),
                                        api::StringAt(object, "metadata.name"), "status");
  return impl_->Call(http::verb::put, path + impl_->WriteQuery(), object.dump());
}

Result<Json> RestClient::Patch(const Resource& resource, const std::string& ns, const std::string& name,
                               PatchType type, const Json& patch) {
  const char* content_type =
      type == PatchType::kMerge ? "application/merge-patch+json" : "application/json-patch+json";
  return impl_->Call(http::verb::patch, ResourcePath(resource, ns, name) + impl_->WriteQuery(), patch.dump(),
                     content_type);
}

Result<Json> RestClient::PatchStatus(const Resource& resource, const std::string& ns, const std::string& name,
                                     const Json& merge_patch) {
  return impl_->Call(http::verb::patch, ResourcePath(resource, ns, name, "status") + impl_->WriteQuery(),
                     merge_patch.dump(), "application/merge-patch+json");
}

Status RestClient::Delete(const Resource& resource, const std::string& ns, const std::string& name,
                          const DeleteOptions& options) {
  Json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  switch (options.propagation) {
    case Propagation::kBackground: body["propagationPolicy"] = "Background"; break;
    case Propagation::kForeground: body["propagationPolicy"] = "Foreground"; break;
    case Propagation::kOrphan: body["propagationPolicy"] = "Orphan"; break;
  }
  if (!options.precondition_uid.empty()) body["preconditions"] = {{"uid", options.precondition_uid}};
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  auto deleted = impl_->Call(http::verb::delete_, ResourcePath(resource, ns, name), body.dump());
  return deleted.ok() ? Status::Ok() : deleted.status();
}

Result<std::unique_ptr<WatchStream>> RestClient::Watch(const Resource& resource, const std::string& ns,
                                                       int64_t resource_version, const ListOptions& options) {
  std::string target = ResourcePath(resource, ns) + "?watch=true&allowWatchBookmarks=true";
  if (resource_version > 0) target += "&resourceVersion=" + std::to_string(resource_version);
  target += fmt::format("&timeoutSeconds={}", impl_->options.watch_timeout.count());
  target += SelectorQuery(options);
  impl_->limiter.Acquire();
  auto connected = impl_->Connect(impl_->options.request_timeout);
  if (!connected.ok()) return connected.status();
  std::unique_ptr<Connection> connection = std::move(*connected);
  const auto request = impl_->BuildRequest(http::verb::get, target, "", "");
  auto parser = std::make_unique<http::response_parser<http::string_body>>();
  parser->body_limit(boost::none);
  beast::error_code error = Run(*connection, impl_->options.request_timeout, [&](auto handler) {
    http::async_write(connection->stream, request, handler);
  });
  if (!error) {
    error = Run(*connection, impl_->options.request_timeout, [&](auto handler) {
      http::async_read_header(connection->stream, connection->buffer, *parser, handler);
    });
  }
  if (error) return Impl::Unavailable(fmt::format("watch {}: {}", target, error.message()));
  const int status = static_cast<int>(parser->get().result_int());
  if (status != 200) {
    error = Run(*connection, impl_->options.request_timeout, [&](auto handler) {
      http::async_read(connection->stream, connection->buffer, *parser, handler);
    });
    return StatusFromResponse(status, parser->get().body());
  }
  return std::unique_ptr<WatchStream>(new RestWatch(std::move(connection), std::move(parser), target));
}

}  // namespace xblocks::client
