// make_report_sink: report.html at the end of `trawl analyze`. The builder
// gets the typed records' fields (no line to scan, no address text to make),
// read as their JSON lines would be read, so that `trawl report CASE`, which
// only has the lines, gives the same page.
#include <array>
#include <filesystem>
#include <typeinfo>

#include "analyzers/common/auth_record.h"
#include "analyzers/dns/dns_log_record.h"
#include "analyzers/dns/dns_names.h"
#include "analyzers/ftp/ftp_record.h"
#include "analyzers/http/http_record.h"
#include "analyzers/imap/imap_record.h"
#include "analyzers/pop3/pop3_record.h"
#include "analyzers/rdp/rdp_record.h"
#include "analyzers/smb/smb_record.h"
#include "analyzers/smtp/smtp_record.h"
#include "analyzers/ssh/ssh_record.h"
#include "analyzers/ssl/ssl_record.h"
#include "report/report_data.h"
#include "store/sink.h"

namespace trawl::store {
namespace {

using report::line_seconds;

std::string_view opt(const std::optional<std::string>& s) { return s ? std::string_view(*s) : std::string_view(); }

class ReportSink final : public RecordSink {
 public:
  explicit ReportSink(std::string path) : path_(std::move(path)) {}

  void on_conn(const flow::ConnRecord& r, std::string_view) override { builder_.add_conn(report::conn_fields(r)); }

  // The logs the page summarises by their fields get them from the typed
  // record; a record of such a log but of another type goes by its line.
  void on_record(const analyzers::Record& r, std::string_view json) override {
    const std::type_info& t = typeid(r);
    double ts = line_seconds(r.ts.ns);
    if (t == typeid(analyzers::dns::DnsLogRecord)) {
      const auto& d = static_cast<const analyzers::dns::DnsLogRecord&>(r);
      report::DnsFields f;
      f.ts = ts;
      f.client = d.orig_h;
      f.query = opt(d.query);
      // As dns.jsonl: the names only with their numbers.
      if (d.rcode) f.rcode_name = name(rcode_names_, *d.rcode, analyzers::dns::rcode_name, rcode_);
      if (d.qtype) f.qtype_name = name(qtype_names_, *d.qtype, analyzers::dns::qtype_name, qtype_);
      builder_.add_dns(f);
    } else if (t == typeid(analyzers::http::HttpRecord)) {
      const auto& h = static_cast<const analyzers::http::HttpRecord&>(r);
      report::HttpFields f;
      f.ts = ts;
      f.uid = h.uid;
      f.client = h.orig_h;
      f.server = h.resp_h;
      f.method = opt(h.method);
      f.host = opt(h.host);
      f.uri = opt(h.uri);
      f.user_agent = opt(h.user_agent);
      f.has_status = h.status_code.has_value();
      f.status = h.status_code.value_or(0);
      builder_.add_http(f);
    } else if (t == typeid(analyzers::AuthRecord)) {
      const auto& a = static_cast<const analyzers::AuthRecord&>(r);
      report::AuthFields f;
      f.ts = ts;
      f.client = a.client;
      f.server = a.server;
      f.server_port = a.server_port;
      f.proto = a.proto;
      f.method = a.method;
      f.user = a.user;
      f.outcome = analyzers::auth_outcome_name(a.outcome);
      builder_.add_auth(f);
    } else if (t == typeid(analyzers::ssl::SslRecord)) {
      const auto& s = static_cast<const analyzers::ssl::SslRecord&>(r);
      builder_.add_ssl(ts, opt(s.server_name), s.ja3);
    } else if (t == typeid(analyzers::ssh::SshRecord)) {
      const auto& s = static_cast<const analyzers::ssh::SshRecord&>(r);
      builder_.add_ssh(ts, opt(s.client), opt(s.server));
    } else if (t == typeid(analyzers::ftp::FtpRecord) || t == typeid(analyzers::imap::ImapRecord) ||
               t == typeid(analyzers::pop3::Pop3Record) || t == typeid(analyzers::rdp::RdpRecord) ||
               t == typeid(analyzers::smb::SmbRecord) || t == typeid(analyzers::smtp::SmtpRecord)) {
      builder_.add_other(r.log(), ts);  // their lines start with "ts" from r.ts
    } else {
      builder_.add(r.log(), json);  // a type this sink does not know: its line
    }
  }
  void on_arp(const output::ArpRecord& r, std::string_view) override { builder_.add_arp(r.sender_ip); }

  bool finish(const std::vector<detect::Finding>& findings, const RunInfo& run, std::string& error) override {
    std::vector<std::string> lines;
    lines.reserve(findings.size());
    for (const auto& f : findings) {
      std::string line;
      detect::append_finding_json(f, line);
      if (!line.empty() && line.back() == '\n') line.pop_back();
      lines.push_back(std::move(line));
    }
    report::RunMeta meta;
    meta.version = run.trawl_version;
    meta.command_line = run.command_line;
    if (run.started.ns > 0) meta.started = core::format_epoch_micros(run.started);
    for (const auto& in : run.inputs) meta.inputs.push_back(in.path);
    meta.source = "trawl analyze";
    std::string title = "Trawl report";
    if (run.inputs.size() == 1) title += ": " + std::filesystem::path(run.inputs[0].path).filename().string();
    std::string html = report::render_html(builder_.data_json(lines, meta), title);
    if (!report::write_file_atomic(path_, html, error)) {
      error = "report.html: " + error;
      return false;
    }
    return true;
  }

 private:
  // The name of a DNS code: made once for the common codes (below 256), not
  // for every record; other codes are named into `scratch`.
  using Names = std::array<std::string, 256>;
  static std::string_view name(Names& names, uint16_t code, std::string (*make)(uint16_t), std::string& scratch) {
    if (code >= names.size()) return scratch = make(code);
    std::string& n = names[code];
    if (n.empty()) n = make(code);
    return n;
  }

  std::string path_;
  std::string rcode_, qtype_;
  Names rcode_names_, qtype_names_;
  report::ReportBuilder builder_;
};

}  // namespace

std::unique_ptr<RecordSink> make_report_sink(const std::string& html_path, std::string& error) {
  std::error_code ec;
  auto dir = std::filesystem::path(html_path).parent_path();
  if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
    error = "no such folder: " + dir.string();
    return nullptr;
  }
  return std::make_unique<ReportSink>(html_path);
}

}  // namespace trawl::store
