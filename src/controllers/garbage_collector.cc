#include "controllers/garbage_collector.h"

#include <unordered_map>
#include <unordered_set>

#include "apiserver/object_meta.h"
#include "common/log.h"

namespace xblocks::controllers {
namespace {

using apiserver::DeleteOptions;
using apiserver::Propagation;

struct Node {
  const api::ResourceType* type = nullptr;
  Json object;
};

std::vector<std::string> OwnerUids(const Json& object) {
  std::vector<std::string> uids;
  const Json& meta = object["metadata"];
  if (!meta.contains("ownerReferences") || !meta["ownerReferences"].is_array()) return uids;
  for (const auto& ref : meta["ownerReferences"]) {
    if (ref.is_object() && ref.contains("uid") && ref["uid"].is_string()) uids.push_back(ref["uid"]);
  }
  return uids;
}

// Every object in the store with its resource type, skipping kinds the scheme does not know.
std::vector<Node> Snapshot(apiserver::Registry& registry) {
  std::vector<Node> nodes;
  for (Json& object : registry.store().List("/").items) {
    const auto* type = registry.scheme().FindByKind(object.value("apiVersion", ""), object.value("kind", ""));
    if (type != nullptr) nodes.push_back({type, std::move(object)});
  }
  return nodes;
}

Status DeleteNode(apiserver::Registry& registry, const Node& node, Propagation propagation) {
  DeleteOptions options;
  options.propagation = propagation;
  options.precondition_uid = apiserver::Uid(node.object);
  auto deleted = registry.Delete(*node.type, apiserver::Namespace(node.object), apiserver::Name(node.object), options);
  if (!deleted.ok() && deleted.status().code() != StatusCode::kNotFound &&
      deleted.status().code() != StatusCode::kConflict) {
    return deleted.status();
  }
  XB_LOG_INFO("dependent deleted", {{"controller", "garbage-collector"},
                                    {"kind", node.type->kind},
                                    {"namespace", apiserver::Namespace(node.object)},
                                    {"name", apiserver::Name(node.object)}});
  return Status::Ok();
}

// Writes `object` back with one finalizer removed.
Status RemoveFinalizer(apiserver::Registry& registry, const Node& node, const std::string& finalizer) {
  Json updated = node.object;
  apiserver::RemoveFinalizer(updated, finalizer);
  if (!updated["metadata"].contains("finalizers")) updated["metadata"]["finalizers"] = Json::array();
  auto written = registry.Update(*node.type, apiserver::Namespace(node.object), apiserver::Name(node.object),
                                 std::move(updated), {.field_validation = apiserver::FieldValidation::kIgnore});
  if (!written.ok() && written.status().code() != StatusCode::kNotFound) return written.status();
  return Status::Ok();
}

Status Orphan(apiserver::Registry& registry, const Node& dependent, const std::string& owner_uid) {
  Json updated = dependent.object;
  Json kept = Json::array();
  for (const auto& ref : updated["metadata"]["ownerReferences"]) {
    if (ref.value("uid", "") != owner_uid) kept.push_back(ref);
  }
  updated["metadata"]["ownerReferences"] = kept;
  auto written = registry.Update(*dependent.type, apiserver::Namespace(dependent.object),
                                 apiserver::Name(dependent.object), std::move(updated),
                                 {.field_validation = apiserver::FieldValidation::kIgnore});
  if (!written.ok() && written.status().code() != StatusCode::kNotFound) return written.status();
  return Status::Ok();
}

}  // namespace

Status GarbageCollector::Sync() {
  std::vector<Node> nodes = Snapshot(registry_);
  std::unordered_set<std::string> live;
  std::unordered_map<std::string, std::vector<const Node*>> dependents;
  for (const Node& node : nodes) {
    live.insert(apiserver::Uid(node.object));
    for (const auto& owner : OwnerUids(node.object)) dependents[owner].push_back(&node);
  }

  Status result = Status::Ok();
  for (const Node& node : nodes) {
    const auto owners = OwnerUids(node.object);
    const bool orphaned = !owners.empty() && std::none_of(owners.begin(), owners.end(),
                                                          [&](const std::string& uid) { return live.count(uid) > 0; });
    if (orphaned && !apiserver::IsDeleting(node.object)) {
      if (Status s = DeleteNode(registry_, node, Propagation::kBackground); !s.ok()) result = s;
    }
    if (!apiserver::IsDeleting(node.object)) continue;

    const auto& children = dependents[apiserver::Uid(node.object)];
    if (apiserver::HasFinalizer(node.object, "orphan")) {
      for (const Node* child : children) {
        if (Status s = Orphan(registry_, *child, apiserver::Uid(node.object)); !s.ok()) result = s;
      }
      if (Status s = RemoveFinalizer(registry_, node, "orphan"); !s.ok()) result = s;
    } else if (apiserver::HasFinalizer(node.object, "foregroundDeletion")) {
      for (const Node* child : children) {
        if (apiserver::IsDeleting(child->object)) continue;
        if (Status s = DeleteNode(registry_, *child, Propagation::kForeground); !s.ok()) result = s;
      }
      if (children.empty()) {
        if (Status s = RemoveFinalizer(registry_, node, "foregroundDeletion"); !s.ok()) result = s;
      }
    }
  }
  return result;
}

}  // namespace xblocks::controllers
