#include "node/probes.h"

#include <unistd.h>

#include <fmt/format.h>

#include "node/probe_net.h"

namespace xblocks {
namespace {

constexpr const char* kUserAgent = "kube-probe/xblocks";

ProbeResult Success() { return ProbeResult{ProbeOutcome::kSuccess, ""}; }
ProbeResult Failure(std::string message) { return ProbeResult{ProbeOutcome::kFailure, std::move(message)}; }
ProbeResult Unknown(std::string message) { return ProbeResult{ProbeOutcome::kUnknown, std::move(message)}; }

Result<std::string> OptionalString(const Json& object, const char* field) {
  auto found = object.find(field);
  if (found == object.end() || found->is_null()) return std::string();
  if (!found->is_string()) return Invalid(fmt::format("invalid probe: {} must be a string", field));
  return found->get<std::string>();
}

bool IsTokenCharacter(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool HasControlOrSpace(const std::string& text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Reads httpGet.httpHeaders into request lines; a "Host" header replaces the default one.
Result<std::string> HeaderLines(const Json& action, std::string& host_header) {
  auto headers = action.find("httpHeaders");
  if (headers == action.end() || headers->is_null()) return std::string();
  if (!headers->is_array()) return Invalid("invalid probe: httpGet.httpHeaders must be a list");
  std::string lines;
  for (const Json& header : *headers) {
    if (!header.is_object() || !header.value("name", Json()).is_string() || !header.value("value", Json()).is_string()) {
      return Invalid("invalid probe: each httpGet.httpHeaders entry needs string name and value");
    }
    std::string name = header["name"].get<std::string>();
    std::string value = header["value"].get<std::string>();
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenCharacter) ||
        value.find_first_of("\r\n") != std::string::npos) {
      return Invalid(fmt::format("invalid probe: httpGet.httpHeaders entry \"{}\" is not a valid HTTP header", name));
    }
    if (strcasecmp(name.c_str(), "Host") == 0) {
      host_header = value;
    } else {
      lines += fmt::format("{}: {}\r\n", name, value);
    }
  }
  return lines;
}

Result<std::string> ProbePath(const Json& action) {
  Result<std::string> path = OptionalString(action, "path");
  if (!path.ok()) return path.status();
  std::string value = path->empty() ? "/" : *path;
  if (value.front() != '/') value = "/" + value;
  if (HasControlOrSpace(value)) return Invalid(fmt::format("invalid probe: httpGet.path \"{}\" contains spaces or control characters", value));
  return value;
}

struct Target {
  ProbeAddress address;
  std::string url;
};

// Resolves the port and checks the host of an httpGet or tcpSocket action.
Result<Target> ResolveTarget(const Json& action, const std::string& pod_ip, const Json& container_ports) {
  if (!action.is_object()) return Invalid("invalid probe: the action must be an object");
  if (!action.contains("port")) return Invalid("invalid probe: port is required");
  Result<int> port = ResolveProbePort(action["port"], container_ports);
  if (!port.ok()) return port.status();
  Result<std::string> host = OptionalString(action, "host");
  if (!host.ok()) return host.status();
  Result<ProbeAddress> address = CheckProbeHost(*host, pod_ip, *port);
  if (!address.ok()) return address.status();
  return Target{*address, fmt::format("{}:{}", address->host, *port)};
}

std::chrono::steady_clock::time_point DeadlineAfter(std::chrono::seconds timeout) {
  return std::chrono::steady_clock::now() + timeout;
}

ProbeResult FailureFrom(const Status& status, const std::string& what, std::chrono::seconds timeout) {
  if (status.code() == StatusCode::kTimeout) return Failure(fmt::format("{}: timed out after {}s", what, timeout.count()));
  return Failure(fmt::format("{}: {}", what, status.message()));
}

}  // namespace

Result<int> ResolveProbePort(const Json& port, const Json& container_ports) {
  int64_t number = -1;
  if (port.is_number_integer()) {
    number = port.is_number_unsigned() && port.get<uint64_t>() > 65535 ? 65536 : port.get<int64_t>();
  } else if (port.is_string()) {
    std::string name = port.get<std::string>();
    for (const Json& entry : container_ports.is_array() ? container_ports : Json::array()) {
      if (entry.is_object() && entry.value("name", Json()) == name && entry.value("containerPort", Json()).is_number_integer()) {
        number = entry["containerPort"].get<int64_t>();
      }
    }
    // kubelet also accepts a port number written as a string.
    if (number < 0 && !name.empty() && name.size() <= 5 && std::all_of(name.begin(), name.end(), ::isdigit)) number = std::stoi(name);
    if (number < 0) return Invalid(fmt::format("invalid probe: port \"{}\" is not a named port of the container", name));
  } else {
    return Invalid("invalid probe: port must be a number or a port name");
  }
  if (number < 1 || number > 65535) return Invalid(fmt::format("invalid probe: port {} is not in 1-65535", port.dump()));
  return static_cast<int>(number);
}

ProbeResult RunHttpGetProbe(const Json& action, const std::string& pod_ip, const Json& container_ports,
                            std::chrono::seconds timeout) {
  Result<Target> target = ResolveTarget(action, pod_ip, container_ports);
  if (!target.ok()) return Failure(target.status().message());
  Result<std::string> scheme = OptionalString(action, "scheme");
  if (!scheme.ok()) return Unknown(scheme.status().message());
  if (!scheme->empty() && *scheme != "HTTP") return Unknown(fmt::format("httpGet scheme \"{}\" is not supported; use HTTP", *scheme));
  Result<std::string> path = ProbePath(action);
  if (!path.ok()) return Unknown(path.status().message());
  std::string host_header = target->url;
  Result<std::string> headers = HeaderLines(action, host_header);
  if (!headers.ok()) return Unknown(headers.status().message());

  std::string what = fmt::format("GET http://{}{}", target->url, *path);
  std::string request = fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nAccept: */*\r\n{}Connection: close\r\n\r\n",
                                    *path, host_header, kUserAgent, *headers);
  auto deadline = DeadlineAfter(timeout);
  Result<int> fd = ConnectBefore(target->address, deadline);
  if (!fd.ok()) return FailureFrom(fd.status(), what, timeout);
  Result<int> code = ExchangeHttp(*fd, request, deadline);
  ::close(*fd);
  if (!code.ok()) return FailureFrom(code.status(), what, timeout);
  if (*code < 200 || *code > 399) return Failure(fmt::format("HTTP probe failed with statuscode: {}", *code));
  return Success();
}

ProbeResult RunTcpSocketProbe(const Json& action, const std::string& pod_ip, const Json& container_ports,
                              std::chrono::seconds timeout) {
  Result<Target> target = ResolveTarget(action, pod_ip, container_ports);
  if (!target.ok()) return Failure(target.status().message());
  Result<int> fd = ConnectBefore(target->address, DeadlineAfter(timeout));
  if (!fd.ok()) return FailureFrom(fd.status(), fmt::format("dial tcp {}", target->url), timeout);
  ::close(*fd);
  return Success();
}

ProbeResult RunProbe(const Json& probe, const std::string& pod_ip, const ProbeContext& context) {
  Result<ProbeSettings> settings = ParseProbeSettings(probe);
  if (!settings.ok()) return Unknown(settings.status().message());
  if (probe.contains("httpGet")) return RunHttpGetProbe(probe["httpGet"], pod_ip, context.container_ports, settings->timeout);
  if (probe.contains("tcpSocket")) return RunTcpSocketProbe(probe["tcpSocket"], pod_ip, context.container_ports, settings->timeout);
  if (probe.contains("exec")) return RunExecProbe(probe["exec"], context.exec, settings->timeout);
  if (probe.contains("grpc")) return Unknown("grpc probes are not supported in embedded mode; use httpGet, tcpSocket or exec");
  return Unknown("invalid probe: set one of httpGet, tcpSocket or exec");
}

}  // namespace xblocks
