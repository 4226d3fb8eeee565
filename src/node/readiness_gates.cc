#include "node/readiness_gates.h"

#include <fmt/format.h>

#include "api/json_fields.h"
#include "node/process_agent.h"

namespace xblocks::node {

bool IsAgentCondition(const std::string& type) {
  return type == "PodScheduled" || type == "Initialized" || type == "ContainersReady" || type == "Ready" ||
         type == kLimitsEnforcedCondition;
}

ReadinessGates EvaluateReadinessGates(const Json& pod) {
  ReadinessGates gates;
  const Json& conditions = api::ArrayAt(pod, "status.conditions");
  for (const Json& condition : conditions) {
    if (!IsAgentCondition(api::StringMemberOf(condition, "type"))) gates.foreign_conditions.push_back(condition);
  }
  for (const Json& gate : api::ArrayAt(pod, "spec.readinessGates")) {
    const std::string type = api::StringMemberOf(gate, "conditionType");
    if (type.empty()) continue;
    const Json* found = nullptr;
    for (const Json& condition : conditions) {
      if (api::StringMemberOf(condition, "type") == type) found = &condition;
    }
    if (found != nullptr && api::StringMemberOf(*found, "status") == "True") continue;
    gates.ready = false;
    gates.message = found == nullptr
                        ? fmt::format("corresponding condition of pod readiness gate \"{}\" does not exist.", type)
                        : fmt::format("the status of pod readiness gate \"{}\" is not \"True\", but {}", type,
                                      api::StringMemberOf(*found, "status"));
    break;
  }
  return gates;
}

}  // namespace xblocks::node
