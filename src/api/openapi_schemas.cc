#include "api/openapi_schemas.h"

namespace xblocks::api {
namespace {

Json Described(Json schema, const char* description) {
  schema["description"] = description;
  return schema;
}

Json StringSchema(const char* description) { return Described({{"type", "string"}}, description); }

Json StringMapSchema(const char* description) {
  return Described({{"type", "object"}, {"additionalProperties", {{"type", "string"}, {"default", ""}}}},
                   description);
}

Json OwnerReferenceSchema() {
  Json properties = {
      {"apiVersion", StringSchema("API version of the owner.")},
      {"kind", StringSchema("Kind of the owner.")},
      {"name", StringSchema("Name of the owner.")},
      {"uid", StringSchema("UID of the owner.")},
      {"controller", Described({{"type", "boolean"}}, "Whether the owner is the managing controller.")},
      {"blockOwnerDeletion",
       Described({{"type", "boolean"}}, "Whether foreground deletion of the owner waits for this object.")},
  };
  return Described({{"type", "object"},
                    {"required", Json::array({"apiVersion", "kind", "name", "uid"})},
                    {"properties", properties},
                    {"x-kubernetes-map-type", "atomic"}},
                   "A reference to an object that owns this one.");
}

Json ManagedFieldsEntrySchema() {
  Json properties = {
      {"manager", StringSchema("Name of the workflow that manages the fields.")},
      {"operation", StringSchema("Apply or Update.")},
      {"apiVersion", StringSchema("API version the fields are expressed in.")},
      {"time", Described({{"type", "string"}, {"format", "date-time"}}, "When the entry was last changed.")},
      {"fieldsType", StringSchema("Format of fieldsV1, always FieldsV1.")},
      {"fieldsV1", Described({{"type", "object"}}, "The set of managed fields.")},
      {"subresource", StringSchema("Subresource the fields were written through, such as status.")},
  };
  return Described({{"type", "object"}, {"properties", properties}},
                   "The fields one manager owns, for server-side apply.");
}

Json ObjectMetaProperties() {
  return {
      {"name", StringSchema("Name of the object, unique within its namespace. Cannot be updated.")},
      {"generateName", StringSchema("Prefix from which the server generates a unique name when name is empty.")},
      {"namespace", StringSchema("Namespace of the object. Empty for cluster-scoped kinds.")},
      {"selfLink", StringSchema("Deprecated and left empty.")},
      {"uid", StringSchema("Unique ID the server assigns on creation. Read-only.")},
      {"resourceVersion",
       StringSchema("Opaque version of the object, used for optimistic concurrency and watches. Read-only.")},
      {"generation",
       Described({{"type", "integer"}, {"format", "int64"}}, "Sequence number of spec changes. Read-only.")},
      {"creationTimestamp",
       Described({{"type", "string"}, {"format", "date-time"}}, "When the object was created. Read-only.")},
      {"deletionTimestamp",
       Described({{"type", "string"}, {"format", "date-time"}},
                 "When deletion was requested. Set by the server; the object is removed once its finalizers are gone.")},
      {"deletionGracePeriodSeconds",
       Described({{"type", "integer"}, {"format", "int64"}}, "Seconds allowed for graceful termination. Read-only.")},
      {"labels", StringMapSchema("Key/value pairs for selecting and grouping objects.")},
      {"annotations", StringMapSchema("Key/value pairs of non-identifying data for tools.")},
      {"ownerReferences", Described({{"type", "array"},
                                     {"items", OwnerReferenceSchema()},
                                     {"x-kubernetes-list-map-keys", Json::array({"uid"})},
                                     {"x-kubernetes-list-type", "map"},
                                     {"x-kubernetes-patch-merge-key", "uid"},
                                     {"x-kubernetes-patch-strategy", "merge"}},
                                    "Objects this object depends on; it is garbage-collected after them.")},
      {"finalizers", Described({{"type", "array"},
                                {"items", {{"type", "string"}, {"default", ""}}},
                                {"x-kubernetes-list-type", "set"},
                                {"x-kubernetes-patch-strategy", "merge"}},
                               "Names of controllers that must finish cleanup before the object is deleted.")},
      {"managedFields", Described({{"type", "array"}, {"items", ManagedFieldsEntrySchema()}},
                                  "Which manager owns which fields, for server-side apply.")},
  };
}

Json ObjectMetaSchema() {
  return Described({{"type", "object"}, {"properties", ObjectMetaProperties()}},
                   "Metadata that every persisted object has, including name, namespace, labels and annotations.");
}

Json ListMetaSchema() {
  Json properties = {
      {"resourceVersion", StringSchema("Version of the list, for watches that start after it.")},
      {"continue", StringSchema("Token for the next page of a chunked list.")},
      {"remainingItemCount",
       Described({{"type", "integer"}, {"format", "int64"}}, "Estimate of the items not yet returned.")},
      {"selfLink", StringSchema("Deprecated and left empty.")},
  };
  return Described({{"type", "object"}, {"properties", properties}}, "Metadata of a list.");
}

Json StatusSchema() {
  Json properties = {
      {"apiVersion", StringSchema("Always v1.")},
      {"kind", StringSchema("Always Status.")},
      {"metadata", {{"allOf", Json::array({SchemaRef(kListMetaSchema)})}, {"default", Json::object()}}},
      {"status", StringSchema("Success or Failure.")},
      {"message", StringSchema("Human-readable description of the result.")},
      {"reason", StringSchema("Machine-readable reason, such as NotFound or Invalid.")},
      {"details", Described({{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}},
                            "The object the result is about and field-level causes.")},
      {"code", Described({{"type", "integer"}, {"format", "int32"}}, "HTTP status code.")},
  };
  return Described({{"type", "object"},
                    {"properties", properties},
                    {"x-kubernetes-group-version-kind",
                     Json::array({Json{{"group", ""}, {"version", "v1"}, {"kind", "Status"}}})}},
                   "Result of an operation that returns no object.");
}

Json TypeMetaProperty(const char* field) {
  if (std::string(field) == "apiVersion") {
    return StringSchema("The versioned schema of this object, such as v1 or apps.kubeblocks.io/v1alpha1.");
  }
  return StringSchema("The REST resource type of this object, in CamelCase.");
}

Json BuiltinKindSchema(const ResourceType& type) {
  Json open = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  Json properties = {{"apiVersion", TypeMetaProperty("apiVersion")},
                     {"kind", TypeMetaProperty("kind")},
                     {"spec", Described(open, "The desired state.")},
                     {"status", Described(open, "The observed state.")}};
  return {{"type", "object"},
          {"description", type.kind + " is a built-in Kubernetes kind."},
          {"properties", properties},
          {"x-kubernetes-preserve-unknown-fields", true}};
}

}  // namespace

Json SchemaRef(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }

Json GroupVersionKind(const ResourceType& type, const std::string& kind) {
  return {{"group", type.group}, {"version", type.version}, {"kind", kind}};
}

Json KindSchema(const ResourceType& type) {
  Json schema = type.schema.is_object() ? type.schema : BuiltinKindSchema(type);
  if (!schema.contains("properties") || !schema["properties"].is_object()) schema["properties"] = Json::object();
  Json& properties = schema["properties"];
  for (const char* field : {"apiVersion", "kind"}) {
    if (!properties.contains(field)) properties[field] = TypeMetaProperty(field);
  }
  properties["metadata"] = {{"allOf", Json::array({SchemaRef(kObjectMetaSchema)})},
                            {"description", "Standard object metadata."}};
  schema["x-kubernetes-group-version-kind"] = Json::array({GroupVersionKind(type, type.kind)});
  return schema;
}

Json ListSchema(const ResourceType& type, const std::string& item_schema_name) {
  Json properties = {{"apiVersion", TypeMetaProperty("apiVersion")},
                     {"kind", TypeMetaProperty("kind")},
                     {"metadata", {{"allOf", Json::array({SchemaRef(kListMetaSchema)})}, {"description", "List metadata."}}},
                     {"items", {{"type", "array"}, {"items", SchemaRef(item_schema_name)}}}};
  properties["items"]["description"] = "The " + type.plural + " in the list.";
  return {{"type", "object"},
          {"description", type.ListKind() + " is a list of " + type.kind + " objects."},
          {"required", Json::array({"items"})},
          {"properties", properties},
          {"x-kubernetes-group-version-kind", Json::array({GroupVersionKind(type, type.ListKind())})}};
}

void AddMetaSchemas(Json& schemas) {
  schemas[kObjectMetaSchema] = ObjectMetaSchema();
  schemas[kListMetaSchema] = ListMetaSchema();
  schemas[kStatusSchema] = StatusSchema();
  schemas[kPatchSchema] = {{"type", "object"}, {"description", "The body of a PATCH request; its format depends on the Content-Type."}};
}

}  // namespace xblocks::api
