// CaseWriter: the sinkhole's records in the case directory. One JSON object a
// line per log (sinkhole_conn.jsonl, sinkhole_dns.jsonl, and one file per
// ServiceEvent log), artifacts as files/<sha256>, and at finish iocs.json and
// summary.txt. Also keeps the IOC tables in memory (bounded), so a writer
// without a directory serves tests and the fuzz target.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/ip_address.h"
#include "core/timestamp.h"
#include "sinkhole/dns_responder.h"
#include "sinkhole/service.h"

namespace trawl::sinkhole {

// The connection a record belongs to (Zeek's id.* fields). resp_h/resp_p are
// the original destination the guest chose: the sinkhole answers in its name,
// nothing is redirected.
struct ConnIds {
  core::IpAddress orig_h;
  uint16_t orig_p = 0;
  core::IpAddress resp_h;
  uint16_t resp_p = 0;
};

// One line of sinkhole_conn.jsonl, written when the connection is gone.
struct SinkholeConn {
  core::Timestamp ts;    // the SYN
  core::Timestamp last;  // the last guest segment
  std::string uid;
  ConnIds id;
  std::string service;   // the session's name(); empty when no session was opened
  std::string domain;    // the DNS name the guest was given for resp_h
  uint64_t orig_bytes = 0;  // from the guest, delivered in order
  uint64_t resp_bytes = 0;  // to the guest, acknowledged
  std::string close_reason;  // CloseReason's name, or "shutdown"
};

struct CaseLimits {
  uint64_t max_artifact_bytes = 256ULL * 1024 * 1024;
  uint64_t max_artifact_files = 10000;
  size_t max_iocs_per_kind = 100000;
  uint64_t max_records_per_log = 1000000;
};

class CaseWriter {
 public:
  // `dir` empty: nothing is written to disk (tests, fuzzing); the IOC tables
  // and counters still work.
  CaseWriter(std::string dir, CaseLimits limits);
  ~CaseWriter();
  CaseWriter(const CaseWriter&) = delete;
  CaseWriter& operator=(const CaseWriter&) = delete;

  // Creates the directory and files/; false with a message when it cannot.
  bool open(std::string& error);

  void conn(const SinkholeConn& c);
  // One ServiceEvent: its JSON with ts, uid and id.* put first; its IOCs
  // counted; its artifact stored. `uid` empty for events outside a
  // connection (UDP).
  void event(core::Timestamp ts, const std::string& uid, const ConnIds& id, const ServiceEvent& e);
  // One DNS answer over UDP (TCP answers come as their session's events):
  // the query and its answers (the name -> pool address mapping).
  void dns(core::Timestamp ts, const std::string& uid, const ConnIds& id, const DnsExchange& ex);
  // Counts one more value seen (iocs.json), outside an event.
  void ioc(const Ioc& ioc, core::Timestamp ts);
  // Stores an artifact as files/<sha256> (once per content, within the
  // limits) and returns the hex SHA-256.
  std::string artifact(const std::vector<uint8_t>& bytes);

  // What summary.txt says about the run besides the IOCs.
  struct RunSummary {
    core::Timestamp start;
    core::Timestamp end;
    std::string ca_cert;  // path of the CA certificate to install in the guest
    std::vector<std::pair<std::string, uint64_t>> counters;  // "name", value (in order)
  };
  // Writes iocs.json and summary.txt and flushes every log. Once.
  void finish(const RunSummary& summary);

  struct IocEntry {
    uint64_t count = 0;
    core::Timestamp first;
    core::Timestamp last;
  };
  // Kind -> value -> entry (sorted: iocs.json's order).
  const std::map<Ioc::Kind, std::map<std::string, IocEntry>>& iocs() const { return iocs_; }
  // iocs.json's text (deterministic).
  std::string iocs_json() const;
  std::string summary_text(const RunSummary& summary) const;
  const std::map<std::string, uint64_t>& records_by_log() const { return records_; }
  uint64_t records_dropped() const { return records_dropped_; }
  uint64_t iocs_dropped() const { return iocs_dropped_; }
  uint64_t artifact_bytes() const { return artifact_bytes_; }
  uint64_t artifacts_stored() const { return artifacts_stored_; }
  uint64_t artifacts_not_stored() const { return artifacts_not_stored_; }
  uint64_t write_errors() const { return write_errors_; }
  const std::string& dir() const { return dir_; }

 private:
  void write_line(const std::string& log, const std::string& line);
  bool count_only(const std::string& log);
  std::FILE* file_for(const std::string& log);
  void add_ioc(Ioc::Kind kind, const std::string& value, core::Timestamp ts);

  std::string dir_;
  CaseLimits limits_;
  bool opened_ = false;
  bool finished_ = false;
  std::map<std::string, std::FILE*> files_;
  std::map<std::string, uint64_t> records_;
  std::map<Ioc::Kind, std::map<std::string, IocEntry>> iocs_;
  std::map<std::string, uint64_t> stored_;  // sha256 -> size (stored or not)
  uint64_t records_dropped_ = 0;
  uint64_t iocs_dropped_ = 0;
  uint64_t artifact_bytes_ = 0;
  uint64_t artifacts_stored_ = 0;
  uint64_t artifacts_not_stored_ = 0;
  uint64_t write_errors_ = 0;
};

}  // namespace trawl::sinkhole
