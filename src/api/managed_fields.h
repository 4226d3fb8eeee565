// metadata.managedFields entries (metav1.ManagedFieldsEntry) with their field sets parsed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "api/field_set.h"
#include "common/json.h"

namespace xblocks::api {

struct ManagedFieldsEntry {
  std::string manager;
  std::string operation;    // "Apply" or "Update"
  std::string api_version;
  std::string time;         // RFC 3339, seconds precision
  std::string subresource;  // "" for the main resource
  FieldSet fields;
};

// Parses metadata.managedFields of `object`. Entries that are not objects, lack a manager or
// operation, or whose fieldsV1 does not parse are dropped, as kube-apiserver resets managed
// fields it cannot decode instead of failing the request.
std::vector<ManagedFieldsEntry> ParseManagedFields(const Json& object);

// Serializes entries for metadata.managedFields, leaving out entries with no fields.
Json ManagedFieldsToJson(const std::vector<ManagedFieldsEntry>& entries);

// Formats a time as metav1.Time does: RFC 3339 in UTC with seconds, "2024-05-01T10:00:00Z".
std::string FormatRfc3339(std::chrono::system_clock::time_point time);

}  // namespace xblocks::api
