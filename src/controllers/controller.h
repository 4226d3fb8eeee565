// Level-triggered controllers run by the ControllerManager. Each Sync() reads the current state
// from the registry and moves it one step toward the desired state. It never acts on event
// payloads, so a missed or repeated trigger is harmless.
#pragma once

#include <string_view>

#include "common/status.h"

namespace xblocks::controllers {

class Controller {
 public:
  virtual ~Controller() = default;
  virtual std::string_view name() const = 0;
  // Runs one pass over every object the controller owns. Errors are retried on the next pass.
  virtual Status Sync() = 0;
};

}  // namespace xblocks::controllers
