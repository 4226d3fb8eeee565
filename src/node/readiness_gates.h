// Pod readiness gates (spec.readinessGates): conditions that controllers other than the node
// agent own. kubelet reports a pod Ready only when its containers are ready and every gate's
// condition is True, and the process agent does the same.
#pragma once

#include <string>
#include <vector>

#include "common/json.h"

namespace xblocks::node {

struct ReadinessGates {
  bool ready = true;    // every gate's condition is True (or the pod has no gates)
  std::string message;  // why not, for the Ready condition's message
  // The pod's conditions of types the agent does not write, to send back unchanged.
  std::vector<Json> foreign_conditions;
};

// The conditions the node agent writes itself.
bool IsAgentCondition(const std::string& type);

// Evaluates the readiness gates of `pod` against its status.conditions.
ReadinessGates EvaluateReadinessGates(const Json& pod);

}  // namespace xblocks::node
