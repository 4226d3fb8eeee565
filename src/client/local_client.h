// The in-process Client of embedded mode: every call goes through the registry, so controllers'
// writes see the same admission, validation and resourceVersion checks as kubectl's.
#pragma once

#include <string>

#include "apiserver/registry.h"
#include "client/client.h"

namespace xblocks::client {

class LocalClient : public Client {
 public:
  // `field_manager` names the writer in managed fields and logs, e.g. "xblocks-controller".
  LocalClient(apiserver::Registry& registry, std::string field_manager);

  Result<Json> Get(const Resource& resource, const std::string& ns, const std::string& name) override;
  Result<ObjectList> List(const Resource& resource, const std::string& ns, const ListOptions& options) override;
  Result<Json> Create(const Resource& resource, const Json& object) override;
  Result<Json> Update(const Resource& resource, const Json& object) override;
  Result<Json> UpdateStatus(const Resource& resource, const Json& object) override;
  Result<Json> Patch(const Resource& resource, const std::string& ns, const std::string& name, PatchType type,
                     const Json& patch) override;
  Result<Json> PatchStatus(const Resource& resource, const std::string& ns, const std::string& name,
                           const Json& merge_patch) override;
  Status Delete(const Resource& resource, const std::string& ns, const std::string& name,
                const DeleteOptions& options) override;
  Result<std::unique_ptr<WatchStream>> Watch(const Resource& resource, const std::string& ns,
                                             int64_t resource_version, const ListOptions& options) override;

 private:
  Result<const api::ResourceType*> TypeOf(const Resource& resource) const;
  apiserver::WriteOptions Options(apiserver::Subresource subresource = apiserver::Subresource::kNone) const;

  apiserver::Registry& registry_;
  const std::string field_manager_;
};

}  // namespace xblocks::client
