#include "store/object_index.h"

#include <mutex>

namespace xblocks::store {

std::optional<IndexEntry> ObjectIndex::Find(const std::string& key) const {
  std::shared_lock lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

ObjectIndex::Snapshot ObjectIndex::List(const std::string& prefix) const {
  Snapshot snapshot;
  std::shared_lock lock(mu_);
  snapshot.revision = revision_;
  for (auto it = entries_.lower_bound(prefix);
       it != entries_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    snapshot.objects.push_back(it->second.object);
  }
  return snapshot;
}

void ObjectIndex::Put(const std::string& key, IndexEntry entry) {
  std::unique_lock lock(mu_);
  revision_ = entry.revision;
  entries_[key] = std::move(entry);
}

void ObjectIndex::Erase(const std::string& key, int64_t revision) {
  std::unique_lock lock(mu_);
  revision_ = revision;
  entries_.erase(key);
}

int64_t ObjectIndex::revision() const {
  std::shared_lock lock(mu_);
  return revision_;
}

void ObjectIndex::set_revision(int64_t revision) {
  std::unique_lock lock(mu_);
  revision_ = revision;
}

}  // namespace xblocks::store
