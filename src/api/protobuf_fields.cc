#include "api/protobuf_fields.h"

#include "common/base64.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <vector>

#include "api/yaml_scalar.h"

namespace xblocks::api {
namespace {

Status CheckWireType(const WireTag& tag, WireType expected, std::string_view name) {
  if (tag.wire_type == expected) return Status::Ok();
  return BadRequest(fmt::format("protobuf field {} has wire type {}, expected {}", name,
                                static_cast<int>(tag.wire_type), static_cast<int>(expected)));
}

}  // namespace

Status VisitFields(std::string_view bytes, const FieldVisitor& visitor) {
  WireReader reader(bytes);
  while (!reader.AtEnd()) {
    Result<WireTag> tag = reader.ReadTag();
    if (!tag.ok()) return tag.status();
    XB_RETURN_IF_ERROR(visitor(*tag, reader));
  }
  return Status::Ok();
}

Result<std::string_view> ReadBytesField(const WireTag& tag, WireReader& reader, std::string_view name) {
  XB_RETURN_IF_ERROR(CheckWireType(tag, WireType::kLengthDelimited, name));
  return reader.ReadLengthDelimited();
}

Result<std::string> ReadStringField(const WireTag& tag, WireReader& reader, std::string_view name) {
  Result<std::string_view> bytes = ReadBytesField(tag, reader, name);
  if (!bytes.ok()) return bytes.status();
  if (!IsValidUtf8(*bytes)) return BadRequest(fmt::format("protobuf field {} is not valid UTF-8", name));
  return std::string(*bytes);
}

Result<int64_t> ReadInt64Field(const WireTag& tag, WireReader& reader, std::string_view name) {
  XB_RETURN_IF_ERROR(CheckWireType(tag, WireType::kVarint, name));
  Result<uint64_t> value = reader.ReadVarint();
  if (!value.ok()) return value.status();
  return static_cast<int64_t>(*value);
}

Result<bool> ReadBoolField(const WireTag& tag, WireReader& reader, std::string_view name) {
  Result<int64_t> value = ReadInt64Field(tag, reader, name);
  if (!value.ok()) return value.status();
  return *value != 0;
}

Status ReadMapEntry(const WireTag& tag, WireReader& reader, std::string_view name, bool bytes_values,
                    Json& map) {
  Result<std::string_view> entry = ReadBytesField(tag, reader, name);
  if (!entry.ok()) return entry.status();
  std::string key;
  Json value = "";
  Status status = VisitFields(*entry, [&](const WireTag& field, WireReader& fields) -> Status {
    if (field.field_number == 1) {
      Result<std::string> text = ReadStringField(field, fields, fmt::format("{} key", name));
      if (!text.ok()) return text.status();
      key = std::move(text).value();
    } else if (field.field_number == 2 && bytes_values) {
      Result<std::string_view> bytes = ReadBytesField(field, fields, fmt::format("{}[{}]", name, key));
      if (!bytes.ok()) return bytes.status();
      value = Base64Encode(*bytes);
    } else if (field.field_number == 2) {
      Result<std::string> text = ReadStringField(field, fields, fmt::format("{}[{}]", name, key));
      if (!text.ok()) return text.status();
      value = std::move(text).value();
    } else {
      return fields.SkipValue(field.wire_type);
    }
    return Status::Ok();
  });
  XB_RETURN_IF_ERROR(status);
  if (!map.is_object()) map = Json::object();
  map[key] = std::move(value);
  return Status::Ok();
}

void SetIfNotEmpty(Json& object, const char* key, std::string value) {
  if (!value.empty()) object[key] = std::move(value);
}

void SetIfNotEmpty(Json& object, const char* key, Json value) {
  if (!value.is_null() && !(value.is_structured() && value.empty())) object[key] = std::move(value);
}


}  // namespace xblocks::api
