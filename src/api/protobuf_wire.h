// A bounds-checked reader of the protobuf wire format (proto2/proto3 encoding).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace xblocks::api {

enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

struct WireTag {
  uint32_t field_number = 0;
  WireType wire_type = WireType::kVarint;
};

// Reads fields from a view of an encoded message. Never reads past the end of the view: every
// read that would returns kBadRequest. The reader does not own the bytes, which must outlive it.
// Not thread-safe.
class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}

  bool AtEnd() const { return position_ >= data_.size(); }

  // Reads a field key. Errors: kBadRequest for field number 0, an unknown wire type or a
  // truncated key.
  Result<WireTag> ReadTag();
  // Errors: kBadRequest when the varint is truncated or longer than 10 bytes.
  Result<uint64_t> ReadVarint();
  // Returns the bytes of a length-delimited field as a view into the input.
  Result<std::string_view> ReadLengthDelimited();
  Result<uint32_t> ReadFixed32();
  Result<uint64_t> ReadFixed64();
  // Skips the value of a field of the given type. Groups are rejected as kBadRequest: no
  // Kubernetes message uses them.
  Status SkipValue(WireType type);

 private:
  Result<std::string_view> ReadBytes(uint64_t count);

  std::string_view data_;
  size_t position_ = 0;
};

}  // namespace xblocks::api
