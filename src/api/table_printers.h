// Printers for built-in kinds, modelled on kube-apiserver's printers. Internal to table*.cc.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/scheme.h"
#include "common/json.h"
#include "common/time.h"

namespace xblocks::api {

// The description kube-apiserver gives every Name column.
extern const char* const kNameColumnDescription;

// A kind's columns, Name included, and the function that renders one object's cells in the
// same order.
struct BuiltinPrinter {
  std::vector<PrinterColumn> columns;
  std::function<Json(const Json& object, TimePoint now)> cells;
};

// The printer for a built-in kind, or nullptr when the kind has none.
const BuiltinPrinter* FindBuiltinPrinter(std::string_view kind);

// Column helpers: a "string" column; Name has format "name".
PrinterColumn NameColumn();
PrinterColumn TextColumn(std::string name, std::string description, int priority = 0);

// The age since the RFC 3339 timestamp at `path`: "<unknown>" when missing, "<invalid>" when it
// does not parse.
std::string AgeAt(const Json& object, std::string_view path, TimePoint now);
// The age since `text`, with the same rules.
std::string AgeSince(std::string_view text, TimePoint now);

// "<none>" for an empty string, otherwise the string.
std::string OrNone(std::string text);
// Labels in kubectl's "k=v,k2=v2" form, sorted by key; "<none>" when there are none.
std::string FormatLabels(const Json& labels);
// Joins strings with a separator.
std::string Join(const std::vector<std::string>& parts, std::string_view separator);

BuiltinPrinter PodPrinter();
BuiltinPrinter ServicePrinter();
BuiltinPrinter EndpointsPrinter();
BuiltinPrinter SecretPrinter();
BuiltinPrinter ConfigMapPrinter();
BuiltinPrinter ServiceAccountPrinter();
BuiltinPrinter NamespacePrinter();
BuiltinPrinter PersistentVolumeClaimPrinter();
BuiltinPrinter EventPrinter();
BuiltinPrinter NodePrinter();
BuiltinPrinter RolePrinter();
BuiltinPrinter RoleBindingPrinter();

}  // namespace xblocks::api
