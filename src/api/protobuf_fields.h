// Typed field readers for the protobuf decoders in protobuf.cc. Internal to src/api.
//
// Each reader checks the wire type of the field it is given and names the field in its error,
// e.g. `protobuf field ObjectMeta.name has wire type 0, expected 2`.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "api/protobuf_wire.h"
#include "common/json.h"
#include "common/status.h"

namespace xblocks::api {

// Called once per field of a message; it must consume the field's value from the reader.
using FieldVisitor = std::function<Status(const WireTag& tag, WireReader& reader)>;

// Runs `visitor` over every field of the encoded message `bytes`.
Status VisitFields(std::string_view bytes, const FieldVisitor& visitor);

// `name` is the field's "Message.field" name, used in error messages.
Result<std::string> ReadStringField(const WireTag& tag, WireReader& reader, std::string_view name);
Result<std::string_view> ReadBytesField(const WireTag& tag, WireReader& reader, std::string_view name);
Result<int64_t> ReadInt64Field(const WireTag& tag, WireReader& reader, std::string_view name);
Result<bool> ReadBoolField(const WireTag& tag, WireReader& reader, std::string_view name);

// Reads one map<string, string> entry (or map<string, bytes> when `bytes_values`, stored
// base64-encoded) into the JSON object `map`.
Status ReadMapEntry(const WireTag& tag, WireReader& reader, std::string_view name, bool bytes_values,
                    Json& map);

// Sets `object[key]` only when `value` is not empty, as JSON omitempty does.
void SetIfNotEmpty(Json& object, const char* key, std::string value);
void SetIfNotEmpty(Json& object, const char* key, Json value);


}  // namespace xblocks::api
