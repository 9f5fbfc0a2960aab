#include "sinkhole/fake_content.h"

#include <zlib.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace trawl::sinkhole {

namespace {

void le16(std::string& s, uint32_t v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>((v >> 8) & 0xff);
}
void le32(std::string& s, uint32_t v) {
  le16(s, v & 0xffff);
  le16(s, v >> 16);
}
void be32(std::string& s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>((v >> shift) & 0xff);
}
void bytes(std::string& s, std::initializer_list<uint8_t> b) {
  for (uint8_t x : b) s += static_cast<char>(x);
}
uint32_t crc(std::string_view data) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

std::string make_html() {
  return "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>Welcome</title>\n</head>\n"
         "<body>\n<h1>Welcome</h1>\n<p>It works.</p>\n</body>\n</html>\n";
}

// A minimal 32-bit PE image: headers, one .text section whose entry point
// returns at once (EXE: exit code 0; DLL: DllMain returns TRUE). No imports,
// no relocations, nothing else.
std::string make_pe(bool dll) {
  std::string s;
  // DOS header: "MZ", header size 4 paragraphs, e_lfanew = 0x80.
  s += "MZ";
  le16(s, 0x90);    // bytes on last page
  le16(s, 3);       // pages
  le16(s, 0);       // relocations
  le16(s, 4);       // header paragraphs
  le16(s, 0);       // min alloc
  le16(s, 0xffff);  // max alloc
  le16(s, 0);       // ss
  le16(s, 0xb8);    // sp
  le16(s, 0);       // checksum
  le16(s, 0);       // ip
  le16(s, 0);       // cs
  le16(s, 0x40);    // relocation table offset
  le16(s, 0);       // overlay
  s.resize(0x3c, '\0');
  le32(s, 0x80);
  // DOS stub: print the message at 0x0e and exit with code 1.
  bytes(s, {0x0e, 0x1f, 0xba, 0x0e, 0x00, 0xb4, 0x09, 0xcd, 0x21, 0xb8, 0x01, 0x4c, 0xcd, 0x21});
  s += "This program cannot be run in DOS mode.\r\r\n$";
  s.resize(0x80, '\0');
  // PE signature and COFF header.
  s += std::string("PE\0\0", 4);
  le16(s, 0x014c);  // i386
  le16(s, 1);       // sections
  le32(s, 0);       // time stamp (fixed: deterministic)
  le32(s, 0);
  le32(s, 0);
  le16(s, 0xe0);                       // optional header size
  le16(s, dll ? 0x2102 : 0x0103);      // executable, 32-bit (+DLL; EXE: relocs stripped)
  // Optional header (PE32).
  le16(s, 0x010b);
  s += static_cast<char>(14);  // linker version
  s += static_cast<char>(0);
  le32(s, 0x200);  // size of code
  le32(s, 0);      // initialised data
  le32(s, 0);      // uninitialised data
  le32(s, 0x1000);  // entry point RVA
  le32(s, 0x1000);  // base of code
  le32(s, 0x2000);  // base of data
  le32(s, dll ? 0x10000000 : 0x00400000);  // image base
  le32(s, 0x1000);  // section alignment
  le32(s, 0x200);   // file alignment
  le16(s, 6);       // OS version
  le16(s, 0);
  le16(s, 0);  // image version
  le16(s, 0);
  le16(s, 6);  // subsystem version
  le16(s, 0);
  le32(s, 0);       // win32 version
  le32(s, 0x2000);  // size of image
  le32(s, 0x200);   // size of headers
  le32(s, 0);       // checksum
  le16(s, 2);       // subsystem: Windows GUI (no console window)
  le16(s, 0x0100);  // NX compatible
  le32(s, 0x100000);
  le32(s, 0x1000);
  le32(s, 0x100000);
  le32(s, 0x1000);
  le32(s, 0);   // loader flags
  le32(s, 16);  // data directories, all empty
  s.append(16 * 8, '\0');
  // Section header.
  s += std::string(".text\0\0\0", 8);
  le32(s, 0x10);        // virtual size
  le32(s, 0x1000);      // RVA
  le32(s, 0x200);       // raw size
  le32(s, 0x200);       // raw offset
  le32(s, 0);
  le32(s, 0);
  le16(s, 0);
  le16(s, 0);
  le32(s, 0x60000020);  // code, execute, read
  s.resize(0x200, '\0');
  if (dll) {
    bytes(s, {0xb8, 0x01, 0x00, 0x00, 0x00, 0xc2, 0x0c, 0x00});  // mov eax, 1; ret 12
  } else {
    bytes(s, {0x31, 0xc0, 0xc3});  // xor eax, eax; ret
  }
  s.resize(0x400, '\0');
  return s;
}

void png_chunk(std::string& s, std::string_view type, std::string_view data) {
  be32(s, static_cast<uint32_t>(data.size()));
  std::string body(type);
  body += data;
  s += body;
  be32(s, crc(body));
}

// 1x1 RGB PNG.
std::string make_png() {
  std::string s = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  be32(ihdr, 1);
  be32(ihdr, 1);
  bytes(ihdr, {8, 2, 0, 0, 0});  // 8 bits, RGB, deflate, no filter, no interlace
  png_chunk(s, "IHDR", ihdr);
  const std::array<Bytef, 4> raw = {0, 0xf0, 0xf0, 0xf0};  // filter byte + one pixel
  std::array<Bytef, 64> z{};
  uLongf zlen = z.size();
  compress2(z.data(), &zlen, raw.data(), raw.size(), 9);
  png_chunk(s, "IDAT", std::string_view(reinterpret_cast<const char*>(z.data()), zlen));
  png_chunk(s, "IEND", "");
  return s;
}

// 8x8 grey baseline JPEG: one block whose DC and AC Huffman tables hold a
// single 1-bit code each (DC difference 0, then end of block).
std::string make_jpg() {
  std::string s;
  bytes(s, {0xff, 0xd8});
  bytes(s, {0xff, 0xe0, 0x00, 0x10});
  s += std::string("JFIF\0", 5);
  bytes(s, {1, 1, 0, 0, 1, 0, 1, 0, 0});
  bytes(s, {0xff, 0xdb, 0x00, 0x43, 0x00});
  s.append(64, '\x01');
  bytes(s, {0xff, 0xc0, 0x00, 0x0b, 8, 0x00, 0x08, 0x00, 0x08, 1, 1, 0x11, 0});
  for (uint8_t table : {uint8_t{0x00}, uint8_t{0x10}}) {
    bytes(s, {0xff, 0xc4, 0x00, 0x14, table, 1});
    s.append(15, '\0');
    s += '\0';  // the one symbol: DC category 0 / AC end of block
  }
  bytes(s, {0xff, 0xda, 0x00, 0x08, 1, 1, 0x00, 0, 63, 0});
  bytes(s, {0x3f});  // "0" "0" then padding ones
  bytes(s, {0xff, 0xd9});
  return s;
}

// 1x1 transparent GIF89a.
std::string make_gif() {
  std::string s = "GIF89a";
  le16(s, 1);
  le16(s, 1);
  bytes(s, {0x80, 0, 0});                    // global colour table of 2 entries
  bytes(s, {0xff, 0xff, 0xff, 0, 0, 0});     // white, black
  bytes(s, {0x21, 0xf9, 4, 1, 0, 0, 0, 0});  // graphic control: index 0 transparent
  bytes(s, {0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0});
  bytes(s, {2, 2, 0x44, 0x01, 0});  // LZW: clear, 0, end
  s += ';';
  return s;
}

// 16x16 32-bit icon (BMP form).
std::string make_ico() {
  constexpr uint32_t kPixels = 16 * 16 * 4;
  constexpr uint32_t kMask = 16 * 4;
  constexpr uint32_t kImage = 40 + kPixels + kMask;
  std::string s;
  le16(s, 0);
  le16(s, 1);  // icon
  le16(s, 1);  // one image
  bytes(s, {16, 16, 0, 0});
  le16(s, 1);   // planes
  le16(s, 32);  // bits per pixel
  le32(s, kImage);
  le32(s, 22);
  le32(s, 40);
  le32(s, 16);
  le32(s, 32);  // XOR and AND masks
  le16(s, 1);
  le16(s, 32);
  le32(s, 0);
  le32(s, kPixels + kMask);
  le32(s, 0);
  le32(s, 0);
  le32(s, 0);
  le32(s, 0);
  for (uint32_t i = 0; i < 16 * 16; ++i) bytes(s, {0xc0, 0x80, 0x20, 0xff});
  s.append(kMask, '\0');
  return s;
}

// One-page PDF 1.4 with a correct cross-reference table.
std::string make_pdf() {
  const std::string content = "BT /F1 24 Tf 72 720 Td (Document) Tj ET";
  const std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
      "/Resources << /Font << /F1 5 0 R >> >> >>",
      "<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "\nendstream",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  };
  std::string s = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(s.size());
    s += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const size_t xref = s.size();
  s += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    std::string n = std::to_string(off);
    s += std::string(10 - n.size(), '0') + n + " 00000 n \n";
  }
  s += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
       std::to_string(xref) + "\n%%EOF\n";
  return s;
}

