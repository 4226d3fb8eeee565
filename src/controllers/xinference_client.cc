#include "controllers/xinference_client.h"

#include <regex>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace xblocks::controllers {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// Replies larger than this are not what the calls here expect; reading stops with an error.
constexpr uint64_t kBodyLimit = 16 * 1024 * 1024;
constexpr auto kShortCall = std::chrono::seconds(10);

Result<HttpReply> Exchange(const ReplicaEndpoint& endpoint, const std::string& method, const std::string& target,
                           const std::optional<Json>& body, std::chrono::milliseconds timeout) {
  const std::string where = fmt::format("{} {}{}", method, endpoint.BaseUrl(), target);
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(endpoint.host, ec);
    if (ec) return Invalid(fmt::format("replica address \"{}\" is not an IP address", endpoint.host));
    stream.expires_after(timeout);
    stream.connect(asio::ip::tcp::endpoint(address, static_cast<uint16_t>(endpoint.port)), ec);
    if (ec) return Status(StatusCode::kUnavailable, fmt::format("{}: {}", where, ec.message()));

    http::request<http::string_body> request{http::string_to_verb(method), target, 11};
    request.set(http::field::host, fmt::format("{}:{}", endpoint.host, endpoint.port));
    request.set(http::field::user_agent, "xblocks-model-controller");
    request.set(http::field::accept, "application/json");
    if (body) {
      request.set(http::field::content_type, "application/json");
      request.body() = body->dump();
    }
    request.prepare_payload();
    http::write(stream, request, ec);
    if (ec) return Status(StatusCode::kUnavailable, fmt::format("{}: {}", where, ec.message()));

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kBodyLimit);
    http::read(stream, buffer, parser, ec);
    if (ec == beast::error::timeout) {
      return Status(StatusCode::kTimeout, fmt::format("{}: no reply within {} s", where, timeout.count() / 1000));
    }
    if (ec) return Status(StatusCode::kUnavailable, fmt::format("{}: {}", where, ec.message()));
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    return HttpReply{static_cast<int>(parser.get().result_int()), std::move(parser.get().body())};
  } catch (const std::exception& error) {
    return Status(StatusCode::kUnavailable, fmt::format("{}: {}", where, error.what()));
  }
}

Result<Json> ParseJson(const HttpReply& reply, const std::string& what) {
  Json parsed = Json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return BadRequest(fmt::format("{} answered HTTP {} with a body that is not JSON: {:.200}", what,
                                          reply.status, reply.body));
  }
  return parsed;
}

