// The Node objects of embedded mode. The host is one node. `--nodes N` adds virtual nodes that
// share the host, so placement rules such as pod anti-affinity per kubernetes.io/hostname can
// be exercised on one machine. Simulated nodes run pods without processes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/client.h"
#include "common/json.h"
#include "common/status.h"
#include "common/time.h"

namespace xblocks::node {

// Labels and annotations xblocks puts on its nodes.
inline constexpr char kVirtualNodeLabel[] = "xblocks.io/virtual-node";  // "true" on <host>-1 ...
inline constexpr char kSimulatedLabel[] = "xblocks.io/simulated";       // "true" on simulated nodes
// How pods on the node run: "process" (local process groups) or "simulated" (no process).
inline constexpr char kPodRuntimeAnnotation[] = "xblocks.io/pod-runtime";

// The maximum number of nodes one server registers. Kubernetes documents 5,000 nodes as the
// largest cluster it supports.
inline constexpr int kMaxNodes = 5000;

// Host facts that the nodes report: capacity, OS image, kernel and architecture.
struct HostResources {
  int64_t cpus = 1;
  int64_t memory_bytes = 0;
  std::string os_image;        // PRETTY_NAME from /etc/os-release, or "" when unreadable
  std::string kernel_version;  // uname release
  std::string architecture = "amd64";  // GOARCH spelling: amd64, arm64, ...
};

// Reads the CPUs this process may run on (sched_getaffinity, else the online CPU count),
// MemTotal from /proc/meminfo, /etc/os-release and uname. Fields it cannot read keep their
// defaults, so it returns no error.
HostResources ReadHostResources();

// The PRETTY_NAME value of /etc/os-release content, unquoted; "" when absent.
std::string ParseOsReleasePrettyName(const std::string& content);
// MemTotal of /proc/meminfo content in bytes; 0 when absent or malformed.
int64_t ParseMemTotalBytes(const std::string& content);

struct NodeOptions {
  std::string host_name;
  int virtual_nodes = 0;  // total nodes wanted; 0 and 1 both mean the host node only
  bool simulated = false;
  // Written into the node conditions' lastHeartbeatTime and lastTransitionTime; the default
  // (the epoch) means the system clock's current time.
  TimePoint heartbeat_time{};
};

// Checks the options: virtual_nodes must be in 0..kMaxNodes. Returns kInvalid naming the
// field otherwise.
Status ValidateNodeOptions(const NodeOptions& options);

// The node name for a host name: lower-cased, characters outside [a-z0-9-] turned into '-',
// leading and trailing '-' removed, and cut to leave room for a "-<n>" virtual-node suffix
// within the 63 characters of a label value. "xblocks-node" when nothing is left.
std::string NodeNameForHost(const std::string& host_name);

// Builds the Node objects: the host node, then virtual nodes <name>-1 .. <name>-(N-1), each
// with the host's CPU and memory as capacity and allocatable, 110 pods, a Ready condition and
// the host's nodeInfo. virtual_nodes is clamped to 0..kMaxNodes; call ValidateNodeOptions()
// first to reject bad values instead.
std::vector<Json> BuildNodes(const NodeOptions& options, const HostResources& host);

// Creates each node, or updates an existing one: desired labels and annotations are set, the
// xblocks.io/ ones no longer desired are removed, other labels, annotations and the spec
// (taints, unschedulable) are kept, and the status is replaced through UpdateStatus. A node
// that already matches is not written. Then deletes the nodes labelled
// xblocks.io/virtual-node=true that `nodes` does not contain. Returns the first client error.
Status RegisterNodes(client::Client& client, const std::vector<Json>& nodes);

}  // namespace xblocks::node
