// Tests for the streaming MIME walker: top-level headers (unfolding, limits),
// multipart walking (nested, boundary prefixes, closing, depth and part
// limits), decoded attachment sizes for base64, quoted-printable and identity
// parts computed from the payloads the test encodes, feeding in arbitrary
// pieces, and the encoded-word and parameter helpers.
#include "analyzers/smtp/mime.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "analyzers/smtp/smtp_test_util.h"

namespace trawl::analyzers::smtp {
namespace {

using test_util::b64;
using test_util::binary_payload;
using test_util::qp;
using test_util::text_payload;

struct Parsed {
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<MimeAttachment> attachments;
  size_t entities = 0;
  core::Anomalies anomalies;
};

// Feeds `msg` in pieces of `step` bytes (0: whole).
void parse_into(Parsed& p, std::string_view msg, size_t step = 0, MimeLimits limits = {}) {
  MimeParser m(p.anomalies, limits);
  m.set_header_handler([&](std::string_view n, std::string_view v) { p.headers.emplace_back(n, v); });
  m.begin();
  if (step == 0) {
    m.feed(msg);
  } else {
    for (size_t i = 0; i < msg.size(); i += step) m.feed(msg.substr(i, step));
  }
  m.end();
  p.attachments = m.attachments();
  p.entities = m.entities();
}

// multipart/mixed: a text part, an alternative (plain + html), and
// attachments: base64 binary, quoted-printable text, identity text.
struct Sample {
  std::string bin = binary_payload(5000);
  std::string txt = text_payload(120);
  std::string plain = "Just some words.\r\nSecond line.";
  std::string msg;

