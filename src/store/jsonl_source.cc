#include "store/jsonl_source.h"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include "store/record_json.h"

namespace trawl::store {

namespace {

// Reads lines of at most kMaxJsonLine bytes; a longer line is skipped and
// reported (a hostile or damaged file must not exhaust memory).
class LineReader {
 public:
  ~LineReader() {
    if (f_) std::fclose(f_);
  }
  bool open(const std::string& path) {
    f_ = std::fopen(path.c_str(), "rb");
    return f_ != nullptr;
  }
  // False at the end of the file or on a read error (error() says which).
  bool next(std::string& line, bool& too_long) {
    line.clear();
    too_long = false;
    for (;;) {
      if (pos_ == len_) {
        if (!f_ || eof_) return !line.empty() || too_long;
        len_ = std::fread(buf_.data(), 1, buf_.size(), f_);
        pos_ = 0;
        if (len_ == 0) {
          eof_ = true;
          if (std::ferror(f_)) error_ = true;
          return !line.empty() || too_long;
        }
      }
      const char* start = buf_.data() + pos_;
      const void* nl = std::memchr(start, '\n', len_ - pos_);
      size_t n = nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) : len_ - pos_;
      if (!too_long) {
        if (line.size() + n > kMaxJsonLine) {
          too_long = true;
          line.clear();
        } else {
          line.append(start, n);
        }
      }
      pos_ += n;
      if (nl) {
        ++pos_;
        return true;
      }
    }
  }
  bool error() const { return error_; }

