// Decoding of Kubernetes protobuf request bodies (Content-Type
// application/vnd.kubernetes.protobuf), which kubectl 1.32 and later sends for the typed
// `kubectl create namespace|configmap|secret|serviceaccount` commands.
#pragma once

#include <string_view>

#include "common/json.h"
#include "common/status.h"

namespace xblocks::api {

// Decodes a protobuf body into the JSON object kubectl would have sent as JSON: apiVersion,
// kind, metadata and the kind's fields, leaving out empty strings, empty maps and lists, zero
// generation and unset timestamps, as JSON with omitempty does. Secret data and ConfigMap
// binaryData values are base64-encoded.
//
// The body is the 4-byte magic "k8s\0" followed by a runtime.Unknown message whose raw field
// contains the object. Supported kinds: Namespace, ConfigMap, Secret and ServiceAccount (v1).
// Unknown fields are skipped. Thread-safe; reads nothing outside `body`.
// Errors: kUnsupportedMediaType for any other kind; kBadRequest for a malformed body (missing
// magic, truncated or over-long fields, wrong wire types, strings that are not UTF-8, an
// apiVersion other than v1, a content encoding).
Result<Json> DecodeProtobufObject(std::string_view body);

}  // namespace xblocks::api
