// Strategic merge patch for built-in kinds. List handling comes from list_strategy.h.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

#include "api/list_strategy.h"
#include "api/patch.h"
#include "api/patch_util.h"

namespace xblocks::api {
namespace {

constexpr std::string_view kPatchDirective = "$patch";
constexpr std::string_view kRetainKeys = "$retainKeys";
constexpr std::string_view kSetElementOrderPrefix = "$setElementOrder/";
constexpr std::string_view kDeleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList/";

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

class StrategicMerger {
 public:
  explicit StrategicMerger(std::string_view kind) : kind_(kind) {}

  // Merges the map `patch` into `original`, which becomes an object if it was not one.
  Status MergeMap(Json& original, const Json& patch);

 private:
  Status Error(const std::string& what) const {
    std::string where = path_.empty() ? "the object" : JoinFieldPath(path_);
    return BadRequest(fmt::format("strategic merge patch for {}: {}: {}", kind_, where, what));
  }
  Status ChildError(const std::string& field, const std::string& what) {
    path_.push_back(field);
    Status status = Error(what);
    path_.pop_back();
    return status;
  }

  Result<std::string> Directive(const Json& map) const;
  Status RetainKeys(Json& original, const Json& patch);
  Status DeleteFromPrimitiveList(Json& original, const std::string& field, const Json& values);
  Status MergeField(Json& original, const std::string& field, const Json& value);
  Status MergeList(Json& original, const Json& patch);
  Status MergeListByKey(Json& original, const Json& patch, std::string_view key);
  Status MergeSet(Json& original, const Json& patch);
  Status SetElementOrder(Json& original, const std::string& field, const Json& order);

