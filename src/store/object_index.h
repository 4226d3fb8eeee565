// The in-memory index of live objects that serves Get and List without touching SQLite.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/json.h"

namespace xblocks::store {

// The newest state of one live key. The object is immutable once indexed, so readers share it
// and copy it outside the lock.
struct IndexEntry {
  std::shared_ptr<const Json> object;
  int64_t revision = 0;  // the revision of the key's newest row
  int64_t created = 0;   // the revision that created this incarnation of the key
};

// Thread-safety: readers take a shared lock and writers an exclusive one. The store also
// serialises all writers with its write mutex, so a writer may Find() and then Put() without
// another writer in between.
class ObjectIndex {
 public:
  std::optional<IndexEntry> Find(const std::string& key) const;

  // The live objects whose key starts with `prefix`, in key order, and the store revision they
  // reflect, read under one lock.
  struct Snapshot {
    std::vector<std::shared_ptr<const Json>> objects;
    int64_t revision = 0;
  };
  Snapshot List(const std::string& prefix) const;

  // Stores `entry` under `key` and advances the store revision to entry.revision.
  void Put(const std::string& key, IndexEntry entry);
  // Removes `key` and advances the store revision to `revision`.
  void Erase(const std::string& key, int64_t revision);

  int64_t revision() const;
  // Sets the store revision at recovery, before any reader runs.
  void set_revision(int64_t revision);

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, IndexEntry> entries_;  // guarded by mu_
  int64_t revision_ = 0;                       // guarded by mu_
};

}  // namespace xblocks::store
