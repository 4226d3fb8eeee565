// Readiness gates in the process agent: a pod is Ready only when every gate's condition is True,
// and the conditions that other controllers own are sent back unchanged.
#include <gtest/gtest.h>

#include "node/readiness_gates.h"

namespace xblocks::node {
namespace {

Json GatedPod(const Json& conditions) {
  return {{"spec", {{"readinessGates", {{{"conditionType", "example.com/gate"}}}}}},
          {"status", {{"conditions", conditions}}}};
}

TEST(ReadinessGates, PodWithoutGatesIsReady) {
  ReadinessGates gates = EvaluateReadinessGates({{"spec", Json::object()}});
  EXPECT_TRUE(gates.ready);
  EXPECT_TRUE(gates.foreign_conditions.empty());
}

TEST(ReadinessGates, MissingConditionHoldsReady) {
  ReadinessGates gates = EvaluateReadinessGates(GatedPod(Json::array({{{"type", "Ready"}, {"status", "True"}}})));
  EXPECT_FALSE(gates.ready);
  EXPECT_EQ(gates.message, "corresponding condition of pod readiness gate \"example.com/gate\" does not exist.");
  EXPECT_TRUE(gates.foreign_conditions.empty());
}

TEST(ReadinessGates, FalseConditionHoldsReadyAndIsKept) {
  const Json gate = {{"type", "example.com/gate"}, {"status", "False"}, {"reason", "Loading"}};
  ReadinessGates gates = EvaluateReadinessGates(GatedPod(Json::array({{{"type", "Ready"}, {"status", "True"}}, gate})));
  EXPECT_FALSE(gates.ready);
  EXPECT_EQ(gates.message, "the status of pod readiness gate \"example.com/gate\" is not \"True\", but False");
  ASSERT_EQ(gates.foreign_conditions.size(), 1u);
  EXPECT_EQ(gates.foreign_conditions[0], gate);
}

TEST(ReadinessGates, TrueConditionLetsReadyThrough) {
  ReadinessGates gates = EvaluateReadinessGates(GatedPod(Json::array({{{"type", "example.com/gate"}, {"status", "True"}},
                                                                      {{"type", "xblocks.io/LimitsEnforced"}, {"status", "True"}}})));
  EXPECT_TRUE(gates.ready);
  ASSERT_EQ(gates.foreign_conditions.size(), 1u);
  EXPECT_EQ(gates.foreign_conditions[0]["type"], "example.com/gate");
}

}  // namespace
}  // namespace xblocks::node
