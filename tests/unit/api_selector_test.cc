#include "api/selector.h"

#include <gtest/gtest.h>

#include <string>

namespace xblocks::api {
namespace {

LabelSelector Labels(std::string_view text) {
  Result<LabelSelector> parsed = ParseLabelSelector(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status().message();
  return parsed.ok() ? *parsed : LabelSelector::Nothing();
}

FieldSelector Fields(std::string_view text) {
  Result<FieldSelector> parsed = ParseFieldSelector(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status().message();
  return parsed.ok() ? *parsed : FieldSelector();
}

const Json kLabels = {{"app", "web"}, {"tier", "frontend"}, {"version", "3"}, {"empty", ""}};

TEST(LabelSelector, EmptyMatchesEverything) {
  LabelSelector selector = Labels("");
  EXPECT_TRUE(selector.Empty());
  EXPECT_TRUE(selector.Matches(kLabels));
  EXPECT_TRUE(selector.Matches(Json()));
  EXPECT_TRUE(Labels("   ").Matches(Json::object()));
}

TEST(LabelSelector, EqualityOperators) {
  EXPECT_TRUE(Labels("app=web").Matches(kLabels));
  EXPECT_TRUE(Labels("app==web").Matches(kLabels));
  EXPECT_FALSE(Labels("app=db").Matches(kLabels));
  EXPECT_TRUE(Labels("app!=db").Matches(kLabels));
  EXPECT_FALSE(Labels("app!=web").Matches(kLabels));
  EXPECT_TRUE(Labels("missing!=x").Matches(kLabels));
  EXPECT_FALSE(Labels("missing=x").Matches(kLabels));
}

TEST(LabelSelector, EmptyValue) {
  EXPECT_TRUE(Labels("empty=").Matches(kLabels));
  EXPECT_FALSE(Labels("app=").Matches(kLabels));
  EXPECT_TRUE(Labels("app=,tier=frontend").Matches(Json{{"app", ""}, {"tier", "frontend"}}));
}

TEST(LabelSelector, SetOperators) {
  EXPECT_TRUE(Labels("app in (web,db)").Matches(kLabels));
  EXPECT_FALSE(Labels("app in (db,cache)").Matches(kLabels));
  EXPECT_TRUE(Labels("app notin (db,cache)").Matches(kLabels));
  EXPECT_FALSE(Labels("app notin (web)").Matches(kLabels));
  EXPECT_TRUE(Labels("missing notin (a)").Matches(kLabels));
  EXPECT_FALSE(Labels("missing in (a)").Matches(kLabels));
}

TEST(LabelSelector, EmptyEntriesInSets) {
  EXPECT_TRUE(Labels("empty in ()").Matches(kLabels));
  EXPECT_TRUE(Labels("empty in (a,)").Matches(kLabels));
  EXPECT_TRUE(Labels("empty in (,a)").Matches(kLabels));
  EXPECT_EQ(Labels("x in (a,,b)").requirements()[0].values, (std::vector<std::string>{"", "a", "b"}));
}

TEST(LabelSelector, ExistenceOperators) {
  EXPECT_TRUE(Labels("app").Matches(kLabels));
  EXPECT_FALSE(Labels("missing").Matches(kLabels));
  EXPECT_TRUE(Labels("!missing").Matches(kLabels));
  EXPECT_FALSE(Labels("!app").Matches(kLabels));
  EXPECT_TRUE(Labels("! missing").Matches(kLabels));
}

TEST(LabelSelector, NumericComparisons) {
  EXPECT_TRUE(Labels("version>2").Matches(kLabels));
  EXPECT_FALSE(Labels("version>3").Matches(kLabels));
  EXPECT_TRUE(Labels("version<4").Matches(kLabels));
  EXPECT_FALSE(Labels("app>1").Matches(kLabels));  // not an integer label
  EXPECT_FALSE(Labels("missing<5").Matches(kLabels));
  EXPECT_FALSE(ParseLabelSelector("version>abc").ok());
}

TEST(LabelSelector, ConjunctionAndWhitespace) {
  EXPECT_TRUE(Labels("app=web,tier=frontend").Matches(kLabels));
  EXPECT_FALSE(Labels("app=web,tier=backend").Matches(kLabels));
  EXPECT_TRUE(Labels("  app = web ,  tier in ( frontend , x ) , !gone ").Matches(kLabels));
  EXPECT_EQ(Labels("app=web,tier=frontend").requirements().size(), 2u);
}

TEST(LabelSelector, KeywordsAsValues) {
  EXPECT_TRUE(Labels("mode=in").Matches(Json{{"mode", "in"}}));
  EXPECT_TRUE(Labels("mode in (in,notin)").Matches(Json{{"mode", "notin"}}));
}

TEST(LabelSelector, PrefixedKeys) {
  Json labels = {{"app.kubernetes.io/instance", "mycluster"}};
  EXPECT_TRUE(Labels("app.kubernetes.io/instance=mycluster").Matches(labels));
  EXPECT_TRUE(Labels("app.kubernetes.io/instance").Matches(labels));
}

TEST(LabelSelector, NonStringLabelCountsAsAbsent) {
  Json labels = {{"n", 5}};
  EXPECT_FALSE(Labels("n").Matches(labels));
  EXPECT_TRUE(Labels("n!=5").Matches(labels));
}

TEST(LabelSelector, RejectsMalformed) {
  for (const char* text : {"a in (b", "=x", "a!", "a in b", "a in (b c)", "a,", ",a", "a=b,",
                           "a notin", "a=b=c", "(a)", "a b", "in", "a in (b))", "!a=b",
                           "a=(b)", "a>", "a<b<c", "a!==b", "!", "a,,b"}) {
    Result<LabelSelector> parsed = ParseLabelSelector(text);
    EXPECT_FALSE(parsed.ok()) << "accepted \"" << text << "\"";
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), StatusCode::kBadRequest) << text;
    }
  }
}

TEST(LabelSelector, ErrorNamesSelectorAndToken) {
  Result<LabelSelector> parsed = ParseLabelSelector("a in (b");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("\"a in (b\""), std::string::npos) << parsed.status().message();
  EXPECT_NE(parsed.status().message().find("end of string"), std::string::npos) << parsed.status().message();
}

