// report.html: the embedded template with its stylesheet, script and data
// filled in. Everything is in the one file; the page's CSP forbids any fetch.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "output/json_line.h"
#include "report/assets.h"
#include "report/report_data.h"

namespace trawl::report {
namespace {

// HTML text for <title>: the title can hold a capture's file name.
std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

// Replaces the one marker `key` in `tmpl` by `value` (markers never occur in
// the values: each is replaced once, left to right).
void fill(std::string& out, std::string_view tmpl, std::string_view key, std::string_view value, size_t& pos) {
  size_t at = tmpl.find(key, pos);
  if (at == std::string_view::npos) return;
  out.append(tmpl.substr(pos, at - pos));
  out.append(value);
  pos = at + key.size();
}

}  // namespace

std::string render_html(std::string_view data_json, std::string_view title) {
  std::string tmpl, css, js;
  append_asset(Asset::kTemplate, tmpl);
  append_asset(Asset::kCss, css);
  append_asset(Asset::kJs, js);
  std::string data = escape_for_script(data_json);
  std::string out;
  out.reserve(tmpl.size() + css.size() + js.size() + data.size() + 256);
  size_t pos = 0;
  // The template holds the markers in this order (assets/template.html).
  fill(out, tmpl, "{{TITLE}}", html_escape(title), pos);
  fill(out, tmpl, "{{CSS}}", css, pos);
  fill(out, tmpl, "{{DATA}}", data, pos);
  fill(out, tmpl, "{{JS}}", js, pos);
  out.append(tmpl.substr(pos));
  return out;
}

bool write_file_atomic(const std::string& path, std::string_view text, std::string& error) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) {
      error = "cannot write " + tmp;
      return false;
    }
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    f.close();
    if (!f) {
      error = "cannot write " + tmp;
      std::remove(tmp.c_str());
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    error = "cannot rename " + tmp + " to " + path + ": " + ec.message();
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace trawl::report
