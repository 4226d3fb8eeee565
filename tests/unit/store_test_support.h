// Helpers shared by the store tests: a temporary directory per test and small object builders.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "common/json.h"
#include "store/store.h"

namespace xblocks::store::testing {

// A fresh directory under the system temp directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "xb-store-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << pattern;
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path db() const { return path_ / "state.db"; }

 private:
  std::filesystem::path path_;
};

// Options for a store in `dir`. Tests that do not check durability use synchronous=NORMAL, which
// still survives a process crash and keeps the suite fast.
inline Store::Options TestOptions(const TempDir& dir, bool synchronous_full = false) {
  Store::Options options;
  options.path = dir.db();
  options.synchronous_full = synchronous_full;
  return options;
}

// Opens a store and fails the test if Open fails.
inline std::unique_ptr<Store> OpenOrDie(const Store::Options& options) {
  Result<std::unique_ptr<Store>> store = Store::Open(options);
  if (!store.ok()) {
    ADD_FAILURE() << "Store::Open failed: " << store.status().message();
    return nullptr;
  }
  return std::move(*store);
}

// A minimal Pod named `name` in namespace `ns`.
inline Json MakePod(const std::string& ns, const std::string& name, const std::string& image = "x") {
  return Json{{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"namespace", ns}, {"name", name}}},
              {"spec", {{"containers", Json::array({{{"name", "main"}, {"image", image}}})}}}};
}

inline std::string PodKey(const std::string& ns, const std::string& name) {
  return "/core/pods/" + ns + "/" + name;
}

inline std::string ResourceVersion(const Json& object) {
  return object.at("metadata").at("resourceVersion").get<std::string>();
}

}  // namespace xblocks::store::testing
