// YAML to Json through yaml-cpp's event API. Building from events, instead of from
// YAML::Node trees, lets the depth limit stop the parser at the first level too deep and lets
// aliases be counted as they are copied.
#include "api/yaml.h"

#include <fmt/format.h>
#include <yaml-cpp/anchor.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <optional>
#include <sstream>
#include <unordered_map>

#include "api/yaml_scalar.h"

namespace xblocks::api {
namespace {

constexpr std::string_view kErrorPrefix = "error converting YAML to JSON: yaml: ";

// Raised by the event handler to stop the parse; caught in ParseYamlDocuments.
struct YamlInputError {
  YAML::Mark mark;
  std::string message;
};

std::string Position(const YAML::Mark& mark) {
  if (mark.is_null()) return "";
  return fmt::format("line {}, column {}: ", mark.line + 1, mark.column + 1);
}

Status YamlError(const YAML::Mark& mark, std::string_view message) {
  return BadRequest(fmt::format("{}{}{}", kErrorPrefix, Position(mark), message));
}

// A finished value on its way into its parent, with the number of values it contains.
struct Built {
  Json value;
  size_t values = 1;
  YAML::Mark mark;
  bool merge_key = false;  // the plain scalar "<<"
};

// A collection being built.
struct Frame {
  Json value;
  size_t values = 1;
  YAML::Mark mark;
  YAML::anchor_t anchor = YAML::NullAnchor;
  std::optional<std::string> key;  // maps: the key waiting for its value
  bool key_is_merge = false;
  std::vector<Json> merge_sources;  // maps: the values of "<<" keys, applied at the end
};

std::string KeyText(const Built& key) {
  const Json& v = key.value;
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "null";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_float()) return fmt::format("{}", v.get<double>());
  if (v.is_number()) return v.dump();
  throw YamlInputError{key.mark, "a mapping key must be a scalar, not an object or array"};
}

// Copies keys of the merge sources ("<<: *base") that the map does not set itself.
void ApplyMerges(Frame& frame) {
  for (const Json& source : frame.merge_sources) {
    for (const Json& part : source.is_array() ? source : Json::array({source})) {
      if (!part.is_object()) throw YamlInputError{frame.mark, "the value of a merge key \"<<\" must be a mapping or a list of mappings"};
      for (const auto& [name, value] : part.items()) {
        if (!frame.value.contains(name)) frame.value[name] = value;
      }
    }
  }
}

class JsonBuilder : public YAML::EventHandler {
 public:
  std::vector<Json> TakeDocuments() { return std::move(documents_); }

  void OnDocumentStart(const YAML::Mark&) override { root_.reset(); }
  void OnDocumentEnd() override {
    if (root_ && !root_->is_null()) documents_.push_back(std::move(*root_));
    root_.reset();
    anchors_.clear();
  }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Add(Built{Json(nullptr), 1, mark, false}, anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) throw YamlInputError{mark, "an alias refers to an anchor that encloses it"};
    alias_values_ += it->second.values;
    if (alias_values_ > kMaxAliasExpansion) {
      throw YamlInputError{mark, fmt::format("aliases expand to more than {} values", kMaxAliasExpansion)};
    }
    Add(Built{it->second.value, it->second.values, mark, false}, YAML::NullAnchor);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    Result<Json> resolved = ResolveYamlScalar(tag, value);
    if (!resolved.ok()) throw YamlInputError{mark, resolved.status().message()};
    Add(Built{std::move(*resolved), 1, mark, tag == "?" && value == "<<"}, anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Push(Json::array(), mark, anchor);
  }
  void OnSequenceEnd() override { Pop(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Push(Json::object(), mark, anchor);
  }
  void OnMapEnd() override {
    ApplyMerges(stack_.back());
    Pop();
  }

 private:
  void Push(Json empty, const YAML::Mark& mark, YAML::anchor_t anchor) {
    // Checked before yaml-cpp descends into the collection, so its recursion stays shallow.
    if (stack_.size() >= static_cast<size_t>(kMaxNestingDepth)) {
      throw YamlInputError{mark, fmt::format("nesting is deeper than {} levels", kMaxNestingDepth)};
    }
    Frame frame;
    frame.value = std::move(empty);
    frame.mark = mark;
    frame.anchor = anchor;
    stack_.push_back(std::move(frame));
  }

  void Pop() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    Add(Built{std::move(frame.value), frame.values, frame.mark, false}, frame.anchor);
  }

  void Add(Built built, YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor) anchors_[anchor] = Built{built.value, built.values, built.mark, false};
    if (stack_.empty()) {
      root_ = std::move(built.value);
      return;
    }
    Frame& parent = stack_.back();
    parent.values += built.values;
    if (parent.value.is_array()) {
      parent.value.push_back(std::move(built.value));
    } else if (!parent.key) {
      SetKey(parent, built);
    } else {
      SetValue(parent, std::move(built.value));
    }
  }

  void SetKey(Frame& parent, const Built& key) {
    parent.key_is_merge = key.merge_key;
    parent.key = key.merge_key ? "<<" : KeyText(key);
    if (!key.merge_key && parent.value.contains(*parent.key)) {
      throw YamlInputError{key.mark, fmt::format("duplicate key \"{}\" in a mapping", *parent.key)};
    }
  }

  void SetValue(Frame& parent, Json value) {
    if (parent.key_is_merge) {
      parent.merge_sources.push_back(std::move(value));
    } else {
      parent.value[*parent.key] = std::move(value);
    }
    parent.key.reset();
    parent.key_is_merge = false;
  }

  std::vector<Frame> stack_;
  std::optional<Json> root_;
  std::vector<Json> documents_;
  std::unordered_map<YAML::anchor_t, Built> anchors_;
  size_t alias_values_ = 0;
};

bool StartsWithBrace(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

}  // namespace

Result<std::vector<Json>> ParseYamlDocuments(std::string_view text) {
  std::istringstream stream{std::string(text)};
  JsonBuilder builder;
  try {
    YAML::Parser parser(stream);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const YamlInputError& e) {
    return YamlError(e.mark, e.message);
  } catch (const YAML::Exception& e) {
    return YamlError(e.mark, e.msg);
  } catch (const std::exception& e) {
    return YamlError(YAML::Mark::null_mark(), e.what());
  }
  return builder.TakeDocuments();
}

Result<Json> ParseYamlOrJson(std::string_view text) {
  if (StartsWithBrace(text)) {
    Result<Json> json = ParseJsonBody(text);
    if (json.ok()) return json;
  }
  Result<std::vector<Json>> documents = ParseYamlDocuments(text);
  if (!documents.ok()) return documents.status();
  if (documents->empty()) return Json(nullptr);
  if (documents->size() > 1) {
    return BadRequest(fmt::format("{}the input contains {} YAML documents, but one was expected",
                                  kErrorPrefix, documents->size()));
  }
  return std::move(documents->front());
}

}  // namespace xblocks::api
