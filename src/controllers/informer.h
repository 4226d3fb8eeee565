// An informer keeps an in-memory copy of one resource type, in one namespace or all of them,
// and tells handlers about every change. On its own thread it lists the objects, then watches
// from the list's resourceVersion. When the watch ends (kGone after compaction, a stream the
// server closed because the informer fell behind, or any error), it lists again and emits the
// differences from its cache as adds, updates and deletes, so a handler never misses the final
// state of an object, although it may miss intermediate ones.
//
// Handlers run on the informer thread, one event at a time, after the cache holds the new
// state. They must be quick (a controller's handler only queues a Request) and must not call
// AddHandlers(), RemoveHandlers() or Stop(). They may read the informer's cache.
//
// Thread-safety: every public method may be called from any thread. The Client must outlive
// the informer; the destructor calls Stop().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/selector.h"
#include "client/client.h"
#include "common/json.h"
#include "common/log.h"
#include "common/status.h"

namespace xblocks::controllers {

struct InformerOptions {
  // The longest wait for one watch event. It bounds how long Stop() takes.
  std::chrono::milliseconds poll{100};
  // The wait before listing again after a failed list or watch, doubling up to retry_max.
  std::chrono::milliseconds retry_initial{100};
  std::chrono::milliseconds retry_max{std::chrono::seconds(10)};
  // The minimum time between two log lines about re-lists or failures; the lines skipped in
  // between are counted in the next one's `suppressed` field.
  std::chrono::milliseconds log_interval{std::chrono::seconds(30)};
};

class Informer {
 public:
  // Any member may be empty.
  struct Handlers {
    std::function<void(const Json& object)> on_add;
    std::function<void(const Json& old_object, const Json& new_object)> on_update;
    // For an object deleted while the informer was not watching, `object` is the last state
    // the cache held.
    std::function<void(const Json& object)> on_delete;
  };
  using HandlerId = uint64_t;

  using Options = InformerOptions;

  // Informs about `resource` objects in `ns` ("" for all namespaces) that match `list_options`'
  // selectors. Does nothing until Start().
  Informer(client::Client& client, client::Resource resource, std::string ns = "",
           client::ListOptions list_options = {}, Options options = {});
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Registers handlers. Handlers added after the first list receive an add for every object
  // already in the cache, before any later event. Returns an id for RemoveHandlers().
  HandlerId AddHandlers(Handlers handlers);
  // Unregisters handlers. Once it returns, they are not running and are never called again.
  // An unknown id is ignored.
  void RemoveHandlers(HandlerId id);

  // Starts the list-and-watch thread. Later calls do nothing.
  void Start();
  // Stops the thread and waits for it, so handlers are not called afterwards. The cache keeps
  // its last contents. Idempotent.
  void Stop();

  // Waits until the first list has been stored and its adds delivered. Returns false on
  // timeout.
  bool WaitForSync(std::chrono::milliseconds timeout) const;
  bool HasSynced() const;

  // The cached object, or nullopt when the cache has none by that key.
  std::optional<Json> Get(std::string_view ns, std::string_view name) const;
  // The cached objects in `ns` ("" for all) whose labels match `label_selector` (query syntax,
  // "" for all), sorted by namespace and name. Returns kBadRequest for an invalid selector.
  Result<std::vector<Json>> List(std::string_view ns, std::string_view label_selector = "") const;
  std::vector<Json> List(std::string_view ns, const api::LabelSelector& selector) const;

  const client::Resource& resource() const { return resource_; }
  // The number of lists done, the first included, e.g. for a metric.
  int64_t list_count() const { return list_count_.load(); }

 private:
  enum class DeltaType { kAdded, kUpdated, kDeleted };
  struct Delta {
    DeltaType type;
    Json old_object;  // kUpdated only
    Json object;
  };

  void Run();
  // Lists and applies the differences to the cache and handlers. False when the list failed.
  bool ListAndSync(int64_t& resource_version);
  enum class WatchEnd { kResume, kRelist, kFailed };
  // Watches from `resource_version` until the stream ends or Stop(), and advances
  // `resource_version` past every event and bookmark. kResume: the server ended the watch
  // normally, so a new one may start from `resource_version`. kRelist: the watch expired or
  // ended after it worked for a while. kFailed: it failed at once, so the caller backs off.
  WatchEnd WatchUntilEnd(int64_t& resource_version);
  // Applies one watch event to the cache and handlers.
  void ApplyEvent(const client::WatchEvent& event);
  // Replaces the cache with `objects` and returns the differences. Needs delivery_mu_.
  std::vector<Delta> ReplaceCacheLocked(std::map<std::string, Json> objects);
  void DispatchLocked(const Delta& delta);
  static void CallHandler(const Handlers& handlers, const Delta& delta);
  // Waits `delay`, or less if Stop() is called. Returns false when stopping.
  bool SleepUnlessStopped(std::chrono::milliseconds delay);
  bool Stopping() const;

  // The rate limit of one kind of log line.
  struct LogLimit {
    std::chrono::steady_clock::time_point last{};
    int64_t suppressed = 0;
  };
  // Logs `message` at `level` unless `limit` logged a line less than log_interval ago.
  void LogLimited(LogLimit& limit, spdlog::level::level_enum level, std::string_view message,
                  const Status& error);

  client::Client& client_;
  const client::Resource resource_;
  const std::string ns_;
  const client::ListOptions list_options_;
  const Options options_;

  // Held while the cache changes and its handlers run, so each handler receives events in order
  // and AddHandlers() replays a consistent cache.
  std::mutex delivery_mu_;
  std::map<HandlerId, Handlers> handlers_;  // guarded by delivery_mu_
  HandlerId next_handler_id_ = 1;           // guarded by delivery_mu_

  mutable std::mutex cache_mu_;
  std::map<std::string, Json> cache_;  // guarded by cache_mu_; keyed "ns/name"

  mutable std::mutex state_mu_;
  mutable std::condition_variable state_cv_;
  bool started_ = false;   // guarded by state_mu_
  bool stopping_ = false;  // guarded by state_mu_
  bool synced_ = false;    // guarded by state_mu_
  std::thread thread_;

  std::atomic<int64_t> list_count_{0};
  // Used by the informer thread only.
  LogLimit relist_log_;
  LogLimit failure_log_;
};

}  // namespace xblocks::controllers
