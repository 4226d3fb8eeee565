#include "api/field_set.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <optional>

#include "api/list_strategy.h"
#include "api/patch.h"

namespace xblocks::api {
namespace {

constexpr std::string_view kSelf = ".";

bool IsPathElement(std::string_view key) {
  if (key.size() < 3 || key[1] != ':') return false;
  return key[0] == 'f' || key[0] == 'k' || key[0] == 'v' || key[0] == 'i';
}

// Serializes `value`, replacing invalid UTF-8 instead of throwing.
std::string DumpJson(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json ParseElementValue(const std::string& element) {
  return Json::parse(element.substr(2), nullptr, /*allow_exceptions=*/false);
}

// Returns the index of the list element that `element` ("k:", "v:" or "i:") names.
std::optional<size_t> FindListIndex(const Json& list, const std::string& element) {
  if (element[0] == 'i') {
    Json index = ParseElementValue(element);
    if (!index.is_number_unsigned() || index.get<size_t>() >= list.size()) return std::nullopt;
    return index.get<size_t>();
  }
  Json wanted = ParseElementValue(element);
  if (wanted.is_discarded()) return std::nullopt;
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& item = list[i];
    if (element[0] == 'v' && item == wanted) return i;
    if (element[0] == 'k' && wanted.is_object() && item.is_object() &&
        std::all_of(wanted.items().begin(), wanted.items().end(), [&](const auto& field) {
          auto it = item.find(field.key());
          return it != item.end() && *it == field.value();
        })) {
      return i;
    }
  }
  return std::nullopt;
}

}  // namespace

// Builds the FieldSet of an applied object, tracking the field path for list rules.
class FieldSetBuilder {
 public:
  static Status ParseNode(const Json& fields, FieldSet& node, int depth);

  Status AddMap(const Json& map, FieldSet& node) {
    if (++depth_ > kMaxPatchDepth) return BadRequest("the object nests too deeply for apply");
    for (const auto& [name, value] : map.items()) {
      if (value.is_null()) continue;
      path_.push_back(name);
      XB_RETURN_IF_ERROR(AddValue(value, node.MutableChild("f:" + name)));
      path_.pop_back();
    }
    --depth_;
    return Status::Ok();
  }

 private:
  Status AddValue(const Json& value, FieldSet& node) {
    if (value.is_object() && !value.empty()) return AddMap(value, node);
    if (value.is_array() && !value.empty()) return AddList(value, node);
    node.member_ = true;
    return Status::Ok();
  }

  Status AddList(const Json& list, FieldSet& node) {
    ListRule rule = FindListRule(path_);
    if (rule.strategy == ListStrategy::kAtomic) {
      node.member_ = true;
      return Status::Ok();
    }
    for (const Json& item : list) {
      Result<std::string> element = ElementOf(item, rule);
      if (!element.ok()) return element.status();
      if (node.children_.count(*element) != 0) {
        return BadRequest(fmt::format("{}: duplicate list element {}", JoinFieldPath(path_),
                                      element->substr(2)));
      }
      FieldSet& child = node.MutableChild(*element);
      child.member_ = true;
      if (rule.strategy == ListStrategy::kMergeByKey) XB_RETURN_IF_ERROR(AddMap(item, child));
    }
    return Status::Ok();
  }

  Result<std::string> ElementOf(const Json& item, const ListRule& rule) const {
    if (rule.strategy == ListStrategy::kSet) {
      if (item.is_structured()) {
        return BadRequest(fmt::format("{}: a list of primitives must not contain maps or lists",
                                      JoinFieldPath(path_)));
      }
      return "v:" + DumpJson(item);
    }
    std::string key(rule.merge_key);
    if (!item.is_object() || !item.contains(key) || item[key].is_null()) {
      return BadRequest(fmt::format("{}: list element {} is missing the key field \"{}\"",
                                    JoinFieldPath(path_), DumpJson(item), key));
    }
    return "k:" + DumpJson(Json{{key, item[key]}});
  }

