// The objects a component owns, built from the embedded Xinference addon and a tutorial Cluster.
#include <gtest/gtest.h>

#include "api/yaml.h"
#include "common/embedded_files.h"
#include "controllers/component_objects.h"
#include "controllers/kubeblocks_names.h"

namespace xblocks::controllers {
namespace {

Json Embedded(std::string_view path) {
  for (const auto& file : EmbeddedFiles()) {
    if (file.path == path) return *api::ParseYamlOrJson(file.content);
  }
  ADD_FAILURE() << "no embedded file " << path;
  return Json();
}

class ComponentObjects : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = Json::parse(R"({"apiVersion":"apps.kubeblocks.io/v1alpha1","kind":"Cluster",
      "metadata":{"name":"mycluster","namespace":"demo","uid":"11111111-2222-4333-8444-555566667777"},
      "spec":{"clusterDefinitionRef":"xinference","terminationPolicy":"Delete",
        "componentSpecs":[{"name":"xinference","componentDefRef":"xinference","serviceAccountName":"kb-mycluster",
          "replicas":2,"resources":{"limits":{"cpu":"1","memory":"1Gi"}}}]}})");
    definition_ = Embedded("addons/xinference/clusterdefinition.yaml");
    auto source = ResolveComponent(cluster_, cluster_["spec"]["componentSpecs"][0], definition_,
                                   Embedded("addons/xinference/clusterversion-0.11.0-cpu.yaml"));
    ASSERT_TRUE(source.ok()) << source.status().message();
    source_ = *source;
    component_ = {{"apiVersion", "apps.kubeblocks.io/v1alpha1"},
                  {"kind", "Component"},
                  {"metadata", {{"name", "mycluster-xinference"}, {"namespace", "demo"}, {"uid", "c-uid"}, {"generation", 3}}}};
    auto tmpl = BuildPodTemplate(source_);
    ASSERT_TRUE(tmpl.ok());
    template_ = *tmpl;
    its_ = BuildInstanceSet(source_, component_, template_, 2);
    its_["metadata"]["uid"] = "its-uid-12345678";
  }

  Json cluster_, definition_, component_, template_, its_;
  ComponentSource source_;
};

TEST_F(ComponentObjects, InstanceSetNamesAndOwner) {
  EXPECT_EQ(its_["metadata"]["name"], "mycluster-xinference");
  EXPECT_EQ(its_["metadata"]["ownerReferences"][0]["uid"], "c-uid");
  EXPECT_EQ(its_["metadata"]["ownerReferences"][0]["controller"], true);
  EXPECT_EQ(its_["spec"]["replicas"], 2);
  EXPECT_EQ(its_["spec"]["serviceName"], "mycluster-xinference-headless");
  EXPECT_EQ(its_["metadata"]["annotations"][kb::kGenerationAnnotation], "3");
  EXPECT_EQ(its_["spec"]["template"]["metadata"]["labels"][kb::kWorkloadInstanceLabel], "mycluster-xinference");
}

TEST_F(ComponentObjects, PodFromInstanceSet) {
  Json pod = BuildPod(its_, 1);
  EXPECT_EQ(pod["metadata"]["name"], "mycluster-xinference-1");
  EXPECT_EQ(pod["metadata"]["labels"][kb::kPodNameLabel], "mycluster-xinference-1");
  EXPECT_EQ(pod["metadata"]["labels"][kb::kInstanceLabel], "mycluster");
  EXPECT_EQ(pod["metadata"]["labels"][kb::kRevisionHashLabel], TemplateHash(its_["spec"]["template"]));
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["uid"], "its-uid-12345678");
  EXPECT_EQ(pod["metadata"]["annotations"][kb::kComponentReplicasAnnotation], "2");
  EXPECT_EQ(pod["spec"]["hostname"], "mycluster-xinference-1");
  EXPECT_EQ(pod["spec"]["subdomain"], "mycluster-xinference-headless");
  EXPECT_EQ(pod["spec"]["containers"][0]["image"], "xprobe/xinference:v0.11.0-cpu");
}

TEST_F(ComponentObjects, ClaimTemplatesGivePodVolumesAndClaims) {
  Json component_spec = cluster_["spec"]["componentSpecs"][0];
  component_spec["volumeClaimTemplates"] = Json::parse(R"([{"name":"data","labels":{"tier":"disk"},
    "spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}])");
  auto source = ResolveComponent(cluster_, component_spec, definition_, Json());
  ASSERT_TRUE(source.ok()) << source.status().message();
  Json its = BuildInstanceSet(*source, component_, template_, 2);
  its["metadata"]["uid"] = "its-uid-12345678";
  ASSERT_EQ(VolumeClaimTemplates(its).size(), 1u) << its["spec"].dump();
  const Json claim_template = VolumeClaimTemplates(its)[0];
  EXPECT_EQ(claim_template["metadata"]["name"], "data");
  EXPECT_EQ(claim_template["metadata"]["labels"]["tier"], "disk");

  const Json pod = BuildPod(its, 1);
  const Json volume = {{"name", "data"}, {"persistentVolumeClaim", {{"claimName", "data-mycluster-xinference-1"}}}};
  EXPECT_EQ(pod["spec"]["volumes"], Json::array({volume}));
  // Volumes are per pod, so the template and its revision stay the same for every pod.
  EXPECT_EQ(pod["metadata"]["labels"][kb::kRevisionHashLabel], TemplateHash(its["spec"]["template"]));

  const Json claim = BuildPersistentVolumeClaim(its, claim_template, 1);
  EXPECT_EQ(claim["kind"], "PersistentVolumeClaim");
  EXPECT_EQ(claim["metadata"]["name"], "data-mycluster-xinference-1");
  EXPECT_EQ(claim["metadata"]["namespace"], "demo");
  EXPECT_EQ(claim["metadata"]["labels"][kb::kInstanceLabel], "mycluster");
  EXPECT_EQ(claim["metadata"]["labels"][kb::kVolumeClaimTemplateLabel], "data");
  EXPECT_EQ(claim["metadata"]["labels"]["tier"], "disk");
  EXPECT_EQ(claim["metadata"]["ownerReferences"][0]["uid"], "its-uid-12345678");
  EXPECT_EQ(claim["spec"]["resources"]["requests"]["storage"], "1Gi");
}

