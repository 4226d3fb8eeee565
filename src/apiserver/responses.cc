#include "apiserver/responses.h"

#include <sstream>

#include <fmt/format.h>

namespace xblocks::apiserver {
namespace {

// Splits an Accept header into media ranges, each with its parameters lower-cased and trimmed.
std::vector<std::string> MediaRanges(const std::string& accept) {
  std::vector<std::string> out;
  std::stringstream stream(accept);
  std::string item;
  while (std::getline(stream, item, ',')) {
    std::string cleaned;
    for (char c : item) {
      if (c != ' ' && c != '\t') cleaned.push_back(c);
    }
    if (!cleaned.empty()) out.push_back(cleaned);
  }
  return out;
}

bool HasParam(const std::string& range, const std::string& param) {
  return (";" + range + ";").find(";" + param + ";") != std::string::npos;
}

}  // namespace

Json StatusJson(const Status& status) {
  Json body = {{"kind", "Status"},
               {"apiVersion", "v1"},
               {"metadata", Json::object()},
               {"status", "Failure"},
               {"message", status.message()},
               {"reason", ReasonName(status.code())},
               {"code", HttpCode(status.code())}};
  const StatusDetails& details = status.details();
  Json json_details = Json::object();
  if (!details.name.empty()) json_details["name"] = details.name;
  if (!details.group.empty()) json_details["group"] = details.group;
  if (!details.kind.empty()) json_details["kind"] = details.kind;
  if (!details.uid.empty()) json_details["uid"] = details.uid;
  if (details.retry_after_seconds > 0) json_details["retryAfterSeconds"] = details.retry_after_seconds;
  for (const auto& cause : details.causes) {
    Json item = Json::object();
    if (!cause.type.empty()) item["reason"] = cause.type;
    if (!cause.message.empty()) item["message"] = cause.message;
    if (!cause.field.empty()) item["field"] = cause.field;
    json_details["causes"].push_back(item);
  }
  if (!json_details.empty()) body["details"] = json_details;
  return body;
}

HttpResponse ErrorResponse(const Status& status) {
  return JsonResponse(HttpCode(status.code()), StatusJson(status));
}

HttpResponse JsonResponse(int code, const Json& body) {
  HttpResponse response;
  response.status = code;
  response.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return response;
}

void AddWarnings(HttpResponse& response, const std::vector<std::string>& warnings) {
  for (const auto& warning : warnings) {
    std::string escaped;
    for (char c : warning) {
      if (c == '"' || c == '\\') escaped.push_back('\\');
      if (c == '\n' || c == '\r') c = ' ';
      escaped.push_back(c);
    }
    response.headers.emplace_back("Warning", fmt::format("299 - \"{}\"", escaped));
  }
}

std::optional<TableRequest> WantsTable(const std::string& accept) {
  for (const auto& range : MediaRanges(accept)) {
    if (!HasParam(range, "as=Table") || !HasParam(range, "g=meta.k8s.io")) continue;
    if (HasParam(range, "v=v1")) return TableRequest{"meta.k8s.io/v1"};
    if (HasParam(range, "v=v1beta1")) return TableRequest{"meta.k8s.io/v1beta1"};
  }
  return std::nullopt;
}

Status CheckAcceptable(const std::string& accept) {
  if (accept.empty()) return Status::Ok();
  for (const auto& range : MediaRanges(accept)) {
    const std::string type = range.substr(0, range.find(';'));
    if (type == "application/json" || type == "*/*" || type == "application/*" || type == "application/yaml") {
      return Status::Ok();
    }
  }
  return Status(StatusCode::kNotAcceptable,
                fmt::format("only the following media types are accepted: application/json, application/yaml"));
}

}  // namespace xblocks::apiserver
