// ApiHandler: watch streams. Each event is one JSON line `{"type":...,"object":...}`; the object
// is a Table row when the client asked for Tables.
//
// resourceVersion "" or "0" first sends a synthetic ADDED for every object that matches (kubectl
// drops the first event of a single-object watch, expecting that), then every change. A numbered
// resourceVersion sends only changes after it, or an ERROR event with 410 Expired when the
// history no longer reaches back that far.
#include <chrono>
#include <condition_variable>
#include <mutex>

#include <fmt/format.h>

#include "api/selector.h"
#include "api/table.h"
#include "api/validation.h"
#include "apiserver/api_handler.h"
#include "apiserver/object_meta.h"
#include "common/log.h"

namespace xblocks::apiserver {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kBookmarkInterval = std::chrono::seconds(30);
constexpr auto kPollInterval = std::chrono::milliseconds(500);

// Wakes the stream thread when the store queues events for its watcher.
class Signal {
 public:
  void Notify() {
    std::lock_guard lock(mu_);
    ready_ = true;
    cv_.notify_one();
  }
  void WaitFor(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [this] { return ready_; });
    ready_ = false;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ = false;  // guarded by mu_
};

struct Filter {
  std::optional<api::LabelSelector> labels;
  std::optional<api::FieldSelector> fields;

  bool Matches(const Json& object) const {
    if (!object.is_object()) return false;
    static const Json kEmpty = Json::object();
    const Json& meta = object.contains("metadata") ? object["metadata"] : kEmpty;
    const Json& object_labels = meta.contains("labels") ? meta["labels"] : kEmpty;
    if (labels && !labels->Matches(object_labels)) return false;
    return !fields || fields->Matches(object);
  }
};

struct WatchParams {
  Filter filter;
  std::string resource_version;
  std::chrono::seconds timeout{0};
  bool bookmarks = false;
  std::optional<TableRequest> table;
  std::string include_object;
};

Result<WatchParams> ParseWatchParams(const Registry& registry, const HttpRequest& request,
                                     const ResourceRequest& target) {
  WatchParams params;
  std::string field_selector = request.Query("fieldSelector");
  if (!target.name.empty()) {
    field_selector = "metadata.name=" + target.name + (field_selector.empty() ? "" : "," + field_selector);
  }
  if (!field_selector.empty()) {
    XB_RETURN_IF_ERROR(registry.CheckFieldSelector(*target.type, field_selector));
    auto fields = api::ParseFieldSelector(field_selector);
    if (!fields.ok()) return fields.status();
    params.filter.fields = std::move(*fields);
  }
  if (std::string selector = request.Query("labelSelector"); !selector.empty()) {
    auto labels = api::ParseLabelSelector(selector);
    if (!labels.ok()) return labels.status();
    params.filter.labels = std::move(*labels);
  }
  params.resource_version = request.Query("resourceVersion");
  const std::string timeout = request.Query("timeoutSeconds");
  if (!timeout.empty()) {
    char* end = nullptr;
    long seconds = std::strtol(timeout.c_str(), &end, 10);
    if (end == timeout.c_str() || *end != '\0' || seconds < 0) {
      return BadRequest(fmt::format("timeoutSeconds: Invalid value: \"{}\": must be a non-negative integer", timeout));
    }
    params.timeout = std::chrono::seconds(seconds);
  }
  params.bookmarks = request.Flag("allowWatchBookmarks");
  params.table = WantsTable(request.accept);
  params.include_object = request.Query("includeObject", "Metadata");
  return params;
}

// Writes events for one watch, rendering objects as the client asked.
class EventWriter {
 public:
  EventWriter(const api::ResourceType& type, const WatchParams& params, ResponseStream& out)
      : type_(type), params_(params), out_(out) {}

  bool Write(const char* event_type, Json object) {
    api::ApplyDefaults(type_, object);
    if (params_.table) object = RenderRow(object);
    return out_.Write(Json{{"type", event_type}, {"object", std::move(object)}}.dump(-1, ' ', false,
                                                                                     Json::error_handler_t::replace) +
                      "\n");
  }

  bool WriteBookmark(int64_t revision) {
    Json object = {{"kind", type_.kind},
                   {"apiVersion", type_.ApiVersion()},
                   {"metadata", {{"resourceVersion", std::to_string(revision)}}}};
    return out_.Write(Json{{"type", "BOOKMARK"}, {"object", object}}.dump() + "\n");
  }