TEST(LabelSelector, RejectsBadKeys) {
  std::string long_name(64, 'a');
  std::string long_prefix(254, 'a');
  for (const std::string& key : {long_name, long_prefix + "/a", std::string("-a"), std::string("a-"),
                                 std::string("a/b/c"), std::string("/a"), std::string("a/"),
                                 std::string("Upper.Case/a"), std::string("a$b"), std::string("a_.b/c"),
                                 std::string("ex..ample.com/a")}) {
    Result<LabelSelector> parsed = ParseLabelSelector(key + "=x");
    EXPECT_FALSE(parsed.ok()) << "accepted key " << key;
  }
  EXPECT_TRUE(ParseLabelSelector(std::string(63, 'a') + "=x").ok());
  EXPECT_TRUE(ParseLabelSelector("a_b.c-d=x").ok());
  EXPECT_TRUE(ParseLabelSelector("my-domain.example.com/Key_1=x").ok());
}

TEST(LabelSelector, RejectsBadValues) {
  for (const std::string& text : {std::string("a=") + std::string(64, 'v'), std::string("a=-v"),
                                  std::string("a=v-"), std::string("a in (ok,b$d)"), std::string("a=v/w"),
                                  std::string("a>-5")}) {
    EXPECT_FALSE(ParseLabelSelector(text).ok()) << "accepted " << text;
  }
  EXPECT_TRUE(ParseLabelSelector(std::string("a=") + std::string(63, 'v')).ok());
  EXPECT_TRUE(ParseLabelSelector("a=V_1.2-x").ok());
}

