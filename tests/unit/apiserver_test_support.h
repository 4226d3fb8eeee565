// A registry over a store in a fresh temp dir, with the real scheme and a fake clock, for tests
// of REST semantics and controllers.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "api/scheme.h"
#include "apiserver/registry.h"
#include "common/time.h"
#include "store/store.h"

namespace xblocks::testing {

class RegistryFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("xblocks-registry-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = store::Store::Open({.path = dir_ / "state.db"});
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    auto scheme = api::Scheme::Load();
    ASSERT_TRUE(scheme.ok()) << scheme.status().message();
    scheme_ = std::move(*scheme);
    clock_.Set(*ParseRfc3339("2026-12-04T10:00:00Z"));
    registry_ = std::make_unique<apiserver::Registry>(scheme_, *store_, clock_);
    CreateNamespace("demo");
  }

  void TearDown() override {
    registry_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  const api::ResourceType& Type(const std::string& group, const std::string& plural) {
    const std::string version = group.empty() ? "v1" : (group == "rbac.authorization.k8s.io" ? "v1" : "v1alpha1");
    const api::ResourceType* type = scheme_.Find(group, version, plural);
    EXPECT_NE(type, nullptr) << plural;
    return *type;
  }

  void CreateNamespace(const std::string& name) {
    auto created = registry_->Create(Type("", "namespaces"), "", {{"metadata", {{"name", name}}}}, {});
    ASSERT_TRUE(created.ok()) << created.status().message();
  }

  Json ConfigMap(const std::string& name, const Json& data = {{"a", "1"}}) {
    return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", data}};
  }

  // The tutorial's Cluster, with the given termination policy.
  static Json Cluster(const std::string& name, const std::string& policy = "Delete") {
    return Json::parse(R"({"apiVersion":"apps.kubeblocks.io/v1alpha1","kind":"Cluster",
      "metadata":{"name":")" + name + R"(","namespace":"demo"},
      "spec":{"clusterDefinitionRef":"xinference","clusterVersionRef":"xinference-0.11.0-cpu",
        "terminationPolicy":")" + policy + R"(",
        "componentSpecs":[{"name":"xinference","componentDefRef":"xinference",
          "resources":{"limits":{"cpu":"1","memory":"1Gi"},"requests":{"cpu":"1","memory":"1Gi"}}}]}})");
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  api::Scheme scheme_;
  FakeClock clock_;
  std::unique_ptr<apiserver::Registry> registry_;
};

}  // namespace xblocks::testing
