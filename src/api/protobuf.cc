// Field numbers below are those of k8s.io/api/core/v1/generated.proto and
// k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto (Kubernetes 1.33).
#include "api/protobuf.h"

#include <fmt/format.h>

#include <ctime>

#include "api/protobuf_fields.h"

namespace xblocks::api {
namespace {

constexpr std::string_view kMagic("k8s\0", 4);

// Reads a string field into object[key] when it is not empty.
Status SetString(const WireTag& tag, WireReader& reader, std::string_view name, Json& object,
                 const char* key) {
  Result<std::string> value = ReadStringField(tag, reader, name);
  if (!value.ok()) return value.status();
  SetIfNotEmpty(object, key, std::move(value).value());
  return Status::Ok();
}

// Reads an optional bool (a Go *bool): present on the wire means set, even when false.
Status SetBool(const WireTag& tag, WireReader& reader, std::string_view name, Json& object, const char* key) {
  Result<bool> value = ReadBoolField(tag, reader, name);
  if (!value.ok()) return value.status();
  object[key] = *value;
  return Status::Ok();
}

Status AppendString(const WireTag& tag, WireReader& reader, std::string_view name, Json& list) {
  Result<std::string> value = ReadStringField(tag, reader, name);
  if (!value.ok()) return value.status();
  list.push_back(std::move(value).value());
  return Status::Ok();
}

// Decodes a nested message with `decode` and appends the result to `list`.
Status AppendMessage(const WireTag& tag, WireReader& reader, std::string_view name, Json& list,
                     Result<Json> (*decode)(std::string_view)) {
  Result<std::string_view> bytes = ReadBytesField(tag, reader, name);
  if (!bytes.ok()) return bytes.status();
  Result<Json> item = decode(*bytes);
  if (!item.ok()) return item.status();
  list.push_back(std::move(item).value());
  return Status::Ok();
}

// metav1.Time {1 seconds, 2 nanos}, at seconds precision. The zero time, which Go sends for an
// unset timestamp, yields "".
Result<std::string> DecodeTime(const WireTag& tag, WireReader& reader, std::string_view name) {
  Result<std::string_view> bytes = ReadBytesField(tag, reader, name);
  if (!bytes.ok()) return bytes.status();
  int64_t seconds = 0;
  XB_RETURN_IF_ERROR(VisitFields(*bytes, [&](const WireTag& field, WireReader& fields) -> Status {
    if (field.field_number != 1) return fields.SkipValue(field.wire_type);
    Result<int64_t> value = ReadInt64Field(field, fields, "Time.seconds");
    if (!value.ok()) return value.status();
    seconds = *value;
    return Status::Ok();
  }));
  // Years past 9999 do not fit RFC 3339.
  if (seconds < -62135596800 || seconds > 253402300799) {
    return BadRequest(fmt::format("protobuf field {} is out of range: {} seconds", name, seconds));
  }
  if (seconds == 0) return std::string();
  std::time_t time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string(buffer);
}

Status SetTime(const WireTag& tag, WireReader& reader, std::string_view name, Json& object, const char* key) {
  Result<std::string> time = DecodeTime(tag, reader, name);
  if (!time.ok()) return time.status();
  SetIfNotEmpty(object, key, std::move(time).value());
  return Status::Ok();
}

// metav1.OwnerReference.
Result<Json> DecodeOwnerReference(std::string_view bytes) {
  Json ref = Json::object();
  XB_RETURN_IF_ERROR(VisitFields(bytes, [&](const WireTag& tag, WireReader& reader) -> Status {
    switch (tag.field_number) {
      case 1: return SetString(tag, reader, "OwnerReference.kind", ref, "kind");
      case 3: return SetString(tag, reader, "OwnerReference.name", ref, "name");
      case 4: return SetString(tag, reader, "OwnerReference.uid", ref, "uid");
      case 5: return SetString(tag, reader, "OwnerReference.apiVersion", ref, "apiVersion");
      case 6: return SetBool(tag, reader, "OwnerReference.controller", ref, "controller");
      case 7: return SetBool(tag, reader, "OwnerReference.blockOwnerDeletion", ref, "blockOwnerDeletion");
      default: return reader.SkipValue(tag.wire_type);
    }
  }));
  return ref;
}

Status DecodeMetadataField(const WireTag& tag, WireReader& reader, Json& meta) {
  switch (tag.field_number) {
    case 1: return SetString(tag, reader, "ObjectMeta.name", meta, "name");
    case 2: return SetString(tag, reader, "ObjectMeta.generateName", meta, "generateName");
    case 3: return SetString(tag, reader, "ObjectMeta.namespace", meta, "namespace");
    case 4: return SetString(tag, reader, "ObjectMeta.selfLink", meta, "selfLink");
    case 5: return SetString(tag, reader, "ObjectMeta.uid", meta, "uid");
    case 6: return SetString(tag, reader, "ObjectMeta.resourceVersion", meta, "resourceVersion");
    case 7: {
      Result<int64_t> generation = ReadInt64Field(tag, reader, "ObjectMeta.generation");
      if (!generation.ok()) return generation.status();
      if (*generation != 0) meta["generation"] = *generation;
      return Status::Ok();
    }
    case 8: return SetTime(tag, reader, "ObjectMeta.creationTimestamp", meta, "creationTimestamp");
    case 9: return SetTime(tag, reader, "ObjectMeta.deletionTimestamp", meta, "deletionTimestamp");
    case 10: {
      Result<int64_t> grace = ReadInt64Field(tag, reader, "ObjectMeta.deletionGracePeriodSeconds");
      if (!grace.ok()) return grace.status();
      meta["deletionGracePeriodSeconds"] = *grace;
      return Status::Ok();
    }
    case 11: return ReadMapEntry(tag, reader, "ObjectMeta.labels", false, meta["labels"]);
    case 12: return ReadMapEntry(tag, reader, "ObjectMeta.annotations", false, meta["annotations"]);
    case 13: return AppendMessage(tag, reader, "ObjectMeta.ownerReferences", meta["ownerReferences"],
                                  DecodeOwnerReference);
    case 14: return AppendString(tag, reader, "ObjectMeta.finalizers", meta["finalizers"]);
    // NOTE: managedFields (17) is skipped; clients never send it on create.
    default: return reader.SkipValue(tag.wire_type);
  }
}

Status DecodeMetadata(const WireTag& tag, WireReader& reader, Json& object) {
  Result<std::string_view> bytes = ReadBytesField(tag, reader, "metadata");
  if (!bytes.ok()) return bytes.status();
  Json meta = Json::object();
  XB_RETURN_IF_ERROR(VisitFields(*bytes, [&](const WireTag& field, WireReader& fields) {
    return DecodeMetadataField(field, fields, meta);
  }));
  SetIfNotEmpty(object, "metadata", std::move(meta));
  return Status::Ok();
}

// Decodes the nested message in field `tag` by visiting its fields into a new JSON object, and
// stores it in object[key] unless it is empty.
Status DecodeNested(const WireTag& tag, WireReader& reader, std::string_view name, Json& object,
                    const char* key, const std::function<Status(const WireTag&, WireReader&, Json&)>& field) {
  Result<std::string_view> bytes = ReadBytesField(tag, reader, name);
  if (!bytes.ok()) return bytes.status();
  Json nested = Json::object();
  XB_RETURN_IF_ERROR(VisitFields(*bytes, [&](const WireTag& inner, WireReader& fields) {
    return field(inner, fields, nested);
  }));
  SetIfNotEmpty(object, key, std::move(nested));
  return Status::Ok();
}

Status DecodeNamespaceField(const WireTag& tag, WireReader& reader, Json& object) {
  switch (tag.field_number) {
    case 2:
      return DecodeNested(tag, reader, "Namespace.spec", object, "spec", [](auto& f, auto& r, Json& spec) {
        if (f.field_number != 1) return r.SkipValue(f.wire_type);
        return AppendString(f, r, "NamespaceSpec.finalizers", spec["finalizers"]);
      });
    case 3:
      return DecodeNested(tag, reader, "Namespace.status", object, "status", [](auto& f, auto& r, Json& status) {
        if (f.field_number != 1) return r.SkipValue(f.wire_type);
        return SetString(f, r, "NamespaceStatus.phase", status, "phase");
      });
    default: return reader.SkipValue(tag.wire_type);
  }
}

Status DecodeConfigMapField(const WireTag& tag, WireReader& reader, Json& object) {
  switch (tag.field_number) {
    case 2: return ReadMapEntry(tag, reader, "ConfigMap.data", false, object["data"]);
    case 3: return ReadMapEntry(tag, reader, "ConfigMap.binaryData", true, object["binaryData"]);
    case 4: return SetBool(tag, reader, "ConfigMap.immutable", object, "immutable");
    default: return reader.SkipValue(tag.wire_type);
  }
}

Status DecodeSecretField(const WireTag& tag, WireReader& reader, Json& object) {
  switch (tag.field_number) {
    case 2: return ReadMapEntry(tag, reader, "Secret.data", true, object["data"]);
    case 3: return SetString(tag, reader, "Secret.type", object, "type");
    case 4: return ReadMapEntry(tag, reader, "Secret.stringData", false, object["stringData"]);
    case 5: return SetBool(tag, reader, "Secret.immutable", object, "immutable");
    default: return reader.SkipValue(tag.wire_type);
  }
}

// core/v1 ObjectReference, as listed in ServiceAccount.secrets.
Result<Json> DecodeObjectReference(std::string_view bytes) {
  Json ref = Json::object();
  XB_RETURN_IF_ERROR(VisitFields(bytes, [&](const WireTag& tag, WireReader& reader) -> Status {
    switch (tag.field_number) {
      case 1: return SetString(tag, reader, "ObjectReference.kind", ref, "kind");
      case 2: return SetString(tag, reader, "ObjectReference.namespace", ref, "namespace");
      case 3: return SetString(tag, reader, "ObjectReference.name", ref, "name");
      case 4: return SetString(tag, reader, "ObjectReference.uid", ref, "uid");
      case 5: return SetString(tag, reader, "ObjectReference.apiVersion", ref, "apiVersion");
      case 6: return SetString(tag, reader, "ObjectReference.resourceVersion", ref, "resourceVersion");
      case 7: return SetString(tag, reader, "ObjectReference.fieldPath", ref, "fieldPath");
      default: return reader.SkipValue(tag.wire_type);
    }
  }));
  return ref;
}

Result<Json> DecodeLocalObjectReference(std::string_view bytes) {
  Json ref = Json::object();
  XB_RETURN_IF_ERROR(VisitFields(bytes, [&](const WireTag& tag, WireReader& reader) -> Status {
    if (tag.field_number != 1) return reader.SkipValue(tag.wire_type);
    return SetString(tag, reader, "LocalObjectReference.name", ref, "name");
  }));
  return ref;
}

Status DecodeServiceAccountField(const WireTag& tag, WireReader& reader, Json& object) {
  switch (tag.field_number) {
    case 2: return AppendMessage(tag, reader, "ServiceAccount.secrets", object["secrets"], DecodeObjectReference);
    case 3:
      return AppendMessage(tag, reader, "ServiceAccount.imagePullSecrets", object["imagePullSecrets"],
                           DecodeLocalObjectReference);
    case 4: return SetBool(tag, reader, "ServiceAccount.automountServiceAccountToken", object,
                           "automountServiceAccountToken");
    default: return reader.SkipValue(tag.wire_type);
  }
}

using KindFieldDecoder = Status (*)(const WireTag&, WireReader&, Json&);

KindFieldDecoder FindKindDecoder(const std::string& kind) {
  if (kind == "Namespace") return DecodeNamespaceField;
  if (kind == "ConfigMap") return DecodeConfigMapField;
  if (kind == "Secret") return DecodeSecretField;
  if (kind == "ServiceAccount") return DecodeServiceAccountField;
  return nullptr;
}

// The runtime.Unknown envelope: typeMeta, raw and contentEncoding.
struct Envelope {
  std::string api_version;
  std::string kind;
  std::string_view raw;
  std::string content_encoding;
};

Result<Envelope> DecodeEnvelope(std::string_view bytes) {
  Envelope envelope;
  XB_RETURN_IF_ERROR(VisitFields(bytes, [&](const WireTag& tag, WireReader& reader) -> Status {
    switch (tag.field_number) {
      case 1: {
        Result<std::string_view> type_meta = ReadBytesField(tag, reader, "Unknown.typeMeta");
        if (!type_meta.ok()) return type_meta.status();
        return VisitFields(*type_meta, [&](const WireTag& field, WireReader& fields) -> Status {
          Result<std::string> value("");
          if (field.field_number == 1) value = ReadStringField(field, fields, "TypeMeta.apiVersion");
          else if (field.field_number == 2) value = ReadStringField(field, fields, "TypeMeta.kind");
          else return fields.SkipValue(field.wire_type);
          if (!value.ok()) return value.status();
          (field.field_number == 1 ? envelope.api_version : envelope.kind) = std::move(value).value();
          return Status::Ok();
        });
      }
      case 2: {
        Result<std::string_view> raw = ReadBytesField(tag, reader, "Unknown.raw");
        if (!raw.ok()) return raw.status();
        envelope.raw = *raw;
        return Status::Ok();
      }
      case 3: {
        Result<std::string> encoding = ReadStringField(tag, reader, "Unknown.contentEncoding");
        if (!encoding.ok()) return encoding.status();
        envelope.content_encoding = std::move(encoding).value();
        return Status::Ok();
      }
      default: return reader.SkipValue(tag.wire_type);
    }
  }));
  return envelope;
}

}  // namespace

Result<Json> DecodeProtobufObject(std::string_view body) {
  if (body.substr(0, kMagic.size()) != kMagic) {
    return BadRequest("protobuf body does not start with the magic bytes \"k8s\\0\"");
  }
  Result<Envelope> envelope = DecodeEnvelope(body.substr(kMagic.size()));
  if (!envelope.ok()) return envelope.status();
  if (envelope->kind.empty()) return BadRequest("protobuf body has no kind in its typeMeta");

  KindFieldDecoder decode_field = FindKindDecoder(envelope->kind);
  if (decode_field == nullptr) {
    return Status(StatusCode::kUnsupportedMediaType,
                  fmt::format("the body of a {} request must be JSON; protobuf is supported only for "
                              "Namespace, ConfigMap, Secret and ServiceAccount", envelope->kind));
  }
  if (envelope->api_version != "v1") {
    return BadRequest(fmt::format("protobuf body has apiVersion \"{}\" for kind {}; expected \"v1\"",
                                  envelope->api_version, envelope->kind));
  }
  if (!envelope->content_encoding.empty()) {
    return BadRequest(fmt::format("protobuf body has content encoding \"{}\"; only unencoded bodies are "
                                  "supported", envelope->content_encoding));
  }

  Json object = {{"apiVersion", envelope->api_version}, {"kind", envelope->kind}};
  XB_RETURN_IF_ERROR(VisitFields(envelope->raw, [&](const WireTag& tag, WireReader& reader) {
    return tag.field_number == 1 ? DecodeMetadata(tag, reader, object) : decode_field(tag, reader, object);
  }));
  // Map and list fields were created on first use, so none of them is empty.
  return object;
}

}  // namespace xblocks::api
