// The one error model of xblocks: a Status value whose codes map one to one onto Kubernetes
// Status reasons, and Result<T> for functions that return a value or an error.
//
// No exceptions cross module boundaries. Code that calls a throwing library (nlohmann::json,
// yaml-cpp) catches at the call site and returns a Status.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace xblocks {

// Codes follow metav1.StatusReason. The HTTP code for each is fixed by HttpCode().
enum class StatusCode {
  kOk,
  kBadRequest,            // 400 BadRequest
  kUnauthorized,          // 401 Unauthorized
  kForbidden,             // 403 Forbidden
  kNotFound,              // 404 NotFound
  kMethodNotAllowed,      // 405 MethodNotAllowed
  kNotAcceptable,         // 406 NotAcceptable
  kAlreadyExists,         // 409 AlreadyExists
  kConflict,              // 409 Conflict
  kGone,                  // 410 Gone (watch history compacted); reason "Expired"
  kRequestEntityTooLarge, // 413 RequestEntityTooLarge
  kUnsupportedMediaType,  // 415 UnsupportedMediaType
  kInvalid,               // 422 Invalid
  kTooManyRequests,       // 429 TooManyRequests
  kInternal,              // 500 InternalError
  kUnavailable,           // 503 ServiceUnavailable
  kTimeout,               // 504 Timeout
};

// One field-level cause of an Invalid status, as in metav1.StatusCause.
// `type` is a metav1.CauseType such as "FieldValueInvalid" or "FieldValueRequired".
struct StatusCause {
  std::string type;
  std::string message;
  std::string field;
};

// Optional object identity carried into a Status' `details`.
struct StatusDetails {
  std::string name;
  std::string group;
  std::string kind;  // plural resource for most errors, the Kind for Invalid
  std::string uid;
  std::vector<StatusCause> causes;
  int retry_after_seconds = 0;
};

// The cause type of a create refused because its namespace is being deleted, as kube-apiserver
// reports it.
inline constexpr char kNamespaceTerminatingCause[] = "NamespaceTerminating";

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const StatusDetails& details() const { return details_; }
  StatusDetails& mutable_details() { return details_; }

  // Returns a copy with details set; used as `return NotFound(...).WithDetails(...)`.
  Status WithDetails(StatusDetails details) const {
    Status copy = *this;
    copy.details_ = std::move(details);
    return copy;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  StatusDetails details_;
};

// Whether `status` refuses a create because the namespace is being deleted.
bool IsNamespaceTerminating(const Status& status);

int HttpCode(StatusCode code);
// The metav1.StatusReason string, e.g. "NotFound", "Invalid", "Expired" for kGone.
const char* ReasonName(StatusCode code);

inline Status BadRequest(std::string message) { return Status(StatusCode::kBadRequest, std::move(message)); }
inline Status NotFound(std::string message) { return Status(StatusCode::kNotFound, std::move(message)); }
inline Status AlreadyExists(std::string message) { return Status(StatusCode::kAlreadyExists, std::move(message)); }
inline Status Conflict(std::string message) { return Status(StatusCode::kConflict, std::move(message)); }
inline Status Invalid(std::string message) { return Status(StatusCode::kInvalid, std::move(message)); }
inline Status Internal(std::string message) { return Status(StatusCode::kInternal, std::move(message)); }
inline Status Gone(std::string message) { return Status(StatusCode::kGone, std::move(message)); }

// A value or an error. Access to value() on an error is a bug and asserts.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}             // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}     // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace xblocks

// Returns early from the enclosing function when `expr` yields a non-ok Status.
#define XB_RETURN_IF_ERROR(expr)                 \
  do {                                           \
    ::xblocks::Status xb_status_ = (expr);       \
    if (!xb_status_.ok()) return xb_status_;     \
  } while (0)
