// Probes against a small HTTP server on 127.0.0.1 that each test starts on a free port.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "node/probes.h"

namespace xblocks {
namespace {

using std::chrono::seconds;

// Listens on 127.0.0.1:0. Each connection gets `status_line` (or nothing when `silent`) and is
// closed; the request heads it read are kept.
class TestHttpServer {
 public:
  explicit TestHttpServer(std::string status_line, bool silent = false)
      : status_line_(std::move(status_line)), silent_(silent) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TestHttpServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }

  int port() const { return port_; }
  int connections() const { return connections_; }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd entry{fd_, POLLIN, 0};
      if (::poll(&entry, 1, 20) <= 0) continue;
      int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      ++connections_;
      std::string request = ReadHead(client);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(request);
      }
      if (silent_) {
        while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      } else {
        std::string response = status_line_ + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        ::send(client, response.data(), response.size(), MSG_NOSIGNAL);
      }
      ::close(client);
    }
  }

  static std::string ReadHead(int client) {
    std::string head;
    char buffer[512];
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 16384) {
      pollfd entry{client, POLLIN, 0};
      if (::poll(&entry, 1, 2000) <= 0) break;
      ssize_t n = ::recv(client, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      head.append(buffer, static_cast<size_t>(n));
    }
    return head;
  }

  std::string status_line_;
  bool silent_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

// A loopback port with nothing listening: bound, then closed.
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

Json HttpProbe(Json port, const std::string& path = "/healthz") {
  return Json{{"httpGet", {{"port", port}, {"path", path}}}, {"timeoutSeconds", 1}};
}

ProbeResult Probe(const Json& probe, const ProbeContext& context = {}) { return RunProbe(probe, "127.0.0.1", context); }

TEST(HttpGetProbe, SucceedsOn200And302) {
  for (const char* status : {"HTTP/1.1 200 OK", "HTTP/1.0 204 No Content", "HTTP/1.1 302 Found", "HTTP/1.1 399 Odd"}) {
    TestHttpServer server(status);
    ProbeResult result = Probe(HttpProbe(server.port()));
    EXPECT_EQ(result.outcome, ProbeOutcome::kSuccess) << status << ": " << result.message;
    EXPECT_EQ(result.message, "");
  }
}

TEST(HttpGetProbe, FailsOnErrorStatus) {
  for (auto [status, code] : {std::pair{"HTTP/1.1 404 Not Found", 404}, std::pair{"HTTP/1.1 500 Oops", 500},
                              std::pair{"HTTP/1.1 199 Early", 199}}) {
    TestHttpServer server(status);
    ProbeResult result = Probe(HttpProbe(server.port()));
    EXPECT_EQ(result.outcome, ProbeOutcome::kFailure) << status;
    EXPECT_EQ(result.message, "HTTP probe failed with statuscode: " + std::to_string(code));
  }
}