  bool WriteExpired(const std::string& message) {
    Json status = {{"kind", "Status"},  {"apiVersion", "v1"}, {"metadata", Json::object()}, {"status", "Failure"},
                   {"message", message}, {"reason", "Expired"}, {"code", 410}};
    return out_.Write(Json{{"type", "ERROR"}, {"object", status}}.dump() + "\n");
  }

 private:
  Json RenderRow(const Json& object) {
    api::TableOptions options;
    options.api_version = params_.table->api_version;
    options.include_object = params_.include_object;
    options.now = std::chrono::system_clock::now();
    Json table = api::ToTable(type_, {object}, options);
    if (!first_row_) table["columnDefinitions"] = Json::array();
    first_row_ = false;
    table["metadata"]["resourceVersion"] = MetaString(object, "resourceVersion");
    return table;
  }

  const api::ResourceType& type_;
  const WatchParams& params_;
  ResponseStream& out_;
  bool first_row_ = true;
};

// Turns one store event into what this watch sends, honouring selectors: an object that starts
// matching is ADDED, one that stops matching is DELETED.
const char* EventTypeFor(const store::Event& event, const Filter& filter) {
  const bool now = filter.Matches(event.object);
  const bool before = !event.prev_object.is_null() && filter.Matches(event.prev_object);
  switch (event.type) {
    case store::EventType::kAdded: return now ? "ADDED" : nullptr;
    case store::EventType::kDeleted: return now || before ? "DELETED" : nullptr;
    case store::EventType::kModified:
      if (now && before) return "MODIFIED";
      if (now) return "ADDED";
      if (before) return "DELETED";
      return nullptr;
  }
  return nullptr;
}

void StreamEvents(store::Store& store, const std::string& prefix, const api::ResourceType& type,
                  const WatchParams& params, ResponseStream& out) {
  EventWriter writer(type, params, out);
  int64_t from = 0;
  const bool initial_events = params.resource_version.empty() || params.resource_version == "0";
  if (initial_events) {
    store::ListResult listed = store.List(prefix);
    from = listed.revision;
    for (Json& item : listed.items) {
      if (params.filter.Matches(item) && !writer.Write("ADDED", std::move(item))) return;
    }
  } else {
    from = std::strtoll(params.resource_version.c_str(), nullptr, 10);
  }

  auto signal = std::make_shared<Signal>();
  auto watcher = store.Watch(prefix, from, [signal] { signal->Notify(); });
  if (!watcher.ok()) {
    writer.WriteExpired(watcher.status().message());
    return;
  }
  const auto deadline = params.timeout.count() > 0 ? Clock::now() + params.timeout : Clock::time_point::max();
  auto last_bookmark = Clock::now();
  int64_t last_revision = from;
  while (!out.Closed() && Clock::now() < deadline) {
    for (store::Event& event : (*watcher)->Drain()) {
      last_revision = event.revision;
      const char* event_type = EventTypeFor(event, params.filter);
      if (event_type != nullptr && !writer.Write(event_type, std::move(event.object))) {
        (*watcher)->Cancel();
        return;
      }
    }
    if ((*watcher)->closed()) break;
    if (params.bookmarks && Clock::now() - last_bookmark >= kBookmarkInterval) {
      if (!writer.WriteBookmark(last_revision)) break;
      last_bookmark = Clock::now();
    }
    signal->WaitFor(kPollInterval);
  }
  (*watcher)->Cancel();
}

}  // namespace

HttpResponse ApiHandler::ServeWatch(const HttpRequest& request, const ResourceRequest& target) {
  auto params = ParseWatchParams(registry_, request, target);
  if (!params.ok()) return ErrorResponse(params.status());
  const std::string& rv = params->resource_version;
  if (!rv.empty() && rv.find_first_not_of("0123456789") != std::string::npos) {
    return ErrorResponse(BadRequest(fmt::format("resourceVersion: Invalid value: \"{}\": must be a decimal number", rv)));
  }
  HttpResponse response;
  const std::string prefix = Registry::Prefix(*target.type, target.ns);
  store::Store& store = registry_.store();
  const api::ResourceType& type = *target.type;
  response.stream = [&store, prefix, &type, params = std::move(*params)](ResponseStream& out) {
    StreamEvents(store, prefix, type, params, out);
  };
  return response;
}

}  // namespace xblocks::apiserver
