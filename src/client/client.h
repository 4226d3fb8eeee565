// The Kubernetes client interface that every controller uses. Embedded mode implements it in
// process over the registry (LocalClient); operator mode will implement it over HTTPS against a
// real kube-apiserver. Controllers depend on nothing else, so both modes run the same code.
//
// Errors are Status values with Kubernetes' reasons: kNotFound, kAlreadyExists, kConflict (stale
// resourceVersion), kInvalid, kForbidden, kGone (a watch resumed from a compacted revision).
//
// Thread-safety: implementations are safe to call from many threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace xblocks::client {

// A resource type by its URL coordinates.
struct Resource {
  std::string group;  // "" for the core group
  std::string version;
  std::string plural;
  bool namespaced = true;

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  bool operator==(const Resource&) const = default;
};

// The resource types the controllers use.
namespace resources {
inline const Resource kNamespaces{"", "v1", "namespaces", false};
inline const Resource kNodes{"", "v1", "nodes", false};
inline const Resource kPods{"", "v1", "pods"};
inline const Resource kServices{"", "v1", "services"};
inline const Resource kEndpoints{"", "v1", "endpoints"};
inline const Resource kSecrets{"", "v1", "secrets"};
inline const Resource kConfigMaps{"", "v1", "configmaps"};
inline const Resource kServiceAccounts{"", "v1", "serviceaccounts"};
inline const Resource kPersistentVolumeClaims{"", "v1", "persistentvolumeclaims"};
inline const Resource kEvents{"", "v1", "events"};
inline const Resource kRoleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings"};
inline const Resource kLeases{"coordination.k8s.io", "v1", "leases"};
inline const Resource kClusters{"apps.kubeblocks.io", "v1alpha1", "clusters"};
inline const Resource kClusterDefinitions{"apps.kubeblocks.io", "v1alpha1", "clusterdefinitions", false};
inline const Resource kClusterVersions{"apps.kubeblocks.io", "v1alpha1", "clusterversions", false};
inline const Resource kComponents{"apps.kubeblocks.io", "v1alpha1", "components"};
inline const Resource kOpsRequests{"apps.kubeblocks.io", "v1alpha1", "opsrequests"};
inline const Resource kInstanceSets{"workloads.kubeblocks.io", "v1alpha1", "instancesets"};
inline const Resource kModels{"xblocks.io", "v1alpha1", "models"};
}  // namespace resources

enum class PatchType { kMerge, kJson };
enum class Propagation { kBackground, kForeground, kOrphan };

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
};

struct ObjectList {
  std::vector<Json> items;
  int64_t resource_version = 0;
};

struct DeleteOptions {
  Propagation propagation = Propagation::kBackground;
  std::string precondition_uid;
  // gracePeriodSeconds; 0 removes a pod at once, which its node agent does after stopping it.
  std::optional<int64_t> grace_period_seconds;
};

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark };

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  Json object;
  int64_t resource_version = 0;
};

// An open watch. Next() waits up to `timeout` for an event. It returns nullopt on timeout;
// kTimeout when the server ended the watch normally, so the caller may watch again from the
// last resourceVersion it saw; and kGone when that resourceVersion is too old or the watch was
// closed otherwise, so the caller lists again.
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  virtual Result<std::optional<WatchEvent>> Next(std::chrono::milliseconds timeout) = 0;
};

class Client {
 public:
  virtual ~Client() = default;

  virtual Result<Json> Get(const Resource& resource, const std::string& ns, const std::string& name) = 0;
  virtual Result<ObjectList> List(const Resource& resource, const std::string& ns, const ListOptions& options) = 0;
  // Creates `object` in its metadata.namespace.
  virtual Result<Json> Create(const Resource& resource, const Json& object) = 0;
  // Replaces the object. A set metadata.resourceVersion must be current (kConflict otherwise).
  virtual Result<Json> Update(const Resource& resource, const Json& object) = 0;
  // Replaces the status of the object through the status subresource.
  virtual Result<Json> UpdateStatus(const Resource& resource, const Json& object) = 0;
  virtual Result<Json> Patch(const Resource& resource, const std::string& ns, const std::string& name,
                             PatchType type, const Json& patch) = 0;
  virtual Result<Json> PatchStatus(const Resource& resource, const std::string& ns, const std::string& name,
                                   const Json& merge_patch) = 0;
  // kNotFound when the object is already gone.
  virtual Status Delete(const Resource& resource, const std::string& ns, const std::string& name,
                        const DeleteOptions& options) = 0;
  // Watches `ns` ("" for all namespaces) from `resource_version` (0: from now).
  virtual Result<std::unique_ptr<WatchStream>> Watch(const Resource& resource, const std::string& ns,
                                                     int64_t resource_version, const ListOptions& options) = 0;
};

}  // namespace xblocks::client
