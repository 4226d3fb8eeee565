// Core v1 Events about an object, aggregated the way client-go's event correlator does. A repeat
// of the same type, reason, message and source for the same object (same uid), recorded by the
// same process, raises `count` and `lastTimestamp` of the Event it made instead of creating
// another.
#pragma once

#include <string>

#include "client/client.h"
#include "common/json.h"
#include "common/time.h"

namespace xblocks::client {

struct EventSpec {
  std::string type;       // "Normal" or "Warning"
  std::string reason;     // e.g. "FailedScheduling"
  std::string message;
  std::string component;  // source.component and reportingComponent, e.g. "default-scheduler"
};

// Creates the Event in the object's namespace, or bumps the count of the matching one that this
// process recorded (a merge patch, so it needs no read first). Events are named
// "<object>.<creation time in nanoseconds, hex>". Returns the client's error; the caller retries
// on its next pass.
Status RecordEvent(Client& client, const Clock& clock, const Json& object, const EventSpec& event);

}  // namespace xblocks::client
