#include "client/events.h"

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include "api/json_fields.h"

namespace xblocks::client {
namespace {

// How many later names to try when "<object>.<time>" is taken, which happens when the clock
// has not moved since the last Event for the object.
constexpr int kNameAttempts = 8;

// Objects read through the client carry apiVersion and kind; a bare object is taken for a Pod.
std::string ApiVersion(const Json& object) {
  const std::string version = api::StringAt(object, "apiVersion");
  return version.empty() ? "v1" : version;
}

std::string Kind(const Json& object) {
  const std::string kind = api::StringAt(object, "kind");
  return kind.empty() ? "Pod" : kind;
}

Json NewEvent(const Json& object, const EventSpec& event, const std::string& now) {
  return {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"namespace", api::StringAt(object, "metadata.namespace")}}},
      {"involvedObject",
       {{"apiVersion", ApiVersion(object)},
        {"kind", Kind(object)},
        {"namespace", api::StringAt(object, "metadata.namespace")},
        {"name", api::StringAt(object, "metadata.name")},
        {"uid", api::StringAt(object, "metadata.uid")},
        {"resourceVersion", api::StringAt(object, "metadata.resourceVersion")}}},
      {"type", event.type},
      {"reason", event.reason},
      {"message", event.message},
      {"source", {{"component", event.component}}},
      {"reportingComponent", event.component},
      {"reportingInstance", ""},
      {"firstTimestamp", now},
      {"lastTimestamp", now},
      {"count", 1},
  };
}

// Returns the name of the created Event.
Result<std::string> CreateEvent(Client& client, const Clock& clock, const Json& object, const EventSpec& event) {
  Json record = NewEvent(object, event, FormatRfc3339(clock.Now()));
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(clock.Now().time_since_epoch()).count();
  Status last = Status::Ok();
  for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
    record["metadata"]["name"] = fmt::format("{}.{:x}", api::StringAt(object, "metadata.name"), nanos + attempt);
    auto created = client.Create(resources::kEvents, record);
    if (created.ok()) return api::StringAt(*created, "metadata.name");
    last = created.status();
    if (last.code() != StatusCode::kAlreadyExists) return last;
  }
  return last;
}

// The Events this process recorded, so that a repeat patches the Event it made instead of
// listing the namespace's Events to find it: against kube-apiserver that list reads every Event
// in the namespace, which made recording cost grow with the number of clusters. Like client-go's
// correlator, the cache is per process and bounded; after a restart or an eviction the next
// repeat starts a new Event.
class RecordedEvents {
 public:
  struct Entry {
    std::string ns;
    std::string name;
    int64_t count = 1;
  };

  std::optional<Entry> Find(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }

  void Put(const std::string& key, Entry entry) {
    std::lock_guard lock(mu_);
    auto [it, inserted] = entries_.insert_or_assign(key, std::move(entry));
    if (!inserted) return;
    order_.push_back(key);
    while (order_.size() > kCapacity) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
  }

  void Forget(const std::string& key) {
    std::lock_guard lock(mu_);
    entries_.erase(key);  // its slot in order_ ages out with the others
  }

 private:
  static constexpr size_t kCapacity = 4096;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::deque<std::string> order_;
};

RecordedEvents& Recorded() {
  static RecordedEvents recorded;
  return recorded;
}

std::string EventKey(const Json& object, const EventSpec& event) {
  return fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", api::StringAt(object, "metadata.namespace"),
                     api::StringAt(object, "metadata.uid"), event.type, event.reason, event.component,
                     event.message);
}

}  // namespace

Status RecordEvent(Client& client, const Clock& clock, const Json& object, const EventSpec& event) {
  const std::string key = EventKey(object, event);
  if (auto known = Recorded().Find(key)) {
    const Json patch = {{"count", known->count + 1}, {"lastTimestamp", FormatRfc3339(clock.Now())}};
    auto patched = client.Patch(resources::kEvents, known->ns, known->name, PatchType::kMerge, patch);
    if (patched.ok()) {
      Recorded().Put(key, {known->ns, known->name, api::IntAt(*patched, "count", known->count + 1)});
      return Status::Ok();
    }
    if (patched.status().code() != StatusCode::kNotFound) return patched.status();
    Recorded().Forget(key);  // the Event expired or was deleted: start a new one
  }
  auto created = CreateEvent(client, clock, object, event);
  if (!created.ok()) return created.status();
  Recorded().Put(key, {api::StringAt(object, "metadata.namespace"), *created, 1});
  return Status::Ok();
}

}  // namespace xblocks::client
