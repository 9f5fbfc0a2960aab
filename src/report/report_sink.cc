// make_report_sink: report.html at the end of `trawl analyze`. The builder
// reads the JSON lines (not the typed records) so that `trawl report CASE`,
// which only has the lines, gives the same page.
#include <filesystem>

#include "report/report_data.h"
#include "store/sink.h"

namespace trawl::store {
namespace {

// Seconds as conn.jsonl writes them (rounded to the microsecond), so the page
// equals the one `trawl report` makes from the stored lines.
double micros(int64_t ns) {
  int64_t us = ns >= 0 ? (ns + 500) / 1000 : -((-ns + 500) / 1000);
  return static_cast<double>(us) / 1e6;
}

class ReportSink final : public RecordSink {
 public:
  explicit ReportSink(std::string path) : path_(std::move(path)) {}

  // The typed record: cheaper than scanning its line (the bulk of records).
  void on_conn(const flow::ConnRecord& r, std::string_view) override {
    orig_h_ = r.orig_h.to_string();
    resp_h_ = r.resp_h.to_string();
    report::ConnFields c;
    c.ts = micros(r.ts.ns);
    // As conn.jsonl: duration and bytes only when the duration is set.
    if (r.has_duration) {
      c.duration = micros(r.duration_ns);
      c.orig_bytes = r.orig_bytes;
      c.resp_bytes = r.resp_bytes;
    }
    c.uid = r.uid;
    c.orig_h = orig_h_;
    c.resp_h = resp_h_;
    c.proto = flow::proto_name(r.proto);
    c.service = r.service;
    c.state = flow::conn_state_name(r.conn_state);
    c.orig_p = r.orig_p;
    c.resp_p = r.resp_p;
    c.orig_pkts = r.orig_pkts;
    c.resp_pkts = r.resp_pkts;
    builder_.add_conn(c);
  }
  void on_record(const analyzers::Record& r, std::string_view json) override { builder_.add(r.log(), json); }
  void on_arp(const output::ArpRecord&, std::string_view json) override { builder_.add("arp", json); }

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
  std::string path_;
  std::string orig_h_, resp_h_;
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
