// expand_inputs: command-line paths to the list of files to read.
#include <algorithm>
#include <filesystem>
#include <system_error>

#include "capture/packet_reader.h"

namespace trawl::capture {

namespace {

namespace fs = std::filesystem;

constexpr int kMaxDepth = 64;

bool hidden(const fs::path& p) {
  std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

// Regular files below dir, hidden files and folders skipped. Symbolic links to
// files are followed; links to folders are not (no cycles).
void walk(const fs::path& dir, int depth, std::vector<std::string>& files, std::vector<std::string>& errors) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    errors.push_back(dir.string() + ": " + ec.message());
    return;
  }
  for (fs::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) {
      errors.push_back(dir.string() + ": " + ec.message());
      return;
    }
    const fs::directory_entry& entry = *it;
    if (hidden(entry.path())) continue;
    std::error_code ec2;
    if (entry.is_symlink(ec2)) {
      if (fs::is_regular_file(entry.path(), ec2)) files.push_back(entry.path().string());
      continue;
    }
    if (entry.is_directory(ec2)) {
      if (depth < kMaxDepth) walk(entry.path(), depth + 1, files, errors);
      continue;
    }
    if (entry.is_regular_file(ec2)) files.push_back(entry.path().string());
  }
  if (ec) errors.push_back(dir.string() + ": " + ec.message());
}

}  // namespace

std::vector<std::string> expand_inputs(const std::vector<std::string>& args, std::vector<std::string>& errors) {
  std::vector<std::string> out;
  for (const std::string& arg : args) {
    std::error_code ec;
    fs::file_status st = fs::status(arg, ec);
    if (!fs::exists(st)) {
      if (ec && ec != std::errc::no_such_file_or_directory) errors.push_back(arg + ": " + ec.message());
      else errors.push_back(arg + ": no such file or directory");
      continue;
    }
    if (fs::is_directory(st)) {
      std::vector<std::string> found;
      walk(arg, 0, found, errors);
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else {
      out.push_back(arg);
    }
  }
  return out;
}

}  // namespace trawl::capture
