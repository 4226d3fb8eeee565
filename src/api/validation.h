// Admission checks of the API server: structural schema validation, CEL rules, ObjectMeta
// validation, defaulting, and unknown-field detection or pruning, as kube-apiserver applies them
// to custom resources.
//
// The usual order on create and update is: PruneUnknownFields (fieldValidation=Ignore) or
// FindUnknownFields (Strict and Warn), then ApplyDefaults, then ValidateObject.
// All functions are thread-safe and never throw.
#pragma once

#include <string>
#include <vector>

#include "api/scheme.h"
#include "common/json.h"
#include "common/status.h"

namespace xblocks::api {

// Validates `object` against its kind: ObjectMeta rules, the kind's structural schema and its
// x-kubernetes-validations rules. Transition rules (`self == oldSelf`) run only when
// `old_object` is given (an update) and only where the old object has a value.
//
// Returns Ok, or kInvalid with details {name, group, kind = the Kind, causes} and the message
// `<Kind>.<group> "<name>" is invalid: <field>: <message>`, the causes in brackets and
// comma-separated when there are several. Kinds without a schema get the ObjectMeta checks only.
Status ValidateObject(const ResourceType& type, const Json& object, const Json* old_object);

// Sets schema `default` values on `object` wherever the field is missing (or null and not
// nullable) and its parent object exists, including inside array items and map values.
// Kinds without a schema are left unchanged.
void ApplyDefaults(const ResourceType& type, Json& object);

// Returns the paths of fields the kind's schema does not declare, as kube reports them in
// `unknown field "<path>"`: `spec.foo`, `spec.componentSpecs[0].bogus`, `metadata.bogus`.
// apiVersion, kind, metadata, spec and status are always known at the top level, metadata is
// checked against ObjectMeta's fields, and subtrees marked x-kubernetes-preserve-unknown-fields
// are not searched.
std::vector<std::string> FindUnknownFields(const ResourceType& type, const Json& object);

// Removes every field FindUnknownFields would report (fieldValidation=Ignore).
void PruneUnknownFields(const ResourceType& type, Json& object);

// Checks that the validator supports everything in a CRD schema: every `pattern` compiles and
// every x-kubernetes-validations rule has a C++ implementation. Returns kInternal otherwise.
Status CheckSchemaSupported(const Json& schema);

}  // namespace xblocks::api
