// The Model controller's pure parts: launch bodies, custom-model specs, the mapping of
// Xinference's refusals to reasons, the checks on what a replica answers, and the rule that an
// operation waits until the new pods serve every model.
#include <gtest/gtest.h>

#include "controllers/model_controller.h"
#include "controllers/xinference_client.h"

namespace xblocks::controllers {
namespace {

Json Model(Json spec, const std::string& name = "minilm") {
  return {{"apiVersion", "xblocks.io/v1alpha1"},
          {"kind", "Model"},
          {"metadata", {{"name", name}, {"namespace", "demo"}, {"generation", 1}}},
          {"spec", std::move(spec)}};
}

TEST(ModelLaunchBody, MapsSpecFieldsAndDefaultsUidToName) {
  Json body = LaunchBody(Model({{"clusterName", "mycluster"},
                                {"modelName", "qwen1.5-chat"},
                                {"modelType", "LLM"},
                                {"modelEngine", "llama.cpp"},
                                {"modelFormat", "ggufv2"},
                                {"modelSizeInBillions", "0_5"},
                                {"quantization", "q4_0"},
                                {"replica", 2}}));
  EXPECT_EQ(body, Json({{"model_uid", "minilm"},
                        {"model_name", "qwen1.5-chat"},
                        {"model_type", "LLM"},
                        {"model_engine", "llama.cpp"},
                        {"model_format", "ggufv2"},
                        {"model_size_in_billions", "0_5"},
                        {"quantization", "q4_0"},
                        {"replica", 2}}));
}

TEST(ModelLaunchBody, ZeroGpusMeansCpuAndAutoPassesThrough) {
  EXPECT_TRUE(LaunchBody(Model({{"modelName", "m"}, {"nGpu", 0}}))["n_gpu"].is_null());
  EXPECT_EQ(LaunchBody(Model({{"modelName", "m"}, {"nGpu", "auto"}}))["n_gpu"], "auto");
  EXPECT_EQ(LaunchBody(Model({{"modelName", "m"}, {"nGpu", 2}}))["n_gpu"], 2);
  EXPECT_FALSE(LaunchBody(Model({{"modelName", "m"}})).contains("n_gpu"));
  EXPECT_EQ(LaunchBody(Model({{"modelName", "m"}, {"modelUid", "custom-uid"}}))["model_uid"], "custom-uid");
}

TEST(ModelCustomSpec, EmbeddingFromPath) {
  Json spec = CustomModelSpec(Model({{"modelName", "all-minilm-l6-v2"},
                                     {"modelType", "embedding"},
                                     {"modelPath", "/models/minilm"},
                                     {"dimensions", 384},
                                     {"maxTokens", 256}}));
  EXPECT_EQ(spec, Json({{"model_name", "all-minilm-l6-v2"},
                        {"model_uri", "file:///models/minilm"},
                        {"language", {"en"}},
                        {"dimensions", 384},
                        {"max_tokens", 256}}));
  EXPECT_TRUE(CustomModelSpec(Model({{"modelName", "bge-small-en-v1.5"}})).is_null());
}

struct RefusalCase {
  Json spec;
  Refusal refusal;
  std::string reason;
  std::string words;
};

class ClassifyLaunchFailureTest : public ::testing::TestWithParam<RefusalCase> {};

TEST_P(ClassifyLaunchFailureTest, NamesCauseAndFix) {
  const RefusalCase& c = GetParam();
  LaunchFailure failure = ClassifyLaunchFailure(Model(c.spec), "mycluster-xinference-0", c.refusal);
  EXPECT_EQ(failure.reason, c.reason);
  EXPECT_NE(failure.message.find(c.words), std::string::npos) << failure.message;
  EXPECT_NE(failure.message.find("mycluster-xinference-0"), std::string::npos) << failure.message;
}

// The refusal texts are the ones real Xinference 0.11.3 answered (tests/fixtures/recordings/real).
INSTANTIATE_TEST_SUITE_P(
    RealRefusals, ClassifyLaunchFailureTest,
    ::testing::Values(
        RefusalCase{{{"modelName", "no-such-model"}, {"modelType", "embedding"}},
                    {400, "Embedding model no-such-model not found, availablemodel list: dict_keys(['bge'])"},
                    "UnknownModel",
                    "fix spec.modelName"},
        RefusalCase{{{"modelName", "no-such-model"}, {"modelType", "LLM"}},
                    {400, "Model not found, name: no-such-model, format: None, size: None, quantization: None"},
                    "UnknownModel",
                    "no LLM model named \"no-such-model\""},
        RefusalCase{{{"modelName", "w"}, {"modelType", "embedding"}, {"modelPath", "/nonexistent/weights"}},
                    {400, "Path /data/cache/w not found"},
                    "ModelPathNotFound",
                    "spec.modelPath /nonexistent/weights does not exist"},
        RefusalCase{{{"modelName", "w"}, {"modelType", "embedding"}, {"modelPath", "/gone"}},
                    {500, "[Errno 2] No such file or directory: '/gone' -> '/gone'"},
                    "ModelPathNotFound",
                    "does not exist"},
        RefusalCase{{{"modelName", "big"}, {"modelType", "embedding"}},
                    {500, "Remote server unixsocket:///3179806720 closed"},
                    "OutOfMemory",
                    "raise the cluster's memory"},
        RefusalCase{{{"modelName", "qwen"}, {"modelType", "LLM"}},
                    {503, "No available slot found for the model"},
                    "NoGpuSlot",
                    "lower spec.nGpu"},
        RefusalCase{{{"modelName", "qwen"}, {"modelType", "LLM"}},
                    {400, "Invalid input. Please specify the `model_engine` field."},
                    "InvalidSpec",
                    "fix the Model's spec"},
        RefusalCase{{{"modelName", "x"}, {"modelType", "embedding"}},
                    {503, "Error(s) in loading state_dict for BertModel: size mismatch"},
                    "LaunchFailed",
                    "HTTP 503"}));

TEST(RefusalDetail, StripsTheActorPrefix) {
  EXPECT_EQ(RefusalDetail(R"({"detail":"[address=127.0.0.1:54489, pid=25578] Model is already in the model list"})"),
            "Model is already in the model list");
  EXPECT_EQ(RefusalDetail(R"({"detail":"Invalid input."})"), "Invalid input.");
  EXPECT_EQ(RefusalDetail("Internal Server Error"), "Internal Server Error");
  EXPECT_EQ(RefusalDetail(R"({"detail":[{"loc":["body"]}]})"), R"([{"loc":["body"]}])");
}

// A transport that answers every call with one canned reply.
HttpTransport Answer(int status, std::string body) {
  return [status, body](const ReplicaEndpoint&, const std::string&, const std::string&, const std::optional<Json>&,
                        std::chrono::milliseconds) -> Result<HttpReply> { return HttpReply{status, body}; };
}

TEST(XinferenceClient, ListInstancesKeepsOnlyTheUid) {
  XinferenceClient client(Answer(200, R"([{"model_name":"a","model_uid":"minilm","status":"READY"},
                                          {"model_name":"b","model_uid":"other","status":"CREATING"}])"),
                          {"127.0.0.2", 9997});
  auto listed = client.ListInstances("minilm");
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].status, "READY");
}

