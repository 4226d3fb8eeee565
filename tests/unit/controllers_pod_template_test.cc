// The pod template built from the embedded Xinference addon and the tutorial's Cluster.
#include <gtest/gtest.h>

#include "api/yaml.h"
#include "common/embedded_files.h"
#include "controllers/kubeblocks_names.h"
#include "controllers/pod_template.h"

namespace xblocks::controllers {
namespace {

Json EmbeddedObject(std::string_view path) {
  for (const auto& file : EmbeddedFiles()) {
    if (file.path != path) continue;
    auto parsed = api::ParseYamlOrJson(file.content);
    EXPECT_TRUE(parsed.ok()) << parsed.status().message();
    return parsed.ok() ? *parsed : Json();
  }
  ADD_FAILURE() << "no embedded file " << path;
  return Json();
}

Json TutorialCluster() {
  return Json::parse(R"({"apiVersion":"apps.kubeblocks.io/v1alpha1","kind":"Cluster",
    "metadata":{"name":"mycluster","namespace":"demo"},
    "spec":{"clusterDefinitionRef":"xinference","clusterVersionRef":"xinference-0.11.0-cpu","terminationPolicy":"Delete",
      "affinity":{"podAntiAffinity":"Preferred","topologyKeys":["kubernetes.io/hostname"]},
      "tolerations":[{"key":"kb-data","operator":"Equal","value":"true","effect":"NoSchedule"}],
      "componentSpecs":[{"name":"xinference","componentDefRef":"xinference","serviceAccountName":"kb-xinference-cluster",
        "replicas":1,"resources":{"limits":{"cpu":"1","memory":"1Gi"},"requests":{"cpu":"1","memory":"1Gi"}}}]}})");
}

ComponentSource Resolve(const Json& cluster) {
  auto source = ResolveComponent(cluster, cluster["spec"]["componentSpecs"][0],
                                 EmbeddedObject("addons/xinference/clusterdefinition.yaml"),
                                 EmbeddedObject("addons/xinference/clusterversion-0.11.0-cpu.yaml"));
  EXPECT_TRUE(source.ok()) << source.status().message();
  return source.ok() ? *source : ComponentSource{};
}

TEST(PodTemplate, UsesVersionImage) {
  auto tmpl = BuildPodTemplate(Resolve(TutorialCluster()));
  ASSERT_TRUE(tmpl.ok()) << tmpl.status().message();
  const Json& container = (*tmpl)["spec"]["containers"][0];
  EXPECT_EQ(container["name"], "xinference");
  EXPECT_EQ(container["image"], "xprobe/xinference:v0.11.0-cpu");
  EXPECT_EQ(container["ports"][0]["containerPort"], 9997);
}

TEST(PodTemplate, ResourcesOnFirstContainer) {
  auto tmpl = BuildPodTemplate(Resolve(TutorialCluster()));
  ASSERT_TRUE(tmpl.ok());
  const Json& resources = (*tmpl)["spec"]["containers"][0]["resources"];
  EXPECT_EQ(resources["limits"]["cpu"], "1");
  EXPECT_EQ(resources["limits"]["memory"], "1Gi");
}

TEST(PodTemplate, InjectsKubeBlocksEnv) {
  auto tmpl = BuildPodTemplate(Resolve(TutorialCluster()));
  ASSERT_TRUE(tmpl.ok());
  const Json& env = (*tmpl)["spec"]["containers"][0]["env"];
  bool pod_ip = false;
  bool fqdn = false;
  for (const auto& item : env) {
    if (item["name"] == "KB_POD_IP") pod_ip = item["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP";
    if (item["name"] == "KB_POD_FQDN") {
      fqdn = item["value"] == "$(KB_POD_NAME).mycluster-xinference-headless.$(KB_NAMESPACE).svc";
    }
  }
  EXPECT_TRUE(pod_ip);
  EXPECT_TRUE(fqdn);
  const Json& env_from = (*tmpl)["spec"]["containers"][0]["envFrom"];
  ASSERT_EQ(env_from.size(), 2u);
  EXPECT_EQ(env_from[0]["configMapRef"]["name"], "mycluster-xinference-env");
  EXPECT_EQ(env_from[1]["configMapRef"]["name"], "mycluster-xinference-rsm-env");
}

TEST(PodTemplate, CarriesKubeBlocksLabels) {
  auto tmpl = BuildPodTemplate(Resolve(TutorialCluster()));
  ASSERT_TRUE(tmpl.ok());
  const Json& labels = (*tmpl)["metadata"]["labels"];
  EXPECT_EQ(labels[kb::kManagedByLabel], "kubeblocks");
  EXPECT_EQ(labels[kb::kInstanceLabel], "mycluster");
  EXPECT_EQ(labels[kb::kComponentNameLabel], "xinference");
  EXPECT_EQ(labels[kb::kNameLabel], "xinference");
  EXPECT_EQ(labels[kb::kComponentLabel], "xinference");
}

TEST(PodTemplate, PreferredAntiAffinityAndTolerations) {
  auto tmpl = BuildPodTemplate(Resolve(TutorialCluster()));
  ASSERT_TRUE(tmpl.ok());
  const Json& spec = (*tmpl)["spec"];
  const Json& preferred = spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"];
  ASSERT_EQ(preferred.size(), 1u);
  EXPECT_EQ(preferred[0]["weight"], 100);
  EXPECT_EQ(preferred[0]["podAffinityTerm"]["topologyKey"], "kubernetes.io/hostname");
  EXPECT_EQ(spec["topologySpreadConstraints"][0]["whenUnsatisfiable"], "ScheduleAnyway");
  EXPECT_EQ(spec["tolerations"][0]["key"], "kb-data");
  EXPECT_EQ(spec["serviceAccountName"], "kb-xinference-cluster");
}

TEST(PodTemplate, RequiredAntiAffinity) {
  Json scheduling = BuildScheduling({{"podAntiAffinity", "Required"}, {"topologyKeys", {"kubernetes.io/hostname"}}},
                                    "c", "x");
  const Json& required = scheduling["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"];
  ASSERT_EQ(required.size(), 1u);
  EXPECT_EQ(required[0]["labelSelector"]["matchLabels"][kb::kInstanceLabel], "c");
  EXPECT_EQ(scheduling["topologySpreadConstraints"][0]["whenUnsatisfiable"], "DoNotSchedule");
}

TEST(PodTemplate, NoTopologyKeysMeansNoAffinity) {
  Json scheduling = BuildScheduling({{"podAntiAffinity", "Preferred"}, {"topologyKeys", nullptr}}, "c", "x");
  EXPECT_TRUE(scheduling["affinity"].empty());
  EXPECT_TRUE(scheduling["topologySpreadConstraints"].empty());
}

TEST(PodTemplate, NodeLabelsBecomeRequiredNodeAffinity) {
  Json scheduling = BuildScheduling({{"nodeLabels", {{"gpu", "a100,h100"}, {"zone", "z1"}}}}, "c", "x");
  const Json& terms =
      scheduling["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"];
  ASSERT_EQ(terms.size(), 1u) << scheduling.dump();
  EXPECT_EQ(terms[0]["matchExpressions"],
            Json::parse(R"([{"key":"gpu","operator":"In","values":["a100","h100"]},
                            {"key":"zone","operator":"In","values":["z1"]}])"));
  EXPECT_FALSE(scheduling["affinity"].contains("podAntiAffinity"));
  EXPECT_TRUE(scheduling["topologySpreadConstraints"].empty());
}

TEST(PodTemplate, EmptyNodeLabelValueRequiresAnEmptyLabel) {
  Json scheduling = BuildScheduling({{"nodeLabels", {{"dedicated", ""}}}}, "c", "x");
  const Json& expression = scheduling["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                                     ["nodeSelectorTerms"][0]["matchExpressions"][0];
  EXPECT_EQ(expression["values"], Json::array({""}));
}

TEST(PodTemplate, DedicatedNodeKeepsOtherWorkloadsOff) {
  Json scheduling = BuildScheduling(
      {{"podAntiAffinity", "Preferred"}, {"topologyKeys", {"kubernetes.io/hostname"}}, {"tenancy", "DedicatedNode"}},
      "c", "x");
  const Json& anti = scheduling["affinity"]["podAntiAffinity"];
  ASSERT_EQ(anti["preferredDuringSchedulingIgnoredDuringExecution"].size(), 1u) << anti.dump();
  const Json& required = anti["requiredDuringSchedulingIgnoredDuringExecution"];
  ASSERT_EQ(required.size(), 1u) << anti.dump();
  EXPECT_EQ(required[0]["topologyKey"], "kubernetes.io/hostname");
  const Json& expression = required[0]["labelSelector"]["matchExpressions"][0];
  EXPECT_EQ(expression["key"], kb::kWorkloadTypeLabel);
  EXPECT_EQ(expression["operator"], "In");
  EXPECT_EQ(expression["values"], Json::parse(R"(["Stateless","Stateful","Consensus","Replication"])"));
}

TEST(PodTemplate, SharedNodeAddsNoRequiredTerm) {
  Json scheduling = BuildScheduling({{"tenancy", "SharedNode"}}, "c", "x");
  EXPECT_TRUE(scheduling["affinity"].empty()) << scheduling.dump();
}

TEST(PodTemplate, ClusterNodeLabelsReachThePodTemplate) {
  Json cluster = TutorialCluster();
  cluster["spec"]["affinity"]["nodeLabels"] = {{"accelerator", "nvidia-a10"}};
  auto tmpl = BuildPodTemplate(Resolve(cluster));
  ASSERT_TRUE(tmpl.ok());
  const Json& spec = (*tmpl)["spec"];
  EXPECT_EQ(spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
                ["matchExpressions"][0]["key"],
            "accelerator");
  EXPECT_EQ(spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"].size(), 1u);
  EXPECT_EQ((*tmpl)["metadata"]["labels"][kb::kWorkloadTypeLabel], "Stateful");
}

TEST(PodTemplate, UnknownComponentDefRefIsInvalid) {
  Json cluster = TutorialCluster();
  cluster["spec"]["componentSpecs"][0]["componentDefRef"] = "nope";
  auto source = ResolveComponent(cluster, cluster["spec"]["componentSpecs"][0],
                                 EmbeddedObject("addons/xinference/clusterdefinition.yaml"), nullptr);
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().code(), StatusCode::kInvalid);
  EXPECT_NE(source.status().message().find("nope"), std::string::npos);
}

TEST(PodTemplate, WithoutVersionKeepsDefinitionContainer) {
  Json cluster = TutorialCluster();
  auto source = ResolveComponent(cluster, cluster["spec"]["componentSpecs"][0],
                                 EmbeddedObject("addons/xinference/clusterdefinition.yaml"), nullptr);
  ASSERT_TRUE(source.ok());
  auto tmpl = BuildPodTemplate(*source);
  ASSERT_TRUE(tmpl.ok());
  EXPECT_FALSE((*tmpl)["spec"]["containers"][0].contains("image"));
}

}  // namespace
}  // namespace xblocks::controllers
