#include "live/proc_map.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace trawl::live {

namespace {

constexpr size_t kMaxCmdline = 4096;
constexpr size_t kMaxPath = 4096;
constexpr size_t kRecent = 16;

bool parse_pid(const char* name, int32_t& pid) {
  size_t n = std::strlen(name);
  if (n == 0 || n > 10) return false;
  auto [p, ec] = std::from_chars(name, name + n, pid);
  return ec == std::errc() && p == name + n && pid > 0;
}

// "socket:[12345]" -> 12345
bool socket_inode(const char* link, size_t n, uint64_t& inode) {
  static constexpr char kPrefix[] = "socket:[";
  constexpr size_t kLen = sizeof kPrefix - 1;
  if (n < kLen + 2 || std::memcmp(link, kPrefix, kLen) != 0 || link[n - 1] != ']') return false;
  auto [p, ec] = std::from_chars(link + kLen, link + n - 1, inode);
  return ec == std::errc() && p == link + n - 1;
}

}  // namespace

ProcMap::ProcMap(std::string proc_root) : root_(std::move(proc_root)) {}

void ProcMap::list_pids(std::vector<int32_t>& pids) {
  pids.clear();
  DIR* d = ::opendir(root_.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    int32_t pid = 0;
    if (parse_pid(e->d_name, pid)) pids.push_back(pid);
  }
  ::closedir(d);
  std::sort(pids.begin(), pids.end());
}

size_t ProcMap::scan_pid(int32_t pid, Pid& state, bool& denied, bool& gone) {
  denied = false;
  gone = false;
  ++fd_dirs_read_;
  std::string path = root_ + "/" + std::to_string(pid) + "/fd";
  int dfd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    if (errno == EACCES || errno == EPERM) {
      denied = true;
    } else {
      gone = true;
    }
    return 1;
  }
  DIR* d = ::fdopendir(dfd);
  if (!d) {
    ::close(dfd);
    gone = true;
    return 1;
  }
  // Drop this pid's old claims; what it holds now replaces them.
  for (uint64_t ino : state.inodes) {
    auto it = owner_.find(ino);
    if (it != owner_.end() && it->second == pid) owner_.erase(it);
  }
  state.inodes.clear();
  size_t entries = 1;
  char link[64];
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    ++entries;
    ssize_t n = ::readlinkat(dfd, e->d_name, link, sizeof link);
    if (n <= 0 || static_cast<size_t>(n) >= sizeof link) continue;
    uint64_t inode = 0;
    if (!socket_inode(link, static_cast<size_t>(n), inode)) continue;
    state.inodes.push_back(inode);
    // A socket shared after fork keeps the first holder found.
    owner_.emplace(inode, pid);
  }
  ::closedir(d);
  return entries;
}

