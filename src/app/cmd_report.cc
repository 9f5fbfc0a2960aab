// `trawl report CASE [-o FILE]`: rebuilds report.html from a case (its folder,
// its case.db or clickhouse://...) through the same builder `trawl analyze`
// uses, reading only the stored JSON lines.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "app/cli.h"
#include "report/report_data.h"
#include "store/sink.h"

namespace trawl::app {
namespace {

constexpr const char* kUsage =
    "usage: trawl report CASE [-o FILE]\n"
    "  CASE     a case folder, its case.db, or clickhouse://HOST:PORT/DB\n"
    "  -o FILE  where to write (default: report.html in the case folder;\n"
    "           required for clickhouse://)\n";

}  // namespace

int cmd_report(const std::vector<std::string>& argv) {
  std::string from, out;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "-o" || a == "--output") {
      if (i + 1 >= argv.size()) {
        std::fprintf(stderr, "trawl report: %s needs a file\n%s", a.c_str(), kUsage);
        return 2;
      }
      out = argv[++i];
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "trawl report: unknown option %s\n%s", a.c_str(), kUsage);
      return 2;
    } else if (from.empty()) {
      from = a;
    } else {
      std::fprintf(stderr, "trawl report: one case only (got %s and %s)\n", from.c_str(), a.c_str());
      return 2;
    }
  }
  if (from.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  bool remote = from.rfind("clickhouse://", 0) == 0;
  if (out.empty()) {
    if (remote) {
      std::fprintf(stderr, "trawl report: -o FILE is needed with %s\n", from.c_str());
      return 2;
    }
    std::error_code ec;
    std::filesystem::path p(from);
    out = (std::filesystem::is_directory(p, ec) ? p : p.parent_path()) / "report.html";
  }

  std::string err;
  auto source = store::open_source(from, err);
  if (!source) {
    std::fprintf(stderr, "trawl report: %s: %s\n", from.c_str(), err.c_str());
    return 2;
  }
  report::ReportBuilder builder;
  if (!source->for_each([&](std::string_view log, std::string_view json) { builder.add(log, json); }, err)) {
    std::fprintf(stderr, "trawl report: reading %s: %s\n", from.c_str(), err.c_str());
    return 2;
  }
  std::vector<std::string> findings;
  if (!source->findings(findings, err)) {
    std::fprintf(stderr, "trawl report: reading findings of %s: %s\n", from.c_str(), err.c_str());
    return 2;
  }
  report::RunMeta meta;
  meta.version = kVersion;
  meta.source = "trawl report " + from;
  std::vector<store::InputInfo> inputs;
  if (source->inputs(inputs, err)) {
    for (const auto& in : inputs) meta.inputs.push_back(in.path);
  } else {
    std::fprintf(stderr, "trawl report: %s: capture list: %s (left out)\n", from.c_str(), err.c_str());
  }
  std::string title = "Trawl report";
  if (meta.inputs.size() == 1) title += ": " + std::filesystem::path(meta.inputs[0]).filename().string();
  std::string html = report::render_html(builder.data_json(findings, meta), title);
  if (!report::write_file_atomic(out, html, err)) {
    std::fprintf(stderr, "trawl report: %s\n", err.c_str());
    return 2;
  }
  if (builder.bad_lines())
    std::fprintf(stderr, "trawl report: %llu unreadable records skipped\n",
                 static_cast<unsigned long long>(builder.bad_lines()));
  std::fprintf(stderr, "trawl report: wrote %s (%zu findings)\n", out.c_str(), findings.size());
  return 0;
}

}  // namespace trawl::app
