// Registry: keys, reads, create, and the errors kube-apiserver words the same way.
#include "apiserver/registry.h"

#include <fmt/format.h>

#include "api/selector.h"
#include "api/validation.h"
#include "apiserver/object_meta.h"
#include "common/log.h"

namespace xblocks::apiserver {
namespace {

// Field selectors that every type supports, and the extra ones kube-apiserver adds per kind.
bool FieldSelectorSupported(const api::ResourceType& type, const std::string& field) {
  if (field == "metadata.name" || field == "metadata.namespace") return true;
  if (!type.group.empty()) return false;
  if (type.plural == "events") {
    return field.rfind("involvedObject.", 0) == 0 || field == "reason" || field == "type" ||
           field == "source" || field == "reportingComponent";
  }
  if (type.plural == "pods") {
    return field == "spec.nodeName" || field == "status.phase" || field == "spec.restartPolicy" ||
           field == "spec.schedulerName" || field == "status.podIP" || field == "spec.serviceAccountName";
  }
  if (type.plural == "secrets") return field == "type";
  if (type.plural == "namespaces") return field == "status.phase";
  if (type.plural == "nodes") return field == "spec.unschedulable";
  return false;
}

}  // namespace

Registry::Registry(const api::Scheme& scheme, store::Store& store, const Clock& clock)
    : scheme_(scheme), store_(store), clock_(clock) {}

std::string Registry::Key(const api::ResourceType& type, const std::string& ns, const std::string& name) {
  return type.KeyPrefix() + (type.namespaced ? ns : "") + "/" + name;
}

std::string Registry::Prefix(const api::ResourceType& type, const std::string& ns) {
  if (!type.namespaced || ns.empty()) return type.KeyPrefix();
  return type.KeyPrefix() + ns + "/";
}

Status Registry::NotFoundError(const api::ResourceType& type, const std::string& name) {
  return NotFound(fmt::format("{} \"{}\" not found", type.QualifiedResource(), name))
      .WithDetails({.name = name, .group = type.group, .kind = type.plural});
}

Status Registry::CheckFieldSelector(const api::ResourceType& type, const std::string& selector) const {
  if (selector.empty()) return Status::Ok();
  auto parsed = api::ParseFieldSelector(selector);
  if (!parsed.ok()) return parsed.status();
  for (const auto& requirement : parsed->requirements()) {
    if (!FieldSelectorSupported(type, requirement.field)) {
      return BadRequest(fmt::format("field label not supported: {}", requirement.field));
    }
  }
  return Status::Ok();
}

Result<Json> Registry::Get(const api::ResourceType& type, const std::string& ns, const std::string& name) const {
  auto object = store_.Get(Key(type, ns, name));
  if (!object.ok()) {
    if (object.status().code() == StatusCode::kNotFound) return NotFoundError(type, name);
    return object.status();
  }
  Json out = std::move(*object);
  api::ApplyDefaults(type, out);
  return out;
}

Result<ListResult> Registry::List(const api::ResourceType& type, const std::string& ns,
                                  const ListOptions& options) const {
  std::optional<api::LabelSelector> labels;
  std::optional<api::FieldSelector> fields;
  if (!options.label_selector.empty()) {
    auto parsed = api::ParseLabelSelector(options.label_selector);
    if (!parsed.ok()) return parsed.status();
    labels = std::move(*parsed);
  }
  if (!options.field_selector.empty()) {
    XB_RETURN_IF_ERROR(CheckFieldSelector(type, options.field_selector));
    auto parsed = api::ParseFieldSelector(options.field_selector);
    if (!parsed.ok()) return parsed.status();
    fields = std::move(*parsed);
  }

  store::ListResult listed = store_.List(Prefix(type, ns));
  ListResult out;
  out.revision = listed.revision;
  for (Json& item : listed.items) {
    const Json empty = Json::object();
    const Json& item_labels = item["metadata"].contains("labels") ? item["metadata"]["labels"] : empty;
    if (labels && !labels->Matches(item_labels)) continue;
    if (fields && !fields->Matches(item)) continue;
    api::ApplyDefaults(type, item);
    out.items.push_back(std::move(item));
  }
  return out;
}

Status Registry::CheckNamespace(const api::ResourceType& type, const std::string& ns, const std::string& name) const {
  if (!type.namespaced) return Status::Ok();
  if (ns.empty()) return BadRequest("the request must name a namespace for a namespaced resource");
  auto object = store_.Get("/core/namespaces//" + ns);
  if (!object.ok()) {
    return NotFound(fmt::format("namespaces \"{}\" not found", ns)).WithDetails({.name = ns, .kind = "namespaces"});
  }
  if (IsDeleting(*object)) {
    return Status(StatusCode::kForbidden,
                  fmt::format("{} \"{}\" is forbidden: unable to create new content in namespace {} because it is "
                              "being terminated",
                              type.QualifiedResource(), name, ns))
        .WithDetails({.name = name,
                      .group = type.group,
                      .kind = type.plural,
                      .causes = {{.type = std::string(kNamespaceTerminatingCause),
                                  .message = fmt::format("namespace {} is currently being deleted", ns),
                                  .field = "metadata.namespace"}}});
  }
  return Status::Ok();
}

void Registry::PrepareForCreate(const api::ResourceType& type, Json& object) const {
  Json& meta = object["metadata"];
  meta["uid"] = NewUid();
  meta["creationTimestamp"] = FormatRfc3339(clock_.Now());
  meta["generation"] = 1;
  meta.erase("resourceVersion");
  meta.erase("deletionTimestamp");
  meta.erase("deletionGracePeriodSeconds");
  meta.erase("selfLink");
  // A custom resource with a status subresource starts without status: only the controller
  // writes it, through /status.
  if (type.has_status && !type.builtin) object.erase("status");
}

Result<WriteResult> Registry::Create(const api::ResourceType& type, const std::string& ns, Json object,
                                     const WriteOptions& options) {
  if (!object.is_object()) return BadRequest("the request body must be a JSON or YAML object");
  if (!object.contains("metadata") || !object["metadata"].is_object()) object["metadata"] = Json::object();
  Json& meta = object["metadata"];
  if (type.namespaced) {
    const std::string body_ns = Namespace(object);
    if (!body_ns.empty() && !ns.empty() && body_ns != ns) {
      return BadRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    meta["namespace"] = ns.empty() ? body_ns : ns;
  } else {
    meta.erase("namespace");
  }
  const std::string object_ns = type.namespaced ? meta["namespace"].get<std::string>() : "";
  if (Name(object).empty() && !MetaString(object, "generateName").empty()) {
    meta["name"] = MetaString(object, "generateName") + RandomSuffix(5);
  }

  WriteResult result;
  XB_RETURN_IF_ERROR(Admit(type, object, nullptr, options, result.warnings));
  XB_RETURN_IF_ERROR(CheckNamespace(type, object_ns, Name(object)));
  PrepareForCreate(type, object);
  const std::string name = Name(object);
  if (options.dry_run) {
    if (store_.Get(Key(type, object_ns, name)).ok()) {
      return AlreadyExists(fmt::format("{} \"{}\" already exists", type.QualifiedResource(), name))
          .WithDetails({.name = name, .group = type.group, .kind = type.plural});
    }
    result.object = std::move(object);
    return result;
  }

  auto stored = store_.Create(Key(type, object_ns, name), std::move(object));
  if (!stored.ok()) {
    if (stored.status().code() == StatusCode::kAlreadyExists) {
      return AlreadyExists(fmt::format("{} \"{}\" already exists", type.QualifiedResource(), name))
          .WithDetails({.name = name, .group = type.group, .kind = type.plural});
    }
    return stored.status();
  }
  result.object = std::move(*stored);
  api::ApplyDefaults(type, result.object);
  return result;
}

}  // namespace xblocks::apiserver
