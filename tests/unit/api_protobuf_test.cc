#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "api/protobuf.h"
#include "api/protobuf_wire.h"

namespace xblocks::api {
namespace {

const char kLastApplied[] = "kubectl.kubernetes.io/last-applied-configuration";

// Bodies recorded from kubectl 1.33; testdata/protobuf/README.md lists the commands.
std::string ReadRecording(const std::string& name) {
  std::filesystem::path path =
      std::filesystem::path(__FILE__).parent_path() / "testdata" / "protobuf" / (name + ".bin");
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot open " << path;
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

const char* const kRecordings[] = {
    "namespace_demo",
    "configmap_cm1",
    "secret_s1",
    "serviceaccount_sa1",
    "configmap_cm2_binary_save_config",
    "namespace_ns2_save_config",
    "secret_s2_binary_save_config",
    "secret_reg1_dockerconfigjson",
    "serviceaccount_sa2_save_config",
};

Json Decode(const std::string& name) {
  Result<Json> result = DecodeProtobufObject(ReadRecording(name));
  EXPECT_TRUE(result.ok()) << name << ": " << result.status().message();
  return result.ok() ? *result : Json();
}

// Splits off the last-applied annotation, parsed, so tests compare it as JSON.
Json TakeLastApplied(Json& object) {
  Json& annotations = object["metadata"]["annotations"];
  Json last_applied = Json::parse(annotations[kLastApplied].get<std::string>());
  annotations.erase(kLastApplied);
  if (annotations.empty()) object["metadata"].erase("annotations");
  return last_applied;
}

// ---- recordings ----

TEST(ProtobufDecode, CreateNamespace) {
  EXPECT_EQ(Decode("namespace_demo"),
            Json::parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"demo"}})"));
}

TEST(ProtobufDecode, CreateConfigMap) {
  EXPECT_EQ(Decode("configmap_cm1"), Json::parse(R"({"apiVersion":"v1","kind":"ConfigMap",
      "metadata":{"name":"cm1","namespace":"demo"},"data":{"a":"1","b":"two"}})"));
}

TEST(ProtobufDecode, CreateSecretGeneric) {
  EXPECT_EQ(Decode("secret_s1"), Json::parse(R"({"apiVersion":"v1","kind":"Secret",
      "metadata":{"name":"s1","namespace":"demo"},"data":{"password":"cEBzcw=="},"type":"Opaque"})"));
}

TEST(ProtobufDecode, CreateServiceAccount) {
  EXPECT_EQ(Decode("serviceaccount_sa1"), Json::parse(R"({"apiVersion":"v1","kind":"ServiceAccount",
      "metadata":{"name":"sa1","namespace":"demo"}})"));
}

TEST(ProtobufDecode, ConfigMapWithBinaryDataAndAnnotation) {
  Json object = Decode("configmap_cm2_binary_save_config");
  Json last_applied = TakeLastApplied(object);
  EXPECT_EQ(object, Json::parse(R"({"apiVersion":"v1","kind":"ConfigMap",
      "metadata":{"name":"cm2","namespace":"demo"},"data":{"k":"v"},"binaryData":{"blob":"AAH//g=="}})"));
  EXPECT_EQ(last_applied["binaryData"]["blob"], "AAH//g==");
  EXPECT_EQ(last_applied["data"]["k"], "v");
}

TEST(ProtobufDecode, NamespaceWithAnnotation) {
  Json object = Decode("namespace_ns2_save_config");
  Json last_applied = TakeLastApplied(object);
  EXPECT_EQ(object, Json::parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ns2"}})"));
  EXPECT_EQ(last_applied["metadata"]["name"], "ns2");
}

TEST(ProtobufDecode, SecretWithBinaryDataAndAnnotation) {
  Json object = Decode("secret_s2_binary_save_config");
  Json last_applied = TakeLastApplied(object);
  EXPECT_EQ(object, Json::parse(R"({"apiVersion":"v1","kind":"Secret",
      "metadata":{"name":"s2","namespace":"demo"},"data":{"bin":"AAH//g==","user":"YWRtaW4="}})"));
  EXPECT_EQ(last_applied["data"], object["data"]);
}

