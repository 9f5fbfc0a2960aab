#include "sinkhole/case_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "analyzers/ssl/tls_fingerprint.h"
#include "output/json_line.h"

namespace trawl::sinkhole {

namespace {

constexpr Ioc::Kind kKinds[] = {Ioc::Kind::kDomain, Ioc::Kind::kIp,     Ioc::Kind::kUrl, Ioc::Kind::kUserAgent,
                                Ioc::Kind::kEmail,  Ioc::Kind::kSha256, Ioc::Kind::kJa3, Ioc::Kind::kJa4};

// Values longer than this are cut: an IOC is for reading and matching, and a
// hostile guest must not make the tables large through long values.
constexpr size_t kMaxIocValue = 2048;

void add_ids(output::JsonLine& j, const ConnIds& id) {
  j.str("id.orig_h", id.orig_h.to_string())
      .u64("id.orig_p", id.orig_p)
      .str("id.resp_h", id.resp_h.to_string())
      .u64("id.resp_p", id.resp_p);
}

// Log names become file names: keep them to a safe alphabet.
bool safe_log_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

}  // namespace

CaseWriter::CaseWriter(std::string dir, CaseLimits limits) : dir_(std::move(dir)), limits_(limits) {}

CaseWriter::~CaseWriter() {
  for (auto& [name, f] : files_)
    if (f) std::fclose(f);
}

bool CaseWriter::open(std::string& error) {
  if (dir_.empty()) return true;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(dir_) / "files", ec);
  if (ec) {
    error = "cannot create " + dir_ + "/files: " + ec.message();
    return false;
  }
  opened_ = true;
  return true;
}

std::FILE* CaseWriter::file_for(const std::string& log) {
  auto it = files_.find(log);
  if (it != files_.end()) return it->second;
  std::FILE* f = nullptr;
  if (opened_) {
    const std::string path = dir_ + "/" + log + ".jsonl";
    f = std::fopen(path.c_str(), "w");
    if (!f) ++write_errors_;
  }
  files_[log] = f;  // nullptr remembered: one failed open, not one per record
  return f;
}

void CaseWriter::write_line(const std::string& log, const std::string& line) {
  uint64_t& n = records_[log];
  if (n >= limits_.max_records_per_log) {
    ++records_dropped_;
    return;
  }
  ++n;
  std::FILE* f = file_for(log);
  if (f && std::fwrite(line.data(), 1, line.size(), f) != line.size()) ++write_errors_;
}

void CaseWriter::add_ioc(Ioc::Kind kind, const std::string& value, core::Timestamp ts) {
  if (value.empty()) return;
  auto& table = iocs_[kind];
  const std::string v = value.size() > kMaxIocValue ? value.substr(0, kMaxIocValue) : value;
  auto it = table.find(v);
  if (it == table.end()) {
    if (table.size() >= limits_.max_iocs_per_kind) {
      ++iocs_dropped_;
      return;
    }
    it = table.emplace(v, IocEntry{0, ts, ts}).first;
  }
  IocEntry& e = it->second;
  ++e.count;
  e.first = std::min(e.first, ts);
  e.last = std::max(e.last, ts);
}

void CaseWriter::ioc(const Ioc& i, core::Timestamp ts) { add_ioc(i.kind, i.value, ts); }

std::string CaseWriter::artifact(const std::vector<uint8_t>& bytes) {
  std::string sha = analyzers::ssl::sha256_hex(bytes);
  if (sha.empty() || stored_.count(sha)) return sha;
  stored_[sha] = bytes.size();
  if (artifacts_stored_ >= limits_.max_artifact_files || bytes.size() > limits_.max_artifact_bytes - std::min(limits_.max_artifact_bytes, artifact_bytes_)) {
    ++artifacts_not_stored_;
    return sha;
  }
  ++artifacts_stored_;
  artifact_bytes_ += bytes.size();
  if (!opened_) return sha;
  const std::string path = dir_ + "/files/" + sha;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    ++write_errors_;
    return sha;
  }
  if (std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) ++write_errors_;
  if (std::fclose(f) != 0) ++write_errors_;
  return sha;
}

