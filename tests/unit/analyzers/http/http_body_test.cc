// Tests for the HTTP body helpers: decoded lengths through gzip/deflate in any
// split (with the cap and corrupt data), form field names, percent decoding
// and the password-input scanner.
#include "analyzers/http/http_body.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trawl::analyzers::http {
namespace {

core::ByteView bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// window_bits: 31 gzip, 15 zlib, -15 raw deflate.
std::string compress(std::string_view plain, int window_bits) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(plain.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string page(size_t n) {
  std::string s;
  while (s.size() < n) s += "<p>The quick brown fox jumps over the lazy dog " + std::to_string(s.size()) + "</p>\n";
  s.resize(n);
  return s;
}

struct Collect final : BodyDecoder::Sink {
  std::string out;
  void decoded(core::ByteView d) override { out.append(core::as_chars(d)); }
};

TEST(HttpContentCoding, Values) {
  EXPECT_EQ(content_coding("gzip"), ContentCoding::kGzip);
  EXPECT_EQ(content_coding(" X-GZIP "), ContentCoding::kGzip);
  EXPECT_EQ(content_coding("deflate"), ContentCoding::kDeflate);
  EXPECT_EQ(content_coding(""), ContentCoding::kIdentity);
  EXPECT_EQ(content_coding("identity"), ContentCoding::kIdentity);
  EXPECT_EQ(content_coding("br"), ContentCoding::kOther);
  EXPECT_EQ(content_coding("gzip, br"), ContentCoding::kOther);
}

TEST(HttpContentType, MediaTypeAndParams) {
  EXPECT_EQ(media_type("Text/HTML; charset=UTF-8"), "text/html");
  EXPECT_EQ(media_type("application/json"), "application/json");
  EXPECT_EQ(media_type(" ; x=y"), "");
  EXPECT_EQ(content_type_param("multipart/form-data; boundary=----abc", "boundary"), "----abc");
  EXPECT_EQ(content_type_param("multipart/form-data; Boundary=\"a b\"; x=1", "boundary"), "a b");
  EXPECT_EQ(content_type_param("form-data; filename=\"f.txt\"; name=\"up\"", "name"), "up");
  EXPECT_EQ(content_type_param("text/plain", "charset"), "");
}

TEST(HttpBodyDecoder, IdentityCountsAndPassesThrough) {
  core::Anomalies an;
  BodyDecoder d;
  Collect c;
  d.start(ContentCoding::kIdentity);
  d.feed(bytes("hello "), &c, an);
  d.gap(10);
  d.feed(bytes("world"), &c, an);
  EXPECT_EQ(d.length(), 21u);
  EXPECT_EQ(c.out, "hello world");
  d.start(ContentCoding::kOther);  // "br": counted as sent
  d.feed(bytes("xyz"), nullptr, an);
  EXPECT_EQ(d.length(), 3u);
}

TEST(HttpBodyDecoder, GzipZlibAndRawDeflateInEverySplit) {
  const std::string plain = page(50000);
  const struct {
    ContentCoding coding;
    int bits;
  } cases[] = {{ContentCoding::kGzip, 31}, {ContentCoding::kGzip, 15}, {ContentCoding::kDeflate, 15},
               {ContentCoding::kDeflate, -15}};
  for (const auto& k : cases) {
    const std::string z = compress(plain, k.bits);
    ASSERT_LT(z.size(), plain.size() / 4);
    for (size_t piece : {size_t{1}, size_t{2}, size_t{7}, size_t{1000}, z.size()}) {
      core::Anomalies an;
      BodyDecoder d;
      Collect c;
      d.start(k.coding);
      for (size_t at = 0; at < z.size(); at += piece) d.feed(bytes(std::string_view(z).substr(at, piece)), &c, an);
      EXPECT_EQ(d.length(), plain.size()) << "bits " << k.bits << " piece " << piece;
      EXPECT_EQ(c.out, plain);
      EXPECT_EQ(an.total(), 0u);
    }
  }
}

TEST(HttpBodyDecoder, DecoderIsReusedAcrossBodies) {
  core::Anomalies an;
  BodyDecoder d;
  for (int i = 1; i <= 3; ++i) {
    const std::string plain = page(static_cast<size_t>(i) * 1000);
    const std::string z = compress(plain, i == 2 ? -15 : 31);
    d.start(i == 2 ? ContentCoding::kDeflate : ContentCoding::kGzip);
    d.feed(bytes(z), nullptr, an);
    EXPECT_EQ(d.length(), plain.size());
  }
  EXPECT_EQ(an.total(), 0u);
}

TEST(HttpBodyDecoder, ConcatenatedGzipMembersAndPadding) {
  core::Anomalies an;
  BodyDecoder d;
  d.start(ContentCoding::kGzip);
  const std::string two = compress("first part ", 31) + compress("second part", 31);
  d.feed(bytes(two), nullptr, an);
  EXPECT_EQ(d.length(), 22u);
  d.feed(bytes(std::string(16, '\0')), nullptr, an);  // padding after the last member
  EXPECT_EQ(d.length(), 22u);
  EXPECT_EQ(an.total(), 0u);
}

TEST(HttpBodyDecoder, CapStopsCounting) {
  core::Anomalies an;
  BodyDecoder d(100000);
  const std::string bomb = compress(std::string(5000000, 'A'), 31);
  ASSERT_LT(bomb.size(), 10000u);
  d.start(ContentCoding::kGzip);
  d.feed(bytes(bomb), nullptr, an);
  EXPECT_EQ(d.length(), 100000u);
  EXPECT_EQ(an.count(kAnomDecompressedTooLarge), 1u);
  d.feed(bytes(bomb), nullptr, an);  // nothing more is inflated
  EXPECT_EQ(d.length(), 100000u);
  EXPECT_EQ(an.count(kAnomDecompressedTooLarge), 1u);
}

TEST(HttpBodyDecoder, CorruptDataStopsDecoding) {
  core::Anomalies an;
  BodyDecoder d;
  std::string z = compress(page(20000), 31);
  d.start(ContentCoding::kGzip);
  d.feed(bytes("this is not gzip at all"), nullptr, an);
  EXPECT_EQ(an.count(kAnomBadCompressedBody), 1u);
  EXPECT_EQ(d.length(), 0u);

  // Damage in the middle: what was inflated before it stays counted.
  for (size_t i = 300; i < 400 && i < z.size(); ++i) z[i] = static_cast<char>(z[i] ^ 0x5a);
  core::Anomalies an2;
  d.start(ContentCoding::kGzip);
  d.feed(bytes(z), nullptr, an2);
  EXPECT_EQ(an2.count(kAnomBadCompressedBody), 1u);

  // A hole in a compressed body ends the decoding quietly.
  core::Anomalies an3;
  const std::string whole = compress(page(20000), 31);
  d.start(ContentCoding::kGzip);
  d.feed(bytes(std::string_view(whole).substr(0, 100)), nullptr, an3);
  const uint64_t before = d.length();
  d.gap(50);
  d.feed(bytes(std::string_view(whole).substr(150)), nullptr, an3);
  EXPECT_EQ(d.length(), before);
  EXPECT_EQ(an3.total(), 0u);
}

TEST(HttpPercentDecode, ZeekRules) {
  EXPECT_EQ(percent_decode("/a%20b%2Fc"), "/a b/c");
  EXPECT_EQ(percent_decode("/100%"), "/100%");
  EXPECT_EQ(percent_decode("/%zz%4"), "/%zz%4");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b%2B", true), "a b+");
  EXPECT_EQ(percent_decode("%00%ff"), std::string("\0\xff", 2));
}

TEST(HttpForm, Kinds) {
  EXPECT_EQ(form_kind("application/x-www-form-urlencoded; charset=UTF-8"), FormKind::kUrlEncoded);
  EXPECT_EQ(form_kind("multipart/form-data; boundary=x"), FormKind::kMultipart);
  EXPECT_EQ(form_kind("application/json"), FormKind::kNone);
}

TEST(HttpForm, UrlEncodedNamesAndValues) {
  std::vector<FormField> f;
  const std::string body = "log=admin&pwd=s%3Ecret+1&&wp-submit=Log+In&redirect_to=&flag\r\n";
  ASSERT_TRUE(parse_form(FormKind::kUrlEncoded, "", body, f));
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[0].name, "log");
  EXPECT_EQ(form_value(FormKind::kUrlEncoded, f[0]), "admin");
  EXPECT_EQ(form_value(FormKind::kUrlEncoded, f[1]), "s>cret 1");
  EXPECT_EQ(f[2].name, "wp-submit");
  EXPECT_EQ(f[3].name, "redirect_to");
  EXPECT_EQ(f[4].name, "flag");
  EXPECT_EQ(form_value(FormKind::kUrlEncoded, f[4]), "");

  FormLimits limits;
  limits.max_fields = 2;
  limits.max_name = 4;
  f.clear();
  EXPECT_FALSE(parse_form(FormKind::kUrlEncoded, "", "a=1&b=2&c=3", f, limits));
  EXPECT_EQ(f.size(), 2u);
  f.clear();
  ASSERT_TRUE(parse_form(FormKind::kUrlEncoded, "", "abcdefgh=1", f, limits));
  EXPECT_EQ(f[0].name, "abcd");
}

TEST(HttpForm, Multipart) {
  const std::string ct = "multipart/form-data; boundary=----WebKitFormBoundaryX";
  const std::string body =
      "------WebKitFormBoundaryX\r\n"
      "Content-Disposition: form-data; name=\"username\"\r\n\r\n"
      "alice\r\n"
      "------WebKitFormBoundaryX\r\n"
      "Content-Disposition: form-data; name=\"password\"\r\n\r\n"
      "hunter2\r\n"
      "------WebKitFormBoundaryX\r\n"
      "Content-Disposition: form-data; name=\"upload\"; filename=\"a.txt\"\r\n"
      "Content-Type: text/plain\r\n\r\n"
      "file\r\ncontent\r\n"
      "------WebKitFormBoundaryX--\r\n";
  std::vector<FormField> f;
  ASSERT_TRUE(parse_form(FormKind::kMultipart, ct, body, f));
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].name, "username");
  EXPECT_EQ(form_value(FormKind::kMultipart, f[0]), "alice");
  EXPECT_EQ(form_value(FormKind::kMultipart, f[1]), "hunter2");
  EXPECT_EQ(f[2].name, "upload");
  EXPECT_EQ(f[2].raw_value, "file\r\ncontent");

  // Cut short inside the last part: the names before it are still there.
  f.clear();
  ASSERT_TRUE(parse_form(FormKind::kMultipart, ct, body.substr(0, body.find("hunter2") + 3), f));
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1].name, "password");
  // No boundary parameter: nothing.
  f.clear();
  ASSERT_TRUE(parse_form(FormKind::kMultipart, "multipart/form-data", body, f));
  EXPECT_TRUE(f.empty());
}

TEST(HttpPasswordInput, FoundInAnyCaseAndAcrossPieces) {
  const std::string html = "<form><input name=pwd TYPE = \"Password\" id=x></form>";
  for (size_t cut = 0; cut <= html.size(); ++cut) {
    PasswordInputScanner s;
    s.feed(bytes(std::string_view(html).substr(0, cut)));
    s.feed(bytes(std::string_view(html).substr(cut)));
    EXPECT_TRUE(s.found()) << cut;
  }
  PasswordInputScanner tiny;
  for (char c : std::string("<input type=password>")) tiny.feed(bytes(std::string_view(&c, 1)));
  EXPECT_TRUE(tiny.found());

  PasswordInputScanner none;
  none.feed(bytes("<p>Forgot your password? type your email</p><input type='text'>"));
  EXPECT_FALSE(none.found());

  PasswordInputScanner limited(100);
  limited.feed(bytes(std::string(200, ' ') + "<input type='password'>"));
  EXPECT_FALSE(limited.found());
}

}  // namespace
}  // namespace trawl::analyzers::http
