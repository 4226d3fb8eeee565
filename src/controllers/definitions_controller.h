// Keeps ClusterDefinition and ClusterVersion status as KubeBlocks 0.9 does:
//   - ClusterDefinition: finalizer, status.phase Available, status.topologies (sorted, comma
//     joined), observedGeneration; deletion waits while a Cluster or ClusterVersion is labelled
//     with its name.
//   - ClusterVersion: finalizer, label clusterdefinition.kubeblocks.io/name, phase Available when
//     the ClusterDefinition exists and defines every componentDefRef, else Unavailable with the
//     reason. Deletion waits while a Cluster is labelled with its name.
// One Sync() writes the metadata and then the status, so definitions created before a pass are
// Available after it (a ClusterVersion once its ClusterDefinition is).
#pragma once

#include <optional>

#include "client/client.h"
#include "controllers/controller.h"

namespace xblocks::controllers {

class DefinitionsController : public Controller {
 public:
  explicit DefinitionsController(client::Client& client) : client_(client) {}
  std::string_view name() const override { return "definitions"; }
  Status Sync() override;

 private:
  Status SyncClusterDefinition(const Json& object);
  Status SyncClusterVersion(const Json& object);
  // True when some object of `resource` carries label `key`=`value`. A failed list counts as
  // referenced, so a finalizer is never released on an error.
  bool Referenced(const client::Resource& resource, const std::string& key, const std::string& value) const;
  Status WriteStatus(const client::Resource& resource, const Json& object, const Json& status);
  // Writes the metadata of `object` and returns the stored object, or nullopt when it is gone.
  Result<std::optional<Json>> WriteMeta(const client::Resource& resource, Json object);

  client::Client& client_;
};

}  // namespace xblocks::controllers