bool CaseWriter::count_only(const std::string& log) {
  if (opened_) return false;
  // No directory: count the record as written or dropped, skip formatting it.
  uint64_t& n = records_[log];
  if (n >= limits_.max_records_per_log) ++records_dropped_;
  else ++n;
  return true;
}

void CaseWriter::conn(const SinkholeConn& c) {
  if (count_only("sinkhole_conn")) return;
  std::string line;
  output::JsonLine j(line);
  j.raw("ts", core::format_epoch_micros(c.ts)).str("uid", c.uid);
  add_ids(j, c.id);
  j.str("proto", "tcp");
  if (!c.service.empty()) j.str("service", c.service);
  if (!c.domain.empty()) j.str("domain", c.domain);
  j.raw("duration", core::format_duration_micros(c.last - c.ts))
      .u64("orig_bytes", c.orig_bytes)
      .u64("resp_bytes", c.resp_bytes)
      .str("close_reason", c.close_reason);
  j.end();
  write_line("sinkhole_conn", line);
}

void CaseWriter::event(core::Timestamp ts, const std::string& uid, const ConnIds& id, const ServiceEvent& e) {
  for (const Ioc& i : e.iocs) add_ioc(i.kind, i.value, ts);
  std::string sha;
  if (!e.artifact.empty()) {
    sha = artifact(e.artifact);
    add_ioc(Ioc::Kind::kSha256, sha, ts);
  }
  const std::string log = safe_log_name(e.log) ? e.log : "sinkhole_other";
  if (count_only(log)) return;
  std::string line;
  output::JsonLine j(line);
  j.raw("ts", core::format_epoch_micros(ts));
  if (!uid.empty()) j.str("uid", uid);
  add_ids(j, id);
  if (!e.artifact_kind.empty()) j.str("artifact_kind", e.artifact_kind);
  if (!sha.empty()) j.str("artifact_sha256", sha).u64("artifact_bytes", e.artifact.size());
  // The session's own fields follow ours: its object without the braces.
  const std::string& body = e.json;
  if (body.size() >= 2 && body.front() == '{' && body.back() == '}') {
    const std::string_view inner = std::string_view(body).substr(1, body.size() - 2);
    if (inner.find_first_not_of(" \t") != std::string_view::npos) {
      line.push_back(',');
      line += inner;
    }
  } else if (!body.empty()) {
    j.str("malformed_event", body);
  }
  j.end();
  write_line(log, line);
}

void CaseWriter::dns(core::Timestamp ts, const std::string& uid, const ConnIds& id, const DnsExchange& ex) {
  // Reverse lookups name addresses, not places the malware wanted to go.
  const bool reverse = ex.query.ends_with(".arpa");
  if (!ex.malformed && !reverse && !ex.query.empty()) add_ioc(Ioc::Kind::kDomain, ex.query, ts);
  if (count_only("sinkhole_dns")) return;
  std::string answers = "[";
  for (size_t i = 0; i < ex.answers.size(); ++i) {
    if (i) answers.push_back(',');
    output::append_json_string(answers, ex.answers[i]);
  }
  answers.push_back(']');
  std::string line;
  output::JsonLine j(line);
  j.raw("ts", core::format_epoch_micros(ts));
  if (!uid.empty()) j.str("uid", uid);
  add_ids(j, id);
  j.str("proto", "udp")
      .u64("trans_id", ex.id)
      .str("query", ex.query)
      .u64("qclass", ex.qclass)
      .u64("qtype", ex.qtype)
      .u64("rcode", ex.rcode)
      .raw("answers", answers)
      .u64("ttl", ex.ttl)
      .boolean("truncated", ex.truncated)
      .boolean("malformed", ex.malformed);
  j.end();
  write_line("sinkhole_dns", line);
}