TEST(XinferenceClient, MalformedRepliesAreErrorsNotCrashes) {
  for (const std::string& body : {std::string("not json"), std::string(R"({"a":1})"), std::string("[1,2]"),
                                  std::string(R"([{"model_uid":"minilm"}])"), std::string(R"([{"status":7}])")}) {
    XinferenceClient client(Answer(200, body), {"127.0.0.2", 9997});
    auto listed = client.ListInstances("minilm");
    EXPECT_FALSE(listed.ok()) << body;
    EXPECT_EQ(listed.status().code(), StatusCode::kBadRequest) << body;
  }
  XinferenceClient failing(Answer(500, R"({"detail":"boom"})"), {"127.0.0.2", 9997});
  EXPECT_FALSE(failing.ListInstances("minilm").ok());
}

TEST(XinferenceClient, RegistrationConflictAndUnknownTerminateCountAsDone) {
  XinferenceClient conflict(
      Answer(400, R"({"detail":"[address=a, pid=1] Model name conflicts with existing model all-minilm-l6-v2"})"),
      {"127.0.0.2", 9997});
  auto registered = conflict.Register("embedding", Json::object());
  ASSERT_TRUE(registered.ok());
  EXPECT_FALSE(registered->has_value());
  XinferenceClient unknown(Answer(400, R"({"detail":"Model not found in the model list, uid: x"})"),
                           {"127.0.0.2", 9997});
  EXPECT_TRUE(unknown.Terminate("x").ok());
  XinferenceClient broken(Answer(500, R"({"detail":"boom"})"), {"127.0.0.2", 9997});
  EXPECT_FALSE(broken.Terminate("x").ok());
}

TEST(XinferenceClient, UnreachableReplicaIsUnavailable) {
  // Port 1 on loopback: nothing listens there.
  XinferenceClient client(MakeHttpTransport(), {"127.0.0.1", 1});
  auto listed = client.ListInstances("minilm");
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.status().code(), StatusCode::kUnavailable) << listed.status().message();
}

Json Pod(const std::string& uid) { return {{"metadata", {{"name", "p-" + uid}, {"uid", uid}}}}; }

Json ModelStatus(const std::string& phase, Json replicas, int64_t observed = 1) {
  Json model = Model({{"modelName", "m"}});
  model["status"] = {{"phase", phase}, {"observedGeneration", observed}, {"replicas", std::move(replicas)}};
  return model;
}

TEST(WaitForModels, OnlyTheCurrentPodsCount) {
  std::vector<Json> pods = {Pod("new-0")};
  // Ready, but on the pod the operation replaced.
  auto stale = WaitForModels({ModelStatus("Ready", {{{"podUID", "old-0"}, {"state", "Ready"}}})}, pods);
  ASSERT_TRUE(stale.has_value());
  EXPECT_FALSE(stale->failed);
  EXPECT_NE(stale->message.find("minilm (0/1)"), std::string::npos) << stale->message;

  EXPECT_FALSE(WaitForModels({ModelStatus("Ready", {{{"podUID", "new-0"}, {"state", "Ready"}}})}, pods).has_value());
  // A status from an older generation does not count.
  EXPECT_TRUE(WaitForModels({ModelStatus("Ready", {{{"podUID", "new-0"}, {"state", "Ready"}}}, 0)}, pods));
  EXPECT_FALSE(WaitForModels({}, pods).has_value());
}

TEST(WaitForModels, FailureOnTheNewPodsFailsTheWait) {
  auto failed = WaitForModels(
      {ModelStatus("Failed", {{{"podUID", "new-0"}, {"state", "Failed"}, {"message", "out of memory"}}})},
      {Pod("new-0")});
  ASSERT_TRUE(failed.has_value());
  EXPECT_TRUE(failed->failed);
  EXPECT_NE(failed->message.find("out of memory"), std::string::npos) << failed->message;
}

}  // namespace
}  // namespace xblocks::controllers
