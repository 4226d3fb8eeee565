// The JSONPath subset that CRD additionalPrinterColumns use (Kubernetes' JSONPath template
// syntax, without the braces or with them):
//   .a.b            object fields; ['a.b'] or ["a.b"] for keys with dots or other symbols
//   .a[0] .a[-1]    array index, negative from the end
//   .a[1:3]         array slice (start and end optional)
//   .a[*]  .a.*     every element of an array or every value of an object
//   .a[?(@.x.y==true)]  array elements for which the predicate holds; operators are
//                   == != < <= > >=, the right side is a number, 'string', "string", true,
//                   false or another @-path, and [?(@.x)] keeps elements where @.x exists.
// Recursive descent (..), unions ([0,1]) and functions are not supported and fail to parse.
//
// Evaluation never fails: a missing field, an index out of range, or a step applied to the
// wrong type yields no result for that branch, as with kubectl's allowMissingKeys.
//
// Thread-safety: a parsed JsonPath is immutable and may be evaluated concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace xblocks::api {

class JsonPath {
 public:
  // Every value the path selects in `document`, in document order. The pointers point into
  // `document`.
  std::vector<const Json*> Select(const Json& document) const;
  // Copies of the selected values.
  std::vector<Json> Eval(const Json& document) const;

  enum class StepKind { kField, kIndex, kSlice, kWildcard, kFilter };
  enum class Comparison { kExists, kEqual, kNotEqual, kLess, kLessEqual, kGreater, kGreaterEqual };

  struct Step;
  struct Filter {
    std::vector<Step> left;   // path relative to the element (@)
    Comparison comparison = Comparison::kExists;
    bool right_is_path = false;
    std::vector<Step> right;  // when right_is_path
    Json literal;             // otherwise
  };
  struct Step {
    StepKind kind = StepKind::kField;
    std::string field;
    int64_t index = 0;  // kIndex; kSlice start
    int64_t end = 0;    // kSlice
    bool has_start = false, has_end = false;
    std::vector<Filter> filter;  // kFilter: exactly one entry
  };

 private:
  friend Result<JsonPath> ParseJsonPath(std::string_view text);
  std::vector<Step> steps_;
};

// Parses a path such as ".status.phase" or "{.spec.componentDefs[0].name}". The path must
// start with '.', '[' or '$'. Returns kBadRequest naming the position of the first problem.
Result<JsonPath> ParseJsonPath(std::string_view text);

// Parses and evaluates in one step. Returns no values when the path is malformed or matches
// nothing; use ParseJsonPath to tell the two apart.
std::vector<Json> EvalJsonPath(const Json& document, std::string_view path);

}  // namespace xblocks::api