std::string StringField(const Json& object, const char* field) {
  auto it = object.find(field);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string ReplicaEndpoint::BaseUrl() const {
  return host.find(':') == std::string::npos ? fmt::format("http://{}:{}", host, port)
                                             : fmt::format("http://[{}]:{}", host, port);
}

HttpTransport MakeHttpTransport() { return Exchange; }

std::string RefusalDetail(const std::string& body) {
  Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string detail = body;
  if (parsed.is_object() && parsed.contains("detail")) {
    detail = parsed["detail"].is_string() ? parsed["detail"].get<std::string>() : parsed["detail"].dump();
  }
  static const std::regex kActorPrefix(R"(^\[address=[^\]]*\]\s*)");
  return std::regex_replace(detail, kActorPrefix, "");
}

XinferenceClient::XinferenceClient(HttpTransport transport, ReplicaEndpoint endpoint)
    : transport_(std::move(transport)), endpoint_(std::move(endpoint)) {}

Result<HttpReply> XinferenceClient::Call(const std::string& method, const std::string& target,
                                         const std::optional<Json>& body, std::chrono::milliseconds timeout) {
  return transport_(endpoint_, method, target, body, timeout);
}

Result<std::vector<ModelInstance>> XinferenceClient::ListInstances(const std::string& model_uid) {
  auto reply_result = Call("GET", "/v1/models/instances?model_uid=" + model_uid, std::nullopt,
                                            kShortCall);
  if (!reply_result.ok()) return reply_result.status();
  HttpReply reply = std::move(*reply_result);
  const std::string what = "GET /v1/models/instances on " + endpoint_.BaseUrl();
  if (reply.status != 200) {
    return Status(StatusCode::kUnavailable, fmt::format("{} answered HTTP {}: {}", what, reply.status, RefusalDetail(reply.body)));
  }
  auto listed_result = ParseJson(reply, what);
  if (!listed_result.ok()) return listed_result.status();
  Json listed = std::move(*listed_result);
  if (!listed.is_array()) return BadRequest(what + " answered something other than a list");
  std::vector<ModelInstance> instances;
  for (const Json& item : listed) {
    if (!item.is_object()) return BadRequest(what + " listed an item that is not an object");
    ModelInstance instance{StringField(item, "model_name"), StringField(item, "model_uid"), StringField(item, "status")};
    if (instance.model_uid.empty() || instance.status.empty()) {
      return BadRequest(what + " listed an instance without model_uid or status");
    }
    // The filter is the server's; an instance of another uid is not this model's.
    if (instance.model_uid == model_uid) instances.push_back(std::move(instance));
  }
  return instances;
}

Result<bool> XinferenceClient::IsRegistered(const std::string& model_type, const std::string& model_name) {
  auto reply = Call("GET", fmt::format("/v1/model_registrations/{}/{}", model_type, model_name), std::nullopt,
                    kShortCall);
  if (!reply.ok()) return reply.status();
  if (reply->status == 200) return true;
  if (reply->status == 400) return false;  // Xinference returns 400 for an unknown name
  return Status(StatusCode::kUnavailable, fmt::format("GET /v1/model_registrations/{}/{} on {} answered HTTP {}: {}",
                                                      model_type, model_name, endpoint_.BaseUrl(), reply->status,
                                                      RefusalDetail(reply->body)));
}

Result<std::optional<Refusal>> XinferenceClient::Register(const std::string& model_type, const Json& spec) {
  const Json body = {{"model", spec.dump()}, {"persist", false}};
  auto reply_result = Call("POST", "/v1/model_registrations/" + model_type, body, kShortCall);
  if (!reply_result.ok()) return reply_result.status();
  HttpReply reply = std::move(*reply_result);
  if (reply.status == 200) return std::optional<Refusal>();
  std::string detail = RefusalDetail(reply.body);
  if (reply.status == 400 && detail.find("conflicts with existing model") != std::string::npos) {
    return std::optional<Refusal>();
  }
  return std::optional<Refusal>(Refusal{reply.status, std::move(detail)});
}

Result<std::optional<Refusal>> XinferenceClient::Launch(const Json& body, std::chrono::milliseconds timeout) {
  auto reply_result = Call("POST", "/v1/models?wait_ready=true", body, timeout);
  if (!reply_result.ok()) return reply_result.status();
  HttpReply reply = std::move(*reply_result);
  if (reply.status == 200) return std::optional<Refusal>();
  return std::optional<Refusal>(Refusal{reply.status, RefusalDetail(reply.body)});
}

Status XinferenceClient::Terminate(const std::string& model_uid) {
  auto reply_result = Call("DELETE", "/v1/models/" + model_uid, std::nullopt, kShortCall);
  if (!reply_result.ok()) return reply_result.status();
  HttpReply reply = std::move(*reply_result);
  if (reply.status == 200) return Status::Ok();
  std::string detail = RefusalDetail(reply.body);
  if (reply.status == 400 && detail.find("not found in the model list") != std::string::npos) return Status::Ok();
  return Status(StatusCode::kUnavailable, fmt::format("DELETE /v1/models/{} on {} answered HTTP {}: {}", model_uid,
                                         endpoint_.BaseUrl(), reply.status, detail));
}

}  // namespace xblocks::controllers
