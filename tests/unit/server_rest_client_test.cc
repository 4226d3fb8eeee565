// RestClient and LoadKubeconfig against a real embedded server over HTTPS: the kubeconfig the
// server writes, CRUD with the server's errors, selectors, status writes, and watches.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "client/rest_client.h"
#include "client/rest_config.h"
#include "controllers/informer.h"
#include "common/base64.h"
#include "server/embedded_server.h"

namespace xblocks::testing {
namespace {

namespace fs = std::filesystem;
namespace res = client::resources;
using client::RestClient;

Json ConfigMap(const std::string& name, const Json& labels = Json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", labels}}},
          {"data", {{"key", "value"}}}};
}

class RestClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_dir_ = new fs::path(fs::temp_directory_path() / ("xb-rest-client-" + std::to_string(getpid())));
    fs::remove_all(*data_dir_);
    auto started = server::EmbeddedServer::Start({.data_dir = *data_dir_, .port = 0, .runtime = "none"});
    ASSERT_TRUE(started.ok()) << started.status().message();
    server_ = started->release();
  }

  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    fs::remove_all(*data_dir_);
    delete data_dir_;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    auto config = client::LoadKubeconfig(*data_dir_ / "kubeconfig");
    ASSERT_TRUE(config.ok()) << config.status().message();
    config_ = *config;
    auto created = RestClient::Create(config_);
    ASSERT_TRUE(created.ok()) << created.status().message();
    client_ = std::move(*created);
  }

  static inline fs::path* data_dir_ = nullptr;
  static inline server::EmbeddedServer* server_ = nullptr;
  client::RestConfig config_;
  std::unique_ptr<RestClient> client_;
};

TEST_F(RestClientTest, KubeconfigOfServerLoads) {
  EXPECT_EQ(config_.server, "https://127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_NE(config_.ca_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_FALSE(config_.token.empty());
}

TEST_F(RestClientTest, VersionAnswers) {
  auto version = client_->GetRaw("/version");
  ASSERT_TRUE(version.ok()) << version.status().message();
  EXPECT_NE(version->find("gitVersion"), std::string::npos);
}

TEST_F(RestClientTest, CreateGetUpdateDelete) {
  auto created = client_->Create(res::kConfigMaps, ConfigMap("crud"));
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_FALSE((*created)["metadata"].value("uid", "").empty());

  auto got = client_->Get(res::kConfigMaps, "default", "crud");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ((*got)["data"]["key"], "value");

  Json changed = *got;
  changed["data"]["key"] = "other";
  auto updated = client_->Update(res::kConfigMaps, changed);
  ASSERT_TRUE(updated.ok()) << updated.status().message();
  EXPECT_EQ((*updated)["data"]["key"], "other");

  auto stale = client_->Update(res::kConfigMaps, changed);
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict) << stale.status().message();

  EXPECT_TRUE(client_->Delete(res::kConfigMaps, "default", "crud", {}).ok());
  EXPECT_EQ(client_->Get(res::kConfigMaps, "default", "crud").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(client_->Delete(res::kConfigMaps, "default", "crud", {}).code(), StatusCode::kNotFound);
}

TEST_F(RestClientTest, ServerErrorsKeepReasonAndCauses) {
  ASSERT_TRUE(client_->Create(res::kConfigMaps, ConfigMap("twice")).ok());
  EXPECT_EQ(client_->Create(res::kConfigMaps, ConfigMap("twice")).status().code(), StatusCode::kAlreadyExists);

  Json invalid = ConfigMap("Not_A_Name");
  auto rejected = client_->Create(res::kConfigMaps, invalid);
  ASSERT_EQ(rejected.status().code(), StatusCode::kInvalid) << rejected.status().message();
  ASSERT_FALSE(rejected.status().details().causes.empty());
  EXPECT_EQ(rejected.status().details().causes[0].field, "metadata.name");
}

TEST_F(RestClientTest, ListFiltersByLabelAndFillsKind) {
  ASSERT_TRUE(client_->Create(res::kConfigMaps, ConfigMap("red-1", {{"color", "red"}})).ok());
  ASSERT_TRUE(client_->Create(res::kConfigMaps, ConfigMap("blue-1", {{"color", "blue"}})).ok());

  auto listed = client_->List(res::kConfigMaps, "default", {"color in (red)", ""});

  ASSERT_TRUE(listed.ok()) << listed.status().message();
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0]["metadata"]["name"], "red-1");
  EXPECT_EQ(listed->items[0]["kind"], "ConfigMap");
  EXPECT_EQ(listed->items[0]["apiVersion"], "v1");
  EXPECT_GT(listed->resource_version, 0);
}

