#include "api/field_errors.h"

#include <cmath>

#include <fmt/format.h>

namespace xblocks::api {

std::string ChildPath(const std::string& parent, const std::string& child) {
  return parent.empty() ? child : parent + "." + child;
}

std::string IndexPath(const std::string& parent, size_t index) {
  return fmt::format("{}[{}]", parent, index);
}

std::string FormatValue(const Json& value) {
  // Json::dump escapes invalid UTF-8 instead of throwing, so any client input formats.
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string SchemaTypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string:
      return "string";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "integer";
    case Json::value_t::number_float: {
      double number = value.get<double>();
      return std::isfinite(number) && std::trunc(number) == number ? "integer" : "number";
    }
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::object:
      return "object";
    case Json::value_t::array:
      return "array";
    default:
      return "null";
  }
}

StatusCause RequiredError(const std::string& field, const std::string& detail) {
  std::string message = detail.empty() ? "Required value" : "Required value: " + detail;
  return {"FieldValueRequired", message, field};
}

StatusCause InvalidError(const std::string& field, const std::string& value_text,
                         const std::string& detail) {
  return {"FieldValueInvalid", fmt::format("Invalid value: {}: {}", value_text, detail), field};
}

StatusCause TypeInvalidError(const std::string& field, const std::string& value_text,
                             const std::string& detail) {
  return {"FieldValueTypeInvalid", fmt::format("Invalid value: {}: {}", value_text, detail), field};
}

StatusCause NotSupportedError(const std::string& field, const Json& value, const Json& supported) {
  std::string list;
  for (const Json& item : supported) {
    if (!list.empty()) list += ", ";
    list += FormatValue(item);
  }
  return {"FieldValueNotSupported",
          fmt::format("Unsupported value: {}: supported values: {}", FormatValue(value), list), field};
}

StatusCause TooLongError(const std::string& field, int64_t max_length) {
  return {"FieldValueTooLong", fmt::format("Too long: may not be longer than {}", max_length), field};
}

StatusCause TooLongBytesError(const std::string& field, int64_t max_bytes) {
  return {"FieldValueTooLong", fmt::format("Too long: must have at most {} bytes", max_bytes), field};
}

StatusCause TooManyError(const std::string& field, int64_t actual, int64_t max_items) {
  return {"FieldValueTooMany",
          fmt::format("Too many: {}: must have at most {} items", actual, max_items), field};
}

StatusCause DuplicateError(const std::string& field, const std::string& value_text) {
  return {"FieldValueDuplicate", "Duplicate value: " + value_text, field};
}

StatusCause ForbiddenError(const std::string& field, const std::string& detail) {
  return {"FieldValueForbidden", "Forbidden: " + detail, field};
}

}  // namespace xblocks::api