TEST(HttpGetProbe, SendsPathAndHeaders) {
  TestHttpServer server("HTTP/1.1 200 OK");
  Json probe = HttpProbe(server.port(), "status?verbose=1");
  probe["httpGet"]["httpHeaders"] = Json::array({{{"name", "X-Probe"}, {"value", "yes"}}});
  ASSERT_EQ(Probe(probe).outcome, ProbeOutcome::kSuccess);
  ASSERT_EQ(server.requests().size(), 1u);
  std::string request = server.requests()[0];
  EXPECT_EQ(request.rfind("GET /status?verbose=1 HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("\r\nX-Probe: yes\r\n"), std::string::npos) << request;
}

TEST(HttpGetProbe, ResolvesNamedPort) {
  TestHttpServer server("HTTP/1.1 200 OK");
  ProbeContext context;
  context.container_ports = Json::array({{{"name", "metrics"}, {"containerPort", 1}},
                                         {{"name", "http"}, {"containerPort", server.port()}}});
  EXPECT_EQ(Probe(HttpProbe("http"), context).outcome, ProbeOutcome::kSuccess);

  ProbeResult unknown = Probe(HttpProbe("admin"), context);
  EXPECT_EQ(unknown.outcome, ProbeOutcome::kFailure);
  EXPECT_NE(unknown.message.find("\"admin\" is not a named port"), std::string::npos) << unknown.message;
}

TEST(HttpGetProbe, RejectsNonLoopbackHostWithoutConnecting) {
  TestHttpServer server("HTTP/1.1 200 OK");
  for (const char* host : {"10.1.2.3", "192.0.2.1", "example.com", "::ffff:10.0.0.1", "2001:db8::1"}) {
    Json probe = HttpProbe(server.port());
    probe["httpGet"]["host"] = host;
    auto started = std::chrono::steady_clock::now();
    ProbeResult result = Probe(probe);
    EXPECT_EQ(result.outcome, ProbeOutcome::kFailure) << host;
    EXPECT_NE(result.message.find(host), std::string::npos) << result.message;
    EXPECT_NE(result.message.find("loopback"), std::string::npos) << result.message;
    // Rejected before any socket work: no time spent waiting on a network.
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(100)) << host;
  }
  EXPECT_EQ(server.connections(), 0);
}

TEST(HttpGetProbe, AcceptsLoopbackHostsAndPodIp) {
  TestHttpServer server("HTTP/1.1 200 OK");
  for (const char* host : {"127.0.0.1", "localhost"}) {
    Json probe = HttpProbe(server.port());
    probe["httpGet"]["host"] = host;
    EXPECT_EQ(Probe(probe).outcome, ProbeOutcome::kSuccess) << host;
  }
  // With no host, the probe goes to the pod IP.
  EXPECT_EQ(RunProbe(HttpProbe(server.port()), "127.0.0.1", {}).outcome, ProbeOutcome::kSuccess);
}

TEST(HttpGetProbe, TimesOutOnSilentServer) {
  TestHttpServer server("", /*silent=*/true);
  auto started = std::chrono::steady_clock::now();
  ProbeResult result = Probe(HttpProbe(server.port()));
  EXPECT_EQ(result.outcome, ProbeOutcome::kFailure);
  EXPECT_NE(result.message.find("timed out after 1s"), std::string::npos) << result.message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(3));
}

TEST(HttpGetProbe, FailsOnRefusedConnection) {
  ProbeResult result = Probe(HttpProbe(ClosedPort()));
  EXPECT_EQ(result.outcome, ProbeOutcome::kFailure);
  EXPECT_NE(result.message.find("Connection refused"), std::string::npos) << result.message;
}

TEST(HttpGetProbe, FailsOnNonHttpResponse) {
  TestHttpServer server("SSH-2.0-OpenSSH");
  ProbeResult result = Probe(HttpProbe(server.port()));
  EXPECT_EQ(result.outcome, ProbeOutcome::kFailure);
  EXPECT_NE(result.message.find("not HTTP"), std::string::npos) << result.message;
}

TEST(HttpGetProbe, RejectsBadSpecs) {
  Json https = HttpProbe(80);
  https["httpGet"]["scheme"] = "HTTPS";
  EXPECT_EQ(Probe(https).outcome, ProbeOutcome::kUnknown);

  Json bad_header = HttpProbe(80);
  bad_header["httpGet"]["httpHeaders"] = Json::array({{{"name", "X"}, {"value", "a\r\nInjected: 1"}}});
  EXPECT_EQ(Probe(bad_header).outcome, ProbeOutcome::kUnknown);

  Json bad_path = HttpProbe(80, "/a b");
  EXPECT_EQ(Probe(bad_path).outcome, ProbeOutcome::kUnknown);

  for (Json port : {Json(0), Json(70000), Json(-1), Json(1.5), Json(nullptr), Json::array()}) {
    ProbeResult result = Probe(HttpProbe(port));
    EXPECT_EQ(result.outcome, ProbeOutcome::kFailure) << port.dump();
    EXPECT_NE(result.message.find("port"), std::string::npos) << result.message;
  }
  EXPECT_EQ(Probe(Json{{"httpGet", "not an object"}}).outcome, ProbeOutcome::kFailure);
}

TEST(TcpSocketProbe, SucceedsWhenPortIsOpen) {
  TestHttpServer server("HTTP/1.1 200 OK");
  EXPECT_EQ(Probe(Json{{"tcpSocket", {{"port", server.port()}}}}).outcome, ProbeOutcome::kSuccess);

  ProbeResult refused = Probe(Json{{"tcpSocket", {{"port", ClosedPort()}}}});
  EXPECT_EQ(refused.outcome, ProbeOutcome::kFailure);
  EXPECT_NE(refused.message.find("Connection refused"), std::string::npos) << refused.message;

  ProbeResult remote = Probe(Json{{"tcpSocket", {{"port", 22}, {"host", "10.0.0.1"}}}});
  EXPECT_EQ(remote.outcome, ProbeOutcome::kFailure);
  EXPECT_NE(remote.message.find("loopback"), std::string::npos) << remote.message;
}

class ExecProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/xb-probe-test-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    context_.exec.launcher = &launcher_;
    context_.exec.env = {"PATH=/usr/bin:/bin", "GREETING=hello"};
    context_.exec.output_path = dir_ + "/probe.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ProbeResult Exec(Json command, int timeout_seconds = 1) {
    return Probe(Json{{"exec", {{"command", command}}}, {"timeoutSeconds", timeout_seconds}}, context_);
  }

  std::string dir_;
  PosixProcessLauncher launcher_;
  ProbeContext context_;
};

TEST_F(ExecProbeTest, SucceedsOnExitZero) {
  ProbeResult result = Exec({"/bin/sh", "-c", "test \"$GREETING\" = hello"});
  EXPECT_EQ(result.outcome, ProbeOutcome::kSuccess) << result.message;
}

TEST_F(ExecProbeTest, FailureCarriesExitCodeAndOutput) {
  Exec({"/bin/sh", "-c", "echo earlier run"});
  ProbeResult result = Exec({"/bin/sh", "-c", "echo not ready; exit 2"});
  EXPECT_EQ(result.outcome, ProbeOutcome::kFailure);
  EXPECT_EQ(result.message, "command exited with code 2: not ready");
}

TEST_F(ExecProbeTest, TimesOutAndKillsCommand) {
  auto started = std::chrono::steady_clock::now();
  ProbeResult result = Exec({"sleep", "30"});
  EXPECT_EQ(result.outcome, ProbeOutcome::kFailure);
  EXPECT_EQ(result.message, "command timed out after 1s");
  EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(5));
}

TEST_F(ExecProbeTest, MissingCommandFails) {
  ProbeResult result = Exec({"xb-no-such-probe-command"});
  EXPECT_EQ(result.outcome, ProbeOutcome::kFailure);
  EXPECT_EQ(result.message, "command exited with code 127: exec xb-no-such-probe-command: No such file or directory");
}

TEST_F(ExecProbeTest, RejectsBadCommand) {
  EXPECT_EQ(Exec(Json::array()).outcome, ProbeOutcome::kUnknown);
  EXPECT_EQ(Exec({"/bin/true", 5}).outcome, ProbeOutcome::kUnknown);
  EXPECT_EQ(Exec("true").outcome, ProbeOutcome::kUnknown);
  context_.exec.launcher = nullptr;
  EXPECT_EQ(Exec({"/bin/true"}).outcome, ProbeOutcome::kUnknown);
}

TEST(RunProbe, RejectsProbeWithoutSupportedAction) {
  EXPECT_EQ(RunProbe(Json::object(), "127.0.0.1", {}).outcome, ProbeOutcome::kUnknown);
  EXPECT_EQ(RunProbe(Json::array(), "127.0.0.1", {}).outcome, ProbeOutcome::kUnknown);
  ProbeResult grpc = RunProbe(Json{{"grpc", {{"port", 9000}}}}, "127.0.0.1", {});
  EXPECT_EQ(grpc.outcome, ProbeOutcome::kUnknown);
  EXPECT_NE(grpc.message.find("grpc"), std::string::npos);
  ProbeResult bad_timeout = RunProbe(Json{{"tcpSocket", {{"port", 80}}}, {"timeoutSeconds", "1"}}, "127.0.0.1", {});
  EXPECT_EQ(bad_timeout.outcome, ProbeOutcome::kUnknown);
  EXPECT_NE(bad_timeout.message.find("timeoutSeconds"), std::string::npos);
}

TEST(ResolveProbePort, AcceptsNumbersNamesAndNumericStrings) {
  Json ports = Json::array({{{"name", "http"}, {"containerPort", 8080}}});
  EXPECT_EQ(*ResolveProbePort(8081, ports), 8081);
  EXPECT_EQ(*ResolveProbePort("http", ports), 8080);
  EXPECT_EQ(*ResolveProbePort("9090", ports), 9090);
  EXPECT_EQ(ResolveProbePort("99999", ports).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(ResolveProbePort("http", Json::object()).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(ResolveProbePort(Json(18446744073709551615ULL), ports).status().code(), StatusCode::kInvalid);
}

}  // namespace
}  // namespace xblocks
