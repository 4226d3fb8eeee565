#include "controllers/apply.h"

#include "apiserver/object_meta.h"
#include "controllers/halt_recovery.h"

namespace xblocks::controllers {
namespace {

void MergeMap(Json& live_meta, const Json& desired_meta, const char* key) {
  if (!desired_meta.contains(key) || !desired_meta[key].is_object()) return;
  for (const auto& [k, v] : desired_meta[key].items()) live_meta[key][k] = v;
}

void MergeFinalizers(Json& live, const Json& desired) {
  for (const auto& finalizer : apiserver::Finalizers(desired)) apiserver::AddFinalizer(live, finalizer);
}

Json Merged(const Json& live, const Json& desired) {
  Json out = live;
  const Json& desired_meta = desired["metadata"];
  MergeMap(out["metadata"], desired_meta, "labels");
  MergeMap(out["metadata"], desired_meta, "annotations");
  // A Halt deletion released this object from its owners and stored the cluster on it. A
  // reconcile that raced with the deletion must not give it owners again, or the garbage
  // collector deletes it along with them.
  const bool kept_by_halt = live["metadata"].contains("annotations") && live["metadata"]["annotations"].is_object() &&
                            live["metadata"]["annotations"].contains(kLastAppliedClusterAnnotation);
  if (desired_meta.contains("ownerReferences") && !kept_by_halt) {
    out["metadata"]["ownerReferences"] = desired_meta["ownerReferences"];
  }
  MergeFinalizers(out, desired);
  for (const auto& [key, value] : desired.items()) {
    if (key == "apiVersion" || key == "kind" || key == "metadata" || key == "status") continue;
    if (key == "spec" && value.is_object() && out.contains("spec") && out["spec"].is_object()) {
      // Keep server-allocated spec fields, such as a Service's clusterIP, that `desired` leaves out.
      for (const auto& [spec_key, spec_value] : value.items()) out["spec"][spec_key] = spec_value;
      continue;
    }
    out[key] = value;
  }
  return out;
}

}  // namespace

Result<Json> ApplyObject(client::Client& client, const client::Resource& resource, const Json& desired,
                         ApplyOutcome* outcome) {
  const std::string ns = apiserver::Namespace(desired);
  const std::string name = apiserver::Name(desired);
  auto live = client.Get(resource, ns, name);
  if (!live.ok()) {
    if (live.status().code() != StatusCode::kNotFound) return live.status();
    if (outcome != nullptr) *outcome = ApplyOutcome::kCreated;
    return client.Create(resource, desired);
  }
  // An object on its way out keeps its state; it is created again once it is gone.
  Json merged = apiserver::IsDeleting(*live) ? *live : Merged(*live, desired);
  if (merged == *live) {
    if (outcome != nullptr) *outcome = ApplyOutcome::kUnchanged;
    return std::move(*live);
  }
  if (outcome != nullptr) *outcome = ApplyOutcome::kUpdated;
  return client.Update(resource, merged);
}

}  // namespace xblocks::controllers
