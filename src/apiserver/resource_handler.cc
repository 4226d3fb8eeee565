// ApiHandler: the resource endpoints (list, create, get, update, patch, delete, subresources).
#include <charconv>

#include <fmt/format.h>

#include "api/protobuf.h"
#include "api/table.h"
#include "api/yaml.h"
#include "apiserver/api_handler.h"
#include "apiserver/object_meta.h"

namespace xblocks::apiserver {
namespace {

std::string MediaType(const std::string& content_type) {
  std::string out;
  for (char c : content_type.substr(0, content_type.find(';'))) {
    if (c != ' ') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

Status UnsupportedMediaType(const std::string& media_type) {
  return Status(StatusCode::kUnsupportedMediaType,
                fmt::format("the body of the request was in an unknown format - accepted media types include: "
                            "application/json, application/yaml, application/vnd.kubernetes.protobuf (got \"{}\")",
                            media_type));
}

// Decodes a create or update body by its Content-Type.
Result<Json> DecodeBody(const HttpRequest& request) {
  const std::string media_type = MediaType(request.content_type);
  if (request.body.empty()) return BadRequest("the request body is empty; send the object as JSON or YAML");
  if (media_type == "application/vnd.kubernetes.protobuf") return api::DecodeProtobufObject(request.body);
  if (media_type == "application/yaml") return api::ParseYamlOrJson(request.body);
  if (media_type.empty() || media_type == "application/json") return api::ParseJsonBody(request.body);
  return UnsupportedMediaType(media_type);
}

Result<PatchType> PatchTypeOf(const std::string& content_type) {
  const std::string media_type = MediaType(content_type);
  if (media_type == "application/merge-patch+json") return PatchType::kMerge;
  if (media_type == "application/json-patch+json") return PatchType::kJson;
  if (media_type == "application/strategic-merge-patch+json") return PatchType::kStrategic;
  if (media_type == "application/apply-patch+yaml") return PatchType::kApply;
  return Status(StatusCode::kUnsupportedMediaType,
                fmt::format("the body of the request was in an unknown format - accepted media types include: "
                            "application/json-patch+json, application/merge-patch+json, "
                            "application/apply-patch+yaml, application/strategic-merge-patch+json (got \"{}\")",
                            media_type));
}

Result<FieldValidation> FieldValidationOf(const HttpRequest& request) {
  const std::string value = request.Query("fieldValidation", "Strict");
  if (value == "Strict" || value.empty()) return FieldValidation::kStrict;
  if (value == "Warn") return FieldValidation::kWarn;
  if (value == "Ignore") return FieldValidation::kIgnore;
  return BadRequest(fmt::format("fieldValidation: Unsupported value: \"{}\": supported values: \"Ignore\", "
                                "\"Strict\", \"Warn\"",
                                value));
}

Result<WriteOptions> WriteOptionsOf(const HttpRequest& request, const ResourceRequest& target) {
  auto validation = FieldValidationOf(request);
  if (!validation.ok()) return validation.status();
  WriteOptions options;
  options.field_validation = *validation;
  options.field_manager = request.Query("fieldManager");
  options.dry_run = request.Query("dryRun") == "All";
  options.force = request.Flag("force");
  if (target.subresource == "status") options.subresource = Subresource::kStatus;
  if (options.field_manager.size() > 128) {
    return Invalid("fieldManager: Too long: may not be longer than 128");
  }
  return options;
}

// Reads DeleteOptions from the body (kubectl always sends one) and the query.
Result<DeleteOptions> DeleteOptionsOf(const HttpRequest& request) {
  DeleteOptions options;
  std::string propagation = request.Query("propagationPolicy");
  if (request.Flag("orphanDependents")) propagation = "Orphan";
  if (!request.body.empty()) {
    auto body = api::ParseJsonBody(request.body);
    if (!body.ok()) return body.status();
    if (!body->is_object()) return BadRequest("DeleteOptions must be a JSON object");
    if (body->contains("propagationPolicy") && (*body)["propagationPolicy"].is_string()) {
      propagation = (*body)["propagationPolicy"].get<std::string>();
    }
    if (body->value("orphanDependents", false)) propagation = "Orphan";
    if (body->contains("preconditions") && (*body)["preconditions"].is_object()) {
      options.precondition_uid = (*body)["preconditions"].value("uid", "");
      options.precondition_resource_version = (*body)["preconditions"].value("resourceVersion", "");
    }
    if (body->contains("dryRun") && (*body)["dryRun"].is_array() && !(*body)["dryRun"].empty()) options.dry_run = true;
    if (body->contains("gracePeriodSeconds") && !(*body)["gracePeriodSeconds"].is_null()) {
      if (!(*body)["gracePeriodSeconds"].is_number_integer()) {
        return BadRequest("gracePeriodSeconds: Invalid value: must be an integer number of seconds");
      }
      options.grace_period_seconds = (*body)["gracePeriodSeconds"].get<int64_t>();
    }
  }
  if (const std::string grace = request.Query("gracePeriodSeconds"); !grace.empty()) {
    int64_t seconds = 0;
    auto [end, error] = std::from_chars(grace.data(), grace.data() + grace.size(), seconds);
    if (error != std::errc() || end != grace.data() + grace.size()) {
      return BadRequest(fmt::format("gracePeriodSeconds: Invalid value: \"{}\": must be an integer number of seconds",
                                    grace));
    }
    options.grace_period_seconds = seconds;
  }
  if (propagation == "Foreground") {
    options.propagation = Propagation::kForeground;
  } else if (propagation == "Orphan") {
    options.propagation = Propagation::kOrphan;
  } else if (!propagation.empty() && propagation != "Background") {
    return BadRequest(fmt::format("propagationPolicy: Unsupported value: \"{}\": supported values: \"Background\", "
                                  "\"Foreground\", \"Orphan\"",
                                  propagation));
  }
  if (request.Query("dryRun") == "All") options.dry_run = true;
  return options;
}

}  // namespace

HttpResponse ApiHandler::ObjectResponse(const HttpRequest& request, const api::ResourceType& type, int code,
                                        const Json& object) {
  auto table = WantsTable(request.accept);
  if (!table) return JsonResponse(code, object);
  api::TableOptions options;
  options.api_version = table->api_version;
  options.include_object = request.Query("includeObject", "Metadata");
  options.now = std::chrono::system_clock::now();
  const bool is_list = object.contains("items") && object["items"].is_array();
  std::vector<Json> items = is_list ? object["items"].get<std::vector<Json>>() : std::vector<Json>{object};
  Json rendered = api::ToTable(type, items, options);
  if (is_list) rendered["metadata"]["resourceVersion"] = object["metadata"]["resourceVersion"];
  else rendered["metadata"]["resourceVersion"] = MetaString(object, "resourceVersion");
  return JsonResponse(code, rendered);
}

HttpResponse ApiHandler::ServeResource(const HttpRequest& request, const ResourceRequest& target) {
  if (Status acceptable = CheckAcceptable(request.accept); !acceptable.ok()) return ErrorResponse(acceptable);
  if (target.subresource.empty()) {
    return target.name.empty() ? ServeCollection(request, target) : ServeItem(request, target);
  }
  const api::ResourceType& type = *target.type;
  if (target.subresource == "status" && type.has_status) return ServeItem(request, target);
  if (target.subresource == "finalize" && type.group.empty() && type.plural == "namespaces") {
    return ServeFinalize(request, target);
  }
  if (target.subresource == "log" && type.group.empty() && type.plural == "pods" && request.method == "GET") {
    return ServeLogs(request, target);
  }
  return ErrorResponse(NotFound("the server could not find the requested resource"));
}

HttpResponse ApiHandler::ServeCollection(const HttpRequest& request, const ResourceRequest& target) {
  if (request.method == "GET") {
    if (request.Flag("watch")) return ServeWatch(request, target);
    return ServeList(request, target);
  }
  if (request.method == "POST") return ServeCreate(request, target);
  if (request.method == "DELETE") return ServeDeleteCollection(request, target);
  return ErrorResponse(Status(StatusCode::kMethodNotAllowed, fmt::format("{} is not supported on a collection", request.method)));
}

HttpResponse ApiHandler::ServeItem(const HttpRequest& request, const ResourceRequest& target) {
  if (request.method == "GET") {
    if (request.Flag("watch") && target.subresource.empty()) return ServeWatch(request, target);
    return ServeGet(request, target);
  }
  if (request.method == "PUT") return ServeUpdate(request, target);
  if (request.method == "PATCH") return ServePatch(request, target);
  if (request.method == "DELETE" && target.subresource.empty()) return ServeDelete(request, target);
  return ErrorResponse(Status(StatusCode::kMethodNotAllowed, fmt::format("{} is not supported on this resource", request.method)));
}

HttpResponse ApiHandler::ServeList(const HttpRequest& request, const ResourceRequest& target) {
  ListOptions options{request.Query("labelSelector"), request.Query("fieldSelector")};
  auto listed = registry_.List(*target.type, target.ns, options);
  if (!listed.ok()) return ErrorResponse(listed.status());
  Json body = {{"apiVersion", target.type->ApiVersion()},
               {"kind", target.type->ListKind()},
               {"metadata", {{"resourceVersion", std::to_string(listed->revision)}}},
               {"items", std::move(listed->items)}};
  return ObjectResponse(request, *target.type, 200, body);
}

HttpResponse ApiHandler::ServeCreate(const HttpRequest& request, const ResourceRequest& target) {
  auto options = WriteOptionsOf(request, target);
  if (!options.ok()) return ErrorResponse(options.status());
  auto body = DecodeBody(request);
  if (!body.ok()) return ErrorResponse(body.status());
  auto created = registry_.Create(*target.type, target.ns, std::move(*body), *options);
  if (!created.ok()) return ErrorResponse(created.status());
  HttpResponse response = ObjectResponse(request, *target.type, 201, created->object);
  AddWarnings(response, created->warnings);
  return response;
}

HttpResponse ApiHandler::ServeGet(const HttpRequest& request, const ResourceRequest& target) {
  auto object = registry_.Get(*target.type, target.ns, target.name);
  if (!object.ok()) return ErrorResponse(object.status());
  return ObjectResponse(request, *target.type, 200, *object);
}

HttpResponse ApiHandler::ServeUpdate(const HttpRequest& request, const ResourceRequest& target) {
  auto options = WriteOptionsOf(request, target);
  if (!options.ok()) return ErrorResponse(options.status());
  auto body = DecodeBody(request);
  if (!body.ok()) return ErrorResponse(body.status());
  auto updated = registry_.Update(*target.type, target.ns, target.name, std::move(*body), *options);
  if (!updated.ok()) return ErrorResponse(updated.status());
  HttpResponse response = ObjectResponse(request, *target.type, 200, updated->object);
  AddWarnings(response, updated->warnings);
  return response;
}

HttpResponse ApiHandler::ServePatch(const HttpRequest& request, const ResourceRequest& target) {
  auto options = WriteOptionsOf(request, target);
  if (!options.ok()) return ErrorResponse(options.status());
  auto patch_type = PatchTypeOf(request.content_type);
  if (!patch_type.ok()) return ErrorResponse(patch_type.status());
  if (*patch_type == PatchType::kApply && options->field_manager.empty()) {
    return ErrorResponse(BadRequest("PATCH request with apply-patch+yaml requires fieldManager: set the "
                                    "fieldManager query parameter"));
  }
  auto patch = *patch_type == PatchType::kApply ? api::ParseYamlOrJson(request.body) : api::ParseJsonBody(request.body);
  if (!patch.ok()) return ErrorResponse(patch.status());
  auto patched = registry_.Patch(*target.type, target.ns, target.name, *patch_type, *patch, *options);
  if (!patched.ok()) return ErrorResponse(patched.status());
  HttpResponse response = ObjectResponse(request, *target.type, patched->created ? 201 : 200, patched->object);
  AddWarnings(response, patched->warnings);
  return response;
}

HttpResponse ApiHandler::ServeDelete(const HttpRequest& request, const ResourceRequest& target) {
  auto options = DeleteOptionsOf(request);
  if (!options.ok()) return ErrorResponse(options.status());
  auto deleted = registry_.Delete(*target.type, target.ns, target.name, *options);
  if (!deleted.ok()) return ErrorResponse(deleted.status());
  if (!deleted->finalized) return ObjectResponse(request, *target.type, 200, deleted->object);
  Json details = {{"name", target.name}, {"kind", target.type->plural}, {"uid", Uid(deleted->object)}};
  if (!target.type->group.empty()) details["group"] = target.type->group;
  return JsonResponse(200, {{"kind", "Status"},
                            {"apiVersion", "v1"},
                            {"metadata", Json::object()},
                            {"status", "Success"},
                            {"details", details}});
}

HttpResponse ApiHandler::ServeDeleteCollection(const HttpRequest& request, const ResourceRequest& target) {
  auto options = DeleteOptionsOf(request);
  if (!options.ok()) return ErrorResponse(options.status());
  auto listed = registry_.List(*target.type, target.ns, {request.Query("labelSelector"), request.Query("fieldSelector")});
  if (!listed.ok()) return ErrorResponse(listed.status());
  Json items = Json::array();
  for (const Json& item : listed->items) {
    auto deleted = registry_.Delete(*target.type, Namespace(item), Name(item), *options);
    if (!deleted.ok() && deleted.status().code() != StatusCode::kNotFound) return ErrorResponse(deleted.status());
    if (deleted.ok()) items.push_back(deleted->object);
  }
  return JsonResponse(200, {{"apiVersion", target.type->ApiVersion()},
                            {"kind", target.type->ListKind()},
                            {"metadata", {{"resourceVersion", std::to_string(registry_.store().CurrentRevision())}}},
                            {"items", items}});
}

HttpResponse ApiHandler::ServeFinalize(const HttpRequest& request, const ResourceRequest& target) {
  if (request.method != "PUT") {
    return ErrorResponse(Status(StatusCode::kMethodNotAllowed, "namespaces/finalize accepts only PUT"));
  }
  auto body = DecodeBody(request);
  if (!body.ok()) return ErrorResponse(body.status());
  auto current = registry_.Get(*target.type, "", target.name);
  if (!current.ok()) return ErrorResponse(current.status());
  Json updated = *current;
  updated["spec"]["finalizers"] = body->contains("spec") && (*body)["spec"].contains("finalizers")
                                      ? (*body)["spec"]["finalizers"]
                                      : Json::array();
  auto written = registry_.Update(*target.type, "", target.name, updated, {.field_validation = FieldValidation::kIgnore});
  if (!written.ok()) return ErrorResponse(written.status());
  return JsonResponse(200, written->object);
}

HttpResponse ApiHandler::ServeLogs(const HttpRequest& request, const ResourceRequest& target) {
  auto pod = registry_.Get(*target.type, target.ns, target.name);
  if (!pod.ok()) return ErrorResponse(pod.status());
  if (log_source_ == nullptr) {
    return ErrorResponse(BadRequest(fmt::format("pod \"{}\" has no logs: no node agent runs its containers",
                                                target.name)));
  }
  return log_source_->ServeLogs(*pod, request);
}

}  // namespace xblocks::apiserver
