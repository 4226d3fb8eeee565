// Structured logging: one line per event on stderr, a constant lower-case message followed by
// key=value fields from a small vocabulary (controller, namespace, name, rv, reconcile_id, pod,
// pid, err, ...). Values that contain spaces, quotes or '=' are quoted and escaped.
//
//   XB_LOG_INFO("server listening", {{"addr", addr}, {"data_dir", dir}});
//
// Secrets and tokens are never passed as fields.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <spdlog/spdlog.h>

namespace xblocks::log {

using Field = std::pair<std::string_view, std::string>;

// Renders `message key=value ...` with values quoted where needed.
std::string Format(std::string_view message, std::initializer_list<Field> fields);

// Sets up the process-wide stderr sink: RFC 3339 UTC time, level, message. Call once from main.
void Init(spdlog::level::level_enum level);

}  // namespace xblocks::log

#define XB_LOG_DEBUG(msg, ...) spdlog::debug("{}", ::xblocks::log::Format(msg, __VA_ARGS__))
#define XB_LOG_INFO(msg, ...) spdlog::info("{}", ::xblocks::log::Format(msg, __VA_ARGS__))
#define XB_LOG_WARN(msg, ...) spdlog::warn("{}", ::xblocks::log::Format(msg, __VA_ARGS__))
#define XB_LOG_ERROR(msg, ...) spdlog::error("{}", ::xblocks::log::Format(msg, __VA_ARGS__))