TEST_F(ComponentObjects, NoClaimTemplatesNoClaimVolumes) {
  EXPECT_FALSE(its_["spec"].contains("volumeClaimTemplates"));
  EXPECT_TRUE(VolumeClaimTemplates(its_).empty());
  // Volumes of the ClusterDefinition's podSpec stay as they are.
  const Json pod = BuildPod(its_, 0);
  EXPECT_EQ(pod["spec"].value("volumes", Json::array()), template_["spec"].value("volumes", Json::array()));
  for (const Json& volume : pod["spec"].value("volumes", Json::array())) {
    EXPECT_FALSE(volume.contains("persistentVolumeClaim")) << volume.dump();
  }
}

TEST_F(ComponentObjects, TemplateHashFollowsResources) {
  Json changed = template_;
  changed["spec"]["containers"][0]["resources"]["limits"]["memory"] = "2Gi";
  EXPECT_NE(TemplateHash(changed), TemplateHash(template_));
  EXPECT_EQ(TemplateHash(template_).size(), 10u);
  EXPECT_EQ(TemplateHash(template_), TemplateHash(Json(template_)));
}

TEST_F(ComponentObjects, ServiceFromDefinitionPorts) {
  Json service = BuildService(source_, component_);
  ASSERT_FALSE(service.is_null());
  EXPECT_EQ(service["metadata"]["name"], "mycluster-xinference");
  EXPECT_EQ(service["spec"]["type"], "ClusterIP");
  EXPECT_EQ(service["spec"]["ports"][0]["port"], 9997);
  EXPECT_EQ(service["spec"]["selector"][kb::kInstanceLabel], "mycluster");
}

TEST_F(ComponentObjects, HeadlessServicePorts) {
  Json service = BuildHeadlessService(source_, its_, template_);
  EXPECT_EQ(service["metadata"]["name"], "mycluster-xinference-headless");
  EXPECT_EQ(service["spec"]["clusterIP"], "None");
  EXPECT_EQ(service["spec"]["publishNotReadyAddresses"], true);
  EXPECT_EQ(service["spec"]["ports"][0]["name"], "xinference");
  EXPECT_EQ(service["spec"]["ports"][0]["targetPort"], "xinference");
}

TEST_F(ComponentObjects, InstanceSetEnvHostnames) {
  Json cm = BuildInstanceSetEnvConfigMap(source_, its_, 2);
  EXPECT_EQ(cm["metadata"]["name"], "mycluster-xinference-rsm-env");
  EXPECT_EQ(cm["data"]["KB_XINFERENCE_0_HOSTNAME"], "mycluster-xinference-0.mycluster-xinference-headless");
  EXPECT_EQ(cm["data"]["KB_POD_LIST"], "mycluster-xinference-0,mycluster-xinference-1");
  EXPECT_EQ(cm["data"]["KB_ITS_OWNER_UID_SUFFIX8"], "12345678");
}

TEST_F(ComponentObjects, ComponentEnvValues) {
  Json cm = BuildEnvConfigMap(source_, component_, 2);
  EXPECT_EQ(cm["metadata"]["name"], "mycluster-xinference-env");
  EXPECT_EQ(cm["data"]["KB_CLUSTER_UID_POSTFIX_8"], "66667777");
  EXPECT_EQ(cm["data"]["KB_COMP_REPLICAS"], "2");
}

TEST_F(ComponentObjects, ServiceAccountAndBinding) {
  Json account = BuildServiceAccount(source_, component_);
  Json binding = BuildRoleBinding(source_, component_);
  EXPECT_EQ(account["metadata"]["name"], "kb-mycluster");
  EXPECT_EQ(binding["kind"], "RoleBinding");
  EXPECT_EQ(binding["roleRef"]["name"], "kubeblocks-cluster-pod-role");
  EXPECT_EQ(binding["subjects"][0]["name"], "kb-mycluster");
  EXPECT_EQ(binding["metadata"]["labels"][kb::kInstanceLabel], "mycluster");
}

TEST_F(ComponentObjects, ConnectionSecretEncodesCredential) {
  Json secret = BuildConnectionSecret(cluster_, definition_, "pw");
  EXPECT_EQ(secret["metadata"]["name"], "mycluster-conn-credential");
  EXPECT_EQ(secret["data"]["username"], "cm9vdA==");
  EXPECT_EQ(secret["data"]["password"], "");
  EXPECT_EQ(secret["metadata"]["ownerReferences"][0]["kind"], "Cluster");
}

TEST_F(ComponentObjects, RandomPasswordPlaceholder) {
  Json definition = definition_;
  definition["spec"]["connectionCredential"]["password"] = "$(RANDOM_PASSWD)";
  Json secret = BuildConnectionSecret(cluster_, definition, "abc");
  EXPECT_EQ(secret["data"]["password"], "YWJj");
}

}  // namespace
}  // namespace xblocks::controllers
