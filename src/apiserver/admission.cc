#include "apiserver/admission.h"

#include <random>

#include <fmt/format.h>

#include "api/validation.h"
#include "common/base64.h"
#include "apiserver/object_meta.h"
#include "apiserver/registry.h"

namespace xblocks::apiserver {
namespace {

// NOTE: cluster IPs are drawn at random from 127.96.0.0/16, a loopback block, so nothing ever
// routes off the machine; uniqueness is not checked (65,534 addresses).
std::string AllocateClusterIp() {
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> octet(1, 254);
  return fmt::format("127.96.{}.{}", octet(rng), octet(rng));
}

void DefaultService(Json& object) {
  Json& spec = object["spec"];
  if (!spec.contains("type")) spec["type"] = "ClusterIP";
  if (!spec.contains("sessionAffinity")) spec["sessionAffinity"] = "None";
  if (spec["type"] == "ClusterIP" && (!spec.contains("clusterIP") || spec["clusterIP"] == "")) {
    spec["clusterIP"] = AllocateClusterIp();
  }
  if (spec["clusterIP"].is_string()) spec["clusterIPs"] = Json::array({spec["clusterIP"]});
  if (!spec.contains("ports") || !spec["ports"].is_array()) return;
  for (Json& port : spec["ports"]) {
    if (!port.is_object()) continue;
    if (!port.contains("protocol")) port["protocol"] = "TCP";
    if (!port.contains("targetPort") && port.contains("port")) port["targetPort"] = port["port"];
  }
}

void DefaultSecret(Json& object) {
  if (!object.contains("type")) object["type"] = "Opaque";
  if (!object.contains("stringData") || !object["stringData"].is_object()) return;
  // stringData is write-only: its values are encoded into data and the field is dropped.
  for (auto& [key, value] : object["stringData"].items()) {
    if (value.is_string()) object["data"][key] = Base64Encode(value.get<std::string>());
  }
  object.erase("stringData");
}

void DefaultPod(Json& object) {
  Json& spec = object["spec"];
  if (!spec.contains("restartPolicy")) spec["restartPolicy"] = "Always";
  if (!spec.contains("terminationGracePeriodSeconds")) spec["terminationGracePeriodSeconds"] = 30;
  if (!spec.contains("dnsPolicy")) spec["dnsPolicy"] = "ClusterFirst";
  if (!spec.contains("schedulerName")) spec["schedulerName"] = "default-scheduler";
  if (!object.contains("status") || !object["status"].is_object()) object["status"] = Json::object();
  if (!object["status"].contains("phase")) object["status"]["phase"] = "Pending";
}

}  // namespace

void DefaultBuiltinOnCreate(const api::ResourceType& type, Json& object) {
  if (!type.group.empty()) return;
  if (type.plural == "namespaces") {
    object["metadata"]["labels"]["kubernetes.io/metadata.name"] = Name(object);
    if (!object.contains("spec") || !object["spec"].contains("finalizers")) {
      object["spec"]["finalizers"] = Json::array({"kubernetes"});
    }
    object["status"] = {{"phase", "Active"}};
  } else if (type.plural == "services") {
    DefaultService(object);
  } else if (type.plural == "secrets") {
    DefaultSecret(object);
  } else if (type.plural == "pods") {
    DefaultPod(object);
  }
}

Status CheckTypeMeta(const api::ResourceType& type, Json& object) {
  if (object.contains("apiVersion") && object["apiVersion"].is_string() &&
      object["apiVersion"] != type.ApiVersion()) {
    return BadRequest(fmt::format("the API version in the data ({}) does not match the expected API version ({})",
                                  object["apiVersion"].get<std::string>(), type.ApiVersion()));
  }
  if (object.contains("kind") && object["kind"].is_string() && object["kind"] != type.kind) {
    return BadRequest(fmt::format("the kind in the data ({}) does not match the expected kind ({})",
                                  object["kind"].get<std::string>(), type.kind));
  }
  if (object.contains("apiVersion") && !object["apiVersion"].is_string()) {
    return BadRequest("apiVersion must be a string");
  }
  if (object.contains("kind") && !object["kind"].is_string()) return BadRequest("kind must be a string");
  object["apiVersion"] = type.ApiVersion();
  object["kind"] = type.kind;
  return Status::Ok();
}

Status AdmitDelete(const api::ResourceType& type, const Json& object) {
  if (type.group != "apps.kubeblocks.io" || type.plural != "clusters") return Status::Ok();
  if (!object.contains("spec") || object["spec"].value("terminationPolicy", "") != "DoNotTerminate") {
    return Status::Ok();
  }
  return Status(StatusCode::kForbidden,
                fmt::format("clusters.apps.kubeblocks.io \"{}\" is forbidden: the deletion for a cluster with "
                            "DoNotTerminate termination policy is denied; set spec.terminationPolicy to Delete, "
                            "Halt or WipeOut first",
                            Name(object)))
      .WithDetails({.name = Name(object), .group = type.group, .kind = type.plural});
}

Status Registry::Admit(const api::ResourceType& type, Json& object, const Json* old_object,
                       const WriteOptions& options, std::vector<std::string>& warnings) const {
  XB_RETURN_IF_ERROR(CheckTypeMeta(type, object));
  if (options.field_validation != FieldValidation::kIgnore) {
    auto unknown = api::FindUnknownFields(type, object);
    if (!unknown.empty() && options.field_validation == FieldValidation::kStrict) {
      std::string message = "strict decoding error: ";
      for (size_t i = 0; i < unknown.size(); ++i) {
        message += fmt::format("{}unknown field \"{}\"", i == 0 ? "" : ", ", unknown[i]);
      }
      return BadRequest(message);
    }
    for (const auto& field : unknown) warnings.push_back(fmt::format("unknown field \"{}\"", field));
  }
  api::PruneUnknownFields(type, object);
  if (old_object == nullptr) DefaultBuiltinOnCreate(type, object);
  api::ApplyDefaults(type, object);
  return api::ValidateObject(type, object, old_object);
}

}  // namespace xblocks::apiserver
