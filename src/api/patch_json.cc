// RFC 7386 JSON merge patch and RFC 6902 JSON patch.
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "api/patch.h"
#include "api/patch_util.h"

namespace xblocks::api {
namespace {

using Tokens = std::vector<std::string>;

// One RFC 6902 operation with its members checked for type.
struct Operation {
  size_t index = 0;
  std::string op;
  std::string path;
  Tokens path_tokens;
  std::string from;
  Tokens from_tokens;
  const Json* value = nullptr;
};

// Splits an RFC 6901 JSON pointer into unescaped reference tokens. "" is the whole document.
Result<Tokens> ParsePointer(const std::string& pointer) {
  Tokens tokens;
  if (pointer.empty()) return tokens;
  if (pointer[0] != '/') {
    return BadRequest(fmt::format("invalid JSON pointer \"{}\": it must be empty or start with \"/\"",
                                  pointer));
  }
  std::string token;
  for (size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens.push_back(std::move(token));
      token.clear();
    } else if (pointer[i] != '~') {
      token += pointer[i];
    } else if (i + 1 < pointer.size() && (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
      token += pointer[++i] == '0' ? '~' : '/';
    } else {
      return BadRequest(fmt::format(
          "invalid JSON pointer \"{}\": \"~\" must be followed by \"0\" or \"1\"", pointer));
    }
  }
  return tokens;
}

Status DoesNotApply(const Operation& op, const std::string& reason) {
  return Invalid(fmt::format("jsonpatch {} operation does not apply: {}", op.op, reason));
}

Status MissingPath(const Operation& op, const std::string& path) {
  return DoesNotApply(op, fmt::format("doc is missing path: \"{}\"", path));
}

// Parses an array index token. `size` is the list length; `allow_end` admits "-" and `size`
// itself, which only "add" may use.
std::optional<size_t> ParseIndex(const std::string& token, size_t size, bool allow_end) {
  if (token == "-") return allow_end ? std::optional<size_t>(size) : std::nullopt;
  if (token.empty() || token.size() > 18 || (token.size() > 1 && token[0] == '0')) return std::nullopt;
  size_t index = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return std::nullopt;
    index = index * 10 + static_cast<size_t>(c - '0');
  }
  if (index > size || (index == size && !allow_end)) return std::nullopt;
  return index;
}

// Follows `count` tokens from `doc`. Returns null when a step does not exist.
Json* Resolve(Json& doc, const Tokens& tokens, size_t count) {
  Json* node = &doc;
  for (size_t i = 0; i < count; ++i) {
    const std::string& token = tokens[i];
    if (node->is_object()) {
      auto it = node->find(token);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else if (node->is_array()) {
      std::optional<size_t> index = ParseIndex(token, node->size(), /*allow_end=*/false);
      if (!index) return nullptr;
      node = &(*node)[*index];
    } else {
      return nullptr;
    }
  }
  return node;
}

Status AddValue(Json& doc, const Operation& op, const Tokens& tokens, const std::string& path,
                Json value) {
  if (tokens.empty()) {
    doc = std::move(value);
    return Status::Ok();
  }
  Json* parent = Resolve(doc, tokens, tokens.size() - 1);
  if (parent == nullptr) return MissingPath(op, path);
  const std::string& last = tokens.back();
  if (parent->is_object()) {
    (*parent)[last] = std::move(value);
    return Status::Ok();
  }
  if (!parent->is_array()) {
    return DoesNotApply(op, fmt::format("the parent of \"{}\" is a {}, not an object or array",
                                        path, PatchValueTypeName(*parent)));
  }
  std::optional<size_t> index = ParseIndex(last, parent->size(), /*allow_end=*/true);
  if (!index) {
    return DoesNotApply(op, fmt::format("index \"{}\" of \"{}\" is out of range for an array of {} "
                                        "elements", last, path, parent->size()));
  }
  parent->insert(parent->begin() + static_cast<std::ptrdiff_t>(*index), std::move(value));
  return Status::Ok();
}

Status RemoveValue(Json& doc, const Operation& op, const Tokens& tokens, const std::string& path) {
  if (tokens.empty()) return DoesNotApply(op, "the whole document cannot be removed");
  Json* parent = Resolve(doc, tokens, tokens.size() - 1);
  if (parent == nullptr || Resolve(*parent, {tokens.back()}, 1) == nullptr) {
    return MissingPath(op, path);
  }
  if (parent->is_object()) {
    parent->erase(tokens.back());
  } else {
    parent->erase(*ParseIndex(tokens.back(), parent->size(), /*allow_end=*/false));
  }
  return Status::Ok();
}

Result<Json> CopyValue(Json& doc, const Operation& op, const Tokens& tokens, const std::string& path) {
  Json* node = Resolve(doc, tokens, tokens.size());
  if (node == nullptr) return MissingPath(op, path);
  return *node;
}

bool IsProperPrefix(const Tokens& prefix, const Tokens& tokens) {
  if (prefix.size() >= tokens.size()) return false;
  return std::equal(prefix.begin(), prefix.end(), tokens.begin());
}

Status Apply(Json& doc, const Operation& op) {
  if (op.op == "add") return AddValue(doc, op, op.path_tokens, op.path, *op.value);
  if (op.op == "remove") return RemoveValue(doc, op, op.path_tokens, op.path);
  if (op.op == "replace") {
    Json* target = Resolve(doc, op.path_tokens, op.path_tokens.size());
    if (target == nullptr) return MissingPath(op, op.path);
    *target = *op.value;
    return Status::Ok();
  }
  if (op.op == "test") {
    Json* target = Resolve(doc, op.path_tokens, op.path_tokens.size());
    if (target == nullptr) return MissingPath(op, op.path);
    if (*target == *op.value) return Status::Ok();
    return DoesNotApply(op, fmt::format("value at \"{}\" is {}, expected {}", op.path,
                                        DumpForMessage(*target), DumpForMessage(*op.value)));
  }
  Result<Json> value = CopyValue(doc, op, op.from_tokens, op.from);
  if (!value.ok()) return value.status();
  if (op.op == "move") {
    if (IsProperPrefix(op.from_tokens, op.path_tokens)) {
      return DoesNotApply(op, fmt::format("\"{}\" cannot be moved into its own child \"{}\"",
                                          op.from, op.path));
    }
    XB_RETURN_IF_ERROR(RemoveValue(doc, op, op.from_tokens, op.from));
  }
  return AddValue(doc, op, op.path_tokens, op.path, std::move(value).value());
}

Result<std::string> StringMember(const Json& item, size_t index, const std::string& op,
                                 const char* member) {
  auto it = item.find(member);
  if (it == item.end() || !it->is_string()) {
    return BadRequest(fmt::format("json patch operation {} (\"{}\") needs a string \"{}\"", index,
                                  op, member));
  }
  return it->get<std::string>();
}

Result<Operation> ParseOperation(const Json& item, size_t index) {
  if (!item.is_object()) {
    return BadRequest(fmt::format("json patch operation {} must be an object, got {}", index,
                                  PatchValueTypeName(item)));
  }
  Operation op;
  op.index = index;
  Result<std::string> name = StringMember(item, index, "?", "op");
  if (!name.ok()) return name.status();
  op.op = *name;
  static const char* const kOps[] = {"add", "remove", "replace", "move", "copy", "test"};
  if (std::find(std::begin(kOps), std::end(kOps), op.op) == std::end(kOps)) {
    return BadRequest(fmt::format("json patch operation {} has unknown op \"{}\"; use add, remove, "
                                  "replace, move, copy or test", index, op.op));
  }

  Result<std::string> path = StringMember(item, index, op.op, "path");
  if (!path.ok()) return path.status();
  op.path = *path;
  Result<Tokens> tokens = ParsePointer(op.path);
  if (!tokens.ok()) return tokens.status();
  op.path_tokens = std::move(tokens).value();

  if (op.op == "move" || op.op == "copy") {
    Result<std::string> from = StringMember(item, index, op.op, "from");
    if (!from.ok()) return from.status();
    op.from = *from;
    Result<Tokens> from_tokens = ParsePointer(op.from);
    if (!from_tokens.ok()) return from_tokens.status();
    op.from_tokens = std::move(from_tokens).value();
  }
  if (op.op == "add" || op.op == "replace" || op.op == "test") {
    auto value = item.find("value");
    if (value == item.end()) {
      return BadRequest(fmt::format("json patch operation {} (\"{}\") is missing \"value\"", index,
                                    op.op));
    }
    op.value = &*value;
  }
  return op;
}

}  // namespace

Result<Json> ApplyMergePatch(const Json& original, const Json& patch) {
  if (!patch.is_object()) {
    return BadRequest(fmt::format("a merge patch must be a JSON object, got {}",
                                  PatchValueTypeName(patch)));
  }
  if (ExceedsDepth(patch, kMaxPatchDepth)) {
    return BadRequest(fmt::format("merge patch nests deeper than {} levels", kMaxPatchDepth));
  }
  Json result = original;
  result.merge_patch(patch);
  return result;
}

Result<Json> ApplyJsonPatch(const Json& original, const Json& patch) {
  if (!patch.is_array()) {
    return BadRequest(fmt::format("a json patch must be a JSON array of operations, got {}",
                                  PatchValueTypeName(patch)));
  }
  if (ExceedsDepth(patch, kMaxPatchDepth)) {
    return BadRequest(fmt::format("json patch nests deeper than {} levels", kMaxPatchDepth));
  }
  std::vector<Operation> operations;
  for (size_t i = 0; i < patch.size(); ++i) {
    Result<Operation> op = ParseOperation(patch[i], i);
    if (!op.ok()) return op.status();
    operations.push_back(std::move(op).value());
  }

  Json doc = original;
  for (const Operation& op : operations) {
    XB_RETURN_IF_ERROR(Apply(doc, op));
  }
  return doc;
}

}  // namespace xblocks::api
