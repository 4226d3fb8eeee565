#include "node/probe_net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace xblocks {
namespace {

constexpr size_t kMaxStatusLineBytes = 8192;

Status TimedOut(const std::string& what) { return Status(StatusCode::kTimeout, fmt::format("{}: timed out", what)); }

Status SocketError(const std::string& what, int error) {
  return Status(StatusCode::kUnavailable, fmt::format("{}: {}", what, std::strerror(error)));
}

bool ParseIpv4(const std::string& text, ProbeAddress& address, int port, bool& loopback) {
  sockaddr_in in{};
  if (::inet_pton(AF_INET, text.c_str(), &in.sin_addr) != 1) return false;
  in.sin_family = AF_INET;
  in.sin_port = htons(static_cast<uint16_t>(port));
  std::memcpy(&address.storage, &in, sizeof(in));
  address.length = sizeof(in);
  address.host = text;
  loopback = (ntohl(in.sin_addr.s_addr) >> 24) == 127;
  return true;
}

bool ParseIpv6(std::string text, ProbeAddress& address, int port, bool& loopback) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  sockaddr_in6 in6{};
  if (::inet_pton(AF_INET6, text.c_str(), &in6.sin6_addr) != 1) return false;
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(static_cast<uint16_t>(port));
  std::memcpy(&address.storage, &in6, sizeof(in6));
  address.length = sizeof(in6);
  address.host = "[" + text + "]";
  loopback = IN6_IS_ADDR_LOOPBACK(&in6.sin6_addr);
  return true;
}

// Milliseconds left until `deadline` for poll(2), at least 0.
int MillisLeft(SteadyDeadline deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(left.count(), INT32_MAX)));
}

// Waits for `events` on `fd`. Returns Timeout at the deadline.
Status WaitFor(int fd, short events, SteadyDeadline deadline, const std::string& what) {
  while (true) {
    pollfd entry{fd, events, 0};
    int ready = ::poll(&entry, 1, MillisLeft(deadline));
    if (ready > 0) return Status::Ok();
    if (ready == 0) return TimedOut(what);
    if (errno != EINTR) return SocketError(what, errno);
  }
}

Status SendAll(int fd, const std::string& data, SteadyDeadline deadline) {
  size_t sent = 0;
  while (sent < data.size()) {
    XB_RETURN_IF_ERROR(WaitFor(fd, POLLOUT, deadline, "send request"));
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return SocketError("send request", errno);
    sent += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<int> ParseStatusLine(const std::string& line) {
  // "HTTP/1.1 200 OK": the code is the three digits after the first space.
  if (line.rfind("HTTP/1.", 0) != 0 || line.size() < 12 || line[8] != ' ') {
    return BadRequest(fmt::format("response is not HTTP/1.x: \"{}\"", line.substr(0, 64)));
  }
  int code = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return BadRequest(fmt::format("invalid HTTP status line \"{}\"", line.substr(0, 64)));
    code = code * 10 + (line[i] - '0');
  }
  return code;
}

}  // namespace

Result<ProbeAddress> CheckProbeHost(const std::string& host, const std::string& pod_ip, int port) {
  std::string target = host.empty() ? pod_ip : host;
  if (target.empty()) return Invalid("probe has no host and the pod has no IP yet");
  std::string numeric = target == "localhost" ? "127.0.0.1" : target;

  ProbeAddress address;
  address.port = port;
  bool loopback = false;
  if (!ParseIpv4(numeric, address, port, loopback) && !ParseIpv6(numeric, address, port, loopback)) {
    return Invalid(fmt::format("probe host \"{}\" is not an IP address; use a loopback address or the pod IP", target));
  }
  if (!loopback && target != pod_ip) {
    return Invalid(fmt::format(
        "probe host \"{}\" is neither a loopback address nor the pod IP \"{}\"; probes only reach the pod itself",
        target, pod_ip));
  }
  return address;
}

Result<int> ConnectBefore(const ProbeAddress& address, SteadyDeadline deadline) {
  std::string what = fmt::format("connect to {}:{}", address.host, address.port);
  int fd = ::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return SocketError("socket", errno);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address.storage), address.length) == 0) return fd;
  if (errno != EINPROGRESS) {
    Status failed = SocketError(what, errno);
    ::close(fd);
    return failed;
  }

  Status waited = WaitFor(fd, POLLOUT, deadline, what);
  int error = 0;
  socklen_t length = sizeof(error);
  if (waited.ok() && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  if (waited.ok() && error == 0) return fd;
  ::close(fd);
  return waited.ok() ? SocketError(what, error) : waited;
}

Result<int> ExchangeHttp(int fd, const std::string& request, SteadyDeadline deadline) {
  XB_RETURN_IF_ERROR(SendAll(fd, request, deadline));
  std::string received;
  char buffer[1024];
  while (received.find("\r\n") == std::string::npos && received.size() < kMaxStatusLineBytes) {
    XB_RETURN_IF_ERROR(WaitFor(fd, POLLIN, deadline, "read response"));
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return SocketError("read response", errno);
    if (n == 0) break;
    received.append(buffer, static_cast<size_t>(n));
  }
  return ParseStatusLine(received.substr(0, received.find("\r\n")));
}

}  // namespace xblocks
