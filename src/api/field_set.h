// FieldSet: a set of field paths in the FieldsV1 form that metadata.managedFields uses, the
// ownership record of server-side apply.
//
// A path is a sequence of FieldsV1 path elements:
//   "f:<name>"           a map field
//   "k:{"name":"app"}"   the element of a merge-keyed list whose key fields have these values
//   "v:"finalizer-a""    the member of a set list with this value (JSON encoded)
//   "i:3"                a list element by position (only read, never produced)
// In FieldsV1 JSON each element is a key, a member is a leaf "{}" or carries "." when the set
// also contains paths below it, e.g. {"f:spec": {"f:containers": {"k:{\"name\":\"a\"}":
// {".": {}, "f:image": {}, "f:name": {}}}}}.
//
// A FieldSet is a value type, not thread-safe for concurrent mutation.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace xblocks::api {

using FieldSetPath = std::vector<std::string>;

class FieldSet {
 public:
  // Parses a fieldsV1 value. Errors: kBadRequest when it is not an object tree or has a key
  // that is not a path element.
  static Result<FieldSet> FromFieldsV1(const Json& fields);

  // Returns the fields `object` sets, as server-side apply records them: every leaf value, every
  // element of a merge-keyed list (with "." and its fields), every set member, atomic lists and
  // empty maps as leaves. Null values set nothing. Lists follow list_strategy.h.
  // Errors: kBadRequest when a merge-keyed list has an element that is not a map, lacks the
  // key, or repeats a key; too deep nesting.
  static Result<FieldSet> FromObject(const Json& object);

  Json ToFieldsV1() const;

  FieldSet Union(const FieldSet& other) const;
  FieldSet Difference(const FieldSet& other) const;
  FieldSet Intersection(const FieldSet& other) const;

  bool empty() const { return !member_ && children_.empty(); }
  bool member() const { return member_; }
  const std::map<std::string, FieldSet>& children() const { return children_; }
  // The subtree below `element`, or null when the set has nothing there.
  const FieldSet* Child(const std::string& element) const;

  // Every member path, in FieldsV1 key order.
  std::vector<FieldSetPath> Members() const;
  void Insert(const FieldSetPath& path);

  bool operator==(const FieldSet& other) const = default;

 private:
  FieldSet& MutableChild(const std::string& element) { return children_[element]; }
  void CollectMembers(FieldSetPath& prefix, std::vector<FieldSetPath>& out) const;
  friend class FieldSetBuilder;

  bool member_ = false;
  std::map<std::string, FieldSet> children_;
};

// Formats a path as kube prints it in conflicts: .spec.containers[name="app"].image,
// .metadata.finalizers[="a"], .spec.list[3].
std::string FormatFieldSetPath(const FieldSetPath& path);

// Locates the value a path element names inside `node`: a map field, a keyed list element, a
// set member or a list position. Returns null when `node` has no such value.
const Json* FindPathElement(const Json& node, const std::string& element);
Json* FindPathElement(Json& node, const std::string& element);

// Removes the value a path element names from `node`. Returns whether something was removed.
bool ErasePathElement(Json& node, const std::string& element);

}  // namespace xblocks::api
