#include "node/cgroup_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cctype>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <thread>

#include <fmt/format.h>

namespace xblocks {
namespace {

Status ErrnoStatus(int error, const std::string& what) {
  std::string message = fmt::format("{}: {}", what, std::strerror(error));
  if (error == ENOENT) return NotFound(std::move(message));
  if (error == EEXIST) return AlreadyExists(std::move(message));
  if (error == EBUSY) return Conflict(std::move(message));
  return Internal(std::move(message));
}

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

}  // namespace

Status PosixCgroupFs::MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0) return ErrnoStatus(errno, fmt::format("mkdir {}", path));
  return Status::Ok();
}

Status PosixCgroupFs::RemoveDir(const std::string& path) {
  if (::rmdir(path.c_str()) != 0) return ErrnoStatus(errno, fmt::format("rmdir {}", path));
  return Status::Ok();
}

Result<std::vector<std::string>> PosixCgroupFs::ListDirs(const std::string& path) const {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return ErrnoStatus(errno, fmt::format("opendir {}", path));
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat info {};
    if (::stat((path + "/" + name).c_str(), &info) == 0 && S_ISDIR(info.st_mode)) names.push_back(name);
  }
  ::closedir(dir);
  return names;
}

bool PosixCgroupFs::Exists(const std::string& path) const { return ::access(path.c_str(), F_OK) == 0; }

bool PosixCgroupFs::Writable(const std::string& path) const { return ::access(path.c_str(), W_OK) == 0; }

Result<std::string> PosixCgroupFs::ReadFile(const std::string& path) const {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, fmt::format("open {}", path));
  std::string content;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      ::close(fd);
      return ErrnoStatus(error, fmt::format("read {}", path));
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return content;
}

Status PosixCgroupFs::WriteFile(const std::string& path, const std::string& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, fmt::format("open {} for writing", path));

  // cgroupfs takes a value in a single write(2), so a short write is an error, not a retry.
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  int error = errno;
  ::close(fd);
  if (n < 0) return ErrnoStatus(error, fmt::format("write \"{}\" to {}", value, path));
  if (static_cast<size_t>(n) != value.size()) {
    return Internal(fmt::format("write \"{}\" to {}: short write of {} bytes", value, path, n));
  }
  return Status::Ok();
}

Status PosixCgroupFs::Kill(pid_t pid, int signal) {
  if (pid <= 0) return Invalid(fmt::format("refusing to signal pid {}: only positive pids name one process", pid));
  if (::kill(pid, signal) != 0 && errno != ESRCH) {
    return ErrnoStatus(errno, fmt::format("kill pid {} with signal {}", pid, signal));
  }
  return Status::Ok();
}

void PosixCgroupFs::Sleep(std::chrono::milliseconds duration) { std::this_thread::sleep_for(duration); }

std::vector<pid_t> ParsePidList(const std::string& text) {
  std::vector<pid_t> pids;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::optional<int64_t> value = ParseInt(Trim(line));
    if (value && *value > 0 && *value <= INT32_MAX) pids.push_back(static_cast<pid_t>(*value));
  }
  return pids;
}

std::optional<int64_t> FindKeyedValue(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::string_view view = Trim(line);
    if (view.size() <= key.size() || view.substr(0, key.size()) != key) continue;
    if (view[key.size()] != ' ') continue;
    return ParseInt(Trim(view.substr(key.size())));
  }
  return std::nullopt;
}

std::optional<int64_t> ParseSingleValue(const std::string& text) { return ParseInt(Trim(text)); }

}  // namespace xblocks
