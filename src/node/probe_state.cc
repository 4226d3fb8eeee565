#include <climits>

#include <fmt/format.h>

#include "node/probes.h"

namespace xblocks {
namespace {

// Reads an optional non-negative int32 field; a missing field or 0 keeps `value`.
Status ReadField(const Json& probe, const char* field, int64_t& value, bool zero_allowed) {
  auto found = probe.find(field);
  if (found == probe.end() || found->is_null()) return Status::Ok();
  if (!found->is_number_integer()) return Invalid(fmt::format("invalid probe: {} must be an integer", field));
  int64_t number = found->is_number_unsigned() && found->get<uint64_t>() > INT_MAX ? int64_t{INT_MAX} + 1
                                                                                   : found->get<int64_t>();
  if (number < 0 || number > INT_MAX) {
    return Invalid(fmt::format("invalid probe: {} must be between 0 and {}, got {}", field, INT_MAX, found->dump()));
  }
  if (number > 0 || zero_allowed) value = number;
  return Status::Ok();
}

}  // namespace

Result<ProbeSettings> ParseProbeSettings(const Json& probe) {
  if (!probe.is_object()) return Invalid("invalid probe: must be an object");
  ProbeSettings defaults;
  int64_t initial_delay = 0, period = defaults.period.count(), timeout = defaults.timeout.count();
  int64_t success = defaults.success_threshold, failure = defaults.failure_threshold;
  XB_RETURN_IF_ERROR(ReadField(probe, "initialDelaySeconds", initial_delay, true));
  XB_RETURN_IF_ERROR(ReadField(probe, "periodSeconds", period, false));
  XB_RETURN_IF_ERROR(ReadField(probe, "timeoutSeconds", timeout, false));
  XB_RETURN_IF_ERROR(ReadField(probe, "successThreshold", success, false));
  XB_RETURN_IF_ERROR(ReadField(probe, "failureThreshold", failure, false));

  ProbeSettings settings;
  settings.initial_delay = std::chrono::seconds(initial_delay);
  settings.period = std::chrono::seconds(period);
  settings.timeout = std::chrono::seconds(timeout);
  settings.success_threshold = static_cast<int>(success);
  settings.failure_threshold = static_cast<int>(failure);
  return settings;
}

ProbeState::ProbeState(ProbeSettings settings, const Clock& clock, TimePoint container_started, ProbeOutcome initial)
    : settings_(settings), clock_(clock), next_probe_(container_started + settings.initial_delay), verdict_(initial) {}

bool ProbeState::Due() const { return clock_.Now() >= next_probe_; }

void ProbeState::Record(const ProbeResult& result) {
  next_probe_ = clock_.Now() + settings_.period;
  if (result.outcome == ProbeOutcome::kSuccess) {
    failures_ = 0;
    if (successes_ < INT_MAX) ++successes_;
    last_message_.clear();
    if (successes_ >= settings_.success_threshold) verdict_ = ProbeOutcome::kSuccess;
    return;
  }

  // kubelet counts a probe that could not run (kUnknown) as a failure too.
  successes_ = 0;
  if (failures_ < INT_MAX) ++failures_;
  last_message_ = result.message;
  if (failures_ >= settings_.failure_threshold) verdict_ = ProbeOutcome::kFailure;
}

}  // namespace xblocks
