#include "api/yaml.h"

#include <gtest/gtest.h>

#include <string>

namespace xblocks::api {
namespace {

Json ParseOne(std::string_view text) {
  Result<Json> parsed = ParseYamlOrJson(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? *parsed : Json();
}

void ExpectBadRequest(const Status& status, std::string_view fragment) {
  EXPECT_EQ(status.code(), StatusCode::kBadRequest);
  EXPECT_NE(status.message().find(fragment), std::string::npos) << status.message();
}

TEST(Yaml, MultipleDocuments) {
  auto docs = ParseYamlDocuments("a: 1\n---\nb: two\n---\n- x\n- y\n");
  ASSERT_TRUE(docs.ok()) << docs.status().message();
  ASSERT_EQ(docs->size(), 3u);
  EXPECT_EQ((*docs)[0], Json({{"a", 1}}));
  EXPECT_EQ((*docs)[1], Json({{"b", "two"}}));
  EXPECT_EQ((*docs)[2], Json::array({"x", "y"}));
}

TEST(Yaml, SkipsEmptyDocuments) {
  auto only_marker = ParseYamlDocuments("---\n");
  ASSERT_TRUE(only_marker.ok());
  EXPECT_TRUE(only_marker->empty());

  auto empty = ParseYamlDocuments("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());

  auto comments = ParseYamlDocuments("# just a comment\n");
  ASSERT_TRUE(comments.ok());
  EXPECT_TRUE(comments->empty());

  auto gaps = ParseYamlDocuments("---\n---\na: 1\n---\n---\n");
  ASSERT_TRUE(gaps.ok());
  ASSERT_EQ(gaps->size(), 1u);
  EXPECT_EQ((*gaps)[0], Json({{"a", 1}}));
}

TEST(Yaml, CoreSchemaNullsAndBooleans) {
  Json v = ParseOne("a: null\nb: ~\nc:\nd: Null\ne: NULL\nf: true\ng: True\nh: TRUE\ni: false\nj: FALSE\n");
  for (const char* key : {"a", "b", "c", "d", "e"}) EXPECT_TRUE(v[key].is_null()) << key;
  for (const char* key : {"f", "g", "h"}) EXPECT_EQ(v[key], true) << key;
  for (const char* key : {"i", "j"}) EXPECT_EQ(v[key], false) << key;
}

TEST(Yaml, Yaml11BooleanWordsStayStrings) {
  Json v = ParseOne("a: yes\nb: no\nc: on\nd: off\ne: y\nf: tRuE\n");
  for (const char* key : {"a", "b", "c", "d", "e", "f"}) EXPECT_TRUE(v[key].is_string()) << key;
  EXPECT_EQ(v["a"], "yes");
}

TEST(Yaml, CoreSchemaIntegers) {
  Json v = ParseOne("a: 42\nb: -7\nc: +3\nd: 0x1F\ne: 0o17\nf: 007\ng: 18446744073709551615\n");
  EXPECT_EQ(v["a"], 42);
  EXPECT_EQ(v["b"], -7);
  EXPECT_EQ(v["c"], 3);
  EXPECT_EQ(v["d"], 31);
  EXPECT_EQ(v["e"], 15);
  EXPECT_EQ(v["f"], 7);
  EXPECT_TRUE(v["g"].is_number_unsigned());
  EXPECT_TRUE(v["a"].is_number_integer());
}

TEST(Yaml, CoreSchemaFloats) {
  Json v = ParseOne("a: 1.5\nb: -0.25\nc: 1e3\nd: .5\ne: 2.\nf: 6.02E+23\n");
  EXPECT_DOUBLE_EQ(v["a"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(v["b"].get<double>(), -0.25);
  EXPECT_DOUBLE_EQ(v["c"].get<double>(), 1000.0);
  EXPECT_TRUE(v["c"].is_number_float());
  EXPECT_DOUBLE_EQ(v["d"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(v["e"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(v["f"].get<double>(), 6.02e23);
}

TEST(Yaml, OtherPlainScalarsAreStrings) {
  Json v = ParseOne("a: 1Gi\nb: 500m\nc: 0x\nd: 1.2.3\ne: hello world\nf: 0xFFFFFFFFFFFFFFFFFFFF\ng: 1e999\n");
  EXPECT_EQ(v["a"], "1Gi");
  EXPECT_EQ(v["b"], "500m");
  EXPECT_EQ(v["c"], "0x");
  EXPECT_EQ(v["d"], "1.2.3");
  EXPECT_EQ(v["e"], "hello world");
  EXPECT_EQ(v["f"], "0xFFFFFFFFFFFFFFFFFFFF");
  EXPECT_EQ(v["g"], "1e999");
}

TEST(Yaml, QuotedAndTaggedScalarsStayStrings) {
  Json v = ParseOne("a: \"1\"\nb: 'true'\nc: !!str 42\nd: |\n  123\ne: \"null\"\nf: !!str\n");
  EXPECT_EQ(v["a"], "1");
  EXPECT_EQ(v["b"], "true");
  EXPECT_EQ(v["c"], "42");
  EXPECT_EQ(v["d"], "123\n");
  EXPECT_EQ(v["e"], "null");
}

TEST(Yaml, ExplicitTypeTags) {
  Json v = ParseOne("a: !!int \"12\"\nb: !!float 3\nc: !!bool \"true\"\n");
  EXPECT_EQ(v["a"], 12);
  EXPECT_TRUE(v["b"].is_number_float());
  EXPECT_EQ(v["c"], true);
  ExpectBadRequest(ParseYamlOrJson("a: !!int abc\n").status(), "!!int");
}

TEST(Yaml, InfinityAndNanAreRejected) {
  for (const char* text : {"a: .inf\n", "a: -.Inf\n", "a: .NaN\n", "a: !!float .nan\n"}) {
    ExpectBadRequest(ParseYamlOrJson(text).status(), "cannot be represented in JSON");
  }
  EXPECT_EQ(ParseOne("a: '.inf'\n")["a"], ".inf");
}

TEST(Yaml, NonStringKeysBecomeStrings) {
  Json v = ParseOne("1: a\ntrue: b\n~: c\n1.5: d\n");
  EXPECT_EQ(v["1"], "a");
  EXPECT_EQ(v["true"], "b");
  EXPECT_EQ(v["null"], "c");
  EXPECT_EQ(v["1.5"], "d");
}

TEST(Yaml, RejectsCollectionKeys) {
  ExpectBadRequest(ParseYamlOrJson("? [a, b]\n: c\n").status(), "mapping key must be a scalar");
}

TEST(Yaml, RejectsDuplicateKeysNamingKey) {
  Result<Json> parsed = ParseYamlOrJson("metadata:\n  name: a\n  name: b\n");
  ASSERT_FALSE(parsed.ok());
  ExpectBadRequest(parsed.status(), "duplicate key \"name\"");
  ExpectBadRequest(parsed.status(), "line 3");
}

TEST(Yaml, MalformedInputReportsLine) {
  Result<Json> parsed = ParseYamlOrJson("a: 1\nb: 2\nc: d: e\n");
  ASSERT_FALSE(parsed.ok());
  ExpectBadRequest(parsed.status(), "error converting YAML to JSON: yaml: line 3");

  // yaml-cpp 0.7 accepts a double-quoted scalar left open at the end of input, so that case is
  // not listed here.
  for (const char* text : {"a: [1, 2\n", "a: {b: 1\n", "- a\nb: c\n",
                           "a: *missing\n", "\t- tab\n"}) {
    Result<Json> bad = ParseYamlOrJson(text);
    EXPECT_FALSE(bad.ok()) << text;
    if (!bad.ok()) {
      ExpectBadRequest(bad.status(), "error converting YAML to JSON: yaml: ");
    }
  }
}

TEST(Yaml, AnchorsAndAliases) {
  Json v = ParseOne("base: &b {cpu: 1, mem: 2}\ncopy: *b\nlist: [&x 5, *x]\n");
  EXPECT_EQ(v["copy"], Json({{"cpu", 1}, {"mem", 2}}));
  EXPECT_EQ(v["list"], Json::array({5, 5}));
}

TEST(Yaml, MergeKeys) {
  Json v = ParseOne("base: &b\n  a: 1\n  b: 2\nderived:\n  <<: *b\n  b: 3\n  c: 4\n");
  EXPECT_EQ(v["derived"], Json({{"a", 1}, {"b", 3}, {"c", 4}}));
  Json quoted = ParseOne("m:\n  '<<': x\n");
  EXPECT_EQ(quoted["m"]["<<"], "x");
  ExpectBadRequest(ParseYamlOrJson("m:\n  <<: 5\n").status(), "merge key");
}

TEST(Yaml, AliasExpansionIsLimited) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  std::string previous = "a";
  for (char name = 'b'; name <= 'j'; ++name) {
    bomb += std::string(1, name) + ": &" + name + " [";
    for (int i = 0; i < 10; ++i) bomb += (i ? ", *" : "*") + previous;
    bomb += "]\n";
    previous = std::string(1, name);
  }
  ExpectBadRequest(ParseYamlOrJson(bomb).status(), "aliases expand to more than");
}

TEST(Yaml, NestingAtLimitIsAccepted) {
  std::string text(kMaxNestingDepth, '[');
  text += std::string(kMaxNestingDepth, ']');
  EXPECT_TRUE(ParseYamlOrJson(text).ok());
}

TEST(Yaml, DeepFlowSequencesRejected) {
  std::string text(100'000, '[');
  Result<Json> parsed = ParseYamlOrJson(text);
  ExpectBadRequest(parsed.status(), "nesting is deeper than 100 levels");

  std::string closed = std::string(kMaxNestingDepth + 1, '[') + std::string(kMaxNestingDepth + 1, ']');
  ExpectBadRequest(ParseYamlOrJson(closed).status(), "deeper than");
}

TEST(Yaml, DeepFlowMappingsRejected) {
  std::string text;
  for (int i = 0; i < 100'000; ++i) text += "{a: ";
  Result<std::vector<Json>> parsed = ParseYamlDocuments(text);
  ASSERT_FALSE(parsed.ok());
  ExpectBadRequest(parsed.status(), "deeper than");
}

TEST(Yaml, DeepBlockNestingRejected) {
  std::string text;
  for (int i = 0; i < 150; ++i) text += std::string(static_cast<size_t>(i), ' ') + "k:\n";
  ExpectBadRequest(ParseYamlOrJson(text).status(), "deeper than");
}

TEST(Yaml, RejectsInvalidUtf8) {
  ExpectBadRequest(ParseYamlOrJson("a: \"\xff\xfe\"\n").status(), "UTF-8");
}

TEST(Yaml, OneDocumentExpected) {
  ExpectBadRequest(ParseYamlOrJson("a: 1\n---\nb: 2\n").status(), "2 YAML documents");
  EXPECT_TRUE(ParseOne("").is_null());
  EXPECT_TRUE(ParseOne("---\n").is_null());
}

TEST(Yaml, JsonInputGoesThroughJsonParser) {
  Json v = ParseOne(R"({"apiVersion":"v1","kind":"Pod","spec":{"n":1.0,"list":[true,null]}})");
  EXPECT_EQ(v["kind"], "Pod");
  EXPECT_TRUE(v["spec"]["n"].is_number_float());
  EXPECT_TRUE(v["spec"]["list"][1].is_null());
  // YAML flow mappings that are not JSON still parse.
  EXPECT_EQ(ParseOne("{a: 1, b: [x]}"), Json({{"a", 1}, {"b", {"x"}}}));
}

TEST(JsonBody, ParsesObject) {
  Result<Json> parsed = ParseJsonBody(R"({"a": [1, 2, {"b": "c"}]})");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ((*parsed)["a"][2]["b"], "c");
}

TEST(JsonBody, ReportsErrorPosition) {
  Result<Json> parsed = ParseJsonBody("{\"a\": 1,\n \"b\": }");
  ASSERT_FALSE(parsed.ok());
  ExpectBadRequest(parsed.status(), "line 2, column");
  EXPECT_EQ(parsed.status().message().find("[json.exception"), std::string::npos);
}

TEST(JsonBody, RejectsEmptyAndTrailingData) {
  ExpectBadRequest(ParseJsonBody("").status(), "empty");
  ExpectBadRequest(ParseJsonBody("  \n").status(), "empty");
  ExpectBadRequest(ParseJsonBody("{} {}").status(), "invalid JSON");
}

TEST(JsonBody, RejectsDeepNestingBeforeParsing) {
  ExpectBadRequest(ParseJsonBody(std::string(100'000, '[')).status(), "deeper than 100");
  std::string objects;
  for (int i = 0; i < 100'000; ++i) objects += "{\"a\":";
  ExpectBadRequest(ParseJsonBody(objects).status(), "deeper than 100");
}

TEST(JsonBody, BracketsInsideStringsDoNotCount) {
  std::string text = "{\"a\": \"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"}";
  Result<Json> parsed = ParseJsonBody(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ((*parsed)["a"].get<std::string>().size(), 2001u);
}

TEST(JsonBody, NestingAtLimitIsAccepted) {
  std::string text = std::string(kMaxNestingDepth, '[') + std::string(kMaxNestingDepth, ']');
  EXPECT_TRUE(ParseJsonBody(text).ok());
  std::string deeper = std::string(kMaxNestingDepth + 1, '[') + std::string(kMaxNestingDepth + 1, ']');
  EXPECT_FALSE(ParseJsonBody(deeper).ok());
}

TEST(JsonBody, RejectsInvalidUtf8AndHugeNumbers) {
  EXPECT_FALSE(ParseJsonBody("{\"a\": \"\xff\"}").ok());
  EXPECT_FALSE(ParseJsonBody("{\"a\": 1e400}").ok());
}

}  // namespace
}  // namespace xblocks::api

namespace xblocks::api {
namespace {

TEST(EmitYaml, RoundTripsEveryShape) {
  const Json value = Json::parse(R"json({
    "apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"name": "x", "labels": {"app.kubernetes.io/name": "xblocks"}, "annotations": {}},
    "data": {"true": "false", "123": "456", "multi": "line one\nline two\t\"quoted\"", "": "empty key",
             "null": null, "yes": "no", "-dash": "x", "spaced key": "v", "unicode": "模型"},
    "numbers": [1, -2, 3.5, 0, 1e20], "flags": [true, false],
    "nested": [[1, [2, []]], {}, [], {"a": [{"b": {"c": [1]}}, {"d": 2, "e": [3]}]}],
    "empty": {"object": {}, "array": []}})json");

  const std::string text = EmitYaml(value);
  auto parsed = ParseYamlOrJson(text);

  ASSERT_TRUE(parsed.ok()) << parsed.status().message() << "\n" << text;
  EXPECT_EQ(*parsed, value) << text;
}

TEST(EmitYaml, LaysOutBlocksLikeKubectl) {
  const Json value = {{"kind", "Role"},
                      {"rules", {{{"apiGroups", {""}}, {"resources", {"pods", "events"}}}}}};
  EXPECT_EQ(EmitYaml(value),
            "kind: \"Role\"\n"
            "rules:\n"
            "- apiGroups:\n"
            "  - \"\"\n"
            "  resources:\n"
            "  - \"pods\"\n"
            "  - \"events\"\n");
}

}  // namespace
}  // namespace xblocks::api
