// The Service proxy of the process runtime: which pods a Service port leads to, and bytes going
// through a real listener on a loopback clusterIP to a real backend socket and back.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "node/service_proxy.h"
#include "node_test_support.h"

namespace xblocks::node {
namespace {

using namespace std::chrono_literals;

Json Service(const std::string& cluster_ip, const Json& target_port, const Json& selector = {{"app", "x"}}) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", "x"}, {"namespace", "demo"}}},
          {"spec",
           {{"type", "ClusterIP"},
            {"clusterIP", cluster_ip},
            {"selector", selector},
            {"ports", {{{"name", "xinference"}, {"port", 9997}, {"targetPort", target_port}, {"protocol", "TCP"}}}}}}};
}

// A pod labelled app=x whose container port `xinference` is `port`, Ready or not.
Json Pod(const std::string& name, const std::string& ip, bool ready, int port = 9997) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "demo"}, {"labels", {{"app", "x"}}}}},
          {"spec",
           {{"containers",
             {{{"name", "xinference"}, {"ports", {{{"name", "xinference"}, {"containerPort", port}}}}}}}}},
          {"status",
           {{"podIP", ip},
            {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}};
}

TEST(ProxyRoutes, LeadToReadyMatchingPodsByPortName) {
  Json deleting = Pod("c", "127.1.0.3", true);
  deleting["metadata"]["deletionTimestamp"] = "2026-12-05T00:00:00Z";
  Json elsewhere = Pod("d", "127.1.0.4", true);
  elsewhere["metadata"]["namespace"] = "other";
  Json unlabelled = Pod("e", "127.1.0.5", true);
  unlabelled["metadata"]["labels"] = {{"app", "y"}};
  Json no_ip = Pod("f", "", true);

  auto routes = ComputeProxyRoutes({Service("127.96.1.2", "xinference")},
                                   {Pod("b", "127.1.0.2", true, 8000), Pod("a", "127.1.0.1", false), deleting,
                                    elsewhere, unlabelled, no_ip});
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].service, "demo/x");
  EXPECT_EQ(routes[0].Address(), "127.96.1.2:9997");
  ASSERT_EQ(routes[0].backends.size(), 1u);
  EXPECT_EQ(routes[0].backends[0], (ProxyBackend{"b", "127.1.0.2", 8000}));
}

TEST(ProxyRoutes, NumericTargetPortNeedsNoContainerPort) {
  Json pod = Pod("a", "127.1.0.1", true);
  pod["spec"]["containers"][0].erase("ports");
  auto routes = ComputeProxyRoutes({Service("127.96.1.2", 8080)}, {pod});
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].backends, (std::vector<ProxyBackend>{{"a", "127.1.0.1", 8080}}));

  // A named target port that the pod does not declare leaves the pod out.
  routes = ComputeProxyRoutes({Service("127.96.1.2", "metrics")}, {pod});
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_TRUE(routes[0].backends.empty());
}

TEST(ProxyRoutes, SkipHeadlessSelectorlessAndNonLoopbackServices) {
  Json udp = Service("127.96.1.3", 53);
  udp["spec"]["ports"][0]["protocol"] = "UDP";
  auto routes = ComputeProxyRoutes({Service("None", 9997), Service("127.96.1.2", 9997, Json::object()),
                                    Service("10.96.0.10", 9997), udp},
                                   {Pod("a", "127.1.0.1", true)});
  EXPECT_TRUE(routes.empty());
}

// A TCP server on 127.0.0.1 that sends back in upper case what it reads, until the peer
// half-closes, then closes.
class UpperCaseServer {
 public:
  UpperCaseServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t length = sizeof(address);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~UpperCaseServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }

  int port() const { return port_; }
  int served() const { return served_; }

 private:
  void Serve() {
    for (;;) {
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      char buffer[256];
      ssize_t bytes;
      while ((bytes = ::read(client, buffer, sizeof(buffer))) > 0) {
        for (ssize_t i = 0; i < bytes; ++i) buffer[i] = static_cast<char>(std::toupper(buffer[i]));
        ::write(client, buffer, static_cast<size_t>(bytes));
      }
      ++served_;
      ::close(client);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> served_{0};
  std::thread thread_;
};

// Connects to ip:port, sends `text`, half-closes and returns everything read until EOF; nullopt
// when the connection is refused.
std::optional<std::string> Exchange(const std::string& ip, int port, const std::string& text) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, ip.c_str(), &address.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::write(fd, text.data(), text.size());
  ::shutdown(fd, SHUT_WR);
  std::string received;
  char buffer[256];
  ssize_t bytes;
  while ((bytes = ::read(fd, buffer, sizeof(buffer))) > 0) received.append(buffer, static_cast<size_t>(bytes));
  ::close(fd);
  return received;
}

