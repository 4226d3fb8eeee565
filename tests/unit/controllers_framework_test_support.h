// A registry over a store in a fresh temp dir, reached through a LocalClient, for tests of the
// controller framework. A test may shrink the store's watcher queue before SetUp() to make
// watches fall behind and close.
#pragma once

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "api/scheme.h"
#include "apiserver/registry.h"
#include "client/local_client.h"
#include "common/time.h"
#include "store/store.h"

namespace xblocks::testing {

// Polls `condition` every millisecond until it is true or `timeout` passes, and returns its last
// value. Tests assert on the result, never on a sleep.
template <typename Condition>
bool Eventually(Condition condition, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return condition();
}

class ClientFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("xblocks-controllers-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = store::Store::Open({.path = dir_ / "state.db", .watcher_queue = watcher_queue_});
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    auto scheme = api::Scheme::Load();
    ASSERT_TRUE(scheme.ok()) << scheme.status().message();
    scheme_ = std::move(*scheme);
    clock_.Set(*ParseRfc3339("2026-12-04T10:00:00Z"));
    registry_ = std::make_unique<apiserver::Registry>(scheme_, *store_, clock_);
    client_ = std::make_unique<client::LocalClient>(*registry_, "controllers-test");
    auto created = client_->Create(client::resources::kNamespaces, {{"metadata", {{"name", "demo"}}}});
    ASSERT_TRUE(created.ok()) << created.status().message();
  }

  void TearDown() override {
    client_.reset();
    registry_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static Json ConfigMap(const std::string& name, const Json& data = {{"a", "1"}}, const Json& labels = Json::object()) {
    return {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"namespace", "demo"}, {"labels", labels}}},
            {"data", data}};
  }

  void CreateConfigMap(const std::string& name, const Json& data = {{"a", "1"}}, const Json& labels = Json::object()) {
    auto created = client_->Create(client::resources::kConfigMaps, ConfigMap(name, data, labels));
    ASSERT_TRUE(created.ok()) << created.status().message();
  }

  void PatchData(const std::string& name, const Json& data) {
    auto patched = client_->Patch(client::resources::kConfigMaps, "demo", name, client::PatchType::kMerge,
                                  {{"data", data}});
    ASSERT_TRUE(patched.ok()) << patched.status().message();
  }

  void DeleteConfigMap(const std::string& name) {
    Status deleted = client_->Delete(client::resources::kConfigMaps, "demo", name, {});
    ASSERT_TRUE(deleted.ok()) << deleted.message();
  }

  size_t watcher_queue_ = 100000;
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  api::Scheme scheme_;
  FakeClock clock_;
  std::unique_ptr<apiserver::Registry> registry_;
  std::unique_ptr<client::LocalClient> client_;
};

}  // namespace xblocks::testing
