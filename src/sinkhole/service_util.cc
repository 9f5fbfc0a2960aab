#include "sinkhole/service_util.h"

#include <algorithm>
#include <cstring>

#include "output/json_line.h"

namespace trawl::sinkhole {

void append_text(std::vector<uint8_t>& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

std::string hex_bytes(core::ByteView data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(data.size() * 2);
  for (uint8_t b : data) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

std::string printable_text(core::ByteView data) {
  std::string s;
  s.reserve(data.size());
  for (uint8_t b : data) s += (b >= 0x20 && b < 0x7f) ? static_cast<char>(b) : '.';
  return s;
}

std::string ascii_upper(std::string_view s) {
  std::string r(s);
  for (char& c : r) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return r;
}

std::string ascii_lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return r;
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::pair<std::string, std::string_view> split_command(std::string_view line) {
  line = trim_spaces(line);
  const size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return {ascii_upper(line), {}};
  return {ascii_upper(line.substr(0, sp)), trim_spaces(line.substr(sp + 1))};
}

namespace {
int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

bool base64_decode(std::string_view in, std::string& out) {
  out.clear();
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = b64_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return bits < 6;  // a single leftover sextet cannot come from whole bytes
}

std::string base64_encode(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint32_t{static_cast<uint8_t>(in[i])} << 16) | (uint32_t{static_cast<uint8_t>(in[i + 1])} << 8) |
                       static_cast<uint8_t>(in[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(v >> k) & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint32_t{static_cast<uint8_t>(in[i])} << 16;
    if (i + 1 < in.size()) v |= uint32_t{static_cast<uint8_t>(in[i + 1])} << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string json_string_array(const std::vector<std::string>& items) {
  std::string s = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) s += ',';
    output::append_json_string(s, items[i]);
  }
  s += ']';
  return s;
}

std::string mail_path_address(std::string_view arg) {
  const size_t colon = arg.find(':');
  const size_t lt = arg.find('<');
  if (lt != std::string_view::npos) {
    const size_t gt = arg.find('>', lt);
    if (gt == std::string_view::npos) return std::string(trim_spaces(arg.substr(lt + 1)));
    return std::string(trim_spaces(arg.substr(lt + 1, gt - lt - 1)));
  }
  if (colon != std::string_view::npos) arg = arg.substr(colon + 1);
  arg = trim_spaces(arg);
  return std::string(arg.substr(0, std::min(arg.find(' '), arg.size())));
}

std::string url_host(const core::IpAddress& ip) {
  return ip.is_v4() ? ip.to_string() : "[" + ip.to_string() + "]";
}

void LineSession::on_data(core::ByteView data, core::Timestamp now, std::vector<uint8_t>& out) {
  size_t pos = 0;
  // Each round consumes at least one byte or ends the loop.
  while (pos < data.size() && !close_ && !stop_lines_) {
    if (raw_) {
      const size_t n = on_raw(data.subspan(pos), now, out);
      pos += std::min(n, data.size() - pos);
      continue;
    }
    const auto* begin = data.data() + pos;
    const auto* nl = static_cast<const uint8_t*>(std::memchr(begin, '\n', data.size() - pos));
    const size_t piece = nl ? static_cast<size_t>(nl - begin) : data.size() - pos;
    if (!discarding_) {
      if (line_.size() + piece > max_line_) {
        line_.clear();
        discarding_ = true;
        on_line_too_long(out);
      } else {
        line_.append(reinterpret_cast<const char*>(begin), piece);
      }
    }
    pos += piece;
    if (!nl) break;
    ++pos;  // the '\n'
    if (discarding_) {
      discarding_ = false;
      continue;
    }
    std::string line = std::move(line_);
    line_.clear();
    if (!line.empty() && line.back() == '\r') line.pop_back();
    on_line(line, now, out);
  }
  unread_ = stop_lines_ ? data.size() - pos : 0;
}

void LineSession::take_events(std::vector<ServiceEvent>& out) {
  for (auto& e : events_) out.push_back(std::move(e));
  events_.clear();
}

}  // namespace trawl::sinkhole
