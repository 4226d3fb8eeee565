// Small helpers over an object's metadata, shared by the registry, the HTTP handlers and the
// controllers. All of them tolerate missing fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"

namespace xblocks::apiserver {

std::string MetaString(const Json& object, const char* field);
std::string Name(const Json& object);
std::string Namespace(const Json& object);
std::string Uid(const Json& object);
// metadata.resourceVersion as a number; 0 when absent; nullopt when present but not a number.
std::optional<int64_t> ResourceVersion(const Json& object);
bool IsDeleting(const Json& object);
std::vector<std::string> Finalizers(const Json& object);
bool HasFinalizer(const Json& object, const std::string& finalizer);
void AddFinalizer(Json& object, const std::string& finalizer);
void RemoveFinalizer(Json& object, const std::string& finalizer);
// A random RFC 4122 version 4 UUID.
std::string NewUid();
// A random suffix of `length` characters from kube's generateName alphabet.
std::string RandomSuffix(size_t length);
// The object without metadata and status, for deciding whether generation changes.
Json SpecPart(const Json& object);

}  // namespace xblocks::apiserver