TEST_F(RestClientTest, PatchesMergeAndJson) {
  ASSERT_TRUE(client_->Create(res::kConfigMaps, ConfigMap("patched")).ok());

  auto merged = client_->Patch(res::kConfigMaps, "default", "patched", client::PatchType::kMerge,
                               {{"data", {{"added", "yes"}}}});
  ASSERT_TRUE(merged.ok()) << merged.status().message();
  auto json_patched = client_->Patch(res::kConfigMaps, "default", "patched", client::PatchType::kJson,
                                     Json::array({{{"op", "remove"}, {"path", "/data/key"}}}));
  ASSERT_TRUE(json_patched.ok()) << json_patched.status().message();

  EXPECT_EQ((*json_patched)["data"], Json({{"added", "yes"}}));
}

TEST_F(RestClientTest, PatchStatusWritesOnlyStatus) {
  Json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "status-target"}}}};
  ASSERT_TRUE(client_->Create(res::kNamespaces, ns).ok());
  Json cluster = {{"apiVersion", "apps.kubeblocks.io/v1alpha1"},
                  {"kind", "Cluster"},
                  {"metadata", {{"name", "c1"}, {"namespace", "status-target"}}},
                  {"spec",
                   {{"clusterDefinitionRef", "missing"},
                    {"terminationPolicy", "Delete"},
                    {"componentSpecs", {{{"name", "xinference"}, {"componentDefRef", "xinference"}, {"replicas", 1}}}}}}};
  ASSERT_TRUE(client_->Create(res::kClusters, cluster).ok());

  auto patched = client_->PatchStatus(res::kClusters, "status-target", "c1",
                                      {{"status", {{"phase", "Failed"}}}, {"spec", {{"terminationPolicy", "WipeOut"}}}});

  ASSERT_TRUE(patched.ok()) << patched.status().message();
  EXPECT_EQ((*patched)["status"]["phase"], "Failed");
  EXPECT_EQ((*patched)["spec"]["terminationPolicy"], "Delete");
}

// Waits for the next event that is not a bookmark.
Result<client::WatchEvent> NextChange(client::WatchStream& watch) {
  for (int i = 0; i < 50; ++i) {
    auto event = watch.Next(std::chrono::milliseconds(200));
    if (!event.ok()) return event.status();
    if (event->has_value() && (*event)->type != client::WatchEventType::kBookmark) return **event;
  }
  return Status(StatusCode::kTimeout, "no watch event within 10 s");
}

TEST_F(RestClientTest, WatchDeliversChangesInOrder) {
  auto listed = client_->List(res::kConfigMaps, "default", {"watched=yes", ""});
  ASSERT_TRUE(listed.ok());
  auto watch = client_->Watch(res::kConfigMaps, "default", listed->resource_version, {"watched=yes", ""});
  ASSERT_TRUE(watch.ok()) << watch.status().message();

  ASSERT_TRUE(client_->Create(res::kConfigMaps, ConfigMap("w1", {{"watched", "yes"}})).ok());
  ASSERT_TRUE(client_->Create(res::kConfigMaps, ConfigMap("ignored", {{"watched", "no"}})).ok());
  ASSERT_TRUE(client_->Patch(res::kConfigMaps, "default", "w1", client::PatchType::kMerge,
                             {{"data", {{"key", "changed"}}}}).ok());
  ASSERT_TRUE(client_->Delete(res::kConfigMaps, "default", "w1", {}).ok());

  auto added = NextChange(**watch);
  auto modified = NextChange(**watch);
  auto deleted = NextChange(**watch);
  ASSERT_TRUE(added.ok()) << added.status().message();
  ASSERT_TRUE(modified.ok()) << modified.status().message();
  ASSERT_TRUE(deleted.ok()) << deleted.status().message();
  EXPECT_EQ(added->type, client::WatchEventType::kAdded);
  EXPECT_EQ(added->object["metadata"]["name"], "w1");
  EXPECT_EQ(modified->type, client::WatchEventType::kModified);
  EXPECT_EQ(modified->object["data"]["key"], "changed");
  EXPECT_EQ(deleted->type, client::WatchEventType::kDeleted);
  EXPECT_LT(added->resource_version, modified->resource_version);
}

TEST_F(RestClientTest, WatchEndedByServerIsTimeout) {
  auto created = RestClient::Create(config_, {.watch_timeout = std::chrono::seconds(1)});
  ASSERT_TRUE(created.ok());
  auto watch = (*created)->Watch(res::kConfigMaps, "default", 0, {});
  ASSERT_TRUE(watch.ok()) << watch.status().message();

  Status ended = Status::Ok();
  for (int i = 0; i < 50 && ended.ok(); ++i) {
    auto event = (*watch)->Next(std::chrono::milliseconds(100));
    if (!event.ok()) ended = event.status();
  }

  EXPECT_EQ(ended.code(), StatusCode::kTimeout) << ended.message();
}

