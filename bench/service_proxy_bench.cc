// Measures what the embedded Service proxy costs against connecting to the pod directly, in one
// run on one machine, and prints both figures with their ratio:
//   - round trips: small messages echoed back on one open connection;
//   - connections: a new connection per round trip, as HTTP clients without keep-alive make;
//   - bulk: bytes streamed through one connection and echoed back.
// The backend is an echo server on 127.0.0.1 in this process, and the proxy runs in this process
// over an in-memory API store, as `xblocks server --runtime process` runs it.
//
//   service_proxy_bench [--round-trips N] [--connections N] [--megabytes N]
//
// Nothing here asserts a timing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "api/scheme.h"
#include "apiserver/registry.h"
#include "client/local_client.h"
#include "common/time.h"
#include "node/service_proxy.h"
#include "store/store.h"

namespace {

using Clock = std::chrono::steady_clock;
using xblocks::Json;
namespace resources = xblocks::client::resources;

constexpr char kClusterIp[] = "127.96.254.254";
constexpr int kServicePort = 9997;
constexpr size_t kMessageBytes = 64;
constexpr size_t kChunkBytes = 64 * 1024;

struct Flags {
  int round_trips = 20000;
  int connections = 2000;
  int megabytes = 512;
};

std::optional<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    int* target = arg == "--round-trips" ? &flags.round_trips
                  : arg == "--connections" ? &flags.connections
                  : arg == "--megabytes"   ? &flags.megabytes
                                           : nullptr;
    if (target == nullptr || i + 1 >= argc || (*target = atoi(argv[++i])) <= 0) {
      fmt::print(stderr,
                 "usage: service_proxy_bench [--round-trips N] [--connections N] [--megabytes N]\n"
                 "  --round-trips N  64-byte echoes on one connection (default 20000)\n"
                 "  --connections N  new connections, one echo each (default 2000)\n"
                 "  --megabytes N    MiB streamed through one connection and back (default 512)\n");
      return std::nullopt;
    }
  }
  return flags;
}

