// The Service and Endpoints printers.
#include <fmt/format.h>

#include <algorithm>

#include "api/json_fields.h"
#include "api/table_printers.h"

namespace xblocks::api {
namespace {

// Endpoints lists at most this many addresses, then "+ N more...", as kube-apiserver does.
constexpr size_t kMaxListedEndpoints = 3;

std::vector<std::string> Strings(const Json& array) {
  std::vector<std::string> out;
  for (const Json& item : array) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

std::string LoadBalancerAddresses(const Json& service) {
  std::vector<std::string> addresses;
  for (const Json& ingress : ArrayAt(service, "status.loadBalancer.ingress")) {
    std::string address = StringAt(ingress, "ip");
    if (address.empty()) address = StringAt(ingress, "hostname");
    if (!address.empty()) addresses.push_back(std::move(address));
  }
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  return Join(addresses, ",");
}

std::string ExternalIp(const Json& service, const std::string& type) {
  std::vector<std::string> external = Strings(ArrayAt(service, "spec.externalIPs"));
  if (type == "ClusterIP" || type == "NodePort") return OrNone(Join(external, ","));
  if (type == "LoadBalancer") {
    std::string balancer = LoadBalancerAddresses(service);
    if (!balancer.empty()) external.insert(external.begin(), balancer);
    std::string joined = Join(external, ",");
    return joined.empty() ? "<pending>" : joined;
  }
  if (type == "ExternalName") return StringAt(service, "spec.externalName");
  return "<unknown>";
}

std::string ClusterIp(const Json& service) {
  const Json& ips = ArrayAt(service, "spec.clusterIPs");
  if (!ips.empty() && ips[0].is_string()) return ips[0].get<std::string>();
  return OrNone(StringAt(service, "spec.clusterIP"));
}

std::string Ports(const Json& service) {
  std::vector<std::string> ports;
  for (const Json& port : ArrayAt(service, "spec.ports")) {
    std::string protocol = StringAt(port, "protocol");
    if (protocol.empty()) protocol = "TCP";
    int64_t node_port = IntAt(port, "nodePort");
    if (node_port > 0) {
      ports.push_back(fmt::format("{}:{}/{}", IntAt(port, "port"), node_port, protocol));
    } else {
      ports.push_back(fmt::format("{}/{}", IntAt(port, "port"), protocol));
    }
  }
  return OrNone(Join(ports, ","));
}

Json ServiceCells(const Json& service, TimePoint now) {
  std::string type = StringAt(service, "spec.type");
  if (type.empty()) type = "ClusterIP";  // the API default
  return Json::array({StringAt(service, "metadata.name"), type, ClusterIp(service),
                      ExternalIp(service, type), Ports(service),
                      AgeAt(service, "metadata.creationTimestamp", now),
                      FormatLabels(ObjectAt(service, "spec.selector"))});
}

// "ip:port" with IPv6 addresses in brackets.
std::string HostPort(const std::string& ip, int64_t port) {
  if (ip.find(':') != std::string::npos) return fmt::format("[{}]:{}", ip, port);
  return fmt::format("{}:{}", ip, port);
}

std::string EndpointsText(const Json& endpoints) {
  const Json& subsets = ArrayAt(endpoints, "subsets");
  if (subsets.empty()) return "<none>";
  std::vector<std::string> listed;
  size_t total = 0;
  auto add = [&](std::string text) {
    ++total;
    if (listed.size() < kMaxListedEndpoints) listed.push_back(std::move(text));
  };
  for (const Json& subset : subsets) {
    const Json& addresses = ArrayAt(subset, "addresses");
    const Json& ports = ArrayAt(subset, "ports");
    if (ports.empty()) {
      for (const Json& address : addresses) add(StringAt(address, "ip"));  // headless, no ports
      continue;
    }
    for (const Json& port : ports) {
      for (const Json& address : addresses) add(HostPort(StringAt(address, "ip"), IntAt(port, "port")));
    }
  }
  std::string text = Join(listed, ",");
  if (total > listed.size()) return fmt::format("{} + {} more...", text, total - listed.size());
  return text;
}

}  // namespace

BuiltinPrinter ServicePrinter() {
  return {{NameColumn(),
           TextColumn("Type", "How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName."),
           TextColumn("Cluster-IP", "The cluster IP address of the service."),
           TextColumn("External-IP", "External addresses of the service."),
           TextColumn("Port(s)", "Service ports as port[:nodePort]/protocol."),
           TextColumn("Age", "Time since the object was created."),
           TextColumn("Selector", "The pod label selector of the service.", 1)},
          ServiceCells};
}

BuiltinPrinter EndpointsPrinter() {
  return {{NameColumn(), TextColumn("Endpoints", "Ready endpoint addresses as ip:port."),
           TextColumn("Age", "Time since the object was created.")},
          [](const Json& endpoints, TimePoint now) {
            return Json::array({StringAt(endpoints, "metadata.name"), EndpointsText(endpoints),
                                AgeAt(endpoints, "metadata.creationTimestamp", now)});
          }};
}

}  // namespace xblocks::api