TEST_F(RestClientTest, InformerResumesWatchWithoutListing) {
  auto created = RestClient::Create(config_, {.watch_timeout = std::chrono::seconds(1)});
  ASSERT_TRUE(created.ok());
  controllers::Informer informer(**created, res::kConfigMaps, "default");
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(std::chrono::seconds(5)));

  // Three watches end by the server's timeout meanwhile; each resumes where the last ended.
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  ASSERT_TRUE(client_->Create(res::kConfigMaps, ConfigMap("after-resume")).ok());
  std::optional<Json> seen;
  for (int i = 0; i < 50 && !seen; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    seen = informer.Get("default", "after-resume");
  }
  informer.Stop();

  EXPECT_TRUE(seen.has_value());
  EXPECT_EQ(informer.list_count(), 1);
}

TEST_F(RestClientTest, WatchOfUnknownResourceFails) {
  client::Resource missing{"example.com", "v1", "widgets", true};
  auto watch = client_->Watch(missing, "default", 0, {});
  EXPECT_EQ(watch.status().code(), StatusCode::kNotFound) << watch.status().message();
}

TEST_F(RestClientTest, WrongTokenIsUnauthorized) {
  client::RestConfig config = config_;
  config.token = "not-the-token";
  auto created = RestClient::Create(config);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ((*created)->Get(res::kConfigMaps, "default", "x").status().code(), StatusCode::kUnauthorized);
}

TEST_F(RestClientTest, WrongCertificateAuthorityFailsHandshake) {
  client::RestConfig config = config_;
  // The system's authorities did not sign the server's certificate.
  std::ifstream other("/etc/ssl/certs/ca-certificates.crt");
  std::stringstream text;
  text << other.rdbuf();
  if (text.str().empty()) GTEST_SKIP() << "no system CA bundle to use as an unrelated authority";
  config.ca_pem = text.str();
  auto created = RestClient::Create(config);
  ASSERT_TRUE(created.ok());
  auto got = (*created)->Get(res::kConfigMaps, "default", "x");
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(got.status().message().find("TLS handshake"), std::string::npos) << got.status().message();
}

TEST_F(RestClientTest, ManyThreadsShareThePool) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        if (!client_->Create(res::kConfigMaps, ConfigMap("pool-" + std::to_string(t) + "-" + std::to_string(i))).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto listed = client_->List(res::kConfigMaps, "default", {});
  ASSERT_TRUE(listed.ok());
  int pooled = 0;
  for (const Json& item : listed->items) pooled += item["metadata"]["name"].get<std::string>().rfind("pool-", 0) == 0;
  EXPECT_EQ(pooled, 160);
}

TEST(LoadKubeconfig, ReportsMissingContext) {
  const fs::path path = fs::temp_directory_path() / ("xb-kubeconfig-" + std::to_string(getpid()));
  std::ofstream(path) << "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n";
  auto loaded = client::LoadKubeconfig(path);
  fs::remove(path);
  EXPECT_EQ(loaded.status().code(), StatusCode::kBadRequest);
  EXPECT_NE(loaded.status().message().find("current-context"), std::string::npos) << loaded.status().message();
}

TEST(LoadKubeconfig, ReadsInlineDataAndRejectsHttp) {
  const fs::path path = fs::temp_directory_path() / ("xb-kubeconfig-inline-" + std::to_string(getpid()));
  const std::string config =
      "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
      "clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:1\n    certificate-authority-data: " +
      Base64Encode("CA PEM") +
      "\nusers:\n- name: u\n  user:\n    client-certificate-data: " + Base64Encode("CERT") +
      "\n    client-key-data: " + Base64Encode("KEY") +
      "\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n    namespace: demo\n";
  std::ofstream(path) << config;
  auto loaded = client::LoadKubeconfig(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->ca_pem, "CA PEM");
  EXPECT_EQ(loaded->client_cert_pem, "CERT");
  EXPECT_EQ(loaded->client_key_pem, "KEY");
  EXPECT_EQ(loaded->default_namespace, "demo");

  std::string plain = config;
  plain.replace(plain.find("https://"), 8, "http://");
  std::ofstream(path) << plain;
  auto rejected = client::LoadKubeconfig(path);
  fs::remove(path);
  EXPECT_EQ(rejected.status().code(), StatusCode::kBadRequest);
  EXPECT_NE(rejected.status().message().find("https://"), std::string::npos) << rejected.status().message();
}

TEST(InClusterConfig, NotInAPodIsNotFound) {
  unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_EQ(client::InClusterConfig().status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace xblocks::testing
