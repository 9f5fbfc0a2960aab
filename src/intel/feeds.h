// Feed loaders: files and folders of threat intelligence into an
// IndicatorStore. A malformed entry is reported with its file and line and
// the rest of the file still loads; an unreadable file is reported and the
// other files still load.
//
// Formats (chosen by content, never by file name alone):
//   list      one indicator per line (IP, CIDR, domain, URL, hash); '#' and
//             ';' comments, blank lines, "indicator,comment" and hosts-file
//             lines ("0.0.0.0 evil.example") accepted
//   feodo     abuse.ch Feodo Tracker CSV (first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware)
//   urlhaus   abuse.ch URLhaus CSV (id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter)
//   misp_csv  MISP CSV export (uuid,event_id,category,type,value,comment,to_ids,date,...)
//   stix      STIX 2.1 bundle: indicator objects with patterns on ipv4-addr,
//             ipv6-addr, domain-name, url, file:hashes
//   misp      MISP feed folder (manifest.json plus <uuid>.json event files),
//             or a single MISP event JSON
//   otx_pulse AlienVault OTX pulse export (one pulse, a list, or {"results": [...]})
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "intel/indicator_store.h"

namespace trawl::intel {

struct LoadError {
  std::string file;
  uint64_t line = 0;  // 1-based; 0 when the error is about the whole file
  std::string message;
};

// What one file (or MISP feed folder) gave: the format it was read as and
// the indicators and errors it produced.
struct FileSummary {
  std::string file;
  std::string format;  // "list", "feodo", "urlhaus", "misp_csv", "stix", "misp", "otx_pulse", "json"; "" if unreadable
  uint64_t indicators = 0;
  uint64_t skipped = 0;
  uint64_t errors = 0;
};

struct LoadReport {
  uint64_t files = 0;        // files read
  uint64_t indicators = 0;   // indicators added
  uint64_t skipped = 0;      // entries ignored on purpose (unsupported types, comments are not counted)
  std::vector<LoadError> errors;  // at most kMaxErrors kept; errors_total counts all
  uint64_t errors_total = 0;
  static constexpr size_t kMaxErrors = 1000;
  std::vector<FileSummary> loaded;  // one per file parse_feed or load_intel read, in order
  void error(std::string file, uint64_t line, std::string message);
};

// Limits on what one feed may hold (hostile or broken files stop at these).
constexpr uint64_t kMaxFeedBytes = 1ull << 30;  // a file, or a .gz file once decompressed
constexpr size_t kMaxFeedLine = 64 * 1024;      // longer lines (CSV records) are errors

// path: a file or a folder (read recursively, in sorted order; hidden files
// skipped; a folder with manifest.json is a MISP feed). gzip files are read
// too. Calls store.finalize() is NOT done here: the caller finalizes once
// after every --intel path.
void load_intel(const std::string& path, IndicatorStore& store, LoadReport& report);

// The parser for one file's bytes, format chosen by content. name is the file
// name used in Source.feed and in errors. Pure function of the bytes (fuzzable).
void parse_feed(std::string_view name, std::string_view bytes, IndicatorStore& store, LoadReport& report);

// Per format (parse_feed picks one of these).
void parse_list(std::string_view name, std::string_view bytes, IndicatorStore& store, LoadReport& report);
void parse_feodo_csv(std::string_view name, std::string_view bytes, IndicatorStore& store, LoadReport& report);
void parse_urlhaus_csv(std::string_view name, std::string_view bytes, IndicatorStore& store, LoadReport& report);
void parse_misp_csv(std::string_view name, std::string_view bytes, IndicatorStore& store, LoadReport& report);
// JSON formats (feeds_json.cc): a STIX bundle, a MISP event ({"Event": ...}),
// or OTX pulses; returns false if the JSON is none of these (the caller then
// reports it).
bool parse_json_feed(std::string_view name, std::string_view bytes, IndicatorStore& store, LoadReport& report);
void parse_stix(std::string_view name, std::string_view bytes, IndicatorStore& store, LoadReport& report);
void parse_misp_event(std::string_view name, std::string_view bytes, IndicatorStore& store, LoadReport& report);
void parse_otx_pulses(std::string_view name, std::string_view bytes, IndicatorStore& store, LoadReport& report);
// A MISP feed folder: manifest.json lists the events; each <uuid>.json is
// read with parse_misp_event. Events in the manifest but missing are errors.
void load_misp_feed_dir(const std::string& dir, IndicatorStore& store, LoadReport& report);

}  // namespace trawl::intel
