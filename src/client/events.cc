#include "client/events.h"

#include <chrono>

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

bool SameEvent(const Json& existing, const Json& object, const EventSpec& event) {
  return api::StringAt(existing, "involvedObject.uid") == api::StringAt(object, "metadata.uid") &&
         api::StringAt(existing, "type") == event.type && api::StringAt(existing, "message") == event.message &&
         api::StringAt(existing, "source.component") == event.component;
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

Status CreateEvent(Client& client, const Clock& clock, const Json& object, const EventSpec& event) {
  Json record = NewEvent(object, event, FormatRfc3339(clock.Now()));
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(clock.Now().time_since_epoch()).count();
  Status last = Status::Ok();
  for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
    record["metadata"]["name"] = fmt::format("{}.{:x}", api::StringAt(object, "metadata.name"), nanos + attempt);
    auto created = client.Create(resources::kEvents, record);
    if (created.ok()) return Status::Ok();
    last = created.status();
    if (last.code() != StatusCode::kAlreadyExists) return last;
  }
  return last;
}

}  // namespace

Status RecordEvent(Client& client, const Clock& clock, const Json& object, const EventSpec& event) {
  const std::string ns = api::StringAt(object, "metadata.namespace");
  client::ListOptions options;
  options.field_selector = fmt::format("involvedObject.kind={},involvedObject.name={},reason={}", Kind(object),
                                       api::StringAt(object, "metadata.name"), event.reason);
  auto listed = client.List(resources::kEvents, ns, options);
  if (!listed.ok()) return listed.status();

  for (Json& existing : listed->items) {
    if (!SameEvent(existing, object, event)) continue;
    existing["count"] = api::IntAt(existing, "count", 1) + 1;
    existing["lastTimestamp"] = FormatRfc3339(clock.Now());
    auto updated = client.Update(resources::kEvents, existing);
    return updated.ok() ? Status::Ok() : updated.status();
  }
  return CreateEvent(client, clock, object, event);
}

}  // namespace xblocks::client
