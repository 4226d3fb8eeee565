// Core v1 Events about a pod, aggregated the way client-go's event correlator does. A repeat of
// the same type, reason, message and source for the same pod (same uid) raises `count` and
// `lastTimestamp` of the existing Event instead of creating another.
#pragma once

#include <string>

#include "client/client.h"
#include "common/json.h"
#include "common/time.h"

namespace xblocks::node {

struct PodEvent {
  std::string type;       // "Normal" or "Warning"
  std::string reason;     // e.g. "FailedScheduling"
  std::string message;
  std::string component;  // source.component and reportingComponent, e.g. "default-scheduler"
};

// Creates the Event in the pod's namespace, or bumps the count of a matching one. Events are
// named "<pod>.<creation time in nanoseconds, hex>". Returns the client's error (kConflict when
// the matching Event changed since it was read; the caller retries on its next pass).
Status RecordPodEvent(client::Client& client, const Clock& clock, const Json& pod, const PodEvent& event);

}  // namespace xblocks::node