// A ZIP archive holding one stored text file.
std::string make_zip() {
  const std::string name = "readme.txt";
  const std::string data = "This archive is intentionally empty of anything useful.\n";
  const uint32_t c = crc(data);
  const auto size = static_cast<uint32_t>(data.size());
  const auto name_len = static_cast<uint32_t>(name.size());
  std::string s;
  le32(s, 0x04034b50);
  le16(s, 20);
  le16(s, 0);
  le16(s, 0);       // stored
  le16(s, 0);       // time 00:00
  le16(s, 0x0021);  // date 1980-01-01
  le32(s, c);
  le32(s, size);
  le32(s, size);
  le16(s, name_len);
  le16(s, 0);
  s += name;
  s += data;
  const auto cd = static_cast<uint32_t>(s.size());
  le32(s, 0x02014b50);
  le16(s, 20);
  le16(s, 20);
  le16(s, 0);
  le16(s, 0);
  le16(s, 0);
  le16(s, 0x0021);
  le32(s, c);
  le32(s, size);
  le32(s, size);
  le16(s, name_len);
  le16(s, 0);
  le16(s, 0);
  le16(s, 0);
  le16(s, 0);
  le32(s, 0);
  le32(s, 0);  // local header at 0
  s += name;
  const auto cd_size = static_cast<uint32_t>(s.size()) - cd;
  le32(s, 0x06054b50);
  le16(s, 0);
  le16(s, 0);
  le16(s, 1);
  le16(s, 1);
  le32(s, cd_size);
  le32(s, cd);
  le16(s, 0);
  return s;
}

