#include "api/managed_fields.h"

#include <ctime>

namespace xblocks::api {
namespace {

std::string StringMember(const Json& entry, const char* name) {
  auto it = entry.find(name);
  return it != entry.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::vector<ManagedFieldsEntry> ParseManagedFields(const Json& object) {
  std::vector<ManagedFieldsEntry> entries;
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) return entries;
  const Json& metadata = object["metadata"];
  auto list = metadata.find("managedFields");
  if (list == metadata.end() || !list->is_array()) return entries;

  for (const Json& item : *list) {
    if (!item.is_object()) continue;
    ManagedFieldsEntry entry;
    entry.manager = StringMember(item, "manager");
    entry.operation = StringMember(item, "operation");
    entry.api_version = StringMember(item, "apiVersion");
    entry.time = StringMember(item, "time");
    entry.subresource = StringMember(item, "subresource");
    if (entry.manager.empty() || entry.operation.empty()) continue;
    Result<FieldSet> fields = FieldSet::FromFieldsV1(item.value("fieldsV1", Json::object()));
    if (!fields.ok()) continue;
    entry.fields = std::move(fields).value();
    entries.push_back(std::move(entry));
  }
  return entries;
}

Json ManagedFieldsToJson(const std::vector<ManagedFieldsEntry>& entries) {
  Json list = Json::array();
  for (const ManagedFieldsEntry& entry : entries) {
    if (entry.fields.empty()) continue;
    Json item = {{"manager", entry.manager},
                 {"operation", entry.operation},
                 {"apiVersion", entry.api_version},
                 {"fieldsType", "FieldsV1"},
                 {"fieldsV1", entry.fields.ToFieldsV1()}};
    if (!entry.time.empty()) item["time"] = entry.time;
    if (!entry.subresource.empty()) item["subresource"] = entry.subresource;
    list.push_back(std::move(item));
  }
  return list;
}

std::string FormatRfc3339(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

}  // namespace xblocks::api
