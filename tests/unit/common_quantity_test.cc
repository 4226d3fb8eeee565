#include "common/quantity.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace xblocks {
namespace {

Quantity Parse(std::string_view text) {
  Result<Quantity> parsed = ParseQuantity(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status().message();
  return parsed.ok() ? *parsed : Quantity();
}

TEST(Quantity, BinarySuffixes) {
  EXPECT_EQ(Parse("1Gi").Value(), 1073741824);
  EXPECT_EQ(Parse("2Ki").Value(), 2048);
  EXPECT_EQ(Parse("1Mi").Value(), 1048576);
  EXPECT_EQ(Parse("1Ti").Value(), int64_t{1} << 40);
  EXPECT_EQ(Parse("1Pi").Value(), int64_t{1} << 50);
  EXPECT_EQ(Parse("1Ei").Value(), int64_t{1} << 60);
  EXPECT_EQ(Parse("1.5Gi").Value(), 1610612736);
}

TEST(Quantity, DecimalSuffixes) {
  EXPECT_EQ(Parse("500m").MilliValue(), 500);
  EXPECT_EQ(Parse("1k").Value(), 1000);
  EXPECT_EQ(Parse("2M").Value(), 2000000);
  EXPECT_EQ(Parse("3G").Value(), 3000000000);
  EXPECT_EQ(Parse("1T").Value(), 1000000000000);
  EXPECT_EQ(Parse("1P").Value(), 1000000000000000);
  EXPECT_EQ(Parse("1E").Value(), 1000000000000000000);
  EXPECT_EQ(Parse("250u").MilliValue(), 1);  // 0.25m rounds up
  EXPECT_EQ(Parse("5n").MilliValue(), 1);
}

TEST(Quantity, PlainNumbersAndFractions) {
  EXPECT_EQ(Parse("1.5").MilliValue(), 1500);
  EXPECT_EQ(Parse("1.5").Value(), 2);  // rounded up
  EXPECT_EQ(Parse("0.1").MilliValue(), 100);
  EXPECT_EQ(Parse("0.1").Value(), 1);
  EXPECT_EQ(Parse(".5").MilliValue(), 500);
  EXPECT_EQ(Parse("5.").Value(), 5);
  EXPECT_EQ(Parse("+4").Value(), 4);
  EXPECT_EQ(Parse("0").Value(), 0);
  EXPECT_TRUE(Parse("0").IsZero());
  EXPECT_EQ(Parse("00012").Value(), 12);
}

TEST(Quantity, Exponents) {
  EXPECT_EQ(Parse("1e3").Value(), 1000);
  EXPECT_EQ(Parse("1E3").Value(), 1000);
  EXPECT_EQ(Parse("1.5e3").Value(), 1500);
  EXPECT_EQ(Parse("1e-3").MilliValue(), 1);
  EXPECT_EQ(Parse("12e+2").Value(), 1200);
  EXPECT_EQ(Parse(".5e1").Value(), 5);
  EXPECT_EQ(Parse("1e18").Value(), 1000000000000000000);
}

TEST(Quantity, NegativeValuesRoundAwayFromZero) {
  EXPECT_EQ(Parse("-1").Value(), -1);
  EXPECT_EQ(Parse("-500m").MilliValue(), -500);
  EXPECT_EQ(Parse("-1.5").Value(), -2);
  EXPECT_EQ(Parse("-1Gi").Value(), -1073741824);
  EXPECT_EQ(Parse("-1Gi").Sign(), -1);
  EXPECT_EQ(Parse("-0").Value(), 0);
}

TEST(Quantity, TinyValuesRoundUpToOneNano) {
  Quantity tiny = Parse("0.0000000001");
  EXPECT_FALSE(tiny.IsZero());
  EXPECT_EQ(tiny.CanonicalString(), "1n");
  EXPECT_EQ(Parse("1e-1000000000000000").CanonicalString(), "1e-9");  // exponent form kept
  EXPECT_EQ(Parse("-1e-20").CanonicalString(), "-1e-9");
  EXPECT_EQ(Parse("-0.0000000001").CanonicalString(), "-1n");
  EXPECT_TRUE(Parse("0e99999999999999").IsZero());
}

TEST(Quantity, RejectsBadSyntax) {
  for (const char* text : {"", " 1", "1 ", "1 Gi", "--1", "+-1", "1Gx", "1gi", "1K", "1KI",
                           "Gi", ".", "-.", "1..5", "1.5.5", "1e", "1e+", "1e3.5", "1e.5",
                           "1e3.", "1Gi1", "1mm", "0x10", "abc", "1,5", "\n1", "1i"}) {
    Result<Quantity> parsed = ParseQuantity(text);
    EXPECT_FALSE(parsed.ok()) << "accepted \"" << text << "\"";
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), StatusCode::kBadRequest) << text;
    }
    EXPECT_FALSE(IsQuantityString(text)) << text;
  }
}

TEST(Quantity, ErrorNamesInputAndSuffix) {
  Result<Quantity> parsed = ParseQuantity("1Gx");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("\"1Gx\""), std::string::npos);
  EXPECT_NE(parsed.status().message().find("\"Gx\""), std::string::npos);
}