 private:
  std::FILE* f_ = nullptr;
  std::vector<char> buf_ = std::vector<char>(1u << 16);
  size_t pos_ = 0;
  size_t len_ = 0;
  bool eof_ = false;
  bool error_ = false;
};

// The number after `"key":` in a line as trawl writes it, in nanoseconds.
bool number_after(std::string_view line, std::string_view key, int64_t& ns) {
  size_t at = line.find(key);
  if (at == std::string_view::npos) return false;
  size_t p = at + key.size();
  size_t e = p;
  while (e < line.size() && (line[e] == '-' || line[e] == '.' || (line[e] >= '0' && line[e] <= '9'))) ++e;
  std::string_view num = line.substr(p, e - p);
  bool neg = !num.empty() && num[0] == '-';
  if (neg) num.remove_prefix(1);
  size_t dot = num.find('.');
  std::string_view whole = num.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : num.substr(dot + 1);
  if (whole.empty() || frac.size() > 9) return false;
  int64_t w = 0;
  int64_t f = 0;
  if (std::from_chars(whole.data(), whole.data() + whole.size(), w).ptr != whole.data() + whole.size()) return false;
  if (!frac.empty() && std::from_chars(frac.data(), frac.data() + frac.size(), f).ptr != frac.data() + frac.size()) {
    return false;
  }
  if (w > 9'000'000'000) return false;
  for (size_t k = frac.size(); k < 9; ++k) f *= 10;
  ns = w * 1'000'000'000 + f;
  if (neg) ns = -ns;
  return true;
}

class JsonlSource final : public RecordSource {
 public:
  explicit JsonlSource(std::filesystem::path dir) : dir_(std::move(dir)) {}

  bool for_each(const RecordFn& fn, std::string& error) override {
    struct Stream {
      std::string log;
      LineReader reader;
      std::string line;
      ReplayKey key;
      bool live = false;
      uint64_t line_no = 0;
    };
    std::vector<std::unique_ptr<Stream>> streams;
    std::vector<std::string> logs = {"arp"};
    for (auto l : analyzer_logs()) logs.emplace_back(l);
    logs.emplace_back("conn");
    for (const auto& log : logs) {
      auto path = dir_ / (log + ".jsonl");
      std::error_code ec;
      if (!std::filesystem::exists(path, ec)) continue;
      auto s = std::make_unique<Stream>();
      s->log = log;
      if (!s->reader.open(path.string())) {
        error = path.string() + ": cannot open";
        return false;
      }
      streams.push_back(std::move(s));
    }
    // Fetches a stream's next non-empty line and its key.
    auto advance = [&](Stream& s) -> bool {
      bool too_long = false;
      while (s.reader.next(s.line, too_long)) {
        ++s.line_no;
        if (too_long) {
          error = s.log + ".jsonl:" + std::to_string(s.line_no) + ": line longer than " +
                  std::to_string(kMaxJsonLine) + " bytes";
          return false;
        }
        if (s.line.empty()) continue;
        if (!replay_key(s.log, s.line, s.key)) s.key = ReplayKey{INT64_MIN, 0};  // delivered, then reported
        s.live = true;
        return true;
      }
      s.live = false;
      if (s.reader.error()) {
        error = s.log + ".jsonl: read error";
        return false;
      }
      return true;
    };
    for (auto& s : streams) {
      if (!advance(*s)) return false;
    }
    // k-way merge; few streams, so a linear scan for the smallest head.
    for (;;) {
      Stream* best = nullptr;
      for (auto& s : streams) {
        if (s->live && (!best || s->key < best->key)) best = s.get();
      }
      if (!best) return true;
      fn(best->log, best->line);
      if (!advance(*best)) return false;
    }
  }

  bool inputs(std::vector<InputInfo>& out, std::string& error) override {
    // stats.json lists the inputs as they were given to trawl analyze.
    auto path = dir_ / "stats.json";
    LineReader r;
    if (!r.open(path.string())) {
      error = path.string() + ": cannot open (the case's inputs are listed there)";
      return false;
    }
    std::string text, line;
    bool too_long = false;
    while (r.next(line, too_long)) {
      if (too_long) {
        error = path.string() + ": line too long";
        return false;
      }
      text += line;
      text += '\n';
    }
    size_t at = text.find("\"inputs\":[");
    if (at == std::string::npos) {
      error = path.string() + ": no inputs listed";
      return false;
    }
    // A string array in JsonLine's escaping: read it as a finding's dst.
    size_t end = at + 10;
    int depth = 1;
    bool in_str = false;
    for (; end < text.size() && depth > 0; ++end) {
      char c = text[end];
      if (in_str) {
        if (c == '\\') {
          ++end;
        } else if (c == '"') {
          in_str = false;
        }
      } else if (c == '"') {
        in_str = true;
      } else if (c == ']') {
        --depth;
      }
    }
    std::string obj = "{\"id\":\"\",\"ts\":0,\"last_ts\":0,\"severity\":\"info\",\"src\":\"\",\"dst_count\":0,"
                      "\"summary\":\"\",\"dst\":" + text.substr(at + 9, end - at - 9) + "}";
    detect::Finding f;
    if (!finding_from_json(obj, f, error)) {
      error = path.string() + ": inputs: " + error;
      return false;
    }
    for (auto& p : f.dst) {
      InputInfo info;
      info.path = std::move(p);
      out.push_back(std::move(info));
    }
    return true;
  }

  bool findings(std::vector<std::string>& out, std::string& error) override {
    auto path = dir_ / "findings.jsonl";
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return true;  // a run with --no-detect
    LineReader r;
    if (!r.open(path.string())) {
      error = path.string() + ": cannot open";
      return false;
    }
    std::string line;
    bool too_long = false;
    while (r.next(line, too_long)) {
      if (too_long) {
        error = path.string() + ": line too long";
        return false;
      }
      if (!line.empty()) out.push_back(line);
    }
    if (r.error()) {
      error = path.string() + ": read error";
      return false;
    }
    return true;
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace

bool replay_key(std::string_view log, std::string_view line, ReplayKey& out) {
  int64_t ts = 0;
  if (!number_after(line, "{\"ts\":", ts)) return false;
  out.ns = ts;
  out.rank = 1;
  if (log == "arp") {
    out.rank = 0;
  } else if (log == "conn") {
    out.rank = 2;
    int64_t d = 0;
    if (number_after(line, ",\"duration\":", d) && d > 0) out.ns = ts + d;
  }
  return true;
}

std::unique_ptr<RecordSource> open_jsonl_source(const std::string& dir, std::string& error) {
  std::filesystem::path p(dir);
  std::error_code ec;
  if (!std::filesystem::exists(p / "conn.jsonl", ec)) {
    error = dir + ": not a case folder (no case.db, no conn.jsonl)";
    return nullptr;
  }
  return std::make_unique<JsonlSource>(p);
}

}  // namespace trawl::store