  FieldPath path_;
  int depth_ = 0;
};

Result<FieldSet> FieldSet::FromObject(const Json& object) {
  FieldSet set;
  if (!object.is_object()) return BadRequest("an applied configuration must be a JSON object");
  FieldSetBuilder builder;
  XB_RETURN_IF_ERROR(builder.AddMap(object, set));
  return set;
}

// Parses one fieldsV1 node below the root: "{}" is a member leaf, "." marks a member that
// also has children.
Status FieldSetBuilder::ParseNode(const Json& fields, FieldSet& node, int depth) {
  if (!fields.is_object()) return BadRequest("fieldsV1 must be a tree of JSON objects");
  if (depth > kMaxPatchDepth) return BadRequest("fieldsV1 nests too deeply");
  if (fields.empty()) node.member_ = true;
  for (const auto& [key, value] : fields.items()) {
    if (key == kSelf) {
      node.member_ = true;
    } else if (!IsPathElement(key)) {
      return BadRequest(fmt::format("fieldsV1 has an invalid key \"{}\"", key));
    } else {
      XB_RETURN_IF_ERROR(ParseNode(value, node.MutableChild(key), depth + 1));
    }
  }
  return Status::Ok();
}

Result<FieldSet> FieldSet::FromFieldsV1(const Json& fields) {
  FieldSet set;
  if (!fields.is_object()) return BadRequest("fieldsV1 must be a JSON object");
  // The root itself is never a member, so an empty fieldsV1 is the empty set.
  for (const auto& [key, value] : fields.items()) {
    if (!IsPathElement(key)) return BadRequest(fmt::format("fieldsV1 has an invalid key \"{}\"", key));
    XB_RETURN_IF_ERROR(FieldSetBuilder::ParseNode(value, set.MutableChild(key), 1));
  }
  return set;
}

Json FieldSet::ToFieldsV1() const {
  Json out = Json::object();
  if (member_ && !children_.empty()) out[std::string(kSelf)] = Json::object();
  for (const auto& [element, child] : children_) {
    if (!child.empty()) out[element] = child.ToFieldsV1();
  }
  return out;
}

FieldSet FieldSet::Union(const FieldSet& other) const {
  FieldSet result = *this;
  result.member_ = member_ || other.member_;
  for (const auto& [element, child] : other.children_) {
    auto it = result.children_.find(element);
    if (it == result.children_.end()) {
      result.children_.emplace(element, child);
    } else {
      it->second = it->second.Union(child);
    }
  }
  return result;
}

FieldSet FieldSet::Difference(const FieldSet& other) const {
  FieldSet result;
  result.member_ = member_ && !other.member_;
  for (const auto& [element, child] : children_) {
    const FieldSet* removed = other.Child(element);
    FieldSet rest = removed == nullptr ? child : child.Difference(*removed);
    if (!rest.empty()) result.children_.emplace(element, std::move(rest));
  }
  return result;
}

FieldSet FieldSet::Intersection(const FieldSet& other) const {
  FieldSet result;
  result.member_ = member_ && other.member_;
  for (const auto& [element, child] : children_) {
    const FieldSet* shared = other.Child(element);
    if (shared == nullptr) continue;
    FieldSet both = child.Intersection(*shared);
    if (!both.empty()) result.children_.emplace(element, std::move(both));
  }
  return result;
}

const FieldSet* FieldSet::Child(const std::string& element) const {
  auto it = children_.find(element);
  return it == children_.end() ? nullptr : &it->second;
}

std::vector<FieldSetPath> FieldSet::Members() const {
  std::vector<FieldSetPath> out;
  FieldSetPath prefix;
  CollectMembers(prefix, out);
  return out;
}

void FieldSet::CollectMembers(FieldSetPath& prefix, std::vector<FieldSetPath>& out) const {
  if (member_) out.push_back(prefix);
  for (const auto& [element, child] : children_) {
    prefix.push_back(element);
    child.CollectMembers(prefix, out);
    prefix.pop_back();
  }
}

void FieldSet::Insert(const FieldSetPath& path) {
  FieldSet* node = this;
  for (const std::string& element : path) node = &node->MutableChild(element);
  node->member_ = true;
}

std::string FormatFieldSetPath(const FieldSetPath& path) {
  std::string out;
  for (const std::string& element : path) {
    std::string_view body = std::string_view(element).substr(2);
    if (element[0] == 'f') {
      out += fmt::format(".{}", body);
    } else if (element[0] == 'v') {
      out += fmt::format("[={}]", body);
    } else if (element[0] == 'i') {
      out += fmt::format("[{}]", body);
    } else {
      Json key = ParseElementValue(element);
      std::vector<std::string> parts;
      if (key.is_object()) {
        for (const auto& [name, value] : key.items()) parts.push_back(name + "=" + DumpJson(value));
      }
      out += fmt::format("[{}]", fmt::join(parts, ","));
    }
  }
  return out;
}

const Json* FindPathElement(const Json& node, const std::string& element) {
  if (!IsPathElement(element)) return nullptr;
  if (element[0] == 'f') {
    if (!node.is_object()) return nullptr;
    auto it = node.find(element.substr(2));
    return it == node.end() ? nullptr : &*it;
  }
  if (!node.is_array()) return nullptr;
  std::optional<size_t> index = FindListIndex(node, element);
  return index ? &node[*index] : nullptr;
}

Json* FindPathElement(Json& node, const std::string& element) {
  return const_cast<Json*>(FindPathElement(static_cast<const Json&>(node), element));
}

bool ErasePathElement(Json& node, const std::string& element) {
  if (!IsPathElement(element)) return false;
  if (element[0] == 'f') return node.is_object() && node.erase(element.substr(2)) > 0;
  if (!node.is_array()) return false;
  std::optional<size_t> index = FindListIndex(node, element);
  if (!index) return false;
  node.erase(*index);
  return true;
}

}  // namespace xblocks::api