TEST(Quantity, RejectsOverflow) {
  for (const char* text : {"8Ei", "9223372036854775808", "10E", "1e19", "1e1000000000000000",
                           "99999999999999999999999999999999999999999", "-9223372036854775808"}) {
    Result<Quantity> parsed = ParseQuantity(text);
    EXPECT_FALSE(parsed.ok()) << "accepted " << text;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.status().message().find("too large"), std::string::npos) << text;
    }
  }
}

TEST(Quantity, AcceptsInt64Boundary) {
  EXPECT_EQ(Parse("9223372036854775807").Value(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Parse("-9223372036854775807").Value(), -std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Parse("7Ei").Value(), int64_t{7} << 60);
}

TEST(Quantity, MilliValueSaturates) {
  EXPECT_EQ(Parse("1E").MilliValue(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Parse("-1E").MilliValue(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Parse("9P").MilliValue(), 9000000000000000000);
}

TEST(Quantity, HugeInputsParseQuickly) {
  std::string leading_zeros = std::string(1'000'000, '0') + "1Gi";
  EXPECT_EQ(Parse(leading_zeros).Value(), 1073741824);

  std::string long_fraction = "1." + std::string(1'000'000, '0') + "1";
  EXPECT_EQ(Parse(long_fraction).MilliValue(), 1001);  // 1 + 1e-1000001 rounds up to 1.000000001
  EXPECT_EQ(Parse(long_fraction).CanonicalString(), "1000000001n");

  std::string many_digits(1'000'000, '9');
  Result<Quantity> too_big = ParseQuantity(many_digits + "Ki");
  ASSERT_FALSE(too_big.ok());
  EXPECT_LT(too_big.status().message().size(), 300u);  // the echo is truncated
}

TEST(Quantity, CanonicalDecimalForm) {
  EXPECT_EQ(Parse("1.5").CanonicalString(), "1500m");
  EXPECT_EQ(Parse("0.1").CanonicalString(), "100m");
  EXPECT_EQ(Parse("1000").CanonicalString(), "1k");
  EXPECT_EQ(Parse("1500").CanonicalString(), "1500");
  EXPECT_EQ(Parse("15000").CanonicalString(), "15k");
  EXPECT_EQ(Parse("500m").CanonicalString(), "500m");
  EXPECT_EQ(Parse("1000m").CanonicalString(), "1");
  EXPECT_EQ(Parse("2G").CanonicalString(), "2G");
  EXPECT_EQ(Parse("0.5Gi").CanonicalString(), "512Mi");
  EXPECT_EQ(Parse("-1500").CanonicalString(), "-1500");
  EXPECT_EQ(Parse("0").CanonicalString(), "0");
  EXPECT_EQ(Parse("0Gi").CanonicalString(), "0");
}

TEST(Quantity, CanonicalBinaryForm) {
  EXPECT_EQ(Parse("1Gi").CanonicalString(), "1Gi");
  EXPECT_EQ(Parse("1024Mi").CanonicalString(), "1Gi");
  EXPECT_EQ(Parse("1536Mi").CanonicalString(), "1536Mi");
  EXPECT_EQ(Parse("1.5Gi").CanonicalString(), "1536Mi");
  EXPECT_EQ(Parse("2048Ki").CanonicalString(), "2Mi");
  EXPECT_EQ(Parse("-2Ki").CanonicalString(), "-2Ki");
  // Below 1024 units, or with a fraction of a unit, BinarySI prints as DecimalSI.
  EXPECT_EQ(Parse("0.5Ki").CanonicalString(), "512");
  EXPECT_EQ(Parse("0.001Ki").CanonicalString(), "1024m");
  EXPECT_EQ(Parse("1.0001Ki").CanonicalString(), "1024102400u");
}

TEST(Quantity, CanonicalExponentForm) {
  EXPECT_EQ(Parse("1e3").CanonicalString(), "1e3");
  EXPECT_EQ(Parse("1e4").CanonicalString(), "10e3");
  EXPECT_EQ(Parse("1.5e3").CanonicalString(), "1500");
  EXPECT_EQ(Parse("1e-3").CanonicalString(), "1e-3");
}

TEST(Quantity, CanonicalStringRoundTrips) {
  for (const char* text : {"1Gi", "500m", "1.5", "1e3", "2Ki", "0.1", "-3Mi", "123456789n",
                           "7Ei", "9223372036854775807", "1.5Gi", "12e-2"}) {
    Quantity original = Parse(text);
    Quantity reparsed = Parse(original.CanonicalString());
    EXPECT_EQ(original, reparsed) << text << " -> " << original.CanonicalString();
  }
}

TEST(Quantity, ComparesByValue) {
  EXPECT_EQ(Parse("1Ki"), Parse("1024"));
  EXPECT_EQ(Parse("1"), Parse("1000m"));
  EXPECT_LT(Parse("500m"), Parse("1"));
  EXPECT_GT(Parse("1Gi"), Parse("1G"));
  EXPECT_LT(Parse("-1"), Parse("0"));
}

TEST(Quantity, Builders) {
  EXPECT_EQ(Quantity::FromMilli(500).CanonicalString(), "500m");
  EXPECT_EQ(Quantity::FromValue(int64_t{1} << 30, QuantityFormat::kBinarySI).CanonicalString(), "1Gi");
  EXPECT_EQ(Quantity::FromValue(2).MilliValue(), 2000);
  EXPECT_EQ(Quantity().CanonicalString(), "0");
}

}  // namespace
}  // namespace xblocks
