// ObjectMeta validation shared by every kind: name, generateName, namespace, labels,
// annotations and finalizers, with kube-apiserver's messages.
#pragma once

#include "api/field_errors.h"
#include "api/scheme.h"
#include "common/json.h"

namespace xblocks::api {

// Appends the errors of `metadata` (the object's `metadata` value, null when absent). Names are
// DNS-1123 subdomains, except namespaces (DNS-1123 labels), services (DNS-1035 labels) and RBAC
// kinds (path segments). A namespaced object needs metadata.namespace; a cluster-scoped one must
// not have it, so callers clear it first the way kube-apiserver does.
void ValidateObjectMeta(const ResourceType& type, const Json& metadata, FieldErrors& errors);

// The DNS-1123 subdomain check on its own: returns the error message for `value`, or "".
std::string Dns1123SubdomainError(const std::string& value);
// The DNS-1123 label check on its own: returns the error message for `value`, or "".
std::string Dns1123LabelError(const std::string& value);

}  // namespace xblocks::api
