// ProcMap: socket inode -> owning process, from /proc/<pid>/fd links
// ("socket:[N]"). Internal to live/. Each process's fd table is read once and
// cached; it is read again only while some inode is still unowned, and the
// reads per call are bounded so a host with many processes costs a bounded
// amount per poll.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "live/attribution.h"

namespace trawl::live {

struct Resolution {
  uint64_t inode = 0;
  bool found = false;
  ProcessInfo process;  // pid, exe, cmdline (uid/user are the socket's, set by the caller)
  std::string how;      // when !found: why
};

class ProcMap {
 public:
  explicit ProcMap(std::string proc_root = "/proc");

  // Looks for the owners of `wanted` (inodes not yet resolved). Reads at
  // most about fd_budget fd entries. Inodes found, and inodes given up after
  // every process was read once since they were first asked for, are
  // appended to out; the rest stay pending for the next call.
  void resolve(const std::vector<uint64_t>& wanted, size_t fd_budget, std::vector<Resolution>& out);

  size_t pending() const { return pending_.size(); }
  uint64_t fd_dirs_read() const { return fd_dirs_read_; }

 private:
  struct Pid {
    std::vector<uint64_t> inodes;
    bool seen = false;  // in the latest /proc listing
  };
  struct Pending {
    size_t rescans = 0;  // known processes re-read since this inode was asked for
    size_t needed = 0;   // processes known when it was asked for
    bool denied = false;
    bool vanished = false;
  };

  // Reads /proc/<pid>/fd; false if it cannot (gone or no permission).
  size_t scan_pid(int32_t pid, Pid& state, bool& denied, bool& gone);
  void list_pids(std::vector<int32_t>& pids);
  ProcessInfo read_process(int32_t pid) const;

  std::string root_;
  std::unordered_map<int32_t, Pid> pids_;
  std::unordered_map<uint64_t, int32_t> owner_;
  std::unordered_map<uint64_t, Pending> pending_;
  // The processes discovered last, newest at the back: a process read just
  // before it connected is the likeliest owner of a new socket.
  std::deque<int32_t> recent_;
  int32_t cursor_ = 0;  // round-robin position among known pids
  uint64_t fd_dirs_read_ = 0;
};

}  // namespace trawl::live