TEST(LabelSelector, ToStringSortsByKey) {
  EXPECT_EQ(Labels("z=1,a in (c,b),!m,k").ToString(), "a in (b,c),k,!m,z=1");
}

TEST(LabelSelector, NothingMatchesNothing) {
  LabelSelector nothing = LabelSelector::Nothing();
  EXPECT_FALSE(nothing.Matches(kLabels));
  EXPECT_FALSE(nothing.Matches(Json::object()));
  EXPECT_FALSE(nothing.Empty());
}

TEST(LabelSelectorFromJson, MatchLabelsAndExpressions) {
  Json selector = {{"matchLabels", {{"app", "web"}}},
                   {"matchExpressions",
                    {{{"key", "tier"}, {"operator", "In"}, {"values", {"frontend", "edge"}}},
                     {{"key", "gone"}, {"operator", "DoesNotExist"}},
                     {{"key", "version"}, {"operator", "Exists"}},
                     {{"key", "app"}, {"operator", "NotIn"}, {"values", {"db"}}}}}};
  Result<LabelSelector> parsed = LabelSelectorFromJson(selector);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_TRUE(parsed->Matches(kLabels));
  EXPECT_FALSE(parsed->Matches(Json{{"app", "web"}, {"tier", "backend"}, {"version", "1"}}));
}

TEST(LabelSelectorFromJson, NullMatchesNothingEmptyMatchesAll) {
  Result<LabelSelector> null_selector = LabelSelectorFromJson(Json());
  ASSERT_TRUE(null_selector.ok());
  EXPECT_FALSE(null_selector->Matches(kLabels));

  Result<LabelSelector> empty = LabelSelectorFromJson(Json::object());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->Matches(kLabels));
  EXPECT_TRUE(empty->Matches(Json::object()));
}

TEST(LabelSelectorFromJson, RejectsInvalidShapesNamingField) {
  struct Case {
    Json selector;
    const char* field;
  };
  const Case cases[] = {
      {Json::array(), "label selector"},
      {{{"matchLabels", {{"app", 5}}}}, "matchLabels.app"},
      {{{"matchLabels", {{"bad key!", "x"}}}}, "matchLabels.bad key!"},
      {{{"matchLabels", {{"app", "bad value!"}}}}, "matchLabels.app"},
      {{{"matchLabels", "app=web"}}, "matchLabels"},
      {{{"matchExpressions", {{{"key", "a"}, {"operator", "In"}}}}}, "matchExpressions[0]"},
      {{{"matchExpressions", {{{"key", "a"}, {"operator", "NotIn"}, {"values", Json::array()}}}}}, "matchExpressions[0]"},
      {{{"matchExpressions", {{{"key", "a"}, {"operator", "Exists"}, {"values", {"x"}}}}}}, "matchExpressions[0]"},
      {{{"matchExpressions", {{{"key", "a"}, {"operator", "Equals"}}}}}, "matchExpressions[0].operator"},
      {{{"matchExpressions", {{{"operator", "Exists"}}}}}, "matchExpressions[0].key"},
      {{{"matchExpressions", {{{"key", "a"}, {"operator", "In"}, {"values", {1}}}}}}, "matchExpressions[0].values"},
      {{{"matchExpressions", {"oops"}}}, "matchExpressions[0]"},
  };
  for (const Case& c : cases) {
    Result<LabelSelector> parsed = LabelSelectorFromJson(c.selector);
    ASSERT_FALSE(parsed.ok()) << c.selector.dump();
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalid) << c.selector.dump();
    EXPECT_NE(parsed.status().message().find(c.field), std::string::npos)
        << c.selector.dump() << " -> " << parsed.status().message();
  }
}

const Json kPod = {{"kind", "Pod"},
                   {"metadata", {{"name", "web-0"}, {"namespace", "demo"}}},
                   {"spec", {{"nodeName", "node-a"}}},
                   {"status", {{"phase", "Running"}}}};

