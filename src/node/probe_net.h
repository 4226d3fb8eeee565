// Sockets for network probes: address checks, connect with a deadline, and a minimal HTTP/1.1
// GET. Internal to the probes.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <string>

#include "common/status.h"

namespace xblocks {

using SteadyDeadline = std::chrono::steady_clock::time_point;

// A numeric address and port, printable as "127.0.0.1:80" or "[::1]:80".
struct ProbeAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string host;  // as used in URLs and the Host header
  int port = 0;
};

// Accepts `host` (empty: the pod IP) only when it is a loopback address (127.0.0.0/8, ::1,
// "localhost") or equals `pod_ip`. Returns Invalid with the reason otherwise; nothing is
// resolved through DNS.
Result<ProbeAddress> CheckProbeHost(const std::string& host, const std::string& pod_ip, int port);

// Opens a TCP connection, waiting until `deadline`. Returns the connected socket (the caller
// closes it), Unavailable for refused or unreachable, Timeout at the deadline.
Result<int> ConnectBefore(const ProbeAddress& address, SteadyDeadline deadline);

// Sends `request` and reads the status code of the response. Returns Timeout at the deadline,
// BadRequest for a response that is not HTTP/1.x, Unavailable for socket errors.
Result<int> ExchangeHttp(int fd, const std::string& request, SteadyDeadline deadline);

}  // namespace xblocks
