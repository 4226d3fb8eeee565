#include "apiserver/object_meta.h"

#include <algorithm>
#include <charconv>
#include <random>

#include <fmt/format.h>

namespace xblocks::apiserver {
namespace {

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

}  // namespace

std::string MetaString(const Json& object, const char* field) {
  if (!object.is_object()) return "";
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto value = meta->find(field);
  if (value == meta->end() || !value->is_string()) return "";
  return value->get<std::string>();
}

std::string Name(const Json& object) { return MetaString(object, "name"); }
std::string Namespace(const Json& object) { return MetaString(object, "namespace"); }
std::string Uid(const Json& object) { return MetaString(object, "uid"); }

std::optional<int64_t> ResourceVersion(const Json& object) {
  std::string text = MetaString(object, "resourceVersion");
  if (text.empty()) return 0;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

bool IsDeleting(const Json& object) { return !MetaString(object, "deletionTimestamp").empty(); }

std::vector<std::string> Finalizers(const Json& object) {
  std::vector<std::string> out;
  if (!object.is_object() || !object.contains("metadata")) return out;
  const Json& meta = object["metadata"];
  if (!meta.is_object() || !meta.contains("finalizers") || !meta["finalizers"].is_array()) return out;
  for (const auto& f : meta["finalizers"]) {
    if (f.is_string()) out.push_back(f.get<std::string>());
  }
  return out;
}

bool HasFinalizer(const Json& object, const std::string& finalizer) {
  auto all = Finalizers(object);
  return std::find(all.begin(), all.end(), finalizer) != all.end();
}

void AddFinalizer(Json& object, const std::string& finalizer) {
  if (HasFinalizer(object, finalizer)) return;
  object["metadata"]["finalizers"].push_back(finalizer);
}

void RemoveFinalizer(Json& object, const std::string& finalizer) {
  if (!HasFinalizer(object, finalizer)) return;
  Json& list = object["metadata"]["finalizers"];
  Json kept = Json::array();
  for (const auto& f : list) {
    if (f != finalizer) kept.push_back(f);
  }
  if (kept.empty()) {
    object["metadata"].erase("finalizers");
  } else {
    list = std::move(kept);
  }
}

std::string NewUid() {
  std::uniform_int_distribution<uint64_t> dist;
  uint64_t high = dist(Rng());
  uint64_t low = dist(Rng());
  high = (high & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  low = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;    // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", high >> 32, (high >> 16) & 0xffff, high & 0xffff,
                     low >> 48, low & 0xffffffffffffULL);
}

std::string RandomSuffix(size_t length) {
  // kube-apiserver's alphabet: no vowels and no digits that read like letters.
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::uniform_int_distribution<size_t> dist(0, kAlphabet.size() - 1);
  std::string out;
  for (size_t i = 0; i < length; ++i) out.push_back(kAlphabet[dist(Rng())]);
  return out;
}

Json SpecPart(const Json& object) {
  Json copy = object;
  if (copy.is_object()) {
    copy.erase("metadata");
    copy.erase("status");
  }
  return copy;
}

}  // namespace xblocks::apiserver
