// Table rendering: column selection, CRD cells by JSONPath, and row objects.
#include "api/table.h"

#include <fmt/format.h>

#include <optional>

#include "api/json_fields.h"
#include "api/jsonpath.h"
#include "api/table_printers.h"
#include "common/time.h"

namespace xblocks::api {
namespace {

constexpr const char* kCreationTimestampPath = ".metadata.creationTimestamp";

// Go's zero time, which metav1.Time renders as "<unknown>" in ages.
constexpr std::string_view kGoZeroTime = "0001-01-01T00:00:00Z";

PrinterColumn AgeDateColumn() {
  return PrinterColumn{"Age", "date", "", "Time since the object was created.", kCreationTimestampPath, 0};
}

PrinterColumn CreatedAtColumn() {
  return PrinterColumn{"Created At", "date", "", "The time the object was created.", kCreationTimestampPath, 0};
}

bool AllColumnsHavePaths(const std::vector<PrinterColumn>& columns) {
  if (columns.empty()) return false;
  for (const PrinterColumn& column : columns) {
    if (column.json_path.empty()) return false;
  }
  return true;
}

// The columns evaluated by JSONPath, after the Name column, for kinds without a printer.
std::vector<PrinterColumn> PathColumns(const ResourceType& type) {
  if (AllColumnsHavePaths(type.columns)) return type.columns;
  if (!type.builtin) return {AgeDateColumn()};
  return {CreatedAtColumn()};
}

Json ColumnJson(const PrinterColumn& column) {
  std::string description = column.description;
  if (description.empty() && !column.json_path.empty()) {
    description = "Custom resource definition column (in JSONPath format): " + column.json_path;
  }
  return Json{{"name", column.name},         {"type", column.type},
              {"format", column.format},     {"description", description},
              {"priority", column.priority}};
}

// The text form of a value in a "string" column, as kubectl's JSONPath printer writes it.
std::string ValueText(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number_float()) return fmt::format("{}", value.get<double>());
  return value.dump();
}

Json DateCell(const Json& value, TimePoint now) {
  if (!value.is_string()) return nullptr;
  if (value.get_ref<const std::string&>() == kGoZeroTime) return "<unknown>";
  return AgeSince(value.get<std::string>(), now);
}

// One CRD cell from the first JSONPath result, converted by the column type.
Json CellForValue(const std::string& column_type, const Json& value, TimePoint now) {
  if (value.is_null()) return nullptr;
  if (column_type == "string") return ValueText(value);
  if (column_type == "integer") {
    if (value.is_number_integer()) return value;
    if (value.is_number_float()) return static_cast<int64_t>(value.get<double>());
    return nullptr;
  }
  if (column_type == "number") return value.is_number() ? Json(value.get<double>()) : Json(nullptr);
  if (column_type == "boolean") return value.is_boolean() ? value : Json(nullptr);
  if (column_type == "date") return DateCell(value, now);
  return nullptr;
}

// The "Created At" cell of kube-apiserver's default printer: the timestamp itself, in UTC.
Json CreatedAtCell(const Json& value) {
  if (!value.is_string()) return nullptr;
  std::optional<TimePoint> time = ParseRfc3339(value.get<std::string>());
  return time ? FormatRfc3339(*time) : value.get<std::string>();
}

struct CompiledColumn {
  PrinterColumn column;
  std::optional<JsonPath> path;  // nullopt when the path does not parse: every cell is null
  bool created_at = false;
};

std::vector<CompiledColumn> CompileColumns(const std::vector<PrinterColumn>& columns, bool default_printer) {
  std::vector<CompiledColumn> compiled;
  for (const PrinterColumn& column : columns) {
    Result<JsonPath> path = ParseJsonPath(column.json_path);
    compiled.push_back({column, path.ok() ? std::optional<JsonPath>(*path) : std::nullopt, default_printer});
  }
  return compiled;
}

Json PathCells(const std::vector<CompiledColumn>& columns, const Json& object, TimePoint now) {
  Json cells = Json::array({StringAt(object, "metadata.name")});
  for (const CompiledColumn& c : columns) {
    std::vector<const Json*> results = c.path ? c.path->Select(object) : std::vector<const Json*>();
    if (results.empty()) {
      cells.push_back(nullptr);
    } else if (c.created_at) {
      cells.push_back(CreatedAtCell(*results.front()));
    } else {
      cells.push_back(CellForValue(c.column.type, *results.front(), now));
    }
  }
  return cells;
}

Json RowObject(const Json& object, const TableOptions& options) {
  if (options.include_object == "Object") return object;
  Json metadata = object.is_object() && object.contains("metadata") ? object["metadata"] : Json::object();
  return Json{{"kind", "PartialObjectMetadata"}, {"apiVersion", options.api_version}, {"metadata", metadata}};
}

Json TableMetadata(const TableOptions& options) {
  Json metadata = Json::object();
  if (!options.resource_version.empty()) metadata["resourceVersion"] = options.resource_version;
  if (!options.continue_token.empty()) metadata["continue"] = options.continue_token;
  return metadata;
}

}  // namespace

Status ValidateIncludeObject(std::string_view value) {
  if (value.empty() || value == "None" || value == "Metadata" || value == "Object") return Status::Ok();
  return BadRequest(fmt::format("unrecognized includeObject value: \"{}\"; use None, Metadata or Object", value));
}

Json TableColumnDefinitions(const ResourceType& type) {
  Json definitions = Json::array();
  if (const BuiltinPrinter* printer = type.builtin ? FindBuiltinPrinter(type.kind) : nullptr) {
    for (const PrinterColumn& column : printer->columns) definitions.push_back(ColumnJson(column));
    return definitions;
  }
  definitions.push_back(ColumnJson(NameColumn()));
  for (const PrinterColumn& column : PathColumns(type)) definitions.push_back(ColumnJson(column));
  return definitions;
}

Json ToTable(const ResourceType& type, const std::vector<Json>& objects, const TableOptions& options) {
  const BuiltinPrinter* printer = type.builtin ? FindBuiltinPrinter(type.kind) : nullptr;
  std::vector<CompiledColumn> path_columns;
  if (printer == nullptr) {
    bool default_printer = type.builtin && !AllColumnsHavePaths(type.columns);
    path_columns = CompileColumns(PathColumns(type), default_printer);
  }

  Json rows = Json::array();
  for (const Json& object : objects) {
    Json row = {{"cells", printer ? printer->cells(object, options.now) : PathCells(path_columns, object, options.now)}};
    if (options.include_object != "None") row["object"] = RowObject(object, options);
    rows.push_back(std::move(row));
  }
  return Json{{"kind", "Table"},
              {"apiVersion", options.api_version},
              {"metadata", TableMetadata(options)},
              {"columnDefinitions", options.column_definitions ? TableColumnDefinitions(type) : Json::array()},
              {"rows", std::move(rows)}};
}

}  // namespace xblocks::api
