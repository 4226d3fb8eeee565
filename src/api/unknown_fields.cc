// Unknown-field detection and pruning against a structural schema (see validation.h).
#include <set>
#include <string>

#include "api/field_errors.h"
#include "api/schema_validation.h"
#include "api/validation.h"

namespace xblocks::api {
namespace {

const std::set<std::string>& ObjectMetaFields() {
  static const std::set<std::string> fields = {
      "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
      "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
      "annotations", "ownerReferences", "finalizers", "managedFields"};
  return fields;
}

const std::set<std::string>& OwnerReferenceFields() {
  static const std::set<std::string> fields = {"apiVersion", "kind", "name", "uid", "controller",
                                               "blockOwnerDeletion"};
  return fields;
}

const std::set<std::string>& ManagedFieldsEntryFields() {
  static const std::set<std::string> fields = {"manager", "operation", "apiVersion", "time",
                                               "fieldsType", "fieldsV1", "subresource"};
  return fields;
}

// Visits unknown fields; `prune` erases them, otherwise their paths are appended to `found`.
class UnknownFieldWalker {
 public:
  UnknownFieldWalker(bool prune, std::vector<std::string>& found) : prune_(prune), found_(found) {}

  void Walk(const Json& schema, Json& value, const std::string& path) {
    if (!schema.is_object() || SchemaFlag(schema, "x-kubernetes-preserve-unknown-fields")) return;
    if (value.is_array()) {
      const Json* items = SchemaChild(schema, "items");
      if (items == nullptr) return;
      for (size_t i = 0; i < value.size(); ++i) Walk(*items, value[i], IndexPath(path, i));
      return;
    }
    if (!value.is_object()) return;
    const Json* additional = AdditionalPropertiesSchema(schema);
    // Without properties or additionalProperties an object schema is an opaque map.
    if (additional == nullptr && SchemaChild(schema, "properties") == nullptr) return;
    WalkObject(schema, additional, value, path);
  }

  void WalkMetadata(Json& metadata) {
    if (!metadata.is_object()) return;
    CheckKnown(ObjectMetaFields(), metadata, "metadata");
    WalkListOfKnown(OwnerReferenceFields(), metadata, "ownerReferences");
    WalkListOfKnown(ManagedFieldsEntryFields(), metadata, "managedFields");
  }

 private:
  void WalkObject(const Json& schema, const Json* additional, Json& value, const std::string& path) {
    for (auto it = value.begin(); it != value.end();) {
      const Json* child_schema = PropertySchema(schema, it.key());
      if (child_schema == nullptr) child_schema = additional;
      if (child_schema == nullptr) {
        it = Report(value, it, ChildPath(path, it.key()));
        continue;
      }
      Walk(*child_schema, it.value(), ChildPath(path, it.key()));
      ++it;
    }
  }

  void CheckKnown(const std::set<std::string>& known, Json& object, const std::string& path) {
    for (auto it = object.begin(); it != object.end();) {
      if (known.count(it.key()) != 0) {
        ++it;
        continue;
      }
      it = Report(object, it, ChildPath(path, it.key()));
    }
  }

  void WalkListOfKnown(const std::set<std::string>& known, Json& metadata, const char* field) {
    auto list = metadata.find(field);
    if (list == metadata.end() || !list->is_array()) return;
    for (size_t i = 0; i < list->size(); ++i) {
      if ((*list)[i].is_object()) CheckKnown(known, (*list)[i], IndexPath(std::string("metadata.") + field, i));
    }
  }

  Json::iterator Report(Json& object, Json::iterator it, const std::string& path) {
    if (!prune_) {
      found_.push_back(path);
      return ++it;
    }
    return object.erase(it);
  }

  bool prune_;
  std::vector<std::string>& found_;
};

void WalkObjectRoot(const ResourceType& type, Json& object, bool prune, std::vector<std::string>& found) {
  if (!object.is_object()) return;
  UnknownFieldWalker walker(prune, found);
  for (auto it = object.begin(); it != object.end();) {
    const std::string& key = it.key();
    if (key == "metadata") {
      walker.WalkMetadata(it.value());
    } else if (type.schema.is_object() && key != "apiVersion" && key != "kind") {
      const Json* child_schema = PropertySchema(type.schema, key);
      if (child_schema == nullptr && key != "spec" && key != "status") {
        if (!prune) {
          found.push_back(key);
        } else {
          it = object.erase(it);
          continue;
        }
      } else if (child_schema != nullptr) {
        walker.Walk(*child_schema, it.value(), key);
      }
    }
    ++it;
  }
}

}  // namespace

std::vector<std::string> FindUnknownFields(const ResourceType& type, const Json& object) {
  std::vector<std::string> found;
  // The walker shares code with pruning, which needs a mutable value; this copy is never changed.
  Json copy = object;
  WalkObjectRoot(type, copy, /*prune=*/false, found);
  return found;
}

void PruneUnknownFields(const ResourceType& type, Json& object) {
  std::vector<std::string> unused;
  WalkObjectRoot(type, object, /*prune=*/true, unused);
}

}  // namespace xblocks::api
