// RegisterNodes(): creates or updates the Node objects and deletes virtual nodes no longer requested.
#include <set>

#include "api/json_fields.h"
#include "common/log.h"
#include "node/nodes.h"

namespace xblocks::node {
namespace {

bool IsXblocksKey(const std::string& key) { return key.rfind("xblocks.io/", 0) == 0; }

// `current` with the desired entries set and the xblocks.io/ entries no longer desired removed.
Json MergeOwnedKeys(const Json& current, const Json& desired) {
  Json merged = current.is_object() ? current : Json::object();
  for (auto it = merged.begin(); it != merged.end();) {
    it = IsXblocksKey(it.key()) && !desired.contains(it.key()) ? merged.erase(it) : std::next(it);
  }
  for (const auto& [key, value] : desired.items()) merged[key] = value;
  return merged;
}

// The desired status, keeping a condition's lastTransitionTime while its status is unchanged.
Json StatusKeepingTransitions(const Json& current, const Json& desired) {
  Json status = desired;
  for (Json& condition : status["conditions"]) {
    for (const Json& existing : api::ArrayAt(current, "status.conditions")) {
      if (api::StringAt(existing, "type") != condition["type"]) continue;
      if (api::StringAt(existing, "status") != condition["status"]) continue;
      const std::string since = api::StringAt(existing, "lastTransitionTime");
      if (!since.empty()) condition["lastTransitionTime"] = since;
    }
  }
  return status;
}

Result<Json> CreateNode(client::Client& client, const Json& desired) {
  auto created = client.Create(client::resources::kNodes, desired);
  if (!created.ok()) return created.status();
  XB_LOG_INFO("node registered", {{"name", api::StringAt(desired, "metadata.name")}});
  return created;
}

Result<Json> UpdateMetadata(client::Client& client, Json current, const Json& desired) {
  Json merged = current;
  for (const char* field : {"labels", "annotations"}) {
    merged["metadata"][field] = MergeOwnedKeys(api::ObjectAt(current, std::string("metadata.") + field),
                                               api::ObjectAt(desired, std::string("metadata.") + field));
  }
  if (merged["metadata"] == current["metadata"]) return current;
  auto updated = client.Update(client::resources::kNodes, merged);
  if (!updated.ok()) return updated.status();
  XB_LOG_INFO("node updated", {{"name", api::StringAt(desired, "metadata.name")}});
  return updated;
}

Status UpdateNodeStatus(client::Client& client, Json current, const Json& desired) {
  Json status = StatusKeepingTransitions(current, api::ObjectAt(desired, "status"));
  if (current.contains("status") && current["status"] == status) return Status::Ok();
  current["status"] = std::move(status);
  auto updated = client.UpdateStatus(client::resources::kNodes, current);
  return updated.ok() ? Status::Ok() : updated.status();
}

Status RegisterNode(client::Client& client, const Json& desired) {
  const std::string name = api::StringAt(desired, "metadata.name");
  auto current = client.Get(client::resources::kNodes, "", name);
  if (!current.ok() && current.status().code() != StatusCode::kNotFound) return current.status();
  Result<Json> written = current.ok() ? UpdateMetadata(client, std::move(*current), desired) : CreateNode(client, desired);
  if (!written.ok()) return written.status();
  return UpdateNodeStatus(client, std::move(*written), desired);
}

Status RemoveStaleVirtualNodes(client::Client& client, const std::set<std::string>& requested_names) {
  client::ListOptions options;
  options.label_selector = std::string(kVirtualNodeLabel) + "=true";
  auto listed = client.List(client::resources::kNodes, "", options);
  if (!listed.ok()) return listed.status();
  for (const Json& node : listed->items) {
    const std::string name = api::StringAt(node, "metadata.name");
    if (requested_names.count(name) > 0) continue;
    Status deleted = client.Delete(client::resources::kNodes, "", name, {});
    if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) return deleted;
    XB_LOG_INFO("node removed", {{"name", name}});
  }
  return Status::Ok();
}

}  // namespace

Status RegisterNodes(client::Client& client, const std::vector<Json>& nodes) {
  std::set<std::string> requested_names;
  for (const Json& node : nodes) {
    XB_RETURN_IF_ERROR(RegisterNode(client, node));
    requested_names.insert(api::StringAt(node, "metadata.name"));
  }
  return RemoveStaleVirtualNodes(client, requested_names);
}

}  // namespace xblocks::node
