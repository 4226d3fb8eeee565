#include "apiserver/http_server.h"

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url.hpp>
#include <fmt/format.h>

#include "common/json.h"
#include "common/log.h"

namespace xblocks::apiserver {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using SslStream = ssl::stream<tcp::socket>;

// Fills method, path and query from the request target. Query values use form decoding ('+' is a
// space), as Go's net/url, which kubectl uses, encodes them.
Status ParseTarget(std::string_view target, HttpRequest& request) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return BadRequest(fmt::format("malformed request target: {}", parsed.error().message()));
  request.path = std::string(parsed->path());
  boost::urls::encoding_opts form;
  form.space_as_plus = true;
  for (auto param : parsed->params(form)) {
    request.query[std::string(param.key)] = param.has_value ? std::string(param.value) : "";
  }
  return Status::Ok();
}

class SslResponseStream : public ResponseStream {
 public:
  SslResponseStream(SslStream& stream, const std::atomic<bool>& stopping) : stream_(stream), stopping_(stopping) {}

  bool Write(std::string_view data) override {
    if (Closed()) return false;
    boost::system::error_code ec;
    net::write(stream_, http::make_chunk(net::buffer(data.data(), data.size())), ec);
    if (ec) gone_ = true;
    return !gone_;
  }

  bool Closed() override {
    if (gone_ || stopping_) return true;
    // During a stream the client sends nothing, so any readable event means it closed the
    // connection (TCP FIN or a TLS close_notify).
    pollfd pfd{stream_.next_layer().native_handle(), POLLIN | POLLRDHUP, 0};
    if (::poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) != 0) {
      gone_ = true;
    }
    return gone_;
  }

  void Finish() {
    if (gone_) return;
    boost::system::error_code ec;
    net::write(stream_, http::make_chunk_last(), ec);
  }

 private:
  SslStream& stream_;
  const std::atomic<bool>& stopping_;
  bool gone_ = false;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(Options options, HttpHandler handler)
      : options_(std::move(options)), handler_(std::move(handler)), tls_(ssl::context::tls_server), acceptor_(io_) {}

  Status Start(int& port) {
    XB_RETURN_IF_ERROR(ConfigureTls());
    boost::system::error_code ec;
    auto address = net::ip::make_address(options_.address, ec);
    if (ec) return BadRequest(fmt::format("invalid listen address {}: {}", options_.address, ec.message()));
    tcp::endpoint endpoint(address, static_cast<unsigned short>(options_.port));
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return Internal(fmt::format("cannot listen on {}:{}: {}", options_.address, options_.port, ec.message()));
    }
    port = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
    return Status::Ok();
  }

  void Stop() {
    if (stopping_.exchange(true)) return;
    boost::system::error_code ec;
    acceptor_.cancel(ec);
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    acceptor_.close(ec);
    if (accept_thread_.joinable()) accept_thread_.join();
    {
      std::lock_guard lock(mu_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    std::unique_lock lock(mu_);
    drained_.wait_for(lock, std::chrono::seconds(10), [this] { return active_ == 0; });
  }

 private:
  Status ConfigureTls() {
    boost::system::error_code ec;
    tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    tls_.use_certificate_chain_file(options_.credentials.server_cert.string(), ec);
    if (!ec) tls_.use_private_key_file(options_.credentials.server_key.string(), ssl::context::pem, ec);
    if (ec) return Internal(fmt::format("cannot load the serving certificate: {}", ec.message()));
    return Status::Ok();
  }

  void AcceptLoop() {
    while (!stopping_) {
      boost::system::error_code ec;
      tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec) {
        if (stopping_) return;
        XB_LOG_WARN("accept failed", {{"err", ec.message()}});
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      Track(socket.native_handle(), +1);
      std::thread([this, s = std::move(socket)]() mutable { Serve(std::move(s)); }).detach();
    }
  }

  void Track(int fd, int delta) {
    std::lock_guard lock(mu_);
    if (delta > 0) {
      open_fds_.insert(fd);
      ++active_;
    } else {
      open_fds_.erase(fd);
      --active_;
      drained_.notify_all();
    }
  }

  void Serve(tcp::socket socket) {
    const int fd = socket.native_handle();
    std::string remote;
    boost::system::error_code ec;
    auto peer = socket.remote_endpoint(ec);
    if (!ec) remote = peer.address().to_string() + ":" + std::to_string(peer.port());
    socket.set_option(tcp::no_delay(true), ec);
    {
      SslStream stream(std::move(socket), tls_);
      stream.handshake(ssl::stream_base::server, ec);
      if (!ec) ServeRequests(stream, remote);
      stream.shutdown(ec);
      stream.next_layer().close(ec);
    }
    Track(fd, -1);
  }

  void ServeRequests(SslStream& stream, const std::string& remote) {
    beast::flat_buffer buffer;
    while (!stopping_) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(options_.max_body_bytes);
      parser.header_limit(64 * 1024);
      boost::system::error_code ec;
      http::read(stream, buffer, parser, ec);
      if (ec == http::error::body_limit) {
        WriteTooLarge(stream);
        return;
      }
      if (ec) return;
      auto& message = parser.get();
      if (!Respond(stream, message, remote)) return;
      if (!message.keep_alive()) return;
    }
  }

  void WriteTooLarge(SslStream& stream) {
    http::response<http::string_body> response{http::status::payload_too_large, 11};
    response.set(http::field::content_type, "application/json");
    response.body() = fmt::format(
        R"({{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":"Request entity too large: limit is {}","reason":"RequestEntityTooLarge","code":413}})",
        options_.max_body_bytes);
    response.keep_alive(false);
    response.prepare_payload();
    boost::system::error_code ec;
    http::write(stream, response, ec);
  }

  // Returns false when the connection must close.
  bool Respond(SslStream& stream, http::request<http::string_body>& message, const std::string& remote) {
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.accept = std::string(message[http::field::accept]);
    request.content_type = std::string(message[http::field::content_type]);
    request.authorization = std::string(message[http::field::authorization]);
    request.user_agent = std::string(message[http::field::user_agent]);
    request.remote = remote;
    request.body = std::move(message.body());
    HttpResponse response;
    Status parsed = ParseTarget(message.target(), request);
    if (parsed.ok()) {
      response = handler_(request);
    } else {
      response.status = 400;
      response.body = fmt::format(
          R"({{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":{},"reason":"BadRequest","code":400}})",
          Json(parsed.message()).dump());
    }
    return response.stream ? WriteStream(stream, response, message.version()) : WriteWhole(stream, response, message);
  }

  static void SetHeaders(http::response_header<>& header, const HttpResponse& response) {
    header.set(http::field::content_type, response.content_type);
    header.set("Audit-Id", "");
    header.set(http::field::cache_control, "no-cache, private");
    for (const auto& [name, value] : response.headers) header.insert(name, value);
  }

  bool WriteWhole(SslStream& stream, HttpResponse& response, const http::request<http::string_body>& message) {
    http::response<http::string_body> out{static_cast<http::status>(response.status), message.version()};
    SetHeaders(out.base(), response);
    out.body() = std::move(response.body);
    out.keep_alive(message.keep_alive());
    out.prepare_payload();
    boost::system::error_code ec;
    http::write(stream, out, ec);
    return !ec;
  }

  bool WriteStream(SslStream& stream, HttpResponse& response, unsigned version) {
    http::response<http::empty_body> out{static_cast<http::status>(response.status), version};
    SetHeaders(out.base(), response);
    out.chunked(true);
    out.keep_alive(false);
    http::response_serializer<http::empty_body> serializer(out);
    boost::system::error_code ec;
    http::write_header(stream, serializer, ec);
    if (ec) return false;
    SslResponseStream body(stream, stopping_);
    response.stream(body);
    body.Finish();
    return false;
  }

  Options options_;
  HttpHandler handler_;
  net::io_context io_;
  ssl::context tls_;
  tcp::acceptor acceptor_;
  std::thread accept_thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable drained_;
  std::set<int> open_fds_;  // guarded by mu_
  int active_ = 0;          // guarded by mu_
};

HttpServer::HttpServer(Options options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() { return impl_->Start(port_); }

void HttpServer::Stop() { impl_->Stop(); }

}  // namespace xblocks::apiserver