TEST(ProtobufDecode, DockerRegistrySecret) {
  Json object = Decode("secret_reg1_dockerconfigjson");
  EXPECT_EQ(object["type"], "kubernetes.io/dockerconfigjson");
  EXPECT_EQ(object["metadata"], Json::parse(R"({"name":"reg1","namespace":"demo"})"));
  ASSERT_TRUE(object["data"].contains(".dockerconfigjson"));
  EXPECT_EQ(object["data"][".dockerconfigjson"],
            "eyJhdXRocyI6eyJyZWdpc3RyeS5leGFtcGxlIjp7InVzZXJuYW1lIjoidSIsInBhc3N3b3JkIjoicCIsImF1dGgiOiJkVHB3In19fQ==");
}

TEST(ProtobufDecode, ServiceAccountWithAnnotation) {
  Json object = Decode("serviceaccount_sa2_save_config");
  Json last_applied = TakeLastApplied(object);
  EXPECT_EQ(object, Json::parse(R"({"apiVersion":"v1","kind":"ServiceAccount",
      "metadata":{"name":"sa2","namespace":"demo"}})"));
  EXPECT_EQ(last_applied["kind"], "ServiceAccount");
}

// ---- hand-encoded bodies ----

std::string Varint(uint64_t value) {
  std::string out;
  do {
    uint8_t byte = value & 0x7f;
    value >>= 7;
    out += static_cast<char>(value != 0 ? byte | 0x80 : byte);
  } while (value != 0);
  return out;
}

std::string Bytes(uint32_t field, const std::string& bytes) {
  return Varint(field << 3 | 2) + Varint(bytes.size()) + bytes;
}

std::string VarintField(uint32_t field, uint64_t value) { return Varint(field << 3) + Varint(value); }

std::string Envelope(const std::string& api_version, const std::string& kind, const std::string& raw) {
  return std::string("k8s\0", 4) + Bytes(1, Bytes(1, api_version) + Bytes(2, kind)) + Bytes(2, raw) +
         Bytes(3, "") + Bytes(4, "");
}

TEST(ProtobufDecode, FullObjectMeta) {
  std::string owner = Bytes(1, "Deployment") + Bytes(3, "web") + Bytes(4, "u-1") + Bytes(5, "apps/v1") +
                      VarintField(6, 1) + VarintField(7, 0);
  std::string meta = Bytes(1, "cm") + Bytes(2, "cm-") + Bytes(3, "demo") + Bytes(5, "uid-1") +
                     Bytes(6, "42") + VarintField(7, 3) + Bytes(8, VarintField(1, 1714557600)) +
                     Bytes(11, Bytes(1, "app") + Bytes(2, "web")) + Bytes(11, Bytes(1, "empty")) +
                     Bytes(12, Bytes(1, "note") + Bytes(2, "hi")) + Bytes(13, owner) + Bytes(14, "a/b") +
                     Bytes(99, "unknown field") + VarintField(98, 7);
  std::string raw = Bytes(1, meta) + VarintField(4, 1);
  Result<Json> result = DecodeProtobufObject(Envelope("v1", "ConfigMap", raw));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","immutable":true,
      "metadata":{"name":"cm","generateName":"cm-","namespace":"demo","uid":"uid-1","resourceVersion":"42",
        "generation":3,"creationTimestamp":"2024-05-01T10:00:00Z","labels":{"app":"web","empty":""},
        "annotations":{"note":"hi"},"finalizers":["a/b"],
        "ownerReferences":[{"kind":"Deployment","name":"web","uid":"u-1","apiVersion":"apps/v1",
                            "controller":true,"blockOwnerDeletion":false}]}})"));
}