TEST(FieldSelector, EqualityAndInequality) {
  EXPECT_TRUE(Fields("metadata.name=web-0").Matches(kPod));
  EXPECT_TRUE(Fields("metadata.name==web-0").Matches(kPod));
  EXPECT_FALSE(Fields("metadata.name=web-1").Matches(kPod));
  EXPECT_TRUE(Fields("status.phase!=Pending").Matches(kPod));
  EXPECT_FALSE(Fields("status.phase!=Running").Matches(kPod));
  EXPECT_TRUE(Fields("metadata.namespace=demo,spec.nodeName=node-a").Matches(kPod));
  EXPECT_FALSE(Fields("metadata.namespace=demo,spec.nodeName=node-b").Matches(kPod));
}

TEST(FieldSelector, MissingFieldComparesAsEmpty) {
  EXPECT_TRUE(Fields("spec.missing=").Matches(kPod));
  EXPECT_FALSE(Fields("spec.missing=x").Matches(kPod));
  EXPECT_TRUE(Fields("spec.missing!=x").Matches(kPod));
  EXPECT_TRUE(Fields("spec.nodeName.deeper=").Matches(kPod));
}

TEST(FieldSelector, EmptyMatchesEverything) {
  FieldSelector selector = Fields("");
  EXPECT_TRUE(selector.Empty());
  EXPECT_TRUE(selector.Matches(kPod));
  EXPECT_TRUE(Fields(",").Empty());
}

TEST(FieldSelector, EscapedValues) {
  Json object = {{"metadata", {{"name", "a,b=c\\d"}}}};
  FieldSelector selector = Fields("metadata.name=a\\,b\\=c\\\\d");
  ASSERT_EQ(selector.requirements().size(), 1u);
  EXPECT_EQ(selector.requirements()[0].value, "a,b=c\\d");
  EXPECT_TRUE(selector.Matches(object));
}

TEST(FieldSelector, ExposesRequirements) {
  FieldSelector selector = Fields("involvedObject.kind=Pod, involvedObject.name!=x,type=Warning");
  ASSERT_EQ(selector.requirements().size(), 3u);
  EXPECT_EQ(selector.requirements()[0].field, "involvedObject.kind");
  EXPECT_EQ(selector.requirements()[1].field, "involvedObject.name");
  EXPECT_EQ(selector.requirements()[1].op, FieldOperator::kNotEquals);
  EXPECT_EQ(selector.requirements()[2].field, "type");
  EXPECT_EQ(selector.requirements()[2].value, "Warning");
}

TEST(FieldSelector, EventAndNodeAliases) {
  Json event = {{"kind", "Event"}, {"source", {{"component", "kubelet"}}}, {"type", "Normal"},
                {"involvedObject", {{"kind", "Pod"}, {"name", "web-0"}}}};
  EXPECT_TRUE(Fields("source=kubelet").Matches(event));
  EXPECT_TRUE(Fields("involvedObject.kind=Pod,involvedObject.name=web-0,type=Normal").Matches(event));

  Json node = {{"kind", "Node"}, {"metadata", {{"name", "n1"}}}};
  EXPECT_TRUE(Fields("spec.unschedulable=false").Matches(node));
  node["spec"]["unschedulable"] = true;
  EXPECT_TRUE(Fields("spec.unschedulable=true").Matches(node));
}

TEST(FieldSelector, RejectsMalformed) {
  for (const char* text : {"metadata.name", "=x", " =x", "a=b=c", "a=b,c", "a=\\x", "a=b\\",
                           "a=b,=c", "a!x"}) {
    Result<FieldSelector> parsed = ParseFieldSelector(text);
    EXPECT_FALSE(parsed.ok()) << "accepted \"" << text << "\"";
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), StatusCode::kBadRequest) << text;
    }
  }
}

TEST(FieldSelector, ErrorNamesTerm) {
  Result<FieldSelector> parsed = ParseFieldSelector("metadata.name=a,status.phase");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("\"status.phase\""), std::string::npos) << parsed.status().message();
}

}  // namespace
}  // namespace xblocks::api
