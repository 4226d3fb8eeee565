#include "api/cel_rules.h"

#include "api/schema_validation.h"

namespace xblocks::api {
namespace {

bool Has(const Json& object, const char* field) { return object.is_object() && object.contains(field); }

bool IsTrue(const Json& object, const char* field) {
  return Has(object, field) && object[field].is_boolean() && object[field].get<bool>();
}

bool Immutable(const Json& self, const Json* old_self) { return old_self == nullptr || self == *old_self; }

// self.all(x, size(self.filter(c, c.name == x.name)) == 1)
bool NamesUnique(const Json& self, const Json*) {
  if (!self.is_array()) return true;
  for (const Json& item : self) {
    size_t same = 0;
    Json name = Has(item, "name") ? item["name"] : Json();
    for (const Json& other : self) {
      if ((Has(other, "name") ? other["name"] : Json()) == name) ++same;
    }
    if (same != 1) return false;
  }
  return true;
}

// Either no item or every item sets componentDef.
bool ComponentDefAllOrNone(const Json& self, const Json*) {
  if (!self.is_array()) return true;
  size_t with_component_def = 0;
  for (const Json& item : self) {
    if (Has(item, "componentDef")) ++with_component_def;
  }
  return with_component_def == 0 || with_component_def == self.size();
}

bool ConsensusSpecMatchesWorkloadType(const Json& self, const Json*) {
  if (!self.is_object()) return true;
  bool consensus = Has(self, "workloadType") && self["workloadType"] == "Consensus";
  if (consensus) return Has(self, "consensusSpec") || Has(self, "rsmSpec");
  return !Has(self, "consensusSpec");
}

bool CancelOnlyForScaling(const Json& self, const Json*) {
  if (!IsTrue(self, "cancel")) return true;
  const Json& type = self.contains("type") ? self["type"] : Json();
  return type == "VerticalScaling" || type == "HorizontalScaling";
}

bool ShardsExcludeScaleInAndOut(const Json& self, const Json*) {
  if (!Has(self, "shards")) return true;
  return !Has(self, "scaleOut") && !Has(self, "scaleIn");
}

bool ObjectKeyOrActionName(const Json& self, const Json*) {
  if (!self.is_object()) return true;
  return Has(self, "objectKey") || Has(self, "actionName");
}

// The old list item with the same list-map key values as `item`, or null.
const Json* FindOldListItem(const Json& keys, const Json& item, const Json& old_list) {
  if (!item.is_object() || !old_list.is_array()) return nullptr;
  for (const Json& old_item : old_list) {
    if (!old_item.is_object()) continue;
    bool same = true;
    for (const Json& key : keys) {
      if (!key.is_string()) continue;
      const std::string& name = key.get_ref<const std::string&>();
      Json new_key = item.contains(name) ? item[name] : Json();
      Json old_key = old_item.contains(name) ? old_item[name] : Json();
      same = same && new_key == old_key;
    }
    if (same) return &old_item;
  }
  return nullptr;
}

void EvaluateRules(const Json& rules, const Json& schema, const Json& value, const Json* old_value,
                   const std::string& path, FieldErrors& errors) {
  for (const Json& rule : rules) {
    const CelRule* entry = FindCelRule(SchemaString(rule, "rule"));
    // Unknown rules never get here: CheckCelRulesSupported rejects them when the scheme loads.
    if (entry == nullptr) continue;
    if (entry->transition && old_value == nullptr) continue;
    if (entry->holds(value, entry->transition ? old_value : nullptr)) continue;

    std::string field = path + SchemaString(rule, "fieldPath");
    std::string type = SchemaString(schema, "type");
    errors.push_back(InvalidError(field, Json(type.empty() ? "object" : type).dump(),
                                  SchemaString(rule, "message")));
  }
}

std::string StringOr(const Json& object, const char* field) {
  return Has(object, field) && object[field].is_string() ? object[field].get<std::string>() : std::string();
}

// self.modelType != 'LLM' || has(self.modelEngine)
bool LlmHasEngine(const Json& self, const Json*) {
  return StringOr(self, "modelType") != "LLM" || Has(self, "modelEngine");
}

// !has(self.modelPath) || self.modelType in ['embedding', 'rerank']
bool CustomModelTypeSupported(const Json& self, const Json*) {
  const std::string type = StringOr(self, "modelType");
  return !Has(self, "modelPath") || type == "embedding" || type == "rerank";
}

// !has(self.modelPath) || self.modelType != 'embedding' || has(self.dimensions)
bool CustomEmbeddingHasDimensions(const Json& self, const Json*) {
  return !Has(self, "modelPath") || StringOr(self, "modelType") != "embedding" || Has(self, "dimensions");
}

void RecurseIntoArray(const Json& schema, const Json& value, const Json* old_value,
                      const std::string& path, FieldErrors& errors) {
  const Json* items = SchemaChild(schema, "items");
  if (items == nullptr) return;
  const Json* keys = SchemaChild(schema, "x-kubernetes-list-map-keys");
  bool correlated = keys != nullptr && keys->is_array() && old_value != nullptr &&
                    SchemaString(schema, "x-kubernetes-list-type") == "map";
  for (size_t i = 0; i < value.size(); ++i) {
    const Json* old_item = correlated ? FindOldListItem(*keys, value[i], *old_value) : nullptr;
    ValidateCelRules(*items, value[i], old_item, IndexPath(path, i), errors);
  }
}

void RecurseIntoObject(const Json& schema, const Json& value, const Json* old_value,
                       const std::string& path, FieldErrors& errors) {
  const Json* additional = AdditionalPropertiesSchema(schema);
  for (const auto& [key, child] : value.items()) {
    const Json* child_schema = PropertySchema(schema, key);
    if (child_schema == nullptr) child_schema = additional;
    if (child_schema == nullptr) continue;
    const Json* old_child = nullptr;
    if (old_value != nullptr && old_value->is_object() && old_value->contains(key)) {
      old_child = &(*old_value)[key];
    }
    ValidateCelRules(*child_schema, child, old_child, ChildPath(path, key), errors);
  }
}

void CollectRuleErrors(const Json& schema, std::string& first_error) {
  if (!schema.is_object() || !first_error.empty()) return;
  const Json* rules = SchemaChild(schema, "x-kubernetes-validations");
  if (rules != nullptr && rules->is_array()) {
    for (const Json& rule : *rules) {
      std::string text = SchemaString(rule, "rule");
      if (FindCelRule(text) == nullptr) {
        first_error = "CRD validation rule has no C++ implementation in cel_rules.cc: " + text;
        return;
      }
      if (SchemaString(rule, "message").empty()) {
        first_error = "CRD validation rule has no message: " + text;
        return;
      }
    }
  }
  for (const auto& [key, child] : schema.items()) {
    if (key == "properties" && child.is_object()) {
      for (const auto& [name, property] : child.items()) CollectRuleErrors(property, first_error);
    } else if (key == "items" || key == "additionalProperties") {
      CollectRuleErrors(child, first_error);
    }
  }
}

}  // namespace

const std::vector<CelRule>& CelRules() {
  static const std::vector<CelRule> rules = {
      {"self == oldSelf", true, Immutable},
      {"self.all(x, size(self.filter(c, c.name == x.name)) == 1)", false, NamesUnique},
      {"self.all(x, size(self.filter(c, has(c.componentDef))) == 0) || "
       "self.all(x, size(self.filter(c, has(c.componentDef))) == size(self))",
       false, ComponentDefAllOrNone},
      {"has(self.workloadType) && self.workloadType == 'Consensus' ? "
       "(has(self.consensusSpec) || has(self.rsmSpec)) : !has(self.consensusSpec)",
       false, ConsensusSpecMatchesWorkloadType},
      {"has(self.cancel) && self.cancel ? "
       "(self.type in ['VerticalScaling', 'HorizontalScaling']) : true",
       false, CancelOnlyForScaling},
      {"has(self.shards) ? (!has(self.scaleOut) && !has(self.scaleIn)) : true", false,
       ShardsExcludeScaleInAndOut},
      {"has(self.objectKey) || has(self.actionName)", false, ObjectKeyOrActionName},
      {"self.modelType != 'LLM' || has(self.modelEngine)", false, LlmHasEngine},
      {"!has(self.modelPath) || self.modelType in ['embedding', 'rerank']", false, CustomModelTypeSupported},
      {"!has(self.modelPath) || self.modelType != 'embedding' || has(self.dimensions)", false,
       CustomEmbeddingHasDimensions},
  };
  return rules;
}

const CelRule* FindCelRule(std::string_view text) {
  for (const CelRule& rule : CelRules()) {
    if (rule.text == text) return &rule;
  }
  return nullptr;
}

Status CheckCelRulesSupported(const Json& schema) {
  std::string first_error;
  CollectRuleErrors(schema, first_error);
  return first_error.empty() ? Status::Ok() : Internal(first_error);
}

void ValidateCelRules(const Json& schema, const Json& value, const Json* old_value,
                      const std::string& path, FieldErrors& errors) {
  if (!schema.is_object()) return;
  const Json* rules = SchemaChild(schema, "x-kubernetes-validations");
  if (rules != nullptr && rules->is_array()) EvaluateRules(*rules, schema, value, old_value, path, errors);

  if (value.is_array()) RecurseIntoArray(schema, value, old_value, path, errors);
  if (value.is_object()) RecurseIntoObject(schema, value, old_value, path, errors);
}

}  // namespace xblocks::api
