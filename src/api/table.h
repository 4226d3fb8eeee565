// Server-side printing: objects rendered as a meta.k8s.io Table, which kubectl prints without
// formatting anything itself.
//
// Columns and cells by kind:
//   - CRD kinds (type.builtin == false): "Name", then type.columns evaluated by JSONPath. A
//     missing path gives a null cell, which kubectl prints empty. "date" columns show the age
//     since the timestamp, or "<invalid>" when it does not parse. "integer", "number" and
//     "boolean" cells are JSON values of that type or null. A kind without columns gets Name
//     and Age.
//   - Built-in kinds with a printer (Pod, Service, Endpoints, Secret, ConfigMap, ServiceAccount,
//     PersistentVolumeClaim, Namespace, Event, Node, Role, ClusterRole, RoleBinding,
//     ClusterRoleBinding): kube-apiserver's columns, including the priority-1 columns kubectl
//     shows with -o wide. Their Age cells are already formatted strings.
//   - Other built-in kinds: type.columns by JSONPath when every column has one, otherwise
//     Name and "Created At" (an RFC 3339 timestamp), as kube-apiserver's default printer.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "api/scheme.h"
#include "common/json.h"
#include "common/status.h"

namespace xblocks::api {

struct TableOptions {
  // What each row's `object` carries: "None" (no object), "Metadata" (a PartialObjectMetadata
  // with the object's full metadata) or "Object" (the object itself). Check client input with
  // ValidateIncludeObject first; unknown values are treated as "Metadata".
  std::string include_object = "Metadata";
  // False leaves columnDefinitions empty, e.g. for watch events after the first.
  bool column_definitions = true;
  // "meta.k8s.io/v1" or "meta.k8s.io/v1beta1", as the client asked.
  std::string api_version = "meta.k8s.io/v1";
  // The time ages are measured from. The caller must set it, normally from its Clock.
  std::chrono::system_clock::time_point now;
  // metadata.resourceVersion and metadata.continue of the Table, omitted when empty.
  std::string resource_version;
  std::string continue_token;
};

// Returns kBadRequest unless `value` is "", "None", "Metadata" or "Object" ("" means
// "Metadata"), worded as kube-apiserver words it.
Status ValidateIncludeObject(std::string_view value);

// The columnDefinitions ToTable uses for `type`, as Table JSON.
Json TableColumnDefinitions(const ResourceType& type);

// Renders `objects` (all of kind `type`) as a Table with one row per object, in order.
// Objects may have any shape: missing or mistyped fields give empty or null cells.
Json ToTable(const ResourceType& type, const std::vector<Json>& objects, const TableOptions& options);

}  // namespace xblocks::api
