// Label and field selectors, with the syntax and matching rules of Kubernetes'
// `labelSelector` and `fieldSelector` list parameters and of metav1.LabelSelector.
//
// Thread-safety: selectors are immutable values once built.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace xblocks::api {

enum class LabelOperator {
  kEquals,        // k=v, k==v
  kNotEquals,     // k!=v
  kIn,            // k in (a,b)
  kNotIn,         // k notin (a,b)
  kExists,        // k
  kDoesNotExist,  // !k
  kGreaterThan,   // k>5 (the label value must be an integer)
  kLessThan,      // k<5
};

struct LabelRequirement {
  std::string key;
  LabelOperator op = LabelOperator::kExists;
  std::vector<std::string> values;  // sorted, without duplicates

  // Reports whether a labels object (string to string) satisfies this requirement. A label
  // whose value is not a string counts as absent.
  bool Matches(const Json& labels) const;
};

// A conjunction of label requirements. An empty selector matches every object.
class LabelSelector {
 public:
  LabelSelector() = default;
  // Requirements are sorted by key; their values must already be validated.
  explicit LabelSelector(std::vector<LabelRequirement> requirements);
  // A selector that matches no object, which a null metav1.LabelSelector means.
  static LabelSelector Nothing();

  // Reports whether `labels` (the object's metadata.labels; null or absent counts as empty)
  // satisfies every requirement.
  bool Matches(const Json& labels) const;
  bool Empty() const { return !matches_nothing_ && requirements_.empty(); }
  const std::vector<LabelRequirement>& requirements() const { return requirements_; }
  // The selector in query syntax, requirements sorted by key, e.g. "app=x,tier in (a,b)".
  std::string ToString() const;

 private:
  std::vector<LabelRequirement> requirements_;
  bool matches_nothing_ = false;
};

// Parses the `labelSelector` query syntax: comma-separated requirements `k=v`, `k==v`, `k!=v`,
// `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>1`, `k<1`, with whitespace allowed between
// tokens. Keys must be qualified names (an optional DNS subdomain prefix of at most 253
// characters and '/', then a name of at most 63 characters of [A-Za-z0-9-_.] that starts and
// ends alphanumeric). Values follow the name rule or are empty. "" selects everything.
// Returns kBadRequest naming the bad part.
Result<LabelSelector> ParseLabelSelector(std::string_view text);

// Converts a metav1.LabelSelector ({matchLabels, matchExpressions}) into a selector.
// A null selector matches nothing and an empty object matches everything, as in Kubernetes.
// Operators are In, NotIn, Exists and DoesNotExist. Returns kInvalid naming the field
// (e.g. "matchExpressions[0].values") when the shape, a key, a value or an operator is wrong.
Result<LabelSelector> LabelSelectorFromJson(const Json& selector);

// Builds a requirement after checking it as Kubernetes does. The key and values must be valid.
// kEquals and kNotEquals take exactly one value, kIn and kNotIn at least one, kExists and
// kDoesNotExist none, and kGreaterThan and kLessThan one integer. Values are sorted and
// deduplicated. Returns kInvalid whose message names the key and the problem.
Result<LabelRequirement> MakeLabelRequirement(std::string key, LabelOperator op,
                                              std::vector<std::string> values);

// Describes why `key` is not a valid label key, or returns "" when it is valid.
std::string LabelKeyProblem(std::string_view key);
// Describes why `value` is not a valid label value, or returns "" when it is valid. Empty
// values are valid.
std::string LabelValueProblem(std::string_view value);

enum class FieldOperator { kEquals, kNotEquals };

struct FieldRequirement {
  std::string field;  // dotted path, e.g. "metadata.name"
  FieldOperator op = FieldOperator::kEquals;
  std::string value;  // unescaped
};

// A conjunction of field requirements. An empty selector matches every object.
class FieldSelector {
 public:
  // Reports whether `object` satisfies every requirement. Fields are read by dotted path; a
  // missing field compares as "", booleans as "true"/"false". Two Kubernetes aliases apply: on
  // an Event, "source" reads source.component; on a Node, a missing spec.unschedulable reads
  // "false".
  bool Matches(const Json& object) const;
  bool Empty() const { return requirements_.empty(); }
  // The requirements in input order, so callers can reject fields their kind does not support.
  const std::vector<FieldRequirement>& requirements() const { return requirements_; }

 private:
  friend Result<FieldSelector> ParseFieldSelector(std::string_view text);
  std::vector<FieldRequirement> requirements_;
};

// Parses the `fieldSelector` query syntax: comma-separated `path=value`, `path==value` or
// `path!=value`. In values, `\,` `\=` and `\\` escape those characters; any other escape, or an
// unescaped '=' in a value, is an error. Whitespace around the path is ignored. "" selects
// everything. Returns kBadRequest naming the bad term.
Result<FieldSelector> ParseFieldSelector(std::string_view text);

}  // namespace xblocks::api
