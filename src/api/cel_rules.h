// The `x-kubernetes-validations` rules of the embedded CRDs, implemented as C++ checks.
//
// xblocks has no CEL interpreter. Each rule text that appears in deploy/crds/ has an entry in a
// table keyed by its exact text, and the scheme refuses to load a CRD whose rule is missing
// from the table, so the CRDs and the checks cannot drift apart.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/field_errors.h"
#include "common/json.h"
#include "common/status.h"

namespace xblocks::api {

struct CelRule {
  std::string_view text;  // the rule exactly as written in the CRD
  // A transition rule reads oldSelf. It runs only on update, and only where the old object
  // had a value at the same place.
  bool transition = false;
  // Returns true when the rule holds. `old_self` is null unless `transition` is set. Values of
  // the wrong type pass, because the structural schema check reports them.
  bool (*holds)(const Json& self, const Json* old_self) = nullptr;
};

// The table of every supported rule. Thread-safe (constant data).
const std::vector<CelRule>& CelRules();
// Returns the entry for an exact rule text, or null.
const CelRule* FindCelRule(std::string_view text);

// Returns kInternal naming the first rule in `schema` (searched recursively) that the table
// lacks or that has no `message`. Such a CRD is a build defect.
Status CheckCelRulesSupported(const Json& schema);

// Evaluates every rule in `schema` against `value` and appends a FieldValueInvalid error with
// the rule's message for each rule that fails. `old_value` is the value at the same path in the
// stored object on update, null on create.
void ValidateCelRules(const Json& schema, const Json& value, const Json* old_value,
                      const std::string& path, FieldErrors& errors);

}  // namespace xblocks::api