struct Table {
  std::array<std::string, 14> bodies;
  std::array<FakeFile, 14> files;
  Table() {
    struct Def {
      FakeKind kind;
      std::string_view name;
      std::string_view type;
      std::string body;
    };
    const Def defs[] = {
        {FakeKind::kHtml, "html", "text/html; charset=utf-8", make_html()},
        {FakeKind::kExe, "exe", "application/x-msdownload", make_pe(false)},
        {FakeKind::kDll, "dll", "application/x-msdownload", make_pe(true)},
        {FakeKind::kPng, "png", "image/png", make_png()},
        {FakeKind::kJpg, "jpg", "image/jpeg", make_jpg()},
        {FakeKind::kGif, "gif", "image/gif", make_gif()},
        {FakeKind::kIco, "ico", "image/x-icon", make_ico()},
        {FakeKind::kPdf, "pdf", "application/pdf", make_pdf()},
        {FakeKind::kTxt, "txt", "text/plain; charset=utf-8", "This is a text file.\n"},
        {FakeKind::kJs, "js", "application/javascript",
         "// script\n(function () {\n  \"use strict\";\n  var loaded = true;\n})();\n"},
        {FakeKind::kJson, "json", "application/json", "{\"status\": \"ok\", \"result\": []}\n"},
        {FakeKind::kZip, "zip", "application/zip", make_zip()},
        {FakeKind::kCss, "css", "text/css", "body {\n  margin: 0;\n  font-family: sans-serif;\n}\n"},
        {FakeKind::kXml, "xml", "application/xml",
         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n  <status>ok</status>\n</response>\n"},
    };
    for (const Def& d : defs) {
      const auto i = static_cast<size_t>(d.kind);
      bodies[i] = d.body;
      files[i] = {d.kind, d.name, d.type, {}};
    }
    for (size_t i = 0; i < files.size(); ++i) files[i].body = bodies[i];
  }
};

const Table& table() {
  static const Table t;
  return t;
}

}  // namespace

std::string path_extension(std::string_view target) {
  // Absolute form: drop "scheme://authority".
  const size_t scheme = target.find("://");
  if (scheme != std::string_view::npos && target.substr(0, scheme).find('/') == std::string_view::npos) {
    const size_t path = target.find('/', scheme + 3);
    target = path == std::string_view::npos ? std::string_view{} : target.substr(path);
  }
  target = target.substr(0, target.find_first_of("?#"));
  const size_t slash = target.rfind('/');
  if (slash != std::string_view::npos) target.remove_prefix(slash + 1);
  const size_t dot = target.rfind('.');
  if (dot == std::string_view::npos) return {};
  std::string ext(target.substr(dot + 1));
  for (char& c : ext) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return ext;
}

const FakeFile& fake_file(FakeKind kind) { return table().files[static_cast<size_t>(kind)]; }

const FakeFile& fake_file_for_extension(std::string_view ext) {
  struct Alias {
    std::string_view ext;
    FakeKind kind;
  };
  static constexpr Alias kAliases[] = {
      {"html", FakeKind::kHtml}, {"htm", FakeKind::kHtml}, {"php", FakeKind::kHtml},  {"asp", FakeKind::kHtml},
      {"aspx", FakeKind::kHtml}, {"jsp", FakeKind::kHtml}, {"exe", FakeKind::kExe},   {"scr", FakeKind::kExe},
      {"com", FakeKind::kExe},   {"bin", FakeKind::kExe},  {"dll", FakeKind::kDll},   {"ocx", FakeKind::kDll},
      {"cpl", FakeKind::kDll},   {"sys", FakeKind::kDll},  {"png", FakeKind::kPng},   {"jpg", FakeKind::kJpg},
      {"jpeg", FakeKind::kJpg},  {"gif", FakeKind::kGif},  {"ico", FakeKind::kIco},   {"pdf", FakeKind::kPdf},
      {"txt", FakeKind::kTxt},   {"log", FakeKind::kTxt},  {"js", FakeKind::kJs},     {"json", FakeKind::kJson},
      {"zip", FakeKind::kZip},   {"css", FakeKind::kCss},  {"xml", FakeKind::kXml},
  };
  for (const Alias& a : kAliases) {
    if (a.ext == ext) return fake_file(a.kind);
  }
  return fake_file(FakeKind::kHtml);
}

}  // namespace trawl::sinkhole