TEST(ProtobufDecode, ServiceAccountReferences) {
  std::string raw = Bytes(1, Bytes(1, "sa")) + Bytes(2, Bytes(3, "token") + Bytes(1, "Secret")) +
                    Bytes(3, Bytes(1, "pull")) + VarintField(4, 0);
  Result<Json> result = DecodeProtobufObject(Envelope("v1", "ServiceAccount", raw));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Json::parse(R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa"},
      "secrets":[{"name":"token","kind":"Secret"}],"imagePullSecrets":[{"name":"pull"}],
      "automountServiceAccountToken":false})"));
}

TEST(ProtobufDecode, SecretStringDataAndNamespaceSpec) {
  Result<Json> secret = DecodeProtobufObject(
      Envelope("v1", "Secret", Bytes(4, Bytes(1, "k") + Bytes(2, "v")) + VarintField(5, 1)));
  ASSERT_TRUE(secret.ok()) << secret.status().message();
  EXPECT_EQ(*secret, Json::parse(R"({"apiVersion":"v1","kind":"Secret","stringData":{"k":"v"},"immutable":true})"));

  Result<Json> ns = DecodeProtobufObject(
      Envelope("v1", "Namespace", Bytes(2, Bytes(1, "kubernetes")) + Bytes(3, Bytes(1, "Active"))));
  ASSERT_TRUE(ns.ok()) << ns.status().message();
  EXPECT_EQ(*ns, Json::parse(R"({"apiVersion":"v1","kind":"Namespace",
      "spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}})"));
}

TEST(ProtobufDecode, OtherKindsAreUnsupportedMediaType) {
  Result<Json> result = DecodeProtobufObject(Envelope("apps/v1", "Deployment", Bytes(1, Bytes(1, "web"))));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnsupportedMediaType);
  EXPECT_EQ(result.status().message(),
            "the body of a Deployment request must be JSON; protobuf is supported only for Namespace, "
            "ConfigMap, Secret and ServiceAccount");
}

TEST(ProtobufDecode, MalformedBodiesAreBadRequests) {
  const std::string magic("k8s\0", 4);
  const std::string good_meta = Bytes(1, Bytes(1, "x"));
  const std::pair<const char*, std::string> cases[] = {
      {"empty body", ""},
      {"json body", R"({"kind":"Namespace"})"},
      {"magic only, no kind", magic},
      {"truncated varint", magic + "\x0a"},
      {"length past the end", magic + "\x0a\x7f\x0a"},
      {"huge length", magic + "\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f"},
      {"over-long varint", magic + "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"},
      {"field number zero", magic + std::string("\x00\x01", 2)},
      {"wire type 7", magic + "\x0f"},
      {"group", magic + "\x0b"},
      {"wrong apiVersion", Envelope("v2", "Namespace", good_meta)},
      {"kind as varint", magic + Bytes(1, VarintField(2, 5))},
      {"metadata as varint", Envelope("v1", "Namespace", VarintField(1, 5))},
      {"name as varint", Envelope("v1", "Namespace", Bytes(1, VarintField(1, 5)))},
      {"invalid UTF-8 name", Envelope("v1", "Namespace", Bytes(1, Bytes(1, "\xff\xfe")))},
      {"overlong UTF-8", Envelope("v1", "Namespace", Bytes(1, Bytes(1, "\xc0\xaf")))},
      {"surrogate UTF-8", Envelope("v1", "Namespace", Bytes(1, Bytes(1, "\xed\xa0\x80")))},
      {"invalid UTF-8 data value", Envelope("v1", "ConfigMap", Bytes(2, Bytes(1, "k") + Bytes(2, "\x80")))},
      {"truncated map entry", Envelope("v1", "ConfigMap", Bytes(2, "\x0a\x05k"))},
      {"content encoding", magic + Bytes(1, Bytes(1, "v1") + Bytes(2, "Namespace")) + Bytes(3, "gzip")},
      {"fixed64 truncated", magic + "\x09\x01\x02"},
      {"fixed32 truncated", magic + "\x0d\x01"},
      {"timestamp past year 9999", Envelope("v1", "Namespace", Bytes(1, Bytes(8, VarintField(1, 1ull << 40))))},
  };
  for (const auto& [name, body] : cases) {
    Result<Json> result = DecodeProtobufObject(body);
    ASSERT_FALSE(result.ok()) << name;
    EXPECT_EQ(result.status().code(), StatusCode::kBadRequest) << name << ": " << result.status().message();
  }
}