  std::string_view kind_;
  FieldPath path_;
  int depth_ = 0;
};

// Returns the "$patch" directive of a map, "" when it has none.
Result<std::string> StrategicMerger::Directive(const Json& map) const {
  auto it = map.find(kPatchDirective);
  if (it == map.end()) return std::string();
  if (!it->is_string()) return Error("\"$patch\" must be a string");
  std::string directive = it->get<std::string>();
  if (directive != "replace" && directive != "merge" && directive != "delete") {
    return Error(fmt::format("unknown \"$patch\" directive \"{}\"; use replace, merge or delete",
                             directive));
  }
  return directive;
}

Status StrategicMerger::MergeMap(Json& original, const Json& patch) {
  if (++depth_ > kMaxPatchDepth) return Error(fmt::format("nests deeper than {} levels", kMaxPatchDepth));
  Result<std::string> directive = Directive(patch);
  if (!directive.ok()) return directive.status();
  if (!original.is_object() || *directive == "replace" || *directive == "delete") {
    original = Json::object();
  }
  if (*directive == "delete") {
    --depth_;
    return Status::Ok();
  }
  XB_RETURN_IF_ERROR(RetainKeys(original, patch));

  // Deletions first, so that a patch that deletes and adds in one list keeps the additions.
  for (const auto& [key, value] : patch.items()) {
    if (StartsWith(key, kDeleteFromPrimitiveListPrefix)) {
      std::string field = key.substr(kDeleteFromPrimitiveListPrefix.size());
      XB_RETURN_IF_ERROR(DeleteFromPrimitiveList(original, field, value));
    }
  }
  for (const auto& [key, value] : patch.items()) {
    if (key == kPatchDirective || key == kRetainKeys || StartsWith(key, kSetElementOrderPrefix) ||
        StartsWith(key, kDeleteFromPrimitiveListPrefix)) {
      continue;
    }
    if (StartsWith(key, "$")) return Error(fmt::format("unknown directive \"{}\"", key));
    XB_RETURN_IF_ERROR(MergeField(original, key, value));
  }
  // Orders apply to the merged lists, so they come last.
  for (const auto& [key, value] : patch.items()) {
    if (StartsWith(key, kSetElementOrderPrefix)) {
      XB_RETURN_IF_ERROR(SetElementOrder(original, key.substr(kSetElementOrderPrefix.size()), value));
    }
  }
  --depth_;
  return Status::Ok();
}

// Keeps only the keys "$retainKeys" lists, and checks that the patch sets no others.
Status StrategicMerger::RetainKeys(Json& original, const Json& patch) {
  auto it = patch.find(kRetainKeys);
  if (it == patch.end()) return Status::Ok();
  if (!it->is_array() || !std::all_of(it->begin(), it->end(), [](const Json& k) { return k.is_string(); })) {
    return Error("\"$retainKeys\" must be a list of strings");
  }
  auto retained = [&](const std::string& key) {
    return std::find(it->begin(), it->end(), Json(key)) != it->end();
  };
  for (const auto& [key, value] : patch.items()) {
    if (!StartsWith(key, "$") && !value.is_null() && !retained(key)) {
      return Error(fmt::format("the patch sets \"{}\", which \"$retainKeys\" does not list", key));
    }
  }
  for (auto entry = original.begin(); entry != original.end();) {
    entry = retained(entry.key()) ? std::next(entry) : original.erase(entry);
  }
  return Status::Ok();
}

Status StrategicMerger::DeleteFromPrimitiveList(Json& original, const std::string& field,
                                                const Json& values) {
  if (!values.is_array()) return ChildError(field, "\"$deleteFromPrimitiveList\" must be a list");
  auto list = original.find(field);
  if (list == original.end() || !list->is_array()) return Status::Ok();
  Json kept = Json::array();
  for (const Json& item : *list) {
    if (std::find(values.begin(), values.end(), item) == values.end()) kept.push_back(item);
  }
  *list = std::move(kept);
  return Status::Ok();
}

Status StrategicMerger::MergeField(Json& original, const std::string& field, const Json& value) {
  if (value.is_null()) {
    original.erase(field);
    return Status::Ok();
  }
  if (!value.is_structured()) {
    original[field] = value;
    return Status::Ok();
  }

  path_.push_back(field);
  Status status;
  if (value.is_object()) {
    Result<std::string> directive = Directive(value);
    if (!directive.ok()) {
      status = directive.status();
    } else if (*directive == "delete") {
      original.erase(field);
    } else {
      status = MergeMap(original[field], value);
    }
  } else {
    status = MergeList(original[field], value);
  }
  path_.pop_back();
  return status;
}

Status StrategicMerger::MergeList(Json& original, const Json& patch) {
  if (++depth_ > kMaxPatchDepth) return Error(fmt::format("nests deeper than {} levels", kMaxPatchDepth));
  if (!original.is_array()) original = Json::array();

  // An element {"$patch": "replace"} makes the rest of the patch list the whole new list.
  auto is_replace = [](const Json& item) {
    return item.is_object() && item.size() == 1 && item.value(std::string(kPatchDirective), Json()) == "replace";
  };
  Status status;
  if (std::any_of(patch.begin(), patch.end(), is_replace)) {
    original = Json::array();
    for (const Json& item : patch) {
      if (!is_replace(item)) original.push_back(item);
    }
  } else {
    ListRule rule = FindListRule(path_);
    switch (rule.strategy) {
      case ListStrategy::kAtomic: original = patch; break;
      case ListStrategy::kSet: status = MergeSet(original, patch); break;
      case ListStrategy::kMergeByKey: status = MergeListByKey(original, patch, rule.merge_key); break;
    }
  }
  --depth_;
  return status;
}

Status StrategicMerger::MergeSet(Json& original, const Json& patch) {
  for (const Json& item : patch) {
    if (item.is_structured()) return Error("a list of primitives must not contain maps or lists");
    if (std::find(original.begin(), original.end(), item) == original.end()) original.push_back(item);
  }
  return Status::Ok();
}

Status StrategicMerger::MergeListByKey(Json& original, const Json& patch, std::string_view key) {
  for (const Json& item : patch) {
    if (!item.is_object() || !item.contains(key)) {
      return Error(fmt::format("list element {} does not contain the merge key \"{}\"",
                               DumpForMessage(item), key));
    }
    Result<std::string> directive = Directive(item);
    if (!directive.ok()) return directive.status();
    const Json& key_value = item[std::string(key)];
    auto matches = [&](const Json& existing) {
      return existing.is_object() && existing.contains(key) && existing[std::string(key)] == key_value;
    };

    if (*directive == "delete") {
      original.erase(std::remove_if(original.begin(), original.end(), matches), original.end());
      continue;
    }
    auto match = std::find_if(original.begin(), original.end(), matches);
    if (match == original.end()) {
      original.push_back(Json::object());
      match = original.end() - 1;
    }
    XB_RETURN_IF_ERROR(MergeMap(*match, item));
  }
  return Status::Ok();
}

// Reorders the list `field` so that the elements "$setElementOrder/<field>" names appear in
// that order. Elements it does not name keep their positions; the named ones fill the other
// positions in the given order.
Status StrategicMerger::SetElementOrder(Json& original, const std::string& field, const Json& order) {
  if (!order.is_array()) return ChildError(field, "\"$setElementOrder\" must be a list");
  auto list = original.find(field);
  if (list == original.end() || !list->is_array()) return Status::Ok();

  path_.push_back(field);
  ListRule rule = FindListRule(path_);
  path_.pop_back();
  if (rule.strategy == ListStrategy::kAtomic) return Status::Ok();
  std::string key(rule.merge_key);
  auto identity = [&](const Json& item) -> Json {
    if (rule.strategy == ListStrategy::kSet) return item;
    return item.is_object() ? item.value(key, Json()) : Json();
  };

  std::map<size_t, Json> named;  // position in `order` -> element
  std::vector<size_t> slots;     // positions in the list that hold named elements
  for (size_t i = 0; i < list->size(); ++i) {
    Json id = identity((*list)[i]);
    auto pos = std::find_if(order.begin(), order.end(), [&](const Json& o) { return identity(o) == id; });
    if (id.is_null() || pos == order.end()) continue;
    named.emplace(static_cast<size_t>(pos - order.begin()), (*list)[i]);
    slots.push_back(i);
  }
  size_t slot = 0;
  for (auto& [position, item] : named) (*list)[slots[slot++]] = std::move(item);
  return Status::Ok();
}

}  // namespace

Result<Json> ApplyStrategicMergePatch(const Json& original, const Json& patch, std::string_view kind) {
  if (!patch.is_object()) {
    return BadRequest(fmt::format("a strategic merge patch must be a JSON object, got {}",
                                  PatchValueTypeName(patch)));
  }
  Json result = original.is_object() ? original : Json::object();
  StrategicMerger merger(kind);
  XB_RETURN_IF_ERROR(merger.MergeMap(result, patch));
  return result;
}

}  // namespace xblocks::api
