// trawl flows / talkers / hosts: the old scripts' outputs, from conn records.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "app/aggregates.h"
#include "app/cli.h"
#include "output/json_line.h"

namespace trawl::app {

namespace {

// Writes rows in TSV, CSV, JSON Lines or an aligned table, to stdout.
class RowWriter {
 public:
  RowWriter(Format format, std::vector<std::string> columns) : format_(format), columns_(std::move(columns)) {}

  void header() {
    if (format_ == Format::kJson) return;
    std::vector<std::string> names = columns_;
    row(names, std::vector<bool>(names.size(), false), true);
  }
  // numeric[i]: value i is a number (unquoted in JSON).
  void row(const std::vector<std::string>& values, const std::vector<bool>& numeric, bool is_header = false) {
    line_.clear();
    switch (format_) {
      case Format::kJson: {
        output::JsonLine j(line_);
        for (size_t i = 0; i < values.size(); ++i) {
          if (numeric[i]) j.raw(columns_[i], values[i]);
          else j.str(columns_[i], values[i]);
        }
        j.end();
        break;
      }
      case Format::kCsv:
        for (size_t i = 0; i < values.size(); ++i) {
          if (i) line_ += ',';
          csv_field(values[i]);
        }
        line_ += '\n';
        break;
      case Format::kTsv:
        for (size_t i = 0; i < values.size(); ++i) {
          if (i) line_ += '\t';
          line_ += values[i];
        }
        line_ += '\n';
        break;
      case Format::kTable:
        for (size_t i = 0; i < values.size(); ++i) {
          size_t width = i < kWidths.size() ? kWidths[i] : 12;
          std::string v = values[i];
          if (v.size() < width) v.insert(is_header || !numeric[i] ? v.size() : 0, width - v.size(), ' ');
          if (i) line_ += "  ";
          line_ += v;
        }
        while (!line_.empty() && line_.back() == ' ') line_.pop_back();
        line_ += '\n';
        break;
    }
    std::fwrite(line_.data(), 1, line_.size(), stdout);
  }
  std::vector<size_t> kWidths;

 private:
  void csv_field(const std::string& v) {
    if (v.find_first_of(",\"\n") == std::string::npos) {
      line_ += v;
      return;
    }
    line_ += '"';
    for (char c : v) {
      if (c == '"') line_ += '"';
      line_ += c;
    }
    line_ += '"';
  }
  Format format_;
  std::vector<std::string> columns_;
  std::string line_;
};

std::string u(uint64_t v) { return std::to_string(v); }

int finish(const RunStats& stats) {
  int status = report_input_errors(stats);
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "trawl: writing the output failed: %s\n", std::strerror(errno));
    return 3;
  }
  return status;
}

}  // namespace

int cmd_flows(const Args& args) {
  Format format = args.format.value_or(Format::kTsv);
  RowWriter w(format, {"ts", "src", "sport", "dst", "dport", "proto"});
  w.kWidths = {17, 39, 5, 39, 5, 5};
  w.header();
  const std::vector<bool> numeric = {true, false, true, false, true, false};
  Engine engine(args.engine);
  engine.on_conn = [&](const flow::ConnRecord& r) {
    w.row({core::format_epoch_micros(r.ts), r.orig_h.to_string(), u(r.orig_p), r.resp_h.to_string(), u(r.resp_p),
           flow::proto_name(r.proto)},
          numeric);
  };
  RunStats stats;
  engine.run(args.inputs, stats);
  return finish(stats);
}

int cmd_talkers(const Args& args) {
  Talkers talkers;
  Engine engine(args.engine);
  engine.on_conn = [&](const flow::ConnRecord& r) { talkers.add(r); };
  RunStats stats;
  engine.run(args.inputs, stats);
  Format format = args.format.value_or(Format::kTable);
  RowWriter w(format, {"host_a", "host_b", "bytes", "bytes_a_to_b", "bytes_b_to_a", "packets", "connections"});
  w.kWidths = {39, 39, 12, 12, 12, 10, 11};
  w.header();
  const std::vector<bool> numeric = {false, false, true, true, true, true, true};
  for (const auto& t : talkers.top(args.top)) {
    w.row({t.a.to_string(), t.b.to_string(), u(t.bytes()), u(t.bytes_a_to_b), u(t.bytes_b_to_a), u(t.packets),
           u(t.connections)},
          numeric);
  }
  return finish(stats);
}

int cmd_hosts(const Args& args) {
  Hosts hosts(args.home_net);
  Engine engine(args.engine);
  engine.on_conn = [&](const flow::ConnRecord& r) { hosts.add(r); };
  RunStats stats;
  engine.run(args.inputs, stats);
  Format format = args.format.value_or(Format::kTable);
  RowWriter w(format, {"ip", "location", "pkts_sent", "bytes_sent", "pkts_recv", "bytes_recv", "conns_orig",
                       "conns_resp", "first_seen", "last_seen"});
  w.kWidths = {39, 8, 10, 12, 10, 12, 10, 10, 17, 17};
  w.header();
  const std::vector<bool> numeric = {false, false, true, true, true, true, true, true, true, true};
  for (const auto& h : hosts.rows()) {
    w.row({h.ip.to_string(), h.internal ? "internal" : "external", u(h.pkts_sent), u(h.bytes_sent), u(h.pkts_recv),
           u(h.bytes_recv), u(h.conns_orig), u(h.conns_resp), core::format_epoch_micros(h.first),
           core::format_epoch_micros(h.last)},
          numeric);
  }
  return finish(stats);
}

}  // namespace trawl::app
