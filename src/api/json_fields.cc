#include "api/json_fields.h"

namespace xblocks::api {

std::vector<std::string_view> SplitDottedPath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    if (dot == std::string_view::npos) {
      segments.push_back(path.substr(start));
      return segments;
    }
    segments.push_back(path.substr(start, dot - start));
    start = dot + 1;
  }
}

const Json* FindPath(const Json& object, std::string_view path) {
  const Json* current = &object;
  for (std::string_view segment : SplitDottedPath(path)) {
    if (!current->is_object()) return nullptr;
    auto it = current->find(segment);
    if (it == current->end()) return nullptr;
    current = &*it;
  }
  return current;
}

std::string StringAt(const Json& object, std::string_view path) {
  const Json* value = FindPath(object, path);
  if (value == nullptr || !value->is_string()) return "";
  return value->get<std::string>();
}

int64_t IntAt(const Json& object, std::string_view path, int64_t fallback) {
  const Json* value = FindPath(object, path);
  if (value == nullptr || !value->is_number_integer()) return fallback;
  return value->get<int64_t>();
}

const Json& ArrayAt(const Json& object, std::string_view path) {
  static const Json kEmptyArray = Json::array();
  const Json* value = FindPath(object, path);
  if (value == nullptr || !value->is_array()) return kEmptyArray;
  return *value;
}

const Json& ObjectAt(const Json& object, std::string_view path) {
  static const Json kEmptyObject = Json::object();
  const Json* value = FindPath(object, path);
  if (value == nullptr || !value->is_object()) return kEmptyObject;
  return *value;
}

const Json& MemberOf(const Json& object, std::string_view key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string StringMemberOf(const Json& object, std::string_view key) {
  const Json& value = MemberOf(object, key);
  return value.is_string() ? value.get<std::string>() : "";
}

std::string ScalarText(const Json* value) {
  if (value == nullptr) return "";
  if (value->is_string()) return value->get<std::string>();
  if (value->is_boolean()) return value->get<bool>() ? "true" : "false";
  if (value->is_number()) return value->dump();
  return "";
}

}  // namespace xblocks::api