std::string CaseWriter::iocs_json() const {
  std::string s = "{\n";
  bool first_kind = true;
  for (Ioc::Kind k : kKinds) {
    if (!first_kind) s += ",\n";
    first_kind = false;
    s += "  \"";
    s += to_string(k);
    s += "\": [";
    auto it = iocs_.find(k);
    bool first = true;
    if (it != iocs_.end()) {
      for (const auto& [value, e] : it->second) {
        s += first ? "\n    " : ",\n    ";
        first = false;
        output::JsonLine j(s);
        j.str("value", value)
            .u64("count", e.count)
            .raw("first_seen", core::format_epoch_micros(e.first))
            .raw("last_seen", core::format_epoch_micros(e.last));
        j.end_object();
      }
    }
    s += first ? "]" : "\n  ]";
  }
  s += ",\n  \"dropped\": " + std::to_string(iocs_dropped_) + "\n}\n";
  return s;
}

std::string CaseWriter::summary_text(const RunSummary& sum) const {
  std::string s = "Trawl sinkhole summary\n";
  s += "Run: " + core::format_epoch_micros(sum.start) + " to " + core::format_epoch_micros(sum.end) + " (" +
       core::format_duration_micros(sum.end - sum.start) + " s)\n\n";
  for (const auto& [name, n] : sum.counters) s += "  " + name + ": " + std::to_string(n) + "\n";
  // Most seen first, then by value: the same run gives the same text.
  auto top = [&](Ioc::Kind k, const char* title, size_t limit) {
    auto it = iocs_.find(k);
    const size_t total = it == iocs_.end() ? 0 : it->second.size();
    s += "\n" + std::string(title) + " (" + std::to_string(total) + ")\n";
    if (total == 0) {
      s += "  none\n";
      return;
    }
    std::vector<std::pair<std::string, uint64_t>> v;
    for (const auto& [value, e] : it->second) v.emplace_back(value, e.count);
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    for (size_t i = 0; i < v.size() && i < limit; ++i)
      s += "  " + std::to_string(v[i].second) + "  " + v[i].first + "\n";
    if (v.size() > limit) s += "  ... " + std::to_string(v.size() - limit) + " more in iocs.json\n";
  };
  top(Ioc::Kind::kDomain, "Domains", 10);
  top(Ioc::Kind::kIp, "Addresses contacted directly (no DNS answer of ours)", 10);
  top(Ioc::Kind::kUrl, "URLs", 10);
  top(Ioc::Kind::kUserAgent, "User agents", 5);
  top(Ioc::Kind::kEmail, "E-mail addresses", 10);
  top(Ioc::Kind::kSha256, "Files received (files/<sha256>)", 10);
  top(Ioc::Kind::kJa3, "JA3", 5);
  top(Ioc::Kind::kJa4, "JA4", 5);
  if (artifacts_not_stored_ > 0)
    s += "\n" + std::to_string(artifacts_not_stored_) + " files hashed but not stored (size limits)\n";
  if (records_dropped_ > 0) s += std::to_string(records_dropped_) + " records not written (per-log limit)\n";
  s += "\n";
  if (!sum.ca_cert.empty())
    s += "TLS: install this CA certificate in the guest to have HTTPS accepted: " + sum.ca_cert + "\n";
  else
    s += "TLS: no CA configured; TLS connections were not terminated\n";
  return s;
}

void CaseWriter::finish(const RunSummary& summary) {
  if (finished_) return;
  finished_ = true;
  for (auto& [name, f] : files_) {
    if (f && std::fclose(f) != 0) ++write_errors_;
    f = nullptr;
  }
  if (!opened_) return;
  auto write_file = [&](const char* name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) {
      ++write_errors_;
      return;
    }
    if (std::fwrite(text.data(), 1, text.size(), f) != text.size()) ++write_errors_;
    if (std::fclose(f) != 0) ++write_errors_;
  };
  write_file("iocs.json", iocs_json());
  write_file("summary.txt", summary_text(summary));
}

}  // namespace trawl::sinkhole