  Sample() {
    msg = "From: \"Alice\" <alice@example.com>\r\n"
          "To: bob@example.org,\r\n carol@example.net\r\n"
          "Subject: =?utf-8?B?" + b64("Grüße", 0) + "?=\r\n"
          "MIME-Version: 1.0\r\n"
          "Content-Type: multipart/mixed;\r\n\tboundary=\"outer\"\r\n"
          "\r\n"
          "preamble, ignored\r\n"
          "--outer\r\n"
          "Content-Type: multipart/alternative; boundary=outer-alt\r\n"
          "\r\n"
          "--outer-alt\r\n"
          "Content-Type: text/plain\r\n"
          "\r\n"
          "hello\r\n"
          "--outer-alt\r\n"
          "Content-Type: text/html\r\n"
          "\r\n"
          "<p>hello</p>\r\n"
          "--outer-alt--\r\n"
          "\r\n"
          "--outer\r\n"
          "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
          "Content-Transfer-Encoding: base64\r\n"
          "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
          "\r\n" + b64(bin) + "\r\n"
          "--outer\r\n"
          "Content-Type: text/plain; charset=utf-8\r\n"
          "Content-Transfer-Encoding: quoted-printable\r\n"
          "Content-Disposition: attachment;\r\n filename*=utf-8''r%C3%A9sum%C3%A9.txt\r\n"
          "\r\n" + qp(txt) + "\r\n"
          "--outer\r\n"
          "Content-Type: text/plain; name=notes.txt\r\n"
          "\r\n" + plain + "\r\n"
          "--outer--\r\n"
          "epilogue\r\n";
  }
};

TEST(MimeParser, TopLevelHeadersUnfoldedAndPartsMeasured) {
  Sample s;
  Parsed p;
  parse_into(p, s.msg);
  ASSERT_GE(p.headers.size(), 5u);
  EXPECT_EQ(p.headers[0].first, "From");
  EXPECT_EQ(p.headers[0].second, "\"Alice\" <alice@example.com>");
  EXPECT_EQ(p.headers[1].second, "bob@example.org, carol@example.net");  // CRLF removed, WSP kept
  EXPECT_EQ(p.headers[4].second, "multipart/mixed;\tboundary=\"outer\"");
  // Only the message's own headers reach the handler, not the parts'.
  for (const auto& h : p.headers) EXPECT_NE(h.first, "Content-Transfer-Encoding");

  ASSERT_EQ(p.attachments.size(), 3u);
  EXPECT_EQ(p.attachments[0].name, "data.bin");
  EXPECT_EQ(p.attachments[0].mime_type, "application/octet-stream");
  EXPECT_EQ(p.attachments[0].size, s.bin.size());
  EXPECT_EQ(p.attachments[1].name, "r\xc3\xa9sum\xc3\xa9.txt");
  EXPECT_EQ(p.attachments[1].mime_type, "text/plain");
  EXPECT_EQ(p.attachments[1].size, s.txt.size());
  EXPECT_EQ(p.attachments[2].name, "notes.txt");
  EXPECT_EQ(p.attachments[2].size, s.plain.size());
  EXPECT_EQ(p.entities, 7u);  // the message, the alternative and its two parts, three attachments
  EXPECT_EQ(p.anomalies.total(), 0u);
}

TEST(MimeParser, AnyPieceSizeGivesTheSameResult) {
  Sample s;
  Parsed whole;
  parse_into(whole, s.msg);
  for (size_t step : {1u, 2u, 3u, 7u, 64u, 1000u}) {
    Parsed p;
    parse_into(p, s.msg, step);
    ASSERT_EQ(p.attachments.size(), whole.attachments.size()) << step;
    for (size_t i = 0; i < p.attachments.size(); ++i) {
      EXPECT_EQ(p.attachments[i].size, whole.attachments[i].size) << step;
      EXPECT_EQ(p.attachments[i].name, whole.attachments[i].name) << step;
    }
    EXPECT_EQ(p.headers, whole.headers) << step;
  }
}

TEST(MimeParser, BareLfLineEndsAreCountedAsSent) {
  const std::string body = "one\ntwo\n\nthree";
  const std::string msg = "Content-Type: text/plain\nContent-Disposition: attachment; filename=a.txt\n\n" + body + "\n";
  Parsed p;
  parse_into(p, msg);
  ASSERT_EQ(p.attachments.size(), 1u);
  // A single-part message owns its last line break.
  EXPECT_EQ(p.attachments[0].size, body.size() + 1);
}

TEST(MimeParser, BoundaryThatPrefixesAnotherIsNotConfused) {
  // The inner boundary starts with the outer one: "--b" must not close on "--b2".
  const std::string inner_payload = binary_payload(300, 3);
  const std::string msg =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\n"
      "Content-Type: multipart/mixed; boundary=b2\r\n\r\n"
      "--b2\r\n"
      "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
      "Content-Disposition: inline; filename=\"x.png\"\r\n\r\n" +
      b64(inner_payload) +
      "\r\n--b2--\r\n"
      "--b\r\n"
      "Content-Disposition: attachment\r\n\r\n"
      "abc\r\n"
      "--b--\r\n";
  Parsed p;
  parse_into(p, msg);
  ASSERT_EQ(p.attachments.size(), 2u);
  EXPECT_EQ(p.attachments[0].name, "x.png");
  EXPECT_EQ(p.attachments[0].mime_type, "image/png");
  EXPECT_EQ(p.attachments[0].size, inner_payload.size());
  EXPECT_EQ(p.attachments[1].name, "");  // disposition attachment without a name
  EXPECT_EQ(p.attachments[1].size, 3u);
  EXPECT_EQ(p.anomalies.total(), 0u);
}

TEST(MimeParser, OuterBoundaryClosesUnterminatedInnerMultipart) {
  const std::string msg =
      "Content-Type: multipart/mixed; boundary=A\r\n\r\n"
      "--A\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
      "--B\r\nContent-Disposition: attachment; filename=in.txt\r\n\r\nxyz\r\n"
      "--A\r\nContent-Disposition: attachment; filename=out.txt\r\n\r\nabcd\r\n"
      "--A--\r\n";
  Parsed p;
  parse_into(p, msg);
  ASSERT_EQ(p.attachments.size(), 2u);
  EXPECT_EQ(p.attachments[0].size, 3u);
  EXPECT_EQ(p.attachments[1].size, 4u);
  EXPECT_EQ(p.anomalies.count(kAnomMimeUnterminated), 1u);
}

TEST(MimeParser, DepthLimitTreatsDeeperMultipartsAsContent) {
  std::string msg;
  const size_t depth = 12;
  for (size_t i = 0; i < depth; ++i) {
    msg += "Content-Type: multipart/mixed; boundary=L" + std::to_string(i) + "\r\n\r\n--L" + std::to_string(i) + "\r\n";
  }
  msg += "Content-Disposition: attachment; filename=deep.txt\r\n\r\nhi\r\n";
  for (size_t i = depth; i-- > 0;) msg += "--L" + std::to_string(i) + "--\r\n";
  MimeLimits limits;
  limits.max_depth = 4;
  Parsed p;
  parse_into(p, msg, 0, limits);
  EXPECT_EQ(p.anomalies.count(kAnomMimeTooDeep), 1u);
  EXPECT_TRUE(p.attachments.empty());  // the file sits below the depth we follow
  // Followed deep enough, the file is found.
  limits.max_depth = 16;
  Parsed q;
  parse_into(q, msg, 0, limits);
  ASSERT_EQ(q.attachments.size(), 1u);
  EXPECT_EQ(q.attachments[0].size, 2u);
}

TEST(MimeParser, PartLimitStopsListingAttachments) {
  std::string msg = "Content-Type: multipart/mixed; boundary=P\r\n\r\n";
  for (int i = 0; i < 50; ++i) {
    msg += "--P\r\nContent-Disposition: attachment; filename=f" + std::to_string(i) + "\r\n\r\ndata\r\n";
  }
  msg += "--P--\r\n";
  MimeLimits limits;
  limits.max_parts = 10;
  Parsed p;
  parse_into(p, msg, 0, limits);
  EXPECT_EQ(p.attachments.size(), 9u);  // the message itself is the first entity
  EXPECT_EQ(p.anomalies.count(kAnomMimeTooManyParts), 1u);
}

TEST(MimeParser, HeaderLimits) {
  std::string msg = "Subject: " + std::string(20000, 'x') + "\r\n";
  for (int i = 0; i < 20; ++i) msg += "X-H" + std::to_string(i) + ": v\r\n continued\r\n";
  msg += "\r\nbody\r\n";
  MimeLimits limits;
  limits.max_header_bytes = 1000;
  limits.max_headers = 10;
  Parsed p;
  parse_into(p, msg, 0, limits);
  ASSERT_EQ(p.headers.size(), 10u);
  EXPECT_LE(p.headers[0].second.size(), 1000u);
  EXPECT_EQ(p.anomalies.count(kAnomMimeHeaderTooLong), 1u);
  EXPECT_EQ(p.anomalies.count(kAnomMimeTooManyHeaders), 1u);
  EXPECT_EQ(p.headers[9].second, "v continued");
  EXPECT_EQ(p.anomalies.count(kAnomMimeBadHeader), 0u);  // continuations of ignored headers are ignored too
}

TEST(MimeParser, LongBodyLinesAreStreamedNotStored) {
  // A 1 MB identity attachment on one line: counted exactly.
  const std::string line(1 << 20, 'a');
  const std::string msg = "Content-Type: multipart/mixed; boundary=Z\r\n\r\n--Z\r\n"
                          "Content-Disposition: attachment; filename=big\r\n\r\n" +
                          line + "\r\n--Z--\r\n";
  Parsed p;
  parse_into(p, msg, 4096);
  ASSERT_EQ(p.attachments.size(), 1u);
  EXPECT_EQ(p.attachments[0].size, line.size());
}

TEST(MimeParser, MessageWithoutHeaderBlock) {
  Parsed p;
  parse_into(p, "no header here\r\njust text\r\n");
  EXPECT_TRUE(p.headers.empty());
  EXPECT_TRUE(p.attachments.empty());
}

TEST(MimeParser, TruncatedAndGarbageInputNeverBreaks) {
  Sample s;
  for (size_t cut = 0; cut < s.msg.size(); cut += 97) {
    Parsed p;
    parse_into(p, std::string_view(s.msg).substr(0, cut), 5);
    EXPECT_LE(p.attachments.size(), 3u);
  }
  std::string garbage = binary_payload(20000, 11);
  Parsed g;
  parse_into(g, garbage, 333);
  EXPECT_LE(g.attachments.size(), 1u);
}

TEST(MimeParser, AbandonMarksOpenAttachmentIncomplete) {
  core::Anomalies a;
  MimeParser m(a);
  m.begin();
  m.feed("Content-Type: multipart/mixed; boundary=Q\r\n\r\n--Q\r\nContent-Disposition: attachment; filename=f\r\n\r\n");
  m.feed("12345\r\n");
  m.abandon();
  m.feed("--Q--\r\n");  // ignored after abandon
  m.end();
  ASSERT_EQ(m.attachments().size(), 1u);
  EXPECT_FALSE(m.attachments()[0].complete);
  EXPECT_EQ(m.attachments()[0].size, 5u);
}

TEST(BodySizeCounter, QuotedPrintableSoftBreaksEscapesAndTrailingSpace) {
  BodySizeCounter c;
  c.reset(TransferEncoding::kQuotedPrintable);
  // "ab=\r\n" soft break, "c=3Dd  \r\n" escape + trailing spaces dropped, "e"
  c.bytes("ab=");
  c.eol(2);
  c.bytes("c=3Dd  ");
  c.eol(2);
  c.bytes("e");
  EXPECT_EQ(c.finish(false), std::string("abc=d\r\ne").size());
  EXPECT_FALSE(c.saw_invalid());
  c.reset(TransferEncoding::kQuotedPrintable);
  c.bytes("bad=ZZ");
  EXPECT_EQ(c.finish(false), 6u);  // kept as sent
  EXPECT_TRUE(c.saw_invalid());
}

TEST(BodySizeCounter, Base64IgnoresLineBreaksAndPadding) {
  for (size_t n : {0u, 1u, 2u, 3u, 4u, 57u, 58u, 1000u}) {
    const std::string enc = b64(binary_payload(n), 20);
    BodySizeCounter c;
    c.reset(TransferEncoding::kBase64);
    size_t start = 0;
    while (start < enc.size()) {
      size_t nl = enc.find("\r\n", start);
      if (nl == std::string::npos) nl = enc.size();
      c.bytes(std::string_view(enc).substr(start, nl - start));
      c.eol(2);
      start = nl + 2;
    }
    EXPECT_EQ(c.finish(false), n);
  }
}

TEST(BodySizeCounter, Base64CountMatchesAPlainCountOnAnyBytes) {
  // The counter works on 8 bytes at a time; check it against a byte loop on
  // every byte value at every offset, and on random text around the alphabet.
  const auto plain = [](std::string_view s, bool& bad) {
    uint64_t n = 0;
    for (char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/') {
        ++n;
      } else if (c != '=' && c != ' ' && c != '\t' && c != '\r') {
        bad = true;
      }
    }
    return n;
  };
  std::vector<std::string> inputs;
  for (int c = 0; c < 256; ++c) {
    for (size_t pos = 0; pos < 17; ++pos) {
      std::string s = b64(binary_payload(12, static_cast<uint32_t>(c)), 0);
      s.insert(pos, 1, static_cast<char>(c));
      inputs.push_back(s);
    }
  }
  const std::string rnd = binary_payload(4000, 99);
  std::string mixed;
  for (char ch : rnd) mixed.push_back("AZaz09+/= \t\r-_.~"[static_cast<unsigned char>(ch) % 16]);
  for (size_t len = 0; len < 100; ++len) inputs.push_back(mixed.substr(len * 7, len));
  for (const std::string& s : inputs) {
    bool bad_plain = false;
    const uint64_t want = plain(s, bad_plain);
    BodySizeCounter c;
    c.reset(TransferEncoding::kBase64);
    c.bytes(s);
    const uint64_t rem = want % 4;
    EXPECT_EQ(c.finish(false), want / 4 * 3 + (rem == 2 ? 1 : rem == 3 ? 2 : 0));
    EXPECT_EQ(c.saw_invalid(), bad_plain);
  }
}

TEST(EncodedWords, DecodesUtf8AndLatin1AndKeepsTheRest) {
  EXPECT_EQ(decode_encoded_words("=?UTF-8?B?" + b64("Grüße", 0) + "?="), "Grüße");
  EXPECT_EQ(decode_encoded_words("=?iso-8859-1?Q?Caf=E9_au_lait?="), "Caf\xc3\xa9 au lait");
  // Whitespace between adjacent encoded words goes; around plain text it stays.
  EXPECT_EQ(decode_encoded_words("=?utf-8?Q?a?= \t =?utf-8?Q?b?= c"), "ab c");
  EXPECT_EQ(decode_encoded_words("Re: =?koi8-r?B?8NLJ18XU?="), "Re: =?koi8-r?B?8NLJ18XU?=");
  EXPECT_EQ(decode_encoded_words("=?utf-8?B?!!!?="), "=?utf-8?B?!!!?=");
  EXPECT_EQ(decode_encoded_words("plain =? text"), "plain =? text");
  EXPECT_LE(decode_encoded_words(std::string(100, 'x'), 10).size(), 10u);
}

TEST(HeaderParams, TokensQuotingAndRfc2231) {
  std::string v;
  EXPECT_EQ(header_token(" Multipart/Mixed ; boundary=x"), "multipart/mixed");
  ASSERT_TRUE(header_param("attachment; filename=\"a \\\"q\\\" b.txt\"; size=3", "filename", v));
  EXPECT_EQ(v, "a \"q\" b.txt");
  ASSERT_TRUE(header_param("attachment; FileName=plain.txt", "filename", v));
  EXPECT_EQ(v, "plain.txt");
  ASSERT_TRUE(header_param("attachment; filename*=iso-8859-1'fr'caf%E9.txt", "filename", v));
  EXPECT_EQ(v, "caf\xc3\xa9.txt");
  ASSERT_TRUE(header_param("attachment; filename*1=\"two.txt\"; filename*0*=utf-8''%C3%A9", "filename", v));
  EXPECT_EQ(v, "\xc3\xa9two.txt");
  EXPECT_FALSE(header_param("attachment; name=x", "filename", v));
  EXPECT_FALSE(header_param("text/plain", "charset", v));
  ASSERT_TRUE(header_param("text/plain; charset=", "charset", v));
  EXPECT_EQ(v, "");
}

}  // namespace
}  // namespace trawl::analyzers::smtp
