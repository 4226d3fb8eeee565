// The kernel calls the cgroup drivers make: files and directories under a cgroup mount, and the
// signals that empty a cgroup before it is removed. Drivers only reach the kernel through this
// seam, so unit tests run them against a temp directory that imitates cgroupfs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace xblocks {

class CgroupFs {
 public:
  virtual ~CgroupFs() = default;

  // Creates one directory. Returns AlreadyExists when it exists, Internal on other errors.
  virtual Status MakeDir(const std::string& path) = 0;
  // Removes one directory. Returns Conflict when the kernel reports EBUSY (processes are still
  // in the cgroup), NotFound when it does not exist, Internal on other errors.
  virtual Status RemoveDir(const std::string& path) = 0;
  // Lists the names of the subdirectories of `path`. Returns NotFound or Internal.
  virtual Result<std::vector<std::string>> ListDirs(const std::string& path) const = 0;
  virtual bool Exists(const std::string& path) const = 0;
  // Whether the calling process may create entries in the directory `path`.
  virtual bool Writable(const std::string& path) const = 0;
  // Reads a whole file. Returns NotFound or Internal.
  virtual Result<std::string> ReadFile(const std::string& path) const = 0;
  // Writes `value` to an existing file, truncating it, as `echo value > path` does. Never
  // creates a file, because cgroupfs has none to create. Returns NotFound or Internal, and the
  // message carries the path, the value and the kernel's error.
  virtual Status WriteFile(const std::string& path, const std::string& value) = 0;
  // Sends `signal` to one process. A process that has already exited is not an error.
  virtual Status Kill(pid_t pid, int signal) = 0;
  virtual void Sleep(std::chrono::milliseconds duration) = 0;
};

// The real filesystem and kill(2). Thread-safe: it has no state.
class PosixCgroupFs : public CgroupFs {
 public:
  Status MakeDir(const std::string& path) override;
  Status RemoveDir(const std::string& path) override;
  Result<std::vector<std::string>> ListDirs(const std::string& path) const override;
  bool Exists(const std::string& path) const override;
  bool Writable(const std::string& path) const override;
  Result<std::string> ReadFile(const std::string& path) const override;
  Status WriteFile(const std::string& path, const std::string& value) override;
  Status Kill(pid_t pid, int signal) override;
  void Sleep(std::chrono::milliseconds duration) override;
};

// Parses the pids of a cgroup.procs file, one decimal number a line. Lines that are not
// positive numbers are skipped.
std::vector<pid_t> ParsePidList(const std::string& text);

// Returns the value of the line `key N` in a flat-keyed cgroup file such as memory.events,
// cpu.stat or memory.oom_control, or nullopt when the key is missing or N is not a number.
std::optional<int64_t> FindKeyedValue(const std::string& text, const std::string& key);

// Parses a file that contains one integer, such as memory.usage_in_bytes. Returns nullopt otherwise.
std::optional<int64_t> ParseSingleValue(const std::string& text);

}  // namespace xblocks
