#include <fmt/format.h>

#include "api/yaml.h"

namespace xblocks::api {
namespace {

bool PlainKey(const std::string& key) {
  if (key.empty()) return false;
  for (char c : key) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                         c == '_' || c == '/' || c == '-';
    if (!allowed) return false;
  }
  // A key that YAML reads as something other than a string keeps its quotes.
  static const char* kReserved[] = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"};
  for (const char* word : kReserved) {
    if (key.size() == std::string_view(word).size() &&
        std::equal(key.begin(), key.end(), word, [](char a, char b) { return std::tolower(a) == b; })) {
      return false;
    }
  }
  return !(key[0] >= '0' && key[0] <= '9') && key[0] != '-' && key[0] != '.';
}

std::string Key(const std::string& key) { return PlainKey(key) ? key : Json(key).dump(); }

bool IsInline(const Json& value) { return !value.is_structured() || value.empty(); }

void Emit(const Json& value, int indent, std::string& out);

// Writes the members of a non-empty object, each on its own line at `indent`.
void EmitObject(const Json& object, int indent, std::string& out) {
  for (const auto& [key, member] : object.items()) {
    out.append(indent, ' ');
    out += Key(key) + ":";
    if (IsInline(member)) {
      out += " " + member.dump() + "\n";
    } else if (member.is_array()) {
      out += "\n";
      Emit(member, indent, out);
    } else {
      out += "\n";
      Emit(member, indent + 2, out);
    }
  }
}

// Writes the items of a non-empty array as "- " entries at `indent`.
void EmitArray(const Json& array, int indent, std::string& out) {
  for (const Json& item : array) {
    out.append(indent, ' ');
    out += "-";
    if (IsInline(item)) {
      out += " " + item.dump() + "\n";
    } else if (item.is_object()) {
      // The first member shares the dash's line; the rest align under it.
      std::string nested;
      EmitObject(item, indent + 2, nested);
      out += " " + nested.substr(indent + 2);
    } else {
      out += "\n";
      Emit(item, indent + 2, out);
    }
  }
}

void Emit(const Json& value, int indent, std::string& out) {
  if (IsInline(value)) {
    out.append(indent, ' ');
    out += value.dump() + "\n";
  } else if (value.is_object()) {
    EmitObject(value, indent, out);
  } else {
    EmitArray(value, indent, out);
  }
}

}  // namespace

std::string EmitYaml(const Json& value) {
  std::string out;
  Emit(value, 0, out);
  return out;
}

}  // namespace xblocks::api
