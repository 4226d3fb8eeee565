#include "api/protobuf_wire.h"

#include <fmt/format.h>

namespace xblocks::api {

Result<uint64_t> WireReader::ReadVarint() {
  uint64_t value = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (AtEnd()) return BadRequest("protobuf body is truncated inside a varint");
    auto byte = static_cast<uint8_t>(data_[position_++]);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  return BadRequest("protobuf body has a varint longer than 10 bytes");
}

Result<WireTag> WireReader::ReadTag() {
  Result<uint64_t> key = ReadVarint();
  if (!key.ok()) return key.status();
  uint64_t number = *key >> 3;
  auto type = static_cast<uint8_t>(*key & 7);
  if (number == 0 || number > 0x1fffffff) {
    return BadRequest(fmt::format("protobuf body has an invalid field number {}", number));
  }
  if (type > 5) return BadRequest(fmt::format("protobuf body has an invalid wire type {}", type));
  return WireTag{static_cast<uint32_t>(number), static_cast<WireType>(type)};
}

Result<std::string_view> WireReader::ReadBytes(uint64_t count) {
  if (count > data_.size() - position_) {
    return BadRequest(fmt::format("protobuf body is truncated: a field of {} bytes has only {} left",
                                  count, data_.size() - position_));
  }
  std::string_view bytes = data_.substr(position_, count);
  position_ += count;
  return bytes;
}

Result<std::string_view> WireReader::ReadLengthDelimited() {
  Result<uint64_t> length = ReadVarint();
  if (!length.ok()) return length.status();
  return ReadBytes(*length);
}

Result<uint32_t> WireReader::ReadFixed32() {
  Result<std::string_view> bytes = ReadBytes(4);
  if (!bytes.ok()) return bytes.status();
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<uint8_t>((*bytes)[i]);
  return value;
}

Result<uint64_t> WireReader::ReadFixed64() {
  Result<std::string_view> bytes = ReadBytes(8);
  if (!bytes.ok()) return bytes.status();
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<uint8_t>((*bytes)[i]);
  return value;
}

Status WireReader::SkipValue(WireType type) {
  switch (type) {
    case WireType::kVarint: return ReadVarint().status();
    case WireType::kFixed64: return ReadFixed64().status();
    case WireType::kLengthDelimited: return ReadLengthDelimited().status();
    case WireType::kFixed32: return ReadFixed32().status();
    case WireType::kStartGroup:
    case WireType::kEndGroup: break;
  }
  return BadRequest("protobuf body uses groups, which Kubernetes objects never contain");
}

}  // namespace xblocks::api
