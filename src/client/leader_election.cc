#include "client/leader_election.h"

#include <fmt/format.h>

#include "api/json_fields.h"
#include "common/log.h"
#include "common/time.h"

namespace xblocks::client {
namespace {

using resources::kLeases;

// metav1.MicroTime: RFC 3339 with microseconds, as Lease times are written.
std::string FormatMicroTime(TimePoint time) {
  const std::string seconds = FormatRfc3339(time);  // "...:SSZ"
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count() % 1000000;
  return fmt::format("{}.{:06d}Z", seconds.substr(0, seconds.size() - 1), micros);
}

}  // namespace

LeaderElector::LeaderElector(Client& client, LeaderElectionOptions options)
    : client_(client), options_(std::move(options)) {}

LeaderElector::~LeaderElector() { Release(); }

std::string LeaderElector::observed_holder() const {
  std::lock_guard lock(mu_);
  return observed_holder_;
}

int64_t LeaderElector::LeaseSeconds() const {
  return std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(options_.lease_duration).count());
}

bool LeaderElector::TryAcquireOrRenew() {
  const std::string now = FormatMicroTime(std::chrono::system_clock::now());
  const auto local_now = std::chrono::steady_clock::now();
  auto current = client_.Get(kLeases, options_.lease_namespace, options_.lease_name);
  if (!current.ok()) {
    if (current.status().code() != StatusCode::kNotFound) {
      XB_LOG_WARN("lease read failed", {{"lease", options_.lease_name}, {"err", current.status().message()}});
      return false;
    }
    Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", options_.lease_name}, {"namespace", options_.lease_namespace}}},
                  {"spec",
                   {{"holderIdentity", options_.identity},
                    {"leaseDurationSeconds", LeaseSeconds()},
                    {"acquireTime", now},
                    {"renewTime", now},
                    {"leaseTransitions", 0}}}};
    auto created = client_.Create(kLeases, lease);
    if (!created.ok()) return false;
    std::lock_guard lock(mu_);
    observed_holder_ = options_.identity;
    observed_record_ = options_.identity + "@" + now;
    observed_time_ = local_now;
    return true;
  }

  const Json& spec = api::ObjectAt(*current, "spec");
  const std::string holder = api::StringMemberOf(spec, "holderIdentity");
  const std::string record = holder + "@" + api::StringMemberOf(spec, "renewTime");
  {
    std::lock_guard lock(mu_);
    if (record != observed_record_) {
      observed_record_ = record;
      observed_time_ = local_now;
    }
    observed_holder_ = holder;
    // Another holder's lease is valid until its record has stood still for a lease duration.
    if (!holder.empty() && holder != options_.identity && observed_time_ + options_.lease_duration > local_now) {
      return false;
    }
  }

  Json updated = *current;
  updated["spec"]["holderIdentity"] = options_.identity;
  updated["spec"]["leaseDurationSeconds"] = LeaseSeconds();
  updated["spec"]["renewTime"] = now;
  if (holder != options_.identity) {
    updated["spec"]["acquireTime"] = now;
    updated["spec"]["leaseTransitions"] = api::IntAt(spec, "leaseTransitions", 0) + 1;
  }
  auto written = client_.Update(kLeases, updated);
  if (!written.ok()) {
    if (written.status().code() != StatusCode::kConflict) {
      XB_LOG_WARN("lease write failed", {{"lease", options_.lease_name}, {"err", written.status().message()}});
    }
    return false;
  }
  std::lock_guard lock(mu_);
  observed_holder_ = options_.identity;
  observed_record_ = options_.identity + "@" + now;
  observed_time_ = local_now;
  return true;
}

bool LeaderElector::Wait(std::chrono::steady_clock::duration period) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, period, [this] { return released_; });
  return !released_;
}

void LeaderElector::Run(std::function<void()> on_started, std::function<void()> on_stopped) {
  thread_ = std::thread([this, on_started = std::move(on_started), on_stopped = std::move(on_stopped)] {
    Loop(on_started, on_stopped);
  });
}

void LeaderElector::Loop(std::function<void()> on_started, std::function<void()> on_stopped) {
  const std::string lease = options_.lease_namespace + "/" + options_.lease_name;
  XB_LOG_INFO("leader election started", {{"lease", lease}, {"identity", options_.identity}});
  std::string last_holder;
  while (!TryAcquireOrRenew()) {
    if (const std::string holder = observed_holder(); holder != last_holder) {
      XB_LOG_INFO("waiting for the lease", {{"lease", lease}, {"holder", holder}});
      last_holder = holder;
    }
    if (!Wait(options_.retry_period)) return;
  }
  leading_ = true;
  XB_LOG_INFO("lease acquired", {{"lease", lease}, {"identity", options_.identity}});
  on_started();

  auto last_renew = std::chrono::steady_clock::now();
  while (Wait(options_.retry_period)) {
    if (TryAcquireOrRenew()) {
      last_renew = std::chrono::steady_clock::now();
      continue;
    }
    if (std::chrono::steady_clock::now() - last_renew >= options_.renew_deadline) {
      leading_ = false;
      XB_LOG_ERROR("lease lost", {{"lease", lease}, {"holder", observed_holder()},
                                  {"renew_deadline_ms", std::to_string(options_.renew_deadline.count())}});
      on_stopped();
      return;
    }
  }
}

void LeaderElector::Release() {
  {
    std::lock_guard lock(mu_);
    if (released_) return;
    released_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!leading_.exchange(false)) return;
  auto current = client_.Get(kLeases, options_.lease_namespace, options_.lease_name);
  if (!current.ok() || api::StringAt(*current, "spec.holderIdentity") != options_.identity) return;
  Json updated = *current;
  updated["spec"]["holderIdentity"] = "";
  updated["spec"]["leaseDurationSeconds"] = 1;
  updated["spec"]["renewTime"] = FormatMicroTime(std::chrono::system_clock::now());
  auto written = client_.Update(kLeases, updated);
  if (written.ok()) {
    XB_LOG_INFO("lease released", {{"lease", options_.lease_namespace + "/" + options_.lease_name}});
  } else {
    XB_LOG_WARN("lease release failed", {{"err", written.status().message()}});
  }
}

}  // namespace xblocks::client
