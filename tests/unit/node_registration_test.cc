#include <gtest/gtest.h>

#include <algorithm>

#include "api/json_fields.h"
#include "node/nodes.h"
#include "node_test_support.h"

namespace xblocks::node {
namespace {

HostResources FakeHost() {
  HostResources host;
  host.cpus = 8;
  host.memory_bytes = 16LL * 1024 * 1024 * 1024;
  host.os_image = "Debian GNU/Linux 12 (bookworm)";
  host.kernel_version = "6.1.0-18-amd64";
  return host;
}

NodeOptions Options(int nodes, bool simulated = false) {
  NodeOptions options;
  options.host_name = "Build-Host";
  options.virtual_nodes = nodes;
  options.simulated = simulated;
  options.heartbeat_time = *ParseRfc3339("2026-12-04T10:00:00Z");
  return options;
}

std::vector<std::string> Names(const std::vector<Json>& nodes) {
  std::vector<std::string> names;
  for (const Json& node : nodes) names.push_back(api::StringAt(node, "metadata.name"));
  std::sort(names.begin(), names.end());
  return names;
}

TEST(NodeNameForHost, MakesDnsLabel) {
  EXPECT_EQ(NodeNameForHost("Build-Host"), "build-host");
  EXPECT_EQ(NodeNameForHost("gpu_01.lab.example.COM"), "gpu-01-lab-example-com");
  EXPECT_EQ(NodeNameForHost("-edge-"), "edge");
  EXPECT_EQ(NodeNameForHost(""), "xblocks-node");
  EXPECT_EQ(NodeNameForHost("..."), "xblocks-node");
  EXPECT_EQ(NodeNameForHost(std::string(300, 'a')).size(), 58u);
}

TEST(BuildNodes, HostNodeCarriesCapacityLabelsAndInfo) {
  const std::vector<Json> nodes = BuildNodes(Options(0), FakeHost());
  ASSERT_EQ(nodes.size(), 1u);
  const Json& node = nodes[0];
  EXPECT_EQ(node["metadata"]["name"], "build-host");
  EXPECT_EQ(node["metadata"]["labels"],
            Json({{"kubernetes.io/hostname", "build-host"},
                  {"kubernetes.io/os", "linux"},
                  {"kubernetes.io/arch", "amd64"},
                  {"node.kubernetes.io/instance-type", "xblocks"}}));
  EXPECT_EQ(node["metadata"]["annotations"][kPodRuntimeAnnotation], "process");
  EXPECT_EQ(node["status"]["capacity"], Json({{"cpu", "8"}, {"memory", "16777216Ki"}, {"pods", "110"}}));
  EXPECT_EQ(node["status"]["allocatable"], node["status"]["capacity"]);
  EXPECT_EQ(node["status"]["nodeInfo"]["kubeletVersion"], "v1.33.0");
  EXPECT_EQ(node["status"]["nodeInfo"]["containerRuntimeVersion"], "xblocks://0.1.0");
  EXPECT_EQ(node["status"]["nodeInfo"]["osImage"], "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(node["status"]["nodeInfo"]["kernelVersion"], "6.1.0-18-amd64");
  EXPECT_EQ(node["status"]["addresses"][0], Json({{"type", "InternalIP"}, {"address", "127.0.0.1"}}));
  EXPECT_EQ(node["status"]["addresses"][1], Json({{"type", "Hostname"}, {"address", "build-host"}}));
}

TEST(BuildNodes, ReadyConditionIsTrue) {
  const Json node = BuildNodes(Options(0), FakeHost())[0];
  const Json& conditions = node["status"]["conditions"];
  auto ready = std::find_if(conditions.begin(), conditions.end(), [](const Json& c) { return c["type"] == "Ready"; });
  ASSERT_NE(ready, conditions.end());
  EXPECT_EQ((*ready)["status"], "True");
  EXPECT_EQ((*ready)["reason"], "KubeletReady");
  EXPECT_EQ((*ready)["lastHeartbeatTime"], "2026-12-04T10:00:00Z");
}

TEST(BuildNodes, VirtualNodesMakeNTotal) {
  const std::vector<Json> nodes = BuildNodes(Options(3), FakeHost());
  EXPECT_EQ(Names(nodes), (std::vector<std::string>{"build-host", "build-host-1", "build-host-2"}));
  EXPECT_FALSE(nodes[0]["metadata"]["labels"].contains(kVirtualNodeLabel));
  for (size_t i = 1; i < nodes.size(); ++i) {
    EXPECT_EQ(nodes[i]["metadata"]["labels"][kVirtualNodeLabel], "true");
    EXPECT_EQ(nodes[i]["metadata"]["labels"]["kubernetes.io/hostname"], nodes[i]["metadata"]["name"]);
    EXPECT_EQ(nodes[i]["status"]["allocatable"], nodes[0]["status"]["allocatable"]);
  }
}

TEST(BuildNodes, SimulatedNodesAreMarked) {
  for (const Json& node : BuildNodes(Options(2, true), FakeHost())) {
    EXPECT_EQ(node["metadata"]["labels"][kSimulatedLabel], "true");
    EXPECT_EQ(node["metadata"]["annotations"][kPodRuntimeAnnotation], "simulated");
  }
}

TEST(BuildNodes, ClampsNodeCount) {
  EXPECT_EQ(BuildNodes(Options(-4), FakeHost()).size(), 1u);
  EXPECT_EQ(BuildNodes(Options(kMaxNodes + 1), FakeHost()).size(), static_cast<size_t>(kMaxNodes));
}

TEST(ValidateNodeOptions, RejectsOutOfRangeCounts) {
  EXPECT_TRUE(ValidateNodeOptions(Options(0)).ok());
  EXPECT_TRUE(ValidateNodeOptions(Options(kMaxNodes)).ok());
  const Status negative = ValidateNodeOptions(Options(-1));
  EXPECT_EQ(negative.code(), StatusCode::kInvalid);
  EXPECT_NE(negative.message().find("nodes"), std::string::npos) << negative.message();
  EXPECT_EQ(ValidateNodeOptions(Options(kMaxNodes + 1)).code(), StatusCode::kInvalid);
}

TEST(HostFacts, ParsesOsRelease) {
  EXPECT_EQ(ParseOsReleasePrettyName("NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12\"\n"), "Debian GNU/Linux 12");
  EXPECT_EQ(ParseOsReleasePrettyName("PRETTY_NAME=Alpine"), "Alpine");
  EXPECT_EQ(ParseOsReleasePrettyName("PRETTY_NAME=\""), "\"");
  EXPECT_EQ(ParseOsReleasePrettyName("NAME=x"), "");
}

TEST(HostFacts, ParsesMemTotal) {
  EXPECT_EQ(ParseMemTotalBytes("MemTotal:       16318412 kB\nMemFree: 1 kB\n"), 16318412LL * 1024);
  EXPECT_EQ(ParseMemTotalBytes("MemTotal: lots kB"), 0);
  EXPECT_EQ(ParseMemTotalBytes("MemTotal: -5 kB"), 0);
  EXPECT_EQ(ParseMemTotalBytes("MemTotal: 99999999999999999999 kB"), 0);
  EXPECT_EQ(ParseMemTotalBytes(""), 0);
}

TEST(HostFacts, ReadsThisHost) {
  const HostResources host = ReadHostResources();
  EXPECT_GE(host.cpus, 1);
  EXPECT_GT(host.memory_bytes, 0);
  EXPECT_FALSE(host.kernel_version.empty());
}

class NodeRegistration : public testing::NodeFixture {
 protected:
  std::vector<Json> ListNodes() {
    auto listed = client_->List(client::resources::kNodes, "", {});
    EXPECT_TRUE(listed.ok()) << listed.status().message();
    return listed.ok() ? listed->items : std::vector<Json>{};
  }

  Json GetNode(const std::string& name) {
    auto node = client_->Get(client::resources::kNodes, "", name);
    EXPECT_TRUE(node.ok()) << node.status().message();
    return node.ok() ? *node : Json();
  }
};

TEST_F(NodeRegistration, CreatesNodesWithStatus) {
  ASSERT_TRUE(RegisterNodes(*client_, BuildNodes(Options(2), FakeHost())).ok());
  EXPECT_EQ(Names(ListNodes()), (std::vector<std::string>{"build-host", "build-host-1"}));
  const Json node = GetNode("build-host-1");
  EXPECT_EQ(node["status"]["allocatable"]["cpu"], "8");
  EXPECT_EQ(node["status"]["nodeInfo"]["kubeletVersion"], "v1.33.0");
  EXPECT_EQ(node["metadata"]["labels"][kVirtualNodeLabel], "true");
}

TEST_F(NodeRegistration, ReRegistrationWritesNothing) {
  const std::vector<Json> nodes = BuildNodes(Options(2), FakeHost());
  ASSERT_TRUE(RegisterNodes(*client_, nodes).ok());
  const Json before = GetNode("build-host");
  ASSERT_TRUE(RegisterNodes(*client_, nodes).ok());
  const Json after = GetNode("build-host");
  EXPECT_EQ(after["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"]);
  EXPECT_EQ(ListNodes().size(), 2u);
}

TEST_F(NodeRegistration, KeepsUserLabelsTaintsAndTransitionTimes) {
  ASSERT_TRUE(RegisterNodes(*client_, BuildNodes(Options(1), FakeHost())).ok());
  Json node = GetNode("build-host");
  node["metadata"]["labels"]["disk"] = "ssd";
  node["spec"]["taints"] = {{{"key", "kb-data"}, {"value", "true"}, {"effect", "NoSchedule"}}};
  ASSERT_TRUE(client_->Update(client::resources::kNodes, node).ok());

  NodeOptions later = Options(1);
  later.heartbeat_time = *ParseRfc3339("2026-12-04T11:00:00Z");
  ASSERT_TRUE(RegisterNodes(*client_, BuildNodes(later, FakeHost())).ok());
  const Json updated = GetNode("build-host");
  EXPECT_EQ(updated["metadata"]["labels"]["disk"], "ssd");
  EXPECT_EQ(updated["spec"]["taints"][0]["key"], "kb-data");
  for (const Json& condition : updated["status"]["conditions"]) {
    EXPECT_EQ(condition["lastTransitionTime"], "2026-12-04T10:00:00Z") << condition.dump();
    EXPECT_EQ(condition["lastHeartbeatTime"], "2026-12-04T11:00:00Z") << condition.dump();
  }
}

TEST_F(NodeRegistration, RemovesVirtualNodesWhenCountShrinks) {
  ASSERT_TRUE(RegisterNodes(*client_, BuildNodes(Options(4), FakeHost())).ok());
  ASSERT_EQ(ListNodes().size(), 4u);
  ASSERT_TRUE(RegisterNodes(*client_, BuildNodes(Options(2), FakeHost())).ok());
  EXPECT_EQ(Names(ListNodes()), (std::vector<std::string>{"build-host", "build-host-1"}));
  ASSERT_TRUE(RegisterNodes(*client_, BuildNodes(Options(0), FakeHost())).ok());
  EXPECT_EQ(Names(ListNodes()), (std::vector<std::string>{"build-host"}));
}

TEST_F(NodeRegistration, KeepsNodesItDidNotCreate) {
  ASSERT_TRUE(client_->Create(client::resources::kNodes, testing::TestNode("other-machine")).ok());
  ASSERT_TRUE(RegisterNodes(*client_, BuildNodes(Options(1), FakeHost())).ok());
  EXPECT_EQ(Names(ListNodes()), (std::vector<std::string>{"build-host", "other-machine"}));
}

TEST_F(NodeRegistration, DropsSimulatedMarksWhenNoLongerSimulated) {
  ASSERT_TRUE(RegisterNodes(*client_, BuildNodes(Options(1, true), FakeHost())).ok());
  EXPECT_EQ(GetNode("build-host")["metadata"]["labels"][kSimulatedLabel], "true");
  ASSERT_TRUE(RegisterNodes(*client_, BuildNodes(Options(1, false), FakeHost())).ok());
  const Json node = GetNode("build-host");
  EXPECT_FALSE(node["metadata"]["labels"].contains(kSimulatedLabel));
  EXPECT_EQ(node["metadata"]["annotations"][kPodRuntimeAnnotation], "process");
}

}  // namespace
}  // namespace xblocks::node
