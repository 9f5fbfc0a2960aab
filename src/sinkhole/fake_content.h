// Built-in fake files the sinkhole serves over HTTP, chosen by the request
// path's extension: small but structurally valid (file(1) names each type),
// generated in code. The executables are minimal PE images whose entry point
// only returns: they never do anything.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace trawl::sinkhole {

enum class FakeKind : uint8_t {
  kHtml,  // also the default for unknown and missing extensions
  kExe,
  kDll,
  kPng,
  kJpg,
  kGif,
  kIco,
  kPdf,
  kTxt,
  kJs,
  kJson,
  kZip,
  kCss,
  kXml,
};

struct FakeFile {
  FakeKind kind;
  std::string_view name;          // "html", "exe" ... (for logs)
  std::string_view content_type;  // the Content-Type header value
  std::string_view body;          // valid for the life of the program
};

// The lower-cased extension of the last path segment of a request target
// ("/a/b.EXE?c=1#x" -> "exe"); empty when there is none. Absolute-form
// targets ("http://host/x.js") are handled.
std::string path_extension(std::string_view target);

// The fake file for an extension (lower-case, no dot): html/htm/php/asp/aspx/
// jsp, exe/scr/com/bin, dll/ocx/cpl/sys, png, jpg/jpeg, gif, ico, pdf, txt/log,
// js, json, zip, css, xml; anything else gets the HTML page.
const FakeFile& fake_file_for_extension(std::string_view extension);
const FakeFile& fake_file(FakeKind kind);

}  // namespace trawl::sinkhole
