// The process runtime's plan of a container: image mapping, argv, environment, volume paths and
// pod limits, on well-formed and malformed pods.
#include <gtest/gtest.h>

#include "common/base64.h"
#include "node/container_plan.h"

namespace xblocks::node {
namespace {

using Strings = std::vector<std::string>;

Json Pod() {
  return Json::parse(R"json({
    "metadata": {"name": "web-0", "namespace": "demo", "uid": "u-1", "labels": {"app": "web"}},
    "spec": {"nodeName": "vm", "serviceAccountName": "sa",
             "volumes": [{"name": "data", "emptyDir": {}}],
             "containers": [{
               "name": "main", "image": "example/server:1",
               "command": ["server", "--host", "$(KB_POD_IP)", "--home", "/data/home"],
               "args": ["--escaped", "$$(KB_POD_IP)"],
               "env": [{"name": "KB_POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                       {"name": "HOME_DIR", "value": "/data"},
                       {"name": "GREETING", "value": "pod $(KB_POD_IP) of $(MISSING)"},
                       {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}}],
               "envFrom": [{"configMapRef": {"name": "settings"}}],
               "volumeMounts": [{"name": "data", "mountPath": "/data/"}]}]}})json");
}

PodContext Context(const Json& pod) {
  PodContext context;
  context.pod = pod;
  context.pod_ip = "127.1.2.3";
  context.pod_dir = "/var/xb/pods/u-1";
  context.base_env = {"PATH=/usr/bin"};
  context.volume_dirs = {{"data", "/var/xb/pods/u-1/volumes/data"}};
  context.lookup = [](const std::string& resource, const std::string& name) -> std::optional<Json> {
    if (resource == "configmaps" && name == "settings") return Json{{"data", {{"MODE", "fast"}, {"APP", "cm"}}}};
    if (resource == "secrets" && name == "token") return Json{{"data", {{"key", Base64Encode("s3cret")}}}};
    return std::nullopt;
  };
  return context;
}

std::map<std::string, std::string> EnvMap(const ContainerPlan& plan) {
  std::map<std::string, std::string> out;
  for (const auto& entry : plan.env) out[entry.substr(0, entry.find('='))] = entry.substr(entry.find('=') + 1);
  return out;
}

ImageCommands Mapped(const std::string& flag = "example/server:1=/opt/bin/server --verbose") {
  ImageCommands images;
  EXPECT_TRUE(images.AddFlag(flag).ok());
  return images;
}

TEST(PlanContainer, MappedCommandReplacesEntrypointAndExpandsVariables) {
  const Json pod = Pod();
  ContainerPlan plan = PlanContainer(pod["spec"]["containers"][0], Context(pod), Mapped());
  ASSERT_TRUE(plan.waiting_reason.empty()) << plan.waiting_message;
  EXPECT_EQ(plan.argv, (Strings{"/opt/bin/server", "--verbose", "--host", "127.1.2.3", "--home",
                                "/var/xb/pods/u-1/volumes/data/home", "--escaped", "$(KB_POD_IP)"}));
  EXPECT_EQ(plan.working_dir, "/var/xb/pods/u-1");
}

TEST(PlanContainer, EnvironmentFollowsKubeletOrder) {
  const Json pod = Pod();
  auto env = EnvMap(PlanContainer(pod["spec"]["containers"][0], Context(pod), Mapped()));
  EXPECT_EQ(env["PATH"], "/usr/bin");
  EXPECT_EQ(env["HOME"], "/var/xb/pods/u-1");
  EXPECT_EQ(env["MODE"], "fast");
  EXPECT_EQ(env["APP"], "web") << "env overrides envFrom";
  EXPECT_EQ(env["KB_POD_IP"], "127.1.2.3");
  EXPECT_EQ(env["HOME_DIR"], "/var/xb/pods/u-1/volumes/data") << "mount paths point at the volume";
  EXPECT_EQ(env["GREETING"], "pod 127.1.2.3 of $(MISSING)");
}

TEST(PlanContainer, SecretKeyIsDecoded) {
  Json pod = Pod();
  pod["spec"]["containers"][0]["env"].push_back(
      {{"name", "TOKEN"}, {"valueFrom", {{"secretKeyRef", {{"name", "token"}, {"key", "key"}}}}}});
  auto env = EnvMap(PlanContainer(pod["spec"]["containers"][0], Context(pod), Mapped()));
  EXPECT_EQ(env["TOKEN"], "s3cret");
}

TEST(PlanContainer, UnmappedImageWaitsWithHowToFix) {
  const Json pod = Pod();
  ContainerPlan plan = PlanContainer(pod["spec"]["containers"][0], Context(pod), ImageCommands());
  EXPECT_TRUE(plan.argv.empty());
  EXPECT_EQ(plan.waiting_reason, "LocalCommandNotFound");
  EXPECT_NE(plan.waiting_message.find("--image-command example/server:1=PROGRAM"), std::string::npos);
  EXPECT_NE(plan.waiting_message.find(kLocalCommandsAnnotation), std::string::npos);
}

TEST(PlanContainer, MissingConfigMapIsAConfigError) {
  Json pod = Pod();
  pod["spec"]["containers"][0]["envFrom"] = {{{"configMapRef", {{"name", "absent"}}}}};
  ContainerPlan plan = PlanContainer(pod["spec"]["containers"][0], Context(pod), Mapped());
  EXPECT_EQ(plan.waiting_reason, "CreateContainerConfigError");
  EXPECT_EQ(plan.waiting_message, "configmap \"absent\" not found");

  pod["spec"]["containers"][0]["envFrom"][0]["configMapRef"]["optional"] = true;
  plan = PlanContainer(pod["spec"]["containers"][0], Context(pod), Mapped());
  EXPECT_TRUE(plan.waiting_reason.empty()) << plan.waiting_message;
}

TEST(PlanContainer, UndefinedVolumeIsAConfigError) {
  Json pod = Pod();
  pod["spec"]["containers"][0]["volumeMounts"].push_back({{"name", "cache"}, {"mountPath", "/cache"}});
  ContainerPlan plan = PlanContainer(pod["spec"]["containers"][0], Context(pod), Mapped());
  EXPECT_EQ(plan.waiting_reason, "CreateContainerConfigError");
  EXPECT_NE(plan.waiting_message.find("volume \"cache\""), std::string::npos);
}

TEST(PlanContainer, NoCommandUsesMappedArgvThenArgs) {
  Json pod = Pod();
  pod["spec"]["containers"][0].erase("command");
  ContainerPlan plan = PlanContainer(pod["spec"]["containers"][0], Context(pod), Mapped());
  EXPECT_EQ(plan.argv, (Strings{"/opt/bin/server", "--verbose", "--escaped", "$(KB_POD_IP)"}));
}

TEST(ImageCommands, FlagWinsOverClusterVersion) {
  ImageCommands images = Mapped("img:1=flagged");
  Json version = {{"metadata", {{"name", "v"}, {"annotations", {{kLocalCommandsAnnotation,
                                                                 R"({"img:1": "annotated", "img:2": ["a", "b c"]})"}}}}}};
  EXPECT_TRUE(images.LoadClusterVersions({version}).empty());
  EXPECT_EQ(images.Find("img:1"), (Strings{"flagged"}));
  EXPECT_EQ(images.Find("img:2"), (Strings{"a", "b c"}));
  EXPECT_FALSE(images.Find("img:3").has_value());
}

TEST(ImageCommands, BadInputIsReportedNotApplied) {
  ImageCommands images;
  EXPECT_EQ(images.AddFlag("no-equals").code(), StatusCode::kInvalid);
  EXPECT_EQ(images.AddFlag("=program").code(), StatusCode::kInvalid);
  EXPECT_EQ(images.AddFlag("img=  ").code(), StatusCode::kInvalid);
  for (const char* bad : {"not json", "[1]", R"({"img": ""})", R"({"img": [1]})", R"({"img": []})"}) {
    Json version = {{"metadata", {{"name", "v"}, {"annotations", {{kLocalCommandsAnnotation, bad}}}}}};
    auto problems = images.LoadClusterVersions({version});
    ASSERT_EQ(problems.size(), 1u) << bad;
    EXPECT_NE(problems[0].find("clusterversion v"), std::string::npos);
  }
  EXPECT_FALSE(images.Find("img").has_value());
}

TEST(ExpandVariables, KubeletRules) {
  const std::map<std::string, std::string> vars = {{"A", "1"}, {"B", "two"}};
  EXPECT_EQ(ExpandVariables("$(A)-$(B)", vars), "1-two");
  EXPECT_EQ(ExpandVariables("$$(A)", vars), "$(A)");
  EXPECT_EQ(ExpandVariables("$(C) $(A", vars), "$(C) $(A");
  EXPECT_EQ(ExpandVariables("$", vars), "$");
}

TEST(RewriteMountedPath, LongestMountWinsAndPrefixesMustEndAtSlash) {
  const std::vector<MountDir> mounts = {{"/data", "/h/data"}, {"/data/models", "/h/models"}};
  EXPECT_EQ(RewriteMountedPath("/data", mounts), "/h/data");
  EXPECT_EQ(RewriteMountedPath("/data/x", mounts), "/h/data/x");
  EXPECT_EQ(RewriteMountedPath("/data/models/m", mounts), "/h/models/m");
  EXPECT_EQ(RewriteMountedPath("/database", mounts), "/database");
  EXPECT_EQ(RewriteMountedPath("relative/data", mounts), "relative/data");
}

TEST(PodLimits, SumsContainersAndKeepsUnlimited) {
  Json pod = {{"spec", {{"containers", {{{"resources", {{"limits", {{"cpu", "500m"}, {"memory", "1Gi"}}}}}},
                                        {{"resources", {{"limits", {{"cpu", "0.5"}}}}}}}}}}};
  auto limits = PodLimits(pod);
  ASSERT_TRUE(limits.ok()) << limits.status().message();
  EXPECT_EQ(limits->cpu_millis, 1000);
  EXPECT_FALSE(limits->memory_bytes.has_value()) << "the second container has no memory limit";

  pod["spec"]["containers"][1]["resources"]["limits"]["memory"] = "512Mi";
  EXPECT_EQ(PodLimits(pod)->memory_bytes, int64_t{1536} << 20);

  pod["spec"]["containers"][1]["resources"]["limits"]["memory"] = "lots";
  auto bad = PodLimits(pod);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("limits.memory lots"), std::string::npos);
}

TEST(StopSignal, LifecycleStopSignal) {
  EXPECT_EQ(StopSignal(Json::object()), SIGTERM);
  EXPECT_EQ(StopSignal({{"lifecycle", {{"stopSignal", "SIGINT"}}}}), SIGINT);
  EXPECT_EQ(StopSignal({{"lifecycle", {{"stopSignal", "SIGBOGUS"}}}}), SIGTERM);
}

}  // namespace
}  // namespace xblocks::node
