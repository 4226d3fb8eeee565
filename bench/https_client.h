// The HTTPS client of the benchmarks. HttpsClient is one keep-alive TLS connection to an xblocks
// server on 127.0.0.1 with its bearer token, as kubectl and controllers connect. RunParallel
// spreads requests over several such connections. The file is header-only because every
// bench/*.cc file builds into an executable of its own.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace xblocks::bench {

namespace http = boost::beast::http;

// The port and credentials of a server on 127.0.0.1.
struct Endpoint {
  int port = 0;
  std::filesystem::path ca;  // the server's CA certificate (ca.crt in its data dir)
  std::string token;         // the bearer token
};

// One HTTP response: the status code and the body.
struct Response {
  int status = 0;
  std::string body;
};

// One TLS connection to `endpoint`, verified against its CA. Not thread-safe: each thread uses its
// own. Throws boost::system::system_error when the connection fails.
class HttpsClient {
 public:
  explicit HttpsClient(const Endpoint& endpoint)
      : tls_(boost::asio::ssl::context::tls_client), stream_(io_, tls_), token_(endpoint.token) {
    tls_.load_verify_file(endpoint.ca.string());
    stream_.set_verify_mode(boost::asio::ssl::verify_peer);
    boost::asio::ip::tcp::resolver resolver(io_);
    boost::asio::connect(stream_.next_layer(), resolver.resolve("127.0.0.1", std::to_string(endpoint.port)));
    stream_.handshake(boost::asio::ssl::stream_base::client);
  }

  // Sends one request with a JSON body (when not empty) and returns the response.
  Response Send(http::verb verb, const std::string& target, const std::string& body = "") {
    http::request<http::string_body> request{verb, target, 11};
    request.set(http::field::host, "127.0.0.1");
    request.set(http::field::authorization, "Bearer " + token_);
    request.set(http::field::content_type, "application/json");
    request.set(http::field::accept, "application/json");
    request.keep_alive(true);
    request.body() = body;
    request.prepare_payload();
    http::write(stream_, request);
    http::response<http::string_body> response;
    http::read(stream_, buffer_, response);
    return {response.result_int(), std::move(response.body())};
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ssl::context tls_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  boost::beast::flat_buffer buffer_;
  std::string token_;
};

// The first line of `<data dir>/token`, the token the server wrote at start.
inline std::string ReadToken(const std::filesystem::path& data_dir) {
  std::ifstream in(data_dir / "token");
  std::string token;
  std::getline(in, token);
  return token;
}

// The outcome of RunParallel: wall-clock seconds, the number of calls that returned false or
// were not made, and the first connection error, if any.
struct RunResult {
  double seconds = 0;
  int failures = 0;
  std::string error;
};

// Calls `work(client, i)` for every i in [0, count), spread over `clients` threads, each with its
// own connection. `work` returns whether the request succeeded. A thread whose connection fails
// stops, and the other threads take the calls it did not make.
template <typename Work>
RunResult RunParallel(const Endpoint& endpoint, int clients, int count, Work work) {
  std::atomic<int> next{0};
  std::atomic<int> attempted{0};
  std::atomic<int> failures{0};
  std::mutex error_mutex;
  std::string error;

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      int current = -1;
      try {
        HttpsClient client(endpoint);
        for (current = next++; current < count; current = next++) {
          if (!work(client, current)) ++failures;
          ++attempted;
        }
      } catch (const std::exception& thrown) {
        if (current >= 0 && current < count) {
          ++failures;
          ++attempted;
        }
        std::lock_guard lock(error_mutex);
        if (error.empty()) error = thrown.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();

  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  // When every connection failed, the calls no thread reached count as failures too.
  return {elapsed.count(), failures.load() + (count - attempted.load()), error};
}

}  // namespace xblocks::bench
