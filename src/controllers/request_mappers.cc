#include "controllers/request_mappers.h"

#include "api/json_fields.h"

namespace xblocks::controllers {

MapFn ObjectKeyMapper() {
  return [](const Json& object) {
    std::string name = api::StringAt(object, "metadata.name");
    if (name.empty()) return std::vector<Request>();
    return std::vector<Request>{{api::StringAt(object, "metadata.namespace"), std::move(name)}};
  };
}

MapFn OwnerMapper(std::string owner_kind) {
  return [owner_kind = std::move(owner_kind)](const Json& object) {
    for (const Json& owner : api::ArrayAt(object, "metadata.ownerReferences")) {
      if (!owner.is_object() || owner.value("controller", Json(false)) != Json(true)) continue;
      if (api::StringAt(owner, "kind") != owner_kind) continue;
      std::string name = api::StringAt(owner, "name");
      if (name.empty()) continue;
      // Kubernetes allows one controller reference per object, so the first match is the one.
      return std::vector<Request>{{api::StringAt(object, "metadata.namespace"), std::move(name)}};
    }
    return std::vector<Request>();
  };
}

MapFn LabelMapper(std::string label_key) {
  return [label_key = std::move(label_key)](const Json& object) {
    const Json& labels = api::ObjectAt(object, "metadata.labels");
    auto it = labels.find(label_key);
    if (it == labels.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
      return std::vector<Request>();
    }
    return std::vector<Request>{{api::StringAt(object, "metadata.namespace"), it->get<std::string>()}};
  };
}

}  // namespace xblocks::controllers