ProcessInfo ProcMap::read_process(int32_t pid) const {
  ProcessInfo p;
  p.pid = pid;
  std::string base = root_ + "/" + std::to_string(pid);
  std::string buf(kMaxPath, '\0');
  ssize_t n = ::readlink((base + "/exe").c_str(), buf.data(), buf.size());
  if (n > 0) p.exe.assign(buf.data(), static_cast<size_t>(n));
  int fd = ::open((base + "/cmdline").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    std::string cmd(kMaxCmdline, '\0');
    size_t got = 0;
    while (got < cmd.size()) {
      ssize_t r = ::read(fd, cmd.data() + got, cmd.size() - got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    ::close(fd);
    cmd.resize(got);
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    while (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
    p.cmdline = std::move(cmd);
  }
  return p;
}

void ProcMap::resolve(const std::vector<uint64_t>& wanted, size_t fd_budget, std::vector<Resolution>& out) {
  std::vector<uint64_t> fresh;
  for (uint64_t ino : wanted) {
    if (ino != 0 && pending_.emplace(ino, Pending{}).second) fresh.push_back(ino);
  }
  if (pending_.empty()) return;

  std::vector<int32_t> pids;
  list_pids(pids);
  for (auto& [pid, st] : pids_) st.seen = false;
  for (int32_t pid : pids) {
    auto it = pids_.find(pid);
    if (it != pids_.end()) it->second.seen = true;
  }
  bool any_vanished = false;
  for (auto it = pids_.begin(); it != pids_.end();) {
    if (it->second.seen) {
      ++it;
      continue;
    }
    any_vanished = true;
    for (uint64_t ino : it->second.inodes) {
      auto o = owner_.find(ino);
      if (o != owner_.end() && o->second == it->first) owner_.erase(o);
    }
    it = pids_.erase(it);
  }
  if (any_vanished) {
    for (auto& [ino, p] : pending_) p.vanished = true;
  }
  for (uint64_t ino : fresh) pending_[ino].needed = pids_.size();

  auto emit_found = [&]() {
    for (auto it = pending_.begin(); it != pending_.end();) {
      auto o = owner_.find(it->first);
      if (o == owner_.end()) {
        ++it;
        continue;
      }
      Resolution r;
      r.inode = it->first;
      r.found = true;
      r.process = read_process(o->second);
      out.push_back(std::move(r));
      it = pending_.erase(it);
    }
  };
  auto note_failure = [&](bool denied, bool gone) {
    for (auto& [ino, p] : pending_) {
      if (denied) p.denied = true;
      if (gone) p.vanished = true;
    }
  };
  emit_found();

  // New processes first, newest first: a short-lived client that just
  // connected is the likeliest owner and the likeliest to exit soon.
  size_t spent = 0;
  bool all_new_read = true;
  std::vector<int32_t> just_read;
  for (auto it = pids.rbegin(); it != pids.rend() && !pending_.empty(); ++it) {
    if (pids_.count(*it)) continue;
    if (spent >= fd_budget) {
      all_new_read = false;
      break;
    }
    Pid st;
    st.seen = true;
    bool denied = false, gone = false;
    spent += scan_pid(*it, st, denied, gone);
    note_failure(denied, gone);
    if (!gone) {
      pids_.emplace(*it, std::move(st));
      just_read.push_back(*it);
      recent_.push_back(*it);
      if (recent_.size() > kRecent) recent_.pop_front();
    }
  }
  emit_found();

  // Processes discovered lately (newest first) that may have opened the
  // socket after they were read.
  for (auto it = recent_.rbegin(); it != recent_.rend() && !pending_.empty() && spent < fd_budget; ++it) {
    auto st = pids_.find(*it);
    if (st == pids_.end() || std::find(just_read.begin(), just_read.end(), *it) != just_read.end()) continue;
    bool denied = false, gone = false;
    spent += scan_pid(*it, st->second, denied, gone);
    emit_found();
  }

  // Then re-read known processes round-robin (they may have opened the
  // socket since they were read), each pending inode for at most one round.
  size_t rounds_left = 0;
  for (const auto& [ino, p] : pending_) rounds_left = std::max(rounds_left, p.needed - std::min(p.needed, p.rescans));
  rounds_left = std::min(rounds_left, pids.size());
  for (size_t rounds = 0; !pending_.empty() && spent < fd_budget && rounds < rounds_left;) {
    auto next = std::upper_bound(pids.begin(), pids.end(), cursor_);
    if (next == pids.end()) next = pids.begin();
    cursor_ = *next;
    ++rounds;
    auto st = pids_.find(cursor_);
    if (st == pids_.end()) continue;  // new and not read yet (budget)
    bool denied = false, gone = false;
    spent += scan_pid(cursor_, st->second, denied, gone);
    note_failure(denied, gone);
    for (auto& [ino, p] : pending_) ++p.rescans;
    emit_found();
  }

  if (!all_new_read) return;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.rescans < it->second.needed) {
      ++it;
      continue;
    }
    Resolution r;
    r.inode = it->first;
    if (it->second.denied) {
      r.how = "no permission (some /proc/<pid>/fd unreadable)";
    } else if (it->second.vanished) {
      r.how = "unowned (closed, or its process exited before /proc was read)";
    } else {
      r.how = "unowned (no process in this PID namespace holds it)";
    }
    out.push_back(std::move(r));
    it = pending_.erase(it);
  }
}

}  // namespace trawl::live
