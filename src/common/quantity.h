// Kubernetes resource quantities ("500m", "1Gi", "1.5", "1e3"), as used in resource requests
// and limits and in PVC storage sizes.
//
// A Quantity is an exact decimal rounded up to nano units (1n), the precision Kubernetes keeps.
// Its magnitude is limited to what Value() can return: |value| <= 2^63-1 units. Larger inputs
// are rejected instead of capped, which differs from kube-apiserver, which caps binary-suffixed
// values at 2^63-1 and accepts arbitrarily large decimal ones.
//
// Thread-safety: Quantity is an immutable value type.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace xblocks {

// The suffix family a quantity was written with, which CanonicalString() keeps.
enum class QuantityFormat {
  kDecimalSI,        // no suffix, or n u m k M G T P E
  kBinarySI,         // Ki Mi Gi Ti Pi Ei
  kDecimalExponent,  // e3, E-6
};

class Quantity {
 public:
  Quantity() = default;  // zero, DecimalSI

  // Builds a quantity of `milli` thousandths of a unit, e.g. FromMilli(500) is "500m".
  static Quantity FromMilli(int64_t milli);
  // Builds a quantity of `units` whole units in the given format, e.g. FromValue(1 << 30,
  // kBinarySI) is "1Gi".
  static Quantity FromValue(int64_t units, QuantityFormat format = QuantityFormat::kDecimalSI);

  // The value in thousandths of a unit, rounded away from zero (1n is 1m). Saturates at
  // INT64_MAX / INT64_MIN when the milli value does not fit, which happens above about 9.2e15
  // units.
  int64_t MilliValue() const;
  // The value in whole units (bytes, cores), rounded away from zero (100m is 1). Never
  // overflows, because parsing rejects quantities beyond the int64 range.
  int64_t Value() const;
  bool IsZero() const { return nanos_ == 0; }
  int Sign() const { return nanos_ > 0 ? 1 : (nanos_ < 0 ? -1 : 0); }
  QuantityFormat format() const { return format_; }

  // The canonical form kube-apiserver serializes: the largest suffix of the quantity's format
  // that keeps an integer mantissa ("1024Mi" -> "1Gi", "1.5" -> "1500m", "0.1" -> "100m",
  // "1000" -> "1k"). BinarySI values below 1024 or not a whole number print as DecimalSI.
  std::string CanonicalString() const;

  // Quantities compare by value, whatever their format ("1Ki" == "1024").
  friend bool operator==(const Quantity& a, const Quantity& b) { return a.nanos_ == b.nanos_; }
  friend std::strong_ordering operator<=>(const Quantity& a, const Quantity& b) {
    return a.nanos_ <=> b.nanos_;
  }

 private:
  friend Result<Quantity> ParseQuantity(std::string_view text);
  Quantity(__int128 nanos, QuantityFormat format) : nanos_(nanos), format_(format) {}

  __int128 nanos_ = 0;  // the value in units of 1e-9
  QuantityFormat format_ = QuantityFormat::kDecimalSI;
};

// Parses a quantity. The accepted syntax is exactly
//   ^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$
// with no surrounding whitespace, except that an exponent with a fraction ("1e1.5") is
// rejected, as Kubernetes rejects it. Values finer than 1n are rounded up to 1n (away from
// zero). Returns kBadRequest naming the input for bad syntax, an unknown suffix, or a value
// whose magnitude exceeds 2^63-1 units. Runs in time linear in the input length.
Result<Quantity> ParseQuantity(std::string_view text);

// Reports whether ParseQuantity accepts `text`.
bool IsQuantityString(std::string_view text);

}  // namespace xblocks
