#include "detect/text.h"

#include <cstdio>
#include <ctime>

#include "output/json_line.h"

namespace trawl::detect::text {

int64_t seconds_to_ns(double s) {
  if (!(s > 0)) return 0;
  if (s > 9e9) return INT64_MAX / 2;
  return static_cast<int64_t>(s * 1e9);
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

uint64_t folded_hash(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    h *= 1099511628211ULL;
  }
  return h;
}

std::vector<std::string> address_strings(const std::vector<core::IpAddress>& a) {
  std::vector<std::string> out;
  out.reserve(a.size());
  for (const auto& x : a) out.push_back(x.to_string());
  return out;
}

std::string fixed1(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string utc_time(core::Timestamp t) {
  const time_t secs = static_cast<time_t>(t.sec());
  std::tm tm{};
  if (gmtime_r(&secs, &tm) == nullptr) return core::format_epoch_micros(t);
  char buf[64];
  if (std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) return core::format_epoch_micros(t);
  return buf;
}

std::string human_span(int64_t ns) {
  const double s = static_cast<double>(ns) / 1e9;
  if (s < 120) return std::to_string(static_cast<int64_t>(s + 0.5)) + " s";
  if (s < 7200) return std::to_string(static_cast<int64_t>(s / 60 + 0.5)) + " min";
  return fixed1(s / 3600) + " h";
}

std::string human_bytes(uint64_t n) {
  if (n < 1024) return std::to_string(n) + " B";
  const double v = static_cast<double>(n);
  char buf[64];
  if (v < 1024.0 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KB", v / 1024);
  } else if (v < 1024.0 * 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f MB", v / 1024 / 1024);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f GB", v / 1024 / 1024 / 1024);
  }
  return buf;
}

std::string json_strings(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out.push_back(',');
    output::append_json_string(out, v[i]);
  }
  out.push_back(']');
  return out;
}

}  // namespace trawl::detect::text