// An echo server on 127.0.0.1 with a thread per connection.
class EchoServer {
 public:
  EchoServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    ::listen(fd_, 512);
    socklen_t length = sizeof(address);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~EchoServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }

  int port() const { return port_; }

 private:
  void Serve() {
    for (;;) {
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      std::thread([client] {
        const int on = 1;
        ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
        std::vector<char> buffer(kChunkBytes);
        ssize_t bytes;
        while ((bytes = ::read(client, buffer.data(), buffer.size())) > 0) {
          for (ssize_t sent = 0; sent < bytes;) {
            const ssize_t written = ::write(client, buffer.data() + sent, static_cast<size_t>(bytes - sent));
            if (written <= 0) break;
            sent += written;
          }
        }
        ::close(client);
      }).detach();
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

int Connect(const std::string& ip, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, ip.c_str(), &address.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  return fd;
}

// Sends `bytes` bytes and reads as many back; false when the peer closes first.
bool Echo(int fd, char* buffer, size_t bytes) {
  if (::write(fd, buffer, bytes) != static_cast<ssize_t>(bytes)) return false;
  for (size_t received = 0; received < bytes;) {
    const ssize_t got = ::read(fd, buffer + received, bytes - received);
    if (got <= 0) return false;
    received += static_cast<size_t>(got);
  }
  return true;
}

double RoundTripsPerSecond(const std::string& ip, int port, int count) {
  const int fd = Connect(ip, port);
  if (fd < 0) return 0;
  char message[kMessageBytes] = {};
  const auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    if (!Echo(fd, message, sizeof(message))) break;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  return count / seconds;
}

double ConnectionsPerSecond(const std::string& ip, int port, int count) {
  char message[kMessageBytes] = {};
  const auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    const int fd = Connect(ip, port);
    if (fd < 0 || !Echo(fd, message, sizeof(message))) return 0;
    ::close(fd);
  }
  return count / std::chrono::duration<double>(Clock::now() - start).count();
}

// MiB/s of `megabytes` written by one thread and read back by another on one connection.
double BulkMegabytesPerSecond(const std::string& ip, int port, int megabytes) {
  const int fd = Connect(ip, port);
  if (fd < 0) return 0;
  const size_t total = static_cast<size_t>(megabytes) << 20;
  const auto start = Clock::now();
  std::thread writer([fd, total] {
    std::vector<char> chunk(kChunkBytes, 'x');
    for (size_t sent = 0; sent < total;) {
      const ssize_t written = ::write(fd, chunk.data(), std::min(chunk.size(), total - sent));
      if (written <= 0) return;
      sent += static_cast<size_t>(written);
    }
  });
  std::vector<char> buffer(kChunkBytes);
  size_t received = 0;
  while (received < total) {
    const ssize_t got = ::read(fd, buffer.data(), buffer.size());
    if (got <= 0) break;
    received += static_cast<size_t>(got);
  }
  writer.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  return static_cast<double>(received >> 20) / seconds;
}

void PrintRow(const std::string& what, const std::string& unit, double direct, double proxied) {
  fmt::print("{:<12} {:>14.0f} {:>14.0f} {:>8.2f}  {}\n", what, direct, proxied, direct > 0 ? proxied / direct : 0.0,
             unit);
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Flags> flags = ParseFlags(argc, argv);
  if (!flags) return 2;

  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / fmt::format("xblocks-proxy-bench-{}", ::getpid());
  std::filesystem::create_directories(dir);
  auto store = xblocks::store::Store::Open({.path = dir / "state.db"});
  auto scheme = xblocks::api::Scheme::Load();
  if (!store.ok() || !scheme.ok()) {
    fmt::print(stderr, "cannot open the store in {}\n", dir.string());
    return 1;
  }
  xblocks::SystemClock clock;
  xblocks::apiserver::Registry registry(*scheme, **store, clock);
  xblocks::client::LocalClient client(registry, "service-proxy-bench");

  EchoServer backend;
  const Json pod_status = {{"podIP", "127.0.0.1"}, {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}};
  const bool created =
      client.Create(resources::kNamespaces, {{"metadata", {{"name", "bench"}}}}).ok() &&
      client
          .Create(resources::kServices,
                  {{"apiVersion", "v1"},
                   {"kind", "Service"},
                   {"metadata", {{"name", "echo"}, {"namespace", "bench"}}},
                   {"spec",
                    {{"clusterIP", kClusterIp},
                     {"selector", {{"app", "echo"}}},
                     {"ports", {{{"port", kServicePort}, {"targetPort", backend.port()}}}}}}})
          .ok() &&
      client
          .Create(resources::kPods, {{"apiVersion", "v1"},
                                     {"kind", "Pod"},
                                     {"metadata", {{"name", "echo-0"}, {"namespace", "bench"}, {"labels", {{"app", "echo"}}}}},
                                     {"spec", {{"containers", {{{"name", "echo"}, {"image", "echo"}}}}}}})
          .ok() &&
      client.PatchStatus(resources::kPods, "bench", "echo-0", {{"status", pod_status}}).ok();
  if (!created) {
    fmt::print(stderr, "cannot create the benchmark's Service and Pod\n");
    return 1;
  }

  xblocks::node::ServiceProxy proxy(client);
  if (!proxy.Start().ok() || !proxy.Sync().ok()) return 1;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = Connect(kClusterIp, kServicePort);
    if (fd >= 0) {
      ::close(fd);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  fmt::print("{:<12} {:>14} {:>14} {:>8}\n", "", "direct", "via proxy", "ratio");
  PrintRow("round trips", "per second, 64 B, one connection",
           RoundTripsPerSecond("127.0.0.1", backend.port(), flags->round_trips),
           RoundTripsPerSecond(kClusterIp, kServicePort, flags->round_trips));
  PrintRow("connections", "per second, one 64 B echo each",
           ConnectionsPerSecond("127.0.0.1", backend.port(), flags->connections),
           ConnectionsPerSecond(kClusterIp, kServicePort, flags->connections));
  PrintRow("bulk", "MiB/s, written and echoed back",
           BulkMegabytesPerSecond("127.0.0.1", backend.port(), flags->megabytes),
           BulkMegabytesPerSecond(kClusterIp, kServicePort, flags->megabytes));

  proxy.Stop();
  std::filesystem::remove_all(dir);
  return 0;
}
