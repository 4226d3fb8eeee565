#include "api/metadata_validation.h"

#include <cctype>

#include <fmt/format.h>

#include "api/pattern_cache.h"

namespace xblocks::api {
namespace {

constexpr size_t kMaxAnnotationsBytes = 256 * 1024;

constexpr const char* kSubdomainRegex = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr const char* kLabelRegex = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
constexpr const char* kDns1035Regex = "[a-z]([-a-z0-9]*[a-z0-9])?";
constexpr const char* kQualifiedNameRegex = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr const char* kLabelValueRegex = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";

bool FullMatch(const char* regex, const std::string& value) {
  Result<bool> matches = MatchesPattern(std::string("^(") + regex + ")$", value);
  return matches.ok() && *matches;
}

std::string Dns1035LabelError(const std::string& value) {
  if (value.size() > 63) return "must be no more than 63 characters";
  if (FullMatch(kDns1035Regex, value)) return "";
  return fmt::format(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
      "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
      "regex used for validation is '{}')",
      kDns1035Regex);
}

std::string PathSegmentError(const std::string& value) {
  if (value == "." || value == "..") return fmt::format("may not be '{}'", value);
  if (value.find('/') != std::string::npos) return "may not contain '/'";
  if (value.find('%') != std::string::npos) return "may not contain '%'";
  return "";
}

std::string NameError(const ResourceType& type, const std::string& name) {
  if (type.group.empty() && type.plural == "namespaces") return Dns1123LabelError(name);
  if (type.group.empty() && type.plural == "services") return Dns1035LabelError(name);
  if (type.group == "rbac.authorization.k8s.io") return PathSegmentError(name);
  return Dns1123SubdomainError(name);
}

// Returns the first message that makes `key` an invalid qualified name ("prefix/name"), or "".
std::string QualifiedNameError(const std::string& key) {
  std::string name = key;
  size_t slash = key.find('/');
  if (slash != std::string::npos) {
    if (key.find('/', slash + 1) != std::string::npos) {
      return fmt::format("a qualified name must consist of alphanumeric characters, '-', '_' or '.', "
                         "and must start and end with an alphanumeric character (e.g. 'MyName',  or "
                         "'my.name',  or '123-abc', regex used for validation is '{}') with an optional "
                         "DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                         kQualifiedNameRegex);
    }
    std::string prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (prefix.empty()) return "prefix part must be non-empty";
    std::string prefix_error = Dns1123SubdomainError(prefix);
    if (!prefix_error.empty()) return "prefix part " + prefix_error;
  }
  if (name.empty()) return "name part must be non-empty";
  if (name.size() > 63) return "name part must be no more than 63 characters";
  if (FullMatch(kQualifiedNameRegex, name)) return "";
  return fmt::format("name part must consist of alphanumeric characters, '-', '_' or '.', and must "
                     "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
                     "'123-abc', regex used for validation is '{}')",
                     kQualifiedNameRegex);
}

std::string LabelValueError(const std::string& value) {
  if (value.size() > 63) return "must be no more than 63 characters";
  if (FullMatch(kLabelValueRegex, value)) return "";
  return fmt::format("a valid label must be an empty string or consist of alphanumeric characters, "
                     "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                     "'MyValue',  or 'my_value',  or '12345', regex used for validation is '{}')",
                     kLabelValueRegex);
}

// Checks that `value` is a map of strings; returns false (after reporting) when it is not.
bool CheckStringMap(const Json& value, const std::string& path, FieldErrors& errors) {
  if (!value.is_object()) {
    errors.push_back(TypeInvalidError(path, Json(SchemaTypeName(value)).dump(),
                                      "must be a map of string keys to string values"));
    return false;
  }
  bool ok = true;
  for (const auto& [key, item] : value.items()) {
    if (item.is_string()) continue;
    errors.push_back(TypeInvalidError(ChildPath(path, key), Json(SchemaTypeName(item)).dump(),
                                      "must be of type string"));
    ok = false;
  }
  return ok;
}

void ValidateLabels(const Json& labels, FieldErrors& errors) {
  if (!CheckStringMap(labels, "metadata.labels", errors)) return;
  for (const auto& [key, value] : labels.items()) {
    std::string key_error = QualifiedNameError(key);
    if (!key_error.empty()) errors.push_back(InvalidError("metadata.labels", Json(key).dump(), key_error));
    std::string value_error = LabelValueError(value.get<std::string>());
    if (!value_error.empty()) {
      errors.push_back(InvalidError("metadata.labels", FormatValue(value), value_error));
    }
  }
}

void ValidateAnnotations(const Json& annotations, FieldErrors& errors) {
  if (!CheckStringMap(annotations, "metadata.annotations", errors)) return;
  size_t total = 0;
  for (const auto& [key, value] : annotations.items()) {
    std::string lower = key;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string key_error = QualifiedNameError(lower);
    if (!key_error.empty()) {
      errors.push_back(InvalidError("metadata.annotations", Json(key).dump(), key_error));
    }
    total += key.size() + value.get_ref<const std::string&>().size();
  }
  if (total > kMaxAnnotationsBytes) errors.push_back(TooLongBytesError("metadata.annotations", kMaxAnnotationsBytes));
}

void ValidateFinalizers(const Json& finalizers, FieldErrors& errors) {
  if (!finalizers.is_array()) {
    errors.push_back(TypeInvalidError("metadata.finalizers", Json(SchemaTypeName(finalizers)).dump(),
                                      "must be a list of strings"));
    return;
  }
  for (size_t i = 0; i < finalizers.size(); ++i) {
    const Json& finalizer = finalizers[i];
    std::string error = finalizer.is_string() ? QualifiedNameError(finalizer.get<std::string>())
                                              : "must be of type string";
    if (!error.empty()) errors.push_back(InvalidError(IndexPath("metadata.finalizers", i), FormatValue(finalizer), error));
  }
}

void ValidateName(const ResourceType& type, const Json& metadata, FieldErrors& errors) {
  const Json name = metadata.value("name", Json());
  const Json generate_name = metadata.value("generateName", Json());
  if (!name.is_null() && !name.is_string()) {
    errors.push_back(TypeInvalidError("metadata.name", Json(SchemaTypeName(name)).dump(), "must be of type string"));
    return;
  }
  if (name.is_string() && !name.get_ref<const std::string&>().empty()) {
    std::string error = NameError(type, name.get<std::string>());
    if (!error.empty()) errors.push_back(InvalidError("metadata.name", FormatValue(name), error));
    return;
  }
  if (!generate_name.is_string() || generate_name.get_ref<const std::string&>().empty()) {
    errors.push_back(RequiredError("metadata.name", "name or generateName is required"));
    return;
  }
  // A generated name gets a random suffix, so only the prefix without trailing '-' must be valid.
  std::string prefix = generate_name.get<std::string>();
  while (!prefix.empty() && prefix.back() == '-') prefix.pop_back();
  std::string error = prefix.empty() ? "" : NameError(type, prefix);
  if (!error.empty()) errors.push_back(InvalidError("metadata.generateName", FormatValue(generate_name), error));
}

void ValidateNamespace(const ResourceType& type, const Json& metadata, FieldErrors& errors) {
  Json ns = metadata.value("namespace", Json());
  bool empty = ns.is_null() || (ns.is_string() && ns.get_ref<const std::string&>().empty());
  if (!type.namespaced) {
    if (!empty) errors.push_back(ForbiddenError("metadata.namespace", "not allowed on this type"));
    return;
  }
  if (empty) {
    errors.push_back(RequiredError("metadata.namespace"));
    return;
  }
  std::string error = ns.is_string() ? Dns1123LabelError(ns.get<std::string>()) : "must be of type string";
  if (!error.empty()) errors.push_back(InvalidError("metadata.namespace", FormatValue(ns), error));
}

}  // namespace

std::string Dns1123SubdomainError(const std::string& value) {
  if (value.size() > 253) return "must be no more than 253 characters";
  if (FullMatch(kSubdomainRegex, value)) return "";
  return fmt::format("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                     "characters, '-' or '.', and must start and end with an alphanumeric character "
                     "(e.g. 'example.com', regex used for validation is '{}')",
                     kSubdomainRegex);
}

std::string Dns1123LabelError(const std::string& value) {
  if (value.size() > 63) return "must be no more than 63 characters";
  if (FullMatch(kLabelRegex, value)) return "";
  return fmt::format("a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                     "or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  "
                     "or '123-abc', regex used for validation is '{}')",
                     kLabelRegex);
}

void ValidateObjectMeta(const ResourceType& type, const Json& metadata, FieldErrors& errors) {
  if (!metadata.is_object()) {
    if (metadata.is_null()) {
      errors.push_back(RequiredError("metadata.name", "name or generateName is required"));
    } else {
      errors.push_back(TypeInvalidError("metadata", Json(SchemaTypeName(metadata)).dump(), "must be of type object"));
    }
    return;
  }
  ValidateName(type, metadata, errors);
  ValidateNamespace(type, metadata, errors);
  if (metadata.contains("labels") && !metadata["labels"].is_null()) ValidateLabels(metadata["labels"], errors);
  if (metadata.contains("annotations") && !metadata["annotations"].is_null()) {
    ValidateAnnotations(metadata["annotations"], errors);
  }
  if (metadata.contains("finalizers") && !metadata["finalizers"].is_null()) {
    ValidateFinalizers(metadata["finalizers"], errors);
  }
}

}  // namespace xblocks::api
