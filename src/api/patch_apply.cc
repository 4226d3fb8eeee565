// Server-side apply: merge, conflict detection and field ownership in metadata.managedFields.
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "api/field_set.h"
#include "api/list_strategy.h"
#include "api/managed_fields.h"
#include "api/patch.h"

namespace xblocks::api {
namespace {

constexpr std::string_view kApplyOperation = "Apply";

// Metadata the server sets. An applied configuration neither changes nor owns these.
constexpr std::array<std::string_view, 8> kServerSetMetadata = {
    "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink",
    "deletionTimestamp", "deletionGracePeriodSeconds"};

struct FieldConflict {
  FieldSetPath path;
  ManagedFieldsEntry* owner;
};

std::string StringField(const Json& object, const char* name) {
  if (!object.is_object()) return "";
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

Status ValidateApplyRequest(const Json& live, const Json& applied, const ApplyOptions& options) {
  if (options.field_manager.empty()) {
    StatusDetails details;
    details.causes.push_back({"FieldValueRequired", "is required for apply requests", "fieldManager"});
    return Invalid("PATCH request with apply-patch+yaml requires fieldManager").WithDetails(details);
  }
  if (!applied.is_object()) return BadRequest("an apply request body must be an object");
  if (applied.contains("metadata") && !applied["metadata"].is_object() && !applied["metadata"].is_null()) {
    return BadRequest("metadata of an apply request must be an object");
  }
  const Json* managed = applied.contains("metadata") && applied["metadata"].is_object() &&
                                applied["metadata"].contains("managedFields")
                            ? &applied["metadata"]["managedFields"]
                            : nullptr;
  if (managed != nullptr && !managed->is_null()) {
    return BadRequest("metadata.managedFields must be nil in an apply request; remove it from the body");
  }
  if (!live.is_null() && (!live.is_object() || !live.value("metadata", Json::object()).is_object())) {
    return Internal("the stored object is not a valid object with metadata");
  }
  std::string live_kind = StringField(live, "kind");
  std::string applied_kind = StringField(applied, "kind");
  if (!live_kind.empty() && !applied_kind.empty() && live_kind != applied_kind) {
    return BadRequest(fmt::format("apply request has kind \"{}\" but the object is a {}", applied_kind,
                                  live_kind));
  }
  return Status::Ok();
}

// The applied body without server-set metadata: the part that is merged into the object.
Json WithoutServerFields(const Json& applied) {
  Json body = applied;
  if (body.contains("metadata") && body["metadata"].is_object()) {
    for (std::string_view field : kServerSetMetadata) body["metadata"].erase(std::string(field));
  }
  return body;
}

// The part of the body whose ownership is recorded: also without the object's identity.
Json TrackedFields(const Json& body) {
  Json tracked = body;
  tracked.erase("apiVersion");
  tracked.erase("kind");
  if (tracked.contains("metadata") && tracked["metadata"].is_object()) {
    tracked["metadata"].erase("name");
    tracked["metadata"].erase("namespace");
    if (tracked["metadata"].empty()) tracked.erase("metadata");
  }
  return tracked;
}

void MergeApplied(Json& target, const Json& applied, FieldPath& path);

void MergeAppliedList(Json& target, const Json& applied, FieldPath& path) {
  ListRule rule = FindListRule(path);
  if (!target.is_array() || rule.strategy == ListStrategy::kAtomic) {
    target = applied;
    return;
  }
  std::string key(rule.merge_key);
  for (const Json& item : applied) {
    auto match = std::find_if(target.begin(), target.end(), [&](const Json& existing) {
      if (rule.strategy == ListStrategy::kSet) return existing == item;
      return existing.is_object() && item.is_object() && existing.contains(key) &&
             item.contains(key) && existing[key] == item[key];
    });
    if (match == target.end()) {
      target.push_back(item);
    } else if (rule.strategy == ListStrategy::kMergeByKey) {
      MergeApplied(*match, item, path);
    }
  }
}

// Merges the applied configuration into `target`: maps merge, null values are ignored and lists
// follow their ListRule. Precondition: FieldSet::FromObject accepted `applied`, so depth is
// bounded and keyed elements carry their keys.
void MergeApplied(Json& target, const Json& applied, FieldPath& path) {
  if (!target.is_object()) target = Json::object();
  for (const auto& [name, value] : applied.items()) {
    if (value.is_null()) continue;
    path.push_back(name);
    if (value.is_object()) {
      MergeApplied(target[name], value, path);
    } else if (value.is_array()) {
      MergeAppliedList(target[name], value, path);
    } else {
      target[name] = value;
    }
    path.pop_back();
  }
}

const Json* ValueAt(const Json& object, const FieldSetPath& path) {
  const Json* node = &object;
  for (const std::string& element : path) {
    node = FindPathElement(*node, element);
    if (node == nullptr) return nullptr;
  }
  return node;
}

bool IsLeaf(const FieldSet& set, const FieldSetPath& path) {
  const FieldSet* node = &set;
  for (const std::string& element : path) node = node->Child(element);
  return node->children().empty();
}

// Returns the leaf fields `applied_set` shares with other managers whose value the merge
// changes. Fields the live object lacks cannot conflict.
std::vector<FieldConflict> FindConflicts(const Json& live, const Json& merged, const FieldSet& applied_set,
                                    std::vector<ManagedFieldsEntry>& managers,
                                    const ManagedFieldsEntry* self) {
  std::vector<FieldConflict> conflicts;
  for (ManagedFieldsEntry& entry : managers) {
    if (&entry == self) continue;
    for (FieldSetPath& path : entry.fields.Intersection(applied_set).Members()) {
      if (!IsLeaf(applied_set, path)) continue;
      const Json* before = ValueAt(live, path);
      const Json* after = ValueAt(merged, path);
      if (before != nullptr && (after == nullptr || *before != *after)) {
        conflicts.push_back({std::move(path), &entry});
      }
    }
  }
  return conflicts;
}

Status ConflictError(const std::vector<FieldConflict>& conflicts) {
  StatusDetails details;
  std::vector<std::string> lines;
  for (const FieldConflict& conflict : conflicts) {
    std::string with = fmt::format("conflict with \"{}\" using {}", conflict.owner->manager,
                                   conflict.owner->api_version);
    std::string field = FormatFieldSetPath(conflict.path);
    lines.push_back(fmt::format("{}: {}", with, field));
    details.causes.push_back({"FieldManagerConflict", with, field});
  }
  size_t count = conflicts.size();
  std::string message = fmt::format("Apply failed with {} conflict{}: {}", count, count == 1 ? "" : "s",
                                    fmt::join(lines, "\n"));
  return Conflict(std::move(message)).WithDetails(details);
}

// Removes the fields in `removed` from `node`, except fields that `keep` contains or has
// anything below: those belong to another manager or are still applied.
void RemoveFields(Json& node, const FieldSet& removed, const FieldSet* keep) {
  for (const auto& [element, child] : removed.children()) {
    const FieldSet* keep_child = keep == nullptr ? nullptr : keep->Child(element);
    Json* value = FindPathElement(node, element);
    if (value == nullptr) continue;
    if (child.member() && (keep_child == nullptr || keep_child->empty())) {
      ErasePathElement(node, element);
    } else {
      RemoveFields(*value, child, keep_child);
    }
  }
}

ManagedFieldsEntry* FindApplyEntry(std::vector<ManagedFieldsEntry>& managers, const std::string& manager) {
  for (ManagedFieldsEntry& entry : managers) {
    if (entry.manager == manager && entry.operation == kApplyOperation && entry.subresource.empty()) {
      return &entry;
    }
  }
  return nullptr;
}

Json CreateObject(const Json& body, FieldSet applied_set, ManagedFieldsEntry entry) {
  Json object = Json::object();
  FieldPath path;
  MergeApplied(object, body, path);
  entry.fields = std::move(applied_set);
  object["metadata"]["managedFields"] = ManagedFieldsToJson({entry});
  return object;
}

}  // namespace

Result<Json> ApplyServerSide(const Json& live, const Json& applied, const ApplyOptions& options) {
  XB_RETURN_IF_ERROR(ValidateApplyRequest(live, applied, options));
  Json body = WithoutServerFields(applied);
  Result<FieldSet> applied_set = FieldSet::FromObject(TrackedFields(body));
  if (!applied_set.ok()) return applied_set.status();

  ManagedFieldsEntry self_entry{options.field_manager, std::string(kApplyOperation),
                                options.api_version.empty() ? StringField(applied, "apiVersion")
                                                            : options.api_version,
                                FormatRfc3339(options.now), "", FieldSet()};
  if (live.is_null()) return CreateObject(body, std::move(applied_set).value(), self_entry);

  // Merge into the live object without its ownership record, which is rebuilt below.
  std::vector<ManagedFieldsEntry> managers = ParseManagedFields(live);
  Json base = live;
  if (!base.contains("metadata")) base["metadata"] = Json::object();
  base["metadata"].erase("managedFields");
  Json merged = base;
  FieldPath path;
  MergeApplied(merged, body, path);

  ManagedFieldsEntry* self = FindApplyEntry(managers, options.field_manager);
  std::vector<FieldConflict> conflicts = FindConflicts(base, merged, *applied_set, managers, self);
  if (!conflicts.empty() && !options.force) return ConflictError(conflicts);
  for (const FieldConflict& conflict : conflicts) {
    FieldSet taken_field;
    taken_field.Insert(conflict.path);
    conflict.owner->fields = conflict.owner->fields.Difference(taken_field);
  }

  // Fields this manager applied before and no longer applies go, unless someone else owns them.
  FieldSet keep = *applied_set;
  for (const ManagedFieldsEntry& entry : managers) {
    if (&entry != self) keep = keep.Union(entry.fields);
  }
  FieldSet previous = self == nullptr ? FieldSet() : self->fields;
  RemoveFields(merged, previous.Difference(*applied_set), &keep);

  // An apply that changes nothing keeps the old timestamp, so it does not rewrite the object.
  bool unchanged = self != nullptr && conflicts.empty() && merged == base && previous == *applied_set &&
                   self->api_version == self_entry.api_version;
  if (self == nullptr) {
    managers.push_back(self_entry);
    self = &managers.back();
  } else if (!unchanged) {
    self->time = self_entry.time;
    self->api_version = self_entry.api_version;
  }
  self->fields = std::move(applied_set).value();
  merged["metadata"]["managedFields"] = ManagedFieldsToJson(managers);
  return merged;
}

}  // namespace xblocks::api
