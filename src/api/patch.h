// The four PATCH content types kubectl sends, as pure functions from (object, patch) to the
// patched object:
//
//   application/merge-patch+json            ApplyMergePatch          (RFC 7386)
//   application/json-patch+json             ApplyJsonPatch           (RFC 6902)
//   application/strategic-merge-patch+json  ApplyStrategicMergePatch (built-in kinds only)
//   application/apply-patch+yaml            ApplyServerSide          (server-side apply)
//
// None of them touches the store or the clock: the caller reads the live object, passes the
// time in, and writes the result. All functions are thread-safe and never throw. Input depth is
// limited to kMaxPatchDepth nested maps and lists, deeper input is rejected with kBadRequest.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/json.h"
#include "common/status.h"

namespace xblocks::api {

inline constexpr int kMaxPatchDepth = 512;

// Applies an RFC 7386 JSON merge patch: null deletes a key, maps merge, lists are replaced.
// Errors: kBadRequest when `patch` is not a JSON object.
Result<Json> ApplyMergePatch(const Json& original, const Json& patch);

// Applies an RFC 6902 JSON patch (add, remove, replace, move, copy, test) in order. The patch
// is atomic: on any error `original` is left as it was and no partial result is returned.
// Errors: kBadRequest for a malformed patch (not an array, an operation that is not an object,
// an unknown op, a missing "path"/"from"/"value", an invalid JSON pointer); kInvalid when a
// well-formed operation does not apply to the document (missing path, index out of range,
// failed test). Messages name the operation index, the op and the path.
Result<Json> ApplyJsonPatch(const Json& original, const Json& patch);

// Applies a Kubernetes strategic merge patch to an object of the built-in `kind`. Lists merge
// as list_strategy.h says for their path. Supported directives: null values, "$patch"
// (replace, merge, delete) on maps and list elements, "$setElementOrder/<list>",
// "$retainKeys" and "$deleteFromPrimitiveList/<list>".
// Precondition: the caller has rejected custom resources (strategic merge on a CRD is 415).
// Errors: kBadRequest for a malformed patch (not an object, an unknown directive, a list
// element without its merge key, too deep); the message names the field path.
Result<Json> ApplyStrategicMergePatch(const Json& original, const Json& patch,
                                      std::string_view kind);

struct ApplyOptions {
  std::string field_manager;  // the fieldManager query parameter, required
  bool force = false;         // the force query parameter: take over conflicting fields
  std::string api_version;    // apiVersion recorded in managedFields; empty means the body's
  std::chrono::system_clock::time_point now;  // time recorded in managedFields
};

// Server-side apply of `applied` (the request body, already parsed from YAML) onto `live`, which
// is null when the object does not exist yet.
//
// The result is `applied` itself on create, and otherwise `live` with the applied fields merged
// in (lists merge by key where list_strategy.h names a key, otherwise they are replaced), with
// fields this manager applied before and no longer applies removed unless another manager owns
// them, and with metadata.managedFields updated (a FieldsV1 entry with operation "Apply" for
// `options.field_manager`). Fields another manager owns and the request does not mention are
// never removed. The caller still sets uid, resourceVersion and the like, and decides what a
// status subresource means for the status field.
// Errors: kInvalid (cause field "fieldManager") when field_manager is empty; kBadRequest when
// `applied` is not an object, carries metadata.managedFields, changes the kind, or has a merge-
// keyed list element without its key or with a duplicate key; kConflict (causes of type
// FieldManagerConflict, one per field) when, without force, the request changes the value of a
// field another manager owns.
Result<Json> ApplyServerSide(const Json& live, const Json& applied, const ApplyOptions& options);

}  // namespace xblocks::api
