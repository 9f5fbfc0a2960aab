// JA3/JA3S against tshark's tls.handshake.ja3/ja3s and a published JA3, and
// JA4/JA4S against the examples of the FoxIO specification
// (FoxIO-LLC/ja4 technical_details/JA4.md and JA4S.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "analyzers/ssl/tls_fingerprint.h"
#include "ssl_test_util.h"

namespace trawl::analyzers::ssl {
namespace {

using test::Bytes;
using test::Ext;

ClientHello parse_ch(const std::vector<uint8_t>& m) {
  core::Anomalies a;
  ClientHello ch;
  EXPECT_EQ(parse_client_hello(core::ByteView(m.data() + 4, m.size() - 4), ch, a), ParseResult::kOk);
  EXPECT_EQ(a.total(), 0u);
  return ch;
}

// The JA4.md example hello: ciphers and extensions in their original order
// (JA4_ro), with GREASE values added that every fingerprint must ignore.
std::vector<uint8_t> foxio_example() {
  const std::vector<uint16_t> ciphers{0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
                                      0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
  std::vector<Ext> exts;
  exts.push_back({0xdada, {}});
  for (uint16_t t : {0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
                     0x002b, 0xff01, 0x000b, 0x000a, 0x0015}) {
    if (t == 0x0000) {
      exts.push_back(test::sni_ext("example.com"));
    } else if (t == 0x0010) {
      exts.push_back(test::alpn_ext({"h2", "http/1.1"}));
    } else if (t == 0x000d) {
      exts.push_back({t, test::u16_vector({0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601})});
    } else if (t == 0x000a) {
      exts.push_back({t, test::u16_vector({0x1a1a, 29, 23})});
    } else if (t == 0x000b) {
      exts.push_back({t, {1, 0}});
    } else if (t == 0x002b) {
      exts.push_back({t, test::u16_vector({0x4a4a, 0x0304, 0x0303}, true)});
    } else {
      exts.push_back({t, {}});
    }
  }
  exts.push_back({0xfafa, {0}});
  return test::client_hello(0x0303, ciphers, exts);
}

TEST(Ja4, FoxioSpecificationExample) {
  const ClientHello ch = parse_ch(foxio_example());
  EXPECT_EQ(ja4(ch), "t13d1516h2_8daaf6152771_e5627efa2ab1");
  EXPECT_EQ(ja4_raw(ch),
            "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_"
            "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_"
            "0403,0804,0401,0503,0805,0501,0806,0601");
  EXPECT_EQ(ja4(ch, 'q').substr(0, 4), "q13d");
}

TEST(Ja4, WithoutSignatureAlgorithmsNoUnderscore) {
  ClientHello ch = parse_ch(foxio_example());
  // JA4.md: "0005,000a,000b,000d,...,4469,ff01 = 6d807ffa2a79" when the hello
  // lists no signature algorithms.
  ch.signature_algorithms.clear();
  EXPECT_EQ(ja4(ch), "t13d1516h2_8daaf6152771_6d807ffa2a79");
}

TEST(Ja4, AlpnCharactersAndEmptyLists) {
  EXPECT_EQ(ja4_alpn_chars("h2"), "h2");
  EXPECT_EQ(ja4_alpn_chars("http/1.1"), "h1");
  EXPECT_EQ(ja4_alpn_chars("h"), "hh");
  EXPECT_EQ(ja4_alpn_chars(""), "00");
  // The spec's non-alphanumeric examples.
  EXPECT_EQ(ja4_alpn_chars(std::string("\xab", 1)), "ab");
  EXPECT_EQ(ja4_alpn_chars(std::string("\xab\xcd", 2)), "ad");
  EXPECT_EQ(ja4_alpn_chars(std::string("\x30\xab", 2)), "3b");
  EXPECT_EQ(ja4_alpn_chars(std::string("\x30\x31\xab\xcd", 4)), "3d");
  EXPECT_EQ(ja4_alpn_chars(std::string("\x30\xab\xcd\x31", 4)), "01");

  ClientHello none;  // TLS 1.0, no SNI, no ciphers, no extensions
  none.version = 0x0301;
  EXPECT_EQ(ja4(none), "t10i000000_000000000000_000000000000");
  none.ssl2 = true;
  EXPECT_EQ(ja4(none), "");
  EXPECT_EQ(ja3(none), "");
}

TEST(Ja4, VersionFromSupportedVersionsElseHello) {
  ClientHello ch;
  ch.version = 0x0303;
  ch.ciphers = {0x002f};
  EXPECT_EQ(ja4(ch).substr(0, 3), "t12");
  ch.supported_versions = {0x0a0a, 0x0302, 0x0304, 0x0303};
  EXPECT_EQ(ja4(ch).substr(0, 3), "t13");
  ch.supported_versions = {0x0a0a};  // only GREASE: the hello version
  EXPECT_EQ(ja4(ch).substr(0, 3), "t12");
  ch.version = 0x0300;
  EXPECT_EQ(ja4(ch).substr(0, 3), "ts3");
}

TEST(Ja3, PublishedChromeFingerprint) {
  // A Chrome 143 hello as reported by tls.browserleaks.com (ja3_text, ja3_hash,
  // ja4 and ja4_r); rebuilt here field by field, with GREASE added.
  std::vector<Ext> exts{{0x1a1a, {}},
                        {45, {1, 1}},
                        {51, {0, 0}},
                        test::alpn_ext({"h2", "http/1.1"}),
                        {65037, {}},
                        {23, {}},
                        {17613, {}},
                        test::sni_ext("tls.browserleaks.com"),
                        {11, {1, 0}},
                        {10, test::u16_vector({0x3a3a, 4588, 29, 23, 24})},
                        {43, test::u16_vector({0x3a3a, 0x0304, 0x0303}, true)},
                        {65281, {0}},
                        {35, {}},
                        {18, {}},
                        {5, {}},
                        {13, test::u16_vector({0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601})},
                        {27, {}},
                        {0x2a2a, {0}}};
  const ClientHello ch = parse_ch(test::client_hello(
      0x0303, {0x5a5a, 4865, 4866, 4867, 49195, 49199, 49196, 49200, 52393, 52392, 49171, 49172, 156, 157, 47, 53},
      exts));
  EXPECT_EQ(ja3_string(ch),
            "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,"
            "45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0");
  EXPECT_EQ(ja3(ch), "98487aa16281980e7d1120d399efb6a4");
  EXPECT_EQ(ja4(ch), "t13d1516h2_8daaf6152771_d8a2da3f94cd");
}

TEST(Ja3, RealHelloMatchesTshark) {
  // benign/many_protocols_pcpp.pcap tcp.stream 2: tshark 4.0 tls.handshake.ja3 / ja3s / ja3s_full.
  const auto chunks = test::load_chunks("pcpp_google_tls12");
  const auto client = test::direction(chunks, true);
  const auto server = test::direction(chunks, false);
  const size_t clen = (size_t{client[6]} << 16) | (size_t{client[7]} << 8) | client[8];
  const size_t slen = (size_t{server[6]} << 16) | (size_t{server[7]} << 8) | server[8];
  core::Anomalies a;
  ClientHello ch;
  ServerHello sh;
  ASSERT_EQ(parse_client_hello(core::ByteView(client.data() + 9, clen), ch, a), ParseResult::kOk);
  ASSERT_EQ(parse_server_hello(core::ByteView(server.data() + 9, slen), sh, a), ParseResult::kOk);
  EXPECT_EQ(ja3(ch), "8fbbd0f3c1f089979b04b8f8f1b21d41");
  EXPECT_EQ(ja3s_string(sh), "771,49199,0-65281-11-35-16");
  EXPECT_EQ(ja3s(sh), "b898351eb5e266aefd3723d466935494");
  EXPECT_EQ(ja4s(sh), "t1205s1_c02f_" + sha256_hex(core::ByteView(
                                                   reinterpret_cast<const uint8_t*>("0000,ff01,000b,0023,0010"), 24))
                                                   .substr(0, 12));
}

TEST(Ja4s, FoxioSpecificationExample) {
  ServerHello sh;
  sh.version = 0x0303;
  sh.cipher = 0xc030;
  sh.extensions = {0x0005, 0x0017, 0xff01, 0x0000};
  EXPECT_EQ(ja4s(sh), "t120400_c030_4e8089b08790");
  sh.selected_version = 0x0304;
  sh.has_alpn = true;
  sh.alpn = "h2";
  EXPECT_EQ(ja4s(sh).substr(0, 8), "t1304h2_");
}

// client_fingerprints/server_fingerprints memoise ja3/ja4 and ja3s/ja4s per
// thread: every field those read must be part of the memo key, so hellos
// differing in any one of them, asked in turns, still get their own values.
TEST(Fingerprints, MemoMatchesDirectComputation) {
  const ClientHello base = parse_ch(foxio_example());
  std::vector<ClientHello> hellos(9, base);
  hellos[1].alpn.front() = "http/1.1";
  hellos[2].has_server_name = false;
  hellos[3].signature_algorithms.clear();
  hellos[4].groups.push_back(24);
  hellos[5].point_formats = {0, 1};
  hellos[6].supported_versions.clear();
  hellos[7].version = 0x0301;
  hellos[8].alpn.clear();
  std::vector<std::string> seen;
  for (int pass = 0; pass < 2; ++pass) {
    for (const ClientHello& ch : hellos) {
      std::string j3;
      std::string j4;
      client_fingerprints(ch, j3, j4);
      EXPECT_EQ(j3, ja3(ch));
      EXPECT_EQ(j4, ja4(ch));
      if (pass == 0) seen.push_back(j3 + " " + j4);
    }
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end());  // every variant has its own pair

  ClientHello ssl2 = base;
  ssl2.ssl2 = true;
  std::string j3 = "x";
  std::string j4 = "x";
  client_fingerprints(ssl2, j3, j4);
  EXPECT_EQ(j3, "");
  EXPECT_EQ(j4, "");

  ServerHello sh;
  sh.version = 0x0303;
  sh.cipher = 0xc030;
  sh.extensions = {0x0005, 0x0017, 0xff01, 0x0000};
  std::vector<ServerHello> servers(5, sh);
  servers[1].selected_version = 0x0304;
  servers[2].has_alpn = true;
  servers[2].alpn = "h2";
  servers[3].cipher = 0x1301;
  servers[4].extensions.pop_back();
  for (int pass = 0; pass < 2; ++pass) {
    for (const ServerHello& s : servers) {
      std::string a;
      std::string b;
      server_fingerprints(s, a, b);
      EXPECT_EQ(a, ja3s(s));
      EXPECT_EQ(b, ja4s(s));
    }
  }
}

TEST(Fingerprints, MemoBoundsAndHugeHellos) {
  // More distinct hellos than the memo keeps (it starts over when full), then
  // one too large to be kept at all: all still computed exactly.
  ClientHello ch = parse_ch(foxio_example());
  for (uint16_t i = 0; i < 1100; ++i) {
    ch.ciphers.back() = i;
    std::string j3;
    std::string j4;
    client_fingerprints(ch, j3, j4);
    ASSERT_EQ(j3, ja3(ch));
    ASSERT_EQ(j4, ja4(ch));
  }
  ch.ciphers.assign(5000, 0x1301);
  for (int pass = 0; pass < 2; ++pass) {
    std::string j3;
    std::string j4;
    client_fingerprints(ch, j3, j4);
    EXPECT_EQ(j3, ja3(ch));
    EXPECT_EQ(j4, ja4(ch));
  }
}

TEST(Digests, KnownVectors) {
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(sha256_hex(core::ByteView(reinterpret_cast<const uint8_t*>("abc"), 3)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace trawl::analyzers::ssl