TEST(ProtobufDecode, SkipsUnknownFieldsOfEveryWireType) {
  std::string unknown = VarintField(20, 5) + Varint(21 << 3 | 1) + std::string(8, '\x01') +
                        Varint(22 << 3 | 5) + std::string(4, '\x02') + Bytes(23, "zz");
  std::string body = std::string("k8s\0", 4) + unknown + Bytes(1, Bytes(1, "v1") + Bytes(2, "Namespace") + unknown) +
                     Bytes(2, Bytes(1, Bytes(1, "demo") + unknown) + unknown);
  Result<Json> result = DecodeProtobufObject(body);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Json::parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"demo"}})"));
}

// ---- robustness: no input crashes or reads out of bounds ----

TEST(ProtobufDecode, EveryTruncationIsHandled) {
  for (const char* name : kRecordings) {
    std::string body = ReadRecording(name);
    for (size_t length = 0; length < body.size(); ++length) {
      // A copy of exactly `length` bytes, so a sanitizer build catches any over-read.
      std::string prefix = body.substr(0, length);
      Result<Json> result = DecodeProtobufObject(prefix);
      if (result.ok()) {
        EXPECT_TRUE(result->is_object()) << name << " cut at " << length;
      }
    }
    EXPECT_TRUE(DecodeProtobufObject(body).ok()) << name;
  }
}

TEST(ProtobufDecode, TruncationsInsideTheObjectFail) {
  std::string body = ReadRecording("configmap_cm1");
  // The 70 bytes are the magic, typeMeta (bytes 4-20), raw (21-65) and two empty strings
  // (66-69). Every cut inside raw leaves a length that points past the end.
  ASSERT_EQ(body.size(), 70u);
  for (size_t length = 22; length < 66; ++length) {
    EXPECT_FALSE(DecodeProtobufObject(body.substr(0, length)).ok()) << "cut at " << length;
  }
}

TEST(ProtobufDecode, EverySingleByteChangeIsHandled) {
  for (const char* name : kRecordings) {
    std::string body = ReadRecording(name);
    for (size_t i = 0; i < body.size(); ++i) {
      for (int value : {0x00, 0x01, 0x07, 0x7f, 0x80, 0xff}) {
        std::string mutated = body;
        mutated[i] = static_cast<char>(value);
        Result<Json> result = DecodeProtobufObject(mutated);
        if (result.ok()) {
          EXPECT_NO_THROW(result->dump()) << name << " byte " << i;
        }
      }
    }
  }
}

TEST(WireReader, ReadsFixedWidthLittleEndian) {
  const std::string bytes("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 12);
  WireReader reader(bytes);
  Result<uint64_t> fixed64 = reader.ReadFixed64();
  ASSERT_TRUE(fixed64.ok());
  EXPECT_EQ(*fixed64, 0x0807060504030201ull);
  Result<uint32_t> fixed32 = reader.ReadFixed32();
  ASSERT_TRUE(fixed32.ok());
  EXPECT_EQ(*fixed32, 0x0c0b0a09u);
  EXPECT_TRUE(reader.AtEnd());
  EXPECT_FALSE(reader.ReadFixed32().ok());
}

TEST(WireReader, ReadsMaximumVarint) {
  WireReader reader("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01");
  Result<uint64_t> value = reader.ReadVarint();
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, ~0ull);
}

}  // namespace
}  // namespace xblocks::api
