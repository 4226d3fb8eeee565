// Builders of Node and Pod objects for scheduler tests, shaped like the pods KubeBlocks 0.9
// creates for the tutorial's cluster, and a registry fixture with an in-process client.
#pragma once

#include <memory>
#include <string>

#include "apiserver_test_support.h"
#include "client/local_client.h"
#include "common/json.h"

namespace xblocks::testing {

inline constexpr char kInstanceLabel[] = "app.kubernetes.io/instance";
inline constexpr char kComponentLabel[] = "apps.kubeblocks.io/component-name";

// A Ready node with the given allocatable and kubernetes.io/hostname=<name>.
inline Json TestNode(const std::string& name, const std::string& cpu = "4", const std::string& memory = "8Gi") {
  const Json resources = {{"cpu", cpu}, {"memory", memory}, {"pods", "110"}};
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}}}}},
          {"spec", Json::object()},
          {"status", {{"capacity", resources}, {"allocatable", resources}}}};
}

// A pod of component `xinference` of cluster `cluster`, requesting cpu and memory.
inline Json TestPod(const std::string& name, const std::string& cpu = "1", const std::string& memory = "1Gi",
                    const std::string& cluster = "xinference-cluster") {
  const Json resources = {{"cpu", cpu}, {"memory", memory}};
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name},
            {"namespace", "demo"},
            {"labels", {{kInstanceLabel, cluster}, {kComponentLabel, "xinference"}}}}},
          {"spec",
           {{"containers",
             {{{"name", "xinference"},
               {"image", "xprobe/xinference:v0.11.0-cpu"},
               {"resources", {{"requests", resources}, {"limits", resources}}}}}}}}};
}

// Adds the scheduling that KubeBlocks derives from `affinity: {podAntiAffinity:
// Required|Preferred, topologyKeys: [kubernetes.io/hostname]}`. That is one anti-affinity term
// against the pods of the same component and a topology spread constraint with maxSkew 1.
inline Json WithComponentAntiAffinity(Json pod, bool required) {
  const Json selector = {{"matchLabels", pod["metadata"]["labels"]}};
  const Json term = {{"labelSelector", selector}, {"topologyKey", "kubernetes.io/hostname"}};
  if (required) {
    pod["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {term};
  } else {
    pod["spec"]["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] = {
        {{"weight", 100}, {"podAffinityTerm", term}}};
  }
  pod["spec"]["topologySpreadConstraints"] = {{{"maxSkew", 1},
                                                {"topologyKey", "kubernetes.io/hostname"},
                                                {"whenUnsatisfiable", required ? "DoNotSchedule" : "ScheduleAnyway"},
                                                {"labelSelector", selector}}};
  return pod;
}

// The tutorial's toleration of the kb-data=true:NoSchedule taint.
inline Json WithKbDataToleration(Json pod) {
  pod["spec"]["tolerations"] = {{{"key", "kb-data"}, {"operator", "Equal"}, {"value", "true"}, {"effect", "NoSchedule"}}};
  return pod;
}

inline Json BoundTo(Json pod, const std::string& node) {
  pod["spec"]["nodeName"] = node;
  pod["status"]["phase"] = "Running";
  return pod;
}

// A registry fixture with a LocalClient over it.
class NodeFixture : public RegistryFixture {
 protected:
  void SetUp() override {
    RegistryFixture::SetUp();
    client_ = std::make_unique<client::LocalClient>(*registry_, "xblocks-node-test");
  }

  void TearDown() override {
    client_.reset();
    RegistryFixture::TearDown();
  }

  std::unique_ptr<client::LocalClient> client_;
};

}  // namespace xblocks::testing
