#include "controllers/informer.h"

#include <exception>

#include <fmt/format.h>

#include "api/json_fields.h"

namespace xblocks::controllers {
namespace {

std::string CacheKey(std::string_view ns, std::string_view name) { return fmt::format("{}/{}", ns, name); }

std::string CacheKey(const Json& object) {
  return CacheKey(api::StringAt(object, "metadata.namespace"), api::StringAt(object, "metadata.name"));
}

// Compares resourceVersions, which change on every write. Objects without one compare whole.
bool SameVersion(const Json& a, const Json& b) {
  const Json* a_version = api::FindPath(a, "metadata.resourceVersion");
  const Json* b_version = api::FindPath(b, "metadata.resourceVersion");
  if (a_version != nullptr && b_version != nullptr) return *a_version == *b_version;
  return a == b;
}

}  // namespace

Informer::Informer(client::Client& client, client::Resource resource, std::string ns,
                   client::ListOptions list_options, Options options)
    : client_(client),
      resource_(std::move(resource)),
      ns_(std::move(ns)),
      list_options_(std::move(list_options)),
      options_(options) {}

Informer::~Informer() { Stop(); }

Informer::HandlerId Informer::AddHandlers(Handlers handlers) {
  std::lock_guard delivery(delivery_mu_);
  if (handlers.on_add) {
    std::lock_guard lock(cache_mu_);
    for (const auto& [key, object] : cache_) handlers.on_add(object);
  }
  const HandlerId id = next_handler_id_++;
  handlers_.emplace(id, std::move(handlers));
  return id;
}

void Informer::RemoveHandlers(HandlerId id) {
  std::lock_guard delivery(delivery_mu_);
  handlers_.erase(id);
}

void Informer::Start() {
  std::lock_guard lock(state_mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void Informer::Stop() {
  {
    std::lock_guard lock(state_mu_);
    stopping_ = true;
    state_cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_mu_);
  return state_cv_.wait_for(lock, timeout, [this] { return synced_; });
}

bool Informer::HasSynced() const {
  std::lock_guard lock(state_mu_);
  return synced_;
}

std::optional<Json> Informer::Get(std::string_view ns, std::string_view name) const {
  std::lock_guard lock(cache_mu_);
  auto it = cache_.find(CacheKey(ns, name));
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

Result<std::vector<Json>> Informer::List(std::string_view ns, std::string_view label_selector) const {
  auto selector = api::ParseLabelSelector(label_selector);
  if (!selector.ok()) return selector.status();
  return List(ns, *selector);
}

std::vector<Json> Informer::List(std::string_view ns, const api::LabelSelector& selector) const {
  std::vector<Json> objects;
  const std::string prefix = ns.empty() ? "" : CacheKey(ns, "");
  std::lock_guard lock(cache_mu_);
  for (auto it = cache_.lower_bound(prefix); it != cache_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (selector.Matches(api::ObjectAt(it->second, "metadata.labels"))) objects.push_back(it->second);
  }
  return objects;
}

void Informer::Run() {
  std::chrono::milliseconds delay = options_.retry_initial;
  while (!Stopping()) {
    int64_t resource_version = 0;
    if (ListAndSync(resource_version)) {
      WatchEnd end = WatchEnd::kResume;
      while (end == WatchEnd::kResume && !Stopping()) end = WatchUntilEnd(resource_version);
      if (end != WatchEnd::kFailed) {
        delay = options_.retry_initial;
        continue;
      }
    }
    // Back off so a failing server is not listed in a tight loop.
    if (!SleepUnlessStopped(delay)) return;
    delay = std::min(delay * 2, options_.retry_max);
  }
}

bool Informer::ListAndSync(int64_t& resource_version) {
  auto listed = client_.List(resource_, ns_, list_options_);
  if (!listed.ok()) {
    LogLimited(failure_log_, spdlog::level::warn, "informer list failed", listed.status());
    return false;
  }
  list_count_.fetch_add(1);
  std::map<std::string, Json> objects;
  for (Json& item : listed->items) {
    std::string key = CacheKey(item);
    objects.emplace(std::move(key), std::move(item));
  }

  {
    std::lock_guard delivery(delivery_mu_);
    for (const Delta& delta : ReplaceCacheLocked(std::move(objects))) DispatchLocked(delta);
  }

  resource_version = listed->resource_version;
  std::lock_guard lock(state_mu_);
  synced_ = true;
  state_cv_.notify_all();
  return true;
}

std::vector<Informer::Delta> Informer::ReplaceCacheLocked(std::map<std::string, Json> objects) {
  std::vector<Delta> deltas;
  std::lock_guard lock(cache_mu_);
  // Objects gone from the list were deleted while no watch was open. The cache has their last state.
  for (auto& [key, object] : cache_) {
    if (!objects.contains(key)) deltas.push_back({DeltaType::kDeleted, Json(), std::move(object)});
  }
  for (const auto& [key, object] : objects) {
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      deltas.push_back({DeltaType::kAdded, Json(), object});
    } else if (!SameVersion(it->second, object)) {
      deltas.push_back({DeltaType::kUpdated, std::move(it->second), object});
    }
  }
  cache_ = std::move(objects);
  return deltas;
}

Informer::WatchEnd Informer::WatchUntilEnd(int64_t& resource_version) {
  auto stream = client_.Watch(resource_, ns_, resource_version, list_options_);
  if (!stream.ok()) {
    if (stream.status().code() == StatusCode::kGone) {
      LogLimited(relist_log_, spdlog::level::info, "informer watch expired, listing again", stream.status());
      return WatchEnd::kRelist;
    }
    LogLimited(failure_log_, spdlog::level::warn, "informer watch failed, listing again", stream.status());
    return WatchEnd::kFailed;
  }

  const auto started = std::chrono::steady_clock::now();
  bool delivered = false;
  while (!Stopping()) {
    auto next = (*stream)->Next(options_.poll);
    if (!next.ok()) {
      const StatusCode code = next.status().code();
      if (code == StatusCode::kTimeout && resource_version > 0) return WatchEnd::kResume;
      if (code == StatusCode::kGone || code == StatusCode::kTimeout) {
        LogLimited(relist_log_, spdlog::level::info, "informer watch ended, listing again", next.status());
      } else {
        LogLimited(failure_log_, spdlog::level::warn, "informer watch failed, listing again", next.status());
      }
      // A watch that worked for a while is healthy even if it ends without events, e.g. an
      // idle stream closed by the server's timeout.
      const bool healthy = delivered || std::chrono::steady_clock::now() - started >= options_.retry_max;
      return healthy ? WatchEnd::kRelist : WatchEnd::kFailed;
    }
    if (!next->has_value()) continue;
    resource_version = std::max(resource_version, (*next)->resource_version);
    ApplyEvent(**next);
    delivered = true;
  }
  return WatchEnd::kRelist;
}

void Informer::ApplyEvent(const client::WatchEvent& event) {
  if (event.type == client::WatchEventType::kBookmark) return;
  const std::string key = CacheKey(event.object);
  std::lock_guard delivery(delivery_mu_);
  Delta delta{DeltaType::kAdded, Json(), event.object};
  {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(key);
    if (event.type == client::WatchEventType::kDeleted) {
      if (it == cache_.end()) return;  // never delivered, so there is nothing to delete
      delta.type = DeltaType::kDeleted;
      cache_.erase(it);
    } else if (it == cache_.end()) {
      cache_.emplace(key, event.object);
    } else {
      // The cache, not the event type, decides between add and update, so an ADDED event for
      // a cached key is delivered as an update.
      delta.type = DeltaType::kUpdated;
      delta.old_object = std::move(it->second);
      it->second = event.object;
    }
  }
  DispatchLocked(delta);
}

void Informer::DispatchLocked(const Delta& delta) {
  for (const auto& [id, handlers] : handlers_) {
    // Handlers must not throw, but one that does must neither end the process nor starve the
    // handlers after it.
    try {
      CallHandler(handlers, delta);
    } catch (const std::exception& e) {
      XB_LOG_ERROR("informer handler threw an exception",
                   {{"resource", resource_.plural}, {"name", api::StringAt(delta.object, "metadata.name")}, {"err", e.what()}});
    }
  }
}

void Informer::CallHandler(const Handlers& handlers, const Delta& delta) {
  switch (delta.type) {
    case DeltaType::kAdded:
      if (handlers.on_add) handlers.on_add(delta.object);
      break;
    case DeltaType::kUpdated:
      if (handlers.on_update) handlers.on_update(delta.old_object, delta.object);
      break;
    case DeltaType::kDeleted:
      if (handlers.on_delete) handlers.on_delete(delta.object);
      break;
  }
}

bool Informer::SleepUnlessStopped(std::chrono::milliseconds delay) {
  std::unique_lock lock(state_mu_);
  return !state_cv_.wait_for(lock, delay, [this] { return stopping_; });
}

bool Informer::Stopping() const {
  std::lock_guard lock(state_mu_);
  return stopping_;
}

void Informer::LogLimited(LogLimit& limit, spdlog::level::level_enum level, std::string_view message,
                          const Status& error) {
  const auto now = std::chrono::steady_clock::now();
  if (limit.last != std::chrono::steady_clock::time_point{} && now - limit.last < options_.log_interval) {
    ++limit.suppressed;
    return;
  }
  spdlog::log(level, "{}",
              log::Format(message, {{"resource", resource_.plural},
                                    {"namespace", ns_},
                                    {"err", error.message()},
                                    {"suppressed", std::to_string(limit.suppressed)}}));
  limit.last = now;
  limit.suppressed = 0;
}

}  // namespace xblocks::controllers
