// How patches treat each list field of a built-in kind: replaced whole, merged as a set of
// primitives, or merged element-wise by a merge key. Strategic merge patch and server-side
// apply share this table.
//
// A list is found by its field path: the field names from the object root with list items left
// out, so the env list of any container of a Deployment is
// {"spec", "template", "spec", "containers", "env"}. The table does not depend on the kind: a
// PodSpec is recognized wherever a built-in kind places one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace xblocks::api {

enum class ListStrategy {
  kAtomic,      // the patch or applied list replaces the list whole
  kSet,         // a list of primitives merged as a set, such as metadata.finalizers
  kMergeByKey,  // a list of maps merged element by element, matched on merge_key
};

struct ListRule {
  ListStrategy strategy = ListStrategy::kAtomic;
  std::string_view merge_key;  // set only for kMergeByKey
};

using FieldPath = std::vector<std::string>;

// Returns the rule for the list at `path`. Lists the table does not name are atomic, which is
// what Kubernetes does for lists without a patch strategy. Thread-safe (reads constant data).
ListRule FindListRule(const FieldPath& path);

// Joins a field path with dots for messages, e.g. "spec.containers".
std::string JoinFieldPath(const FieldPath& path);

}  // namespace xblocks::api
