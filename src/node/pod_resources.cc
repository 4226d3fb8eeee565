// Resource requests of pods and allocatable of nodes, and grouping bound pods by node.
#include <algorithm>
#include <limits>
#include <unordered_map>

#include "api/json_fields.h"
#include "common/quantity.h"
#include "node/scheduling_framework.h"

namespace xblocks::node::scheduling {
namespace {

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return b > 0 ? std::numeric_limits<int64_t>::max() : 0;
  return sum;
}

// Extended resources (a domain outside kubernetes.io) and hugepages are checked by name.
bool IsScalarResource(const std::string& name) {
  if (name.rfind("hugepages-", 0) == 0) return true;
  const size_t slash = name.find('/');
  if (slash == std::string::npos) return false;
  const std::string domain = name.substr(0, slash);
  return domain != "kubernetes.io" && !domain.ends_with(".kubernetes.io") && name.rfind("requests.", 0) != 0;
}

// A quantity written as a string or a JSON number; nullopt when it does not parse.
std::optional<Quantity> QuantityOf(const Json& value) {
  std::string text;
  if (value.is_string()) {
    text = value.get<std::string>();
  } else if (value.is_number()) {
    text = value.dump();
  } else {
    return std::nullopt;
  }
  auto parsed = ParseQuantity(text);
  if (!parsed.ok()) return std::nullopt;
  return *parsed;
}

void AddResource(ResourceList& list, const std::string& name, const Quantity& quantity) {
  if (quantity.Sign() <= 0) return;
  if (name == "cpu") {
    list.milli_cpu = SaturatingAdd(list.milli_cpu, quantity.MilliValue());
  } else if (name == "memory") {
    list.memory = SaturatingAdd(list.memory, quantity.Value());
  } else if (name == "ephemeral-storage") {
    list.ephemeral_storage = SaturatingAdd(list.ephemeral_storage, quantity.Value());
  } else if (name == "pods") {
    list.pods = SaturatingAdd(list.pods, quantity.Value());
  } else if (IsScalarResource(name)) {
    list.scalar[name] = SaturatingAdd(list.scalar[name], quantity.Value());
  }
}

// Adds every parseable entry of a ResourceList JSON object.
void AddResourceObject(ResourceList& list, const Json& resources) {
  if (!resources.is_object()) return;
  for (const auto& [name, value] : resources.items()) {
    if (auto quantity = QuantityOf(value)) AddResource(list, name, *quantity);
  }
}

// A container's requests, with limits standing in for requests it does not set.
ResourceList ContainerRequests(const Json& container) {
  const Json& requests = api::ObjectAt(container, "resources.requests");
  Json effective = api::ObjectAt(container, "resources.limits");
  for (const auto& [name, value] : requests.items()) effective[name] = value;
  ResourceList list;
  AddResourceObject(list, effective);
  return list;
}

ResourceList NonZeroContainerRequests(const Json& container) {
  const ResourceList actual = ContainerRequests(container);
  ResourceList list;
  list.milli_cpu = actual.milli_cpu > 0 ? actual.milli_cpu : kDefaultMilliCpuRequest;
  list.memory = actual.memory > 0 ? actual.memory : kDefaultMemoryRequest;
  return list;
}

void MaxInto(ResourceList& list, const ResourceList& other) {
  list.milli_cpu = std::max(list.milli_cpu, other.milli_cpu);
  list.memory = std::max(list.memory, other.memory);
  list.ephemeral_storage = std::max(list.ephemeral_storage, other.ephemeral_storage);
  for (const auto& [name, value] : other.scalar) list.scalar[name] = std::max(list.scalar[name], value);
}

template <typename PerContainer>
ResourceList EffectiveRequests(const Json& pod, PerContainer per_container) {
  ResourceList sum;
  for (const Json& container : api::ArrayAt(pod, "spec.containers")) sum.Add(per_container(container));
  for (const Json& container : api::ArrayAt(pod, "spec.initContainers")) MaxInto(sum, per_container(container));
  ResourceList overhead;
  AddResourceObject(overhead, api::ObjectAt(pod, "spec.overhead"));
  sum.Add(overhead);
  return sum;
}

}  // namespace

void ResourceList::Add(const ResourceList& other) {
  milli_cpu = SaturatingAdd(milli_cpu, other.milli_cpu);
  memory = SaturatingAdd(memory, other.memory);
  ephemeral_storage = SaturatingAdd(ephemeral_storage, other.ephemeral_storage);
  pods = SaturatingAdd(pods, other.pods);
  for (const auto& [name, value] : other.scalar) scalar[name] = SaturatingAdd(scalar[name], value);
}

ResourceList PodRequests(const Json& pod) { return EffectiveRequests(pod, ContainerRequests); }

ResourceList NonZeroPodRequests(const Json& pod) {
  ResourceList list = EffectiveRequests(pod, NonZeroContainerRequests);
  list.ephemeral_storage = 0;
  list.scalar.clear();
  return list;
}

ResourceList NodeAllocatable(const Json& node) {
  ResourceList list;
  AddResourceObject(list, api::ObjectAt(node, "status.allocatable"));
  return list;
}

bool HoldsResources(const Json& pod) {
  const std::string phase = api::StringAt(pod, "status.phase");
  return phase != "Succeeded" && phase != "Failed";
}

std::vector<NodeInfo> BuildNodeInfos(const std::vector<Json>& nodes, const std::vector<Json>& bound_pods,
                                     const Json& pod) {
  std::vector<NodeInfo> infos;
  infos.reserve(nodes.size());
  std::unordered_map<std::string, size_t> index;
  for (const Json& node : nodes) {
    NodeInfo info;
    info.node = &node;
    info.name = api::StringAt(node, "metadata.name");
    info.labels = api::ObjectAt(node, "metadata.labels");
    info.allocatable = NodeAllocatable(node);
    if (info.name.empty() || index.count(info.name) > 0) continue;
    index[info.name] = infos.size();
    infos.push_back(std::move(info));
  }

  const std::string self_ns = api::StringAt(pod, "metadata.namespace");
  const std::string self_name = api::StringAt(pod, "metadata.name");
  for (const Json& bound : bound_pods) {
    auto it = index.find(api::StringAt(bound, "spec.nodeName"));
    if (it == index.end() || !HoldsResources(bound)) continue;
    if (api::StringAt(bound, "metadata.namespace") == self_ns && api::StringAt(bound, "metadata.name") == self_name) {
      continue;
    }
    NodeInfo& info = infos[it->second];
    info.pods.push_back(&bound);
    info.requested.Add(PodRequests(bound));
    info.non_zero_requested.Add(NonZeroPodRequests(bound));
  }
  return infos;
}

}  // namespace xblocks::node::scheduling
