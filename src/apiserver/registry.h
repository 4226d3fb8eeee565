// The registry implements Kubernetes REST semantics over the store for every resource type:
// object metadata (uid, creationTimestamp, generation, resourceVersion), admission (defaulting,
// structural validation, CEL rules, field validation), the status subresource, patches,
// finalizers and deletionTimestamp, and delete propagation.
//
// The HTTP handlers and the in-process controllers both call it, so a controller's write goes
// through the same admission as kubectl's.
//
// Thread-safety: all methods may be called concurrently. Read-modify-write methods (Patch,
// Delete, and Update without a resourceVersion) retry internally on a store conflict.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/scheme.h"
#include "common/json.h"
#include "common/status.h"
#include "common/time.h"
#include "store/store.h"

namespace xblocks::apiserver {

enum class FieldValidation { kStrict, kWarn, kIgnore };
enum class Subresource { kNone, kStatus };
enum class PatchType { kMerge, kJson, kStrategic, kApply };
enum class Propagation { kBackground, kForeground, kOrphan };

struct WriteOptions {
  std::string field_manager;
  FieldValidation field_validation = FieldValidation::kStrict;
  bool dry_run = false;
  bool force = false;  // server-side apply: take ownership of conflicting fields
  Subresource subresource = Subresource::kNone;
};

// The result of a write, with the warnings the client should see as `Warning` headers.
struct WriteResult {
  Json object;
  bool created = false;  // server-side apply created the object (HTTP 201)
  std::vector<std::string> warnings;
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
};

struct ListResult {
  std::vector<Json> items;
  int64_t revision = 0;
};

struct DeleteOptions {
  Propagation propagation = Propagation::kBackground;
  std::string precondition_uid;
  std::string precondition_resource_version;
  bool dry_run = false;
  // gracePeriodSeconds. Only pods bound to a node use it: the node agent stops their containers
  // and then deletes them with 0. Unset takes the pod's terminationGracePeriodSeconds.
  std::optional<int64_t> grace_period_seconds;
};

struct DeleteResult {
  Json object;           // the last state of the object
  bool finalized = false; // true when the object is gone; false when it waits on finalizers
};

class Registry {
 public:
  Registry(const api::Scheme& scheme, store::Store& store, const Clock& clock);

  const api::Scheme& scheme() const { return scheme_; }
  store::Store& store() { return store_; }

  // Creates `object` in `ns` ("" for cluster-scoped types). kNotFound when the namespace does
  // not exist, kForbidden when it is terminating, kAlreadyExists, kInvalid, kBadRequest.
  Result<WriteResult> Create(const api::ResourceType& type, const std::string& ns, Json object,
                             const WriteOptions& options);

  Result<Json> Get(const api::ResourceType& type, const std::string& ns, const std::string& name) const;

  // Lists `ns` (all namespaces when empty). kBadRequest for a malformed or unsupported selector.
  Result<ListResult> List(const api::ResourceType& type, const std::string& ns, const ListOptions& options) const;

  // Replaces the object (PUT). A non-empty metadata.resourceVersion must match (kConflict).
  Result<WriteResult> Update(const api::ResourceType& type, const std::string& ns, const std::string& name,
                             Json object, const WriteOptions& options);

  // Applies a patch of `patch_type` to the current object and stores the result.
  // kUnsupportedMediaType for a strategic merge patch on a custom resource.
  Result<WriteResult> Patch(const api::ResourceType& type, const std::string& ns, const std::string& name,
                            PatchType patch_type, const Json& patch, const WriteOptions& options);

  // Deletes the object, or marks it with deletionTimestamp while finalizers remain.
  Result<DeleteResult> Delete(const api::ResourceType& type, const std::string& ns, const std::string& name,
                              const DeleteOptions& options);

  // The store key of an object.
  static std::string Key(const api::ResourceType& type, const std::string& ns, const std::string& name);
  // The store prefix that lists `ns` (or every namespace when empty).
  static std::string Prefix(const api::ResourceType& type, const std::string& ns);

  // Checks whether a field selector names only fields the type supports.
  Status CheckFieldSelector(const api::ResourceType& type, const std::string& selector) const;

  // Formats `<plural>.<group> "<name>" not found` as kube-apiserver does, with details.
  static Status NotFoundError(const api::ResourceType& type, const std::string& name);

 private:
  Result<WriteResult> StoreUpdate(const api::ResourceType& type, const std::string& key, const Json& current,
                                  Json updated, const WriteOptions& options, int64_t expected_revision);
  Result<WriteResult> PatchOnce(const api::ResourceType& type, const std::string& ns, const std::string& name,
                                PatchType patch_type, const Json& patch, const WriteOptions& options);
  Status Admit(const api::ResourceType& type, Json& object, const Json* old_object, const WriteOptions& options,
               std::vector<std::string>& warnings) const;
  // Forbidden, with a NamespaceTerminating cause, when `ns` is being deleted.
  Status CheckNamespace(const api::ResourceType& type, const std::string& ns, const std::string& name) const;
  void PrepareForCreate(const api::ResourceType& type, Json& object) const;

  const api::Scheme& scheme_;
  store::Store& store_;
  const Clock& clock_;
};

}  // namespace xblocks::apiserver
