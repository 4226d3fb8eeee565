#include "api/pattern_cache.h"

#include <map>
#include <memory>
#include <mutex>
#include <regex>

namespace xblocks::api {
namespace {

struct CompiledPattern {
  std::unique_ptr<std::regex> regex;  // null when the pattern does not compile
  std::string error;
};

std::mutex& CacheMutex() {
  static std::mutex mutex;
  return mutex;
}

// Entries are never erased, so the returned reference stays valid after the lock is released.
const CompiledPattern& Compile(const std::string& pattern) {
  static std::map<std::string, CompiledPattern> cache;  // guarded by CacheMutex()
  std::lock_guard<std::mutex> lock(CacheMutex());
  auto found = cache.find(pattern);
  if (found != cache.end()) return found->second;

  CompiledPattern compiled;
  try {
    compiled.regex = std::make_unique<std::regex>(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    compiled.error = e.what();
  }
  return cache.emplace(pattern, std::move(compiled)).first->second;
}

}  // namespace

Result<bool> MatchesPattern(const std::string& pattern, std::string_view value) {
  const CompiledPattern& compiled = Compile(pattern);
  if (!compiled.regex) {
    return Internal("schema pattern '" + pattern + "' does not compile: " + compiled.error);
  }
  if (value.size() > kMaxPatternInputLength) return false;
  try {
    return std::regex_search(value.begin(), value.end(), *compiled.regex);
  } catch (const std::regex_error&) {
    // Raised for error_complexity or error_stack on pathological input.
    return false;
  }
}

}  // namespace xblocks::api
