#include "controllers/reconcile.h"

#include <random>

#include <fmt/format.h>

namespace xblocks::controllers {

std::string Request::ToString() const { return ns.empty() ? name : ns + "/" + name; }

std::ostream& operator<<(std::ostream& out, const Request& request) { return out << request.ToString(); }

std::string_view ReconcileResult::KindName() const {
  switch (kind_) {
    case Kind::kDone: return "done";
    case Kind::kRequeueAfter: return "requeue_after";
    case Kind::kRetry: return "retry";
    case Kind::kTerminal: return "terminal";
  }
  return "unknown";
}

std::string ReconcileContext::Line(std::string_view message, std::initializer_list<log::Field> fields) const {
  std::string line = log::Format(message, {{"controller", controller_},
                                           {"namespace", request_.ns},
                                           {"name", request_.name},
                                           {"reconcile_id", reconcile_id_}});
  // Format("", fields) renders " key=value" per field, so it appends cleanly.
  if (fields.size() > 0) line += log::Format("", fields);
  return line;
}

void ReconcileContext::Debug(std::string_view message, std::initializer_list<log::Field> fields) const {
  spdlog::debug("{}", Line(message, fields));
}

void ReconcileContext::Info(std::string_view message, std::initializer_list<log::Field> fields) const {
  spdlog::info("{}", Line(message, fields));
}

void ReconcileContext::Warn(std::string_view message, std::initializer_list<log::Field> fields) const {
  spdlog::warn("{}", Line(message, fields));
}

void ReconcileContext::Error(std::string_view message, std::initializer_list<log::Field> fields) const {
  spdlog::error("{}", Line(message, fields));
}

std::string NewReconcileId() {
  thread_local std::mt19937 generator(std::random_device{}());
  return fmt::format("{:08x}", static_cast<uint32_t>(generator()));
}

}  // namespace xblocks::controllers
