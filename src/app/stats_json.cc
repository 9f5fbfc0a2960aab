#include "app/stats_json.h"

#include <cstdio>

#include "output/file_sink.h"
#include "output/json_line.h"

namespace trawl::app {

const char* linktype_name(uint16_t linktype) {
  switch (linktype) {
    case 0: return "null";
    case 1: return "ethernet";
    case 12:
    case 14:
    case 101: return "raw";
    case 108: return "loop";
    case 113: return "linux_sll";
    case 228: return "ipv4";
    case 229: return "ipv6";
    case 276: return "linux_sll2";
    default: return "other";
  }
}

bool write_stats_json(const std::string& path, const RunStats& st, std::string& error) {
  using output::JsonLine;
  std::string out;
  auto string_array = [](const std::vector<std::string>& items) {
    std::string s = "[";
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) s += ",";
      output::append_json_string(s, items[i]);
    }
    return s + "]";
  };
  std::string linktypes = "{";
  for (const auto& [lt, n] : st.linktypes) {
    if (linktypes.size() > 1) linktypes += ",";
    output::append_json_string(linktypes, std::to_string(lt) + " " + linktype_name(lt));
    linktypes += ":" + std::to_string(n);
  }
  linktypes += "}";
  std::string anomalies = "{";
  for (const auto& [name, n] : st.anomalies.by_name()) {
    if (anomalies.size() > 1) anomalies += ",";
    output::append_json_string(anomalies, name);
    anomalies += ":" + std::to_string(n);
  }
  anomalies += "}";
  std::string records = "{";
  for (const auto& [name, n] : st.records) {
    if (records.size() > 1) records += ",";
    output::append_json_string(records, name);
    records += ":" + std::to_string(n);
  }
  records += "}";
  char rate[128];
  std::snprintf(rate, sizeof rate, "{\"wall_seconds\":%.3f,\"packets_per_second\":%.0f,\"megabytes_per_second\":%.1f}",
                st.wall_seconds, st.wall_seconds > 0 ? static_cast<double>(st.packets) / st.wall_seconds : 0.0,
                st.wall_seconds > 0 ? static_cast<double>(st.input_bytes) / 1e6 / st.wall_seconds : 0.0);

  JsonLine j(out);
  j.raw("inputs", string_array(st.inputs))
      .raw("input_errors", string_array(st.input_errors))
      .u64("input_bytes", st.input_bytes)
      .u64("packets", st.packets)
      .u64("bytes", st.wire_bytes)
      .u64("captured_bytes", st.captured_bytes)
      .u64("ip_packets", st.ip_packets)
      .u64("arp_packets", st.arp_packets)
      .u64("other_packets", st.other_packets)
      .u64("malformed_packets", st.malformed_packets)
      .u64("fragments_held", st.fragments_held)
      .u64("connections", st.connections)
      .u64("evicted_flows", st.evicted_flows)
      .raw("records", records)
      .u64("findings", st.findings)
      .raw("first_ts", core::format_epoch_micros(st.first_ts))
      .raw("last_ts", core::format_epoch_micros(st.last_ts))
      .raw("linktypes", linktypes)
      .raw("anomalies", anomalies)
      .raw("rate", rate);
  j.end();

  output::FileSink f;
  if (!f.open(path)) {
    error = f.error();
    return false;
  }
  f.write(out);
  if (!f.close()) {
    error = f.error();
    return false;
  }
  return true;
}

}  // namespace trawl::app
