// LineReader: splits one direction of a line-based protocol (SMTP, POP3,
// IMAP, FTP, HTTP headers) into lines, across data() calls, with a length
// limit. Lines end at LF; a CR before it is removed. Zero copy when a line
// lies inside one data() call; otherwise the pieces are joined in a buffer
// that never exceeds max_line bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/byte_view.h"

namespace trawl::analyzers {

class LineReader {
 public:
  explicit LineReader(size_t max_line = 8192) : max_line_(max_line) {}

  // Feeds bytes; calls on_line(std::string_view line, bool truncated) for
  // every complete line (truncated: the line was longer than max_line and
  // only its first max_line bytes are given). Returns the number of bytes
  // consumed, which is all of them unless on_line returns false (stop: the
  // caller wants the rest raw, e.g. a message body or a binary payload).
  template <typename F>
  size_t feed(core::ByteView data, F&& on_line) {
    std::string_view s = core::as_chars(data);
    size_t pos = 0;
    while (pos < s.size()) {
      size_t nl = s.find('\n', pos);
      if (nl == std::string_view::npos) {
        append(s.substr(pos));
        return s.size();
      }
      std::string_view piece = s.substr(pos, nl - pos);
      pos = nl + 1;
      bool keep_going;
      if (partial_.empty() && !overflow_) {
        keep_going = on_line(chomp(piece), false);
      } else {
        append(piece);
        bool truncated = overflow_;
        std::string line = std::move(partial_);
        partial_.clear();
        overflow_ = false;
        keep_going = on_line(truncated ? std::string_view(line) : chomp(line), truncated);
      }
      if (!keep_going) return pos;
    }
    return pos;
  }
  // Bytes of an unfinished line held so far.
  size_t pending() const { return partial_.size(); }
  // Forgets an unfinished line (after a gap).
  void reset() {
    partial_.clear();
    overflow_ = false;
  }

 private:
  static std::string_view chomp(std::string_view l) {
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    return l;
  }
  void append(std::string_view piece) {
    if (overflow_) return;
    size_t room = max_line_ - partial_.size();
    if (piece.size() > room) {
      partial_.append(piece.substr(0, room));
      overflow_ = true;
    } else {
      partial_.append(piece);
    }
  }

  size_t max_line_;
  std::string partial_;
  bool overflow_ = false;
};

}  // namespace trawl::analyzers
