#include "node/pod_events.h"

#include <chrono>

#include <fmt/format.h>

#include "api/json_fields.h"

namespace xblocks::node {
namespace {

// How many later names to try when "<pod>.<time>" is taken, which happens when the clock
// has not moved since the last Event for the pod.
constexpr int kNameAttempts = 8;

bool SameEvent(const Json& existing, const Json& pod, const PodEvent& event) {
  return api::StringAt(existing, "involvedObject.uid") == api::StringAt(pod, "metadata.uid") &&
         api::StringAt(existing, "type") == event.type && api::StringAt(existing, "message") == event.message &&
         api::StringAt(existing, "source.component") == event.component;
}

Json NewEvent(const Json& pod, const PodEvent& event, const std::string& now) {
  return {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"namespace", api::StringAt(pod, "metadata.namespace")}}},
      {"involvedObject",
       {{"apiVersion", "v1"},
        {"kind", "Pod"},
        {"namespace", api::StringAt(pod, "metadata.namespace")},
        {"name", api::StringAt(pod, "metadata.name")},
        {"uid", api::StringAt(pod, "metadata.uid")},
        {"resourceVersion", api::StringAt(pod, "metadata.resourceVersion")}}},
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

Status CreateEvent(client::Client& client, const Clock& clock, const Json& pod, const PodEvent& event) {
  Json object = NewEvent(pod, event, FormatRfc3339(clock.Now()));
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(clock.Now().time_since_epoch()).count();
  Status last = Status::Ok();
  for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
    object["metadata"]["name"] = fmt::format("{}.{:x}", api::StringAt(pod, "metadata.name"), nanos + attempt);
    auto created = client.Create(client::resources::kEvents, object);
    if (created.ok()) return Status::Ok();
    last = created.status();
    if (last.code() != StatusCode::kAlreadyExists) return last;
  }
  return last;
}

}  // namespace

Status RecordPodEvent(client::Client& client, const Clock& clock, const Json& pod, const PodEvent& event) {
  const std::string ns = api::StringAt(pod, "metadata.namespace");
  client::ListOptions options;
  options.field_selector = fmt::format("involvedObject.kind=Pod,involvedObject.name={},reason={}",
                                       api::StringAt(pod, "metadata.name"), event.reason);
  auto listed = client.List(client::resources::kEvents, ns, options);
  if (!listed.ok()) return listed.status();

  for (Json& existing : listed->items) {
    if (!SameEvent(existing, pod, event)) continue;
    existing["count"] = api::IntAt(existing, "count", 1) + 1;
    existing["lastTimestamp"] = FormatRfc3339(clock.Now());
    auto updated = client.Update(client::resources::kEvents, existing);
    return updated.ok() ? Status::Ok() : updated.status();
  }
  return CreateEvent(client, clock, pod, event);
}

}  // namespace xblocks::node