// Retries Exchange until `accept` takes its result: the proxy applies routes on its own thread.
std::optional<std::string> ExchangeWhen(const std::string& ip, int port, const std::string& text,
                                        const std::function<bool(const std::optional<std::string>&)>& accept) {
  std::optional<std::string> result;
  for (int attempt = 0; attempt < 100; ++attempt) {
    result = Exchange(ip, port, text);
    if (accept(result)) break;
    std::this_thread::sleep_for(50ms);
  }
  return result;
}

class ServiceProxyTest : public testing::NodeFixture {
 protected:
  void Create(const client::Resource& resource, const Json& object) {
    auto created = client_->Create(resource, object);
    ASSERT_TRUE(created.ok()) << created.status().message();
    if (object.contains("status")) {
      auto patched = client_->PatchStatus(resource, "demo", object["metadata"]["name"], {{"status", object["status"]}});
      ASSERT_TRUE(patched.ok()) << patched.status().message();
    }
  }
};

TEST_F(ServiceProxyTest, CarriesBytesBothWaysToAReadyPod) {
  UpperCaseServer backend;
  ServiceProxy proxy(*client_);
  ASSERT_TRUE(proxy.Start().ok());
  ASSERT_NO_FATAL_FAILURE(Create(client::resources::kServices, Service("127.96.250.251", backend.port())));
  ASSERT_NO_FATAL_FAILURE(Create(client::resources::kPods, Pod("a", "127.0.0.1", true)));
  ASSERT_TRUE(proxy.Sync().ok());

  auto reply = ExchangeWhen("127.96.250.251", 9997, "hello, replica",
                            [](const auto& result) { return result.has_value(); });
  EXPECT_EQ(reply, std::optional<std::string>("HELLO, REPLICA"));
  EXPECT_EQ(backend.served(), 1);

  // The pod turns NotReady: the listener stays, and a connection is closed with no reply.
  auto not_ready = client_->PatchStatus(client::resources::kPods, "demo", "a",
                                        {{"status", {{"conditions", {{{"type", "Ready"}, {"status", "False"}}}}}}});
  ASSERT_TRUE(not_ready.ok()) << not_ready.status().message();
  ASSERT_TRUE(proxy.Sync().ok());
  reply = ExchangeWhen("127.96.250.251", 9997, "anyone?", [](const auto& result) { return result == ""; });
  EXPECT_EQ(reply, std::optional<std::string>(""));

  // The Service goes: so does its listener.
  ASSERT_TRUE(client_->Delete(client::resources::kServices, "demo", "x", {}).ok());
  ASSERT_TRUE(proxy.Sync().ok());
  reply = ExchangeWhen("127.96.250.251", 9997, "gone?", [](const auto& result) { return !result.has_value(); });
  EXPECT_EQ(reply, std::nullopt);
  proxy.Stop();
}

TEST_F(ServiceProxyTest, SkipsABackendThatRefuses) {
  UpperCaseServer backend;
  ServiceProxy proxy(*client_);
  ASSERT_TRUE(proxy.Start().ok());
  ASSERT_NO_FATAL_FAILURE(Create(client::resources::kServices, Service("127.96.250.252", "xinference")));
  // Pod "a" sorts first, and nothing listens at its address.
  ASSERT_NO_FATAL_FAILURE(Create(client::resources::kPods, Pod("a", "127.0.0.1", true, 1)));
  ASSERT_NO_FATAL_FAILURE(Create(client::resources::kPods, Pod("b", "127.0.0.1", true, backend.port())));
  ASSERT_TRUE(proxy.Sync().ok());

  for (int round = 0; round < 4; ++round) {
    auto reply = ExchangeWhen("127.96.250.252", 9997, "round", [](const auto& result) { return result.has_value(); });
    EXPECT_EQ(reply, std::optional<std::string>("ROUND")) << "round " << round;
  }
  EXPECT_EQ(backend.served(), 4);
  proxy.Stop();
}

}  // namespace
}  // namespace xblocks::node
