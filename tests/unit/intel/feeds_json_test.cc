// JSON feed loaders (feeds_json.cc): STIX 2.1 bundles and their patterns,
// MISP events and feed folders, OTX pulse exports. Fixtures in
// tests/data/intel/json (hand-written in the real shapes, see its README).
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/ip_address.h"
#include "intel/feeds.h"
#include "intel/indicator_store.h"

namespace trawl::intel {
namespace {

const std::filesystem::path kData = std::filesystem::path(TRAWL_TEST_DATA) / "intel" / "json";

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  EXPECT_TRUE(in.good() || in.eof()) << p;
  return ss.str();
}

using Parser = void (*)(std::string_view, std::string_view, IndicatorStore&, LoadReport&);

struct Loaded {
  IndicatorStore store;
  LoadReport report;
};

// Loads one fixture with `parse` and finalizes the store.
Loaded load(Parser parse, const std::string& rel) {
  Loaded l;
  const std::filesystem::path p = kData / rel;
  parse(p.filename().string(), read(p), l.store, l.report);
  l.store.finalize();
  return l;
}

Loaded load_text(Parser parse, std::string_view text) {
  Loaded l;
  parse("inline.json", text, l.store, l.report);
  l.store.finalize();
  return l;
}

std::vector<Match> ip(const Loaded& l, const char* text) {
  std::vector<Match> out;
  const auto a = core::IpAddress::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  if (a) l.store.match_ip(*a, out);
  return out;
}
std::vector<Match> domain(const Loaded& l, const char* name) {
  std::vector<Match> out;
  l.store.match_domain(name, out);
  return out;
}
std::vector<Match> url(const Loaded& l, const char* u) {
  std::vector<Match> out;
  l.store.match_url(u, out);
  return out;
}
std::vector<Match> hash(const Loaded& l, const char* h) {
  std::vector<Match> out;
  l.store.match_hash(h, out);
  return out;
}

std::string errors_text(const LoadReport& r) {
  std::string s;
  for (const LoadError& e : r.errors) s += e.file + ":" + std::to_string(e.line) + ": " + e.message + "\n";
  return s;
}

#define EXPECT_COUNTS(l, ind, skip, err)                              \
  do {                                                                \
    EXPECT_EQ((l).report.indicators, uint64_t{ind});                  \
    EXPECT_EQ((l).report.skipped, uint64_t{skip});                    \
    EXPECT_EQ((l).report.errors_total, uint64_t{err}) << errors_text((l).report); \
    EXPECT_EQ((l).report.errors.size(), size_t{err});                 \
  } while (0)

// ---------------------------------------------------------------- STIX

TEST(StixBundle, GoodBundleLoadsEveryMappableComparison) {
  const Loaded l = load(parse_stix, "stix/good_bundle.json");
  // 14 indicators from 10 indicator objects; skipped: email-addr, yara,
  // revoked, "!=".
  EXPECT_COUNTS(l, 14, 4, 0);
  EXPECT_EQ(l.store.size(), 14u);
  EXPECT_EQ(l.store.size(IndicatorType::kIp), 6u);
  EXPECT_EQ(l.store.size(IndicatorType::kCidr), 1u);
  EXPECT_EQ(l.store.size(IndicatorType::kDomain), 2u);
  EXPECT_EQ(l.store.size(IndicatorType::kUrl), 2u);
  EXPECT_EQ(l.store.size(IndicatorType::kHash), 3u);
  EXPECT_EQ(l.store.source_count(), 10u);
}

TEST(StixBundle, MatchCarriesTheIndicatorsContext) {
  const Loaded l = load(parse_stix, "stix/good_bundle.json");
  const auto m = ip(l, "198.51.100.7");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].type, IndicatorType::kIp);
  EXPECT_EQ(m[0].indicator, "198.51.100.7");
  const Source& s = *m[0].source;
  EXPECT_EQ(s.feed, "good_bundle.json");
  EXPECT_EQ(s.format, "stix");
  EXPECT_EQ(s.name, "C2 server of ExampleRAT");
  EXPECT_EQ(s.tags, (std::vector<std::string>{"examplerat", "c2", "malicious-activity"}));
  EXPECT_EQ(s.first_seen, "2026-01-10T08:00:00Z");
  EXPECT_EQ(s.last_seen, "2026-01-12T09:30:00.000Z");
  EXPECT_EQ(s.reference, "https://cert.example/reports/2026-001");
}

TEST(StixBundle, EachPatternKindMatches) {
  const Loaded l = load(parse_stix, "stix/good_bundle.json");
  auto cidr = ip(l, "203.0.113.200");  // ISSUBSET
  ASSERT_EQ(cidr.size(), 1u);
  EXPECT_EQ(cidr[0].type, IndicatorType::kCidr);
  EXPECT_EQ(cidr[0].indicator, "203.0.113.0/24");
  EXPECT_EQ(cidr[0].source->name, "Bulletproof hosting range");
  // no external reference: the STIX id stands in
  EXPECT_EQ(cidr[0].source->reference, "stix indicator--2d5c2c70-2c6d-4e7d-9f77-807d7b1c8e23");

  auto d = domain(l, "www.evil.example");  // OR, first half
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].indicator, "evil.example");
  EXPECT_EQ(d[0].source->name, "ExampleRAT download site");
  auto u = url(l, "http://evil.example/gate.php");  // OR, second half, same Source
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].source, d[0].source);

  EXPECT_EQ(hash(l, "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899").size(), 1u);
  EXPECT_EQ(hash(l, "00112233445566778899AABBCCDDEEFF").size(), 1u);
  EXPECT_EQ(hash(l, "0123456789abcdef0123456789abcdef01234567").size(), 1u);  // AND: the hash half
  EXPECT_EQ(ip(l, "2001:db8::66").size(), 1u);
  EXPECT_EQ(url(l, "http://evil.example/it's\\here").size(), 1u);  // \' and \\ escapes
  EXPECT_EQ(ip(l, "192.0.2.66").size(), 1u);                       // observation AND ... WITHIN
  EXPECT_EQ(domain(l, "c2.other.example").size(), 1u);
  EXPECT_EQ(ip(l, "198.51.100.20").size(), 1u);  // IN list
  EXPECT_EQ(ip(l, "198.51.100.21").size(), 1u);
  EXPECT_EQ(ip(l, "192.0.2.77").size(), 1u);  // network-traffic:dst_ref.value

  EXPECT_TRUE(ip(l, "198.51.100.8").empty());   // revoked
  EXPECT_TRUE(ip(l, "198.51.100.99").empty());  // "!=" says nothing is bad
  EXPECT_TRUE(ip(l, "198.51.100.6").empty());
}

TEST(StixBundle, MalformedIndicatorsAreErrorsAndTheRestLoads) {
  const Loaded l = load(parse_stix, "stix/bad_bundle.json");
  EXPECT_COUNTS(l, 1, 0, 7);
  ASSERT_EQ(l.report.errors.size(), 7u);
  for (const LoadError& e : l.report.errors) {
    EXPECT_EQ(e.file, "bad_bundle.json");
    EXPECT_EQ(e.line, 0u);
  }
  const auto& e = l.report.errors;
  EXPECT_EQ(e[0].message,
            "indicator 'indicator--00000000-0000-4000-8000-000000000001' (objects[0]): malformed pattern (expected ']' at offset 34)");
  EXPECT_EQ(e[1].message,
            "indicator 'indicator--00000000-0000-4000-8000-000000000002' (objects[1]): malformed pattern (unterminated string at offset 35)");
  EXPECT_EQ(e[2].message, "indicator 'indicator--00000000-0000-4000-8000-000000000003' (objects[2]): no pattern");
  EXPECT_EQ(e[3].message,
            "indicator 'indicator--00000000-0000-4000-8000-000000000004' (objects[3]): invalid ip '999.1.1.1'");
  EXPECT_EQ(e[4].message, "objects[5] is not an object");
  EXPECT_NE(e[5].message.find("indicator--00000000-0000-4000-8000-000000000007"), std::string::npos);
  EXPECT_NE(e[5].message.find("bad escape in string"), std::string::npos);
  EXPECT_NE(e[6].message.find("indicator--00000000-0000-4000-8000-000000000008"), std::string::npos);
  EXPECT_NE(e[6].message.find("expected a comparison operator"), std::string::npos);
  const auto m = ip(l, "198.51.100.41");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].source->name, "The one good indicator");
  EXPECT_TRUE(ip(l, "198.51.100.40").empty());
}

TEST(StixBundle, EmptyBundleAndEmptyObjects) {
  const Loaded l = load(parse_stix, "stix/empty_bundle.json");
  EXPECT_COUNTS(l, 0, 0, 0);
  EXPECT_EQ(l.store.size(), 0u);
  EXPECT_EQ(l.store.source_count(), 0u);
  const Loaded no_objects = load_text(parse_stix, R"({"type": "bundle", "id": "bundle--1"})");
  EXPECT_COUNTS(no_objects, 0, 0, 0);
  const Loaded bad_objects = load_text(parse_stix, R"({"type": "bundle", "objects": {"a": 1}})");
  EXPECT_COUNTS(bad_objects, 0, 0, 1);
  EXPECT_EQ(bad_objects.report.errors[0].message, "STIX bundle: \"objects\" is not a list");
}

TEST(StixBundle, InvalidJsonNamesTheLine) {
  const Loaded l = load(parse_stix, "stix/bad_syntax.json");
  EXPECT_COUNTS(l, 0, 0, 1);
  ASSERT_EQ(l.report.errors.size(), 1u);
  EXPECT_EQ(l.report.errors[0].file, "bad_syntax.json");
  EXPECT_EQ(l.report.errors[0].line, 4u);
  EXPECT_EQ(l.report.errors[0].message.rfind("invalid JSON: parse error at line 4", 0), 0u) << l.report.errors[0].message;
}

TEST(StixBundle, NotABundle) {
  const Loaded l = load_text(parse_stix, R"({"type": "indicator", "pattern": "[ipv4-addr:value = '198.51.100.1']"})");
  EXPECT_COUNTS(l, 0, 0, 1);
  EXPECT_EQ(l.report.errors[0].message, "not a STIX bundle (no \"type\": \"bundle\")");
}

struct PatternCase {
  const char* pattern;
  uint64_t indicators;
  uint64_t skipped;
  uint64_t errors;
};

std::string bundle_with(const std::string& pattern) {
  std::string escaped;
  for (char c : pattern) {
    if (c == '"' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return R"({"type": "bundle", "objects": [{"type": "indicator", "id": "indicator--t", "pattern": ")" + escaped +
         R"(", "valid_from": "2026-01-01T00:00:00Z"}]})";
}

TEST(StixPattern, GrammarCases) {
  const std::string h64(64, 'a');
  const std::vector<PatternCase> cases = {
      {"[ipv4-addr:value = '198.51.100.1']", 1, 0, 0},
      {"[ipv4-addr:value='198.51.100.1']", 1, 0, 0},
      {"[ipv4-addr:value = '198.51.100.0/25']", 1, 0, 0},
      {"[ipv6-addr:value ISSUBSET '2001:db8:1::/48']", 1, 0, 0},
      {"[domain-name:value = 'a.example'] FOLLOWEDBY [url:value = 'http://a.example/x'] REPEATS 3 TIMES", 2, 0, 0},
      {"[ipv4-addr:value = '198.51.100.1'] START t'2026-01-01T00:00:00Z' STOP t'2026-02-01T00:00:00Z'", 1, 0, 0},
      {"([ipv4-addr:value = '198.51.100.1'] OR ([domain-name:value = 'b.example']))", 2, 0, 0},
      {"[ipv4-addr:value IN ('198.51.100.1', 42, '198.51.100.2')]", 2, 0, 0},
      {"[file:name = 'x.exe' OR (file:hashes.sha256 = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')]", 1, 0, 0},
      {"[domain-name:value = 'a.example' and ipv4-addr:value = '198.51.100.3']", 2, 0, 0},  // keywords any case
      {"[file:hashes.'SHA-512' = 'ab']", 0, 1, 0},
      {"[url:value LIKE 'http://%.example/%']", 0, 1, 0},
      {"[url:value MATCHES '^http://']", 0, 1, 0},
      {"[domain-name:value NOT = 'a.example']", 0, 1, 0},
      {"[EXISTS file:hashes.MD5]", 0, 1, 0},
      {"[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]", 0, 1, 0},
      {"[process:pid = 4 AND process:name = h'6162' AND process:x = b'YWI=' AND process:y = true]", 0, 1, 0},
      {"", 0, 0, 1},
      {"[", 0, 0, 1},
      {"[ipv4-addr:value = ]", 0, 0, 1},
      {"[ipv4-addr = '198.51.100.1']", 0, 0, 1},
      {"[ipv4-addr:value = '198.51.100.1'] AND", 0, 0, 1},
      {"[ipv4-addr:value = '198.51.100.1']]", 0, 0, 1},
      {"[ipv4-addr:value IN ('198.51.100.1', )]", 0, 0, 1},
      {"[ipv4-addr:value = '198.51.100.1'] WITHIN SECONDS", 0, 0, 1},
      {"[file:x[a] = 'b']", 0, 0, 1},
      {"[domain-name:value = 'bad name.example']", 0, 0, 1},  // well formed, invalid domain
  };
  for (const PatternCase& c : cases) {
    SCOPED_TRACE(c.pattern);
    const Loaded l = load_text(parse_stix, bundle_with(c.pattern));
    EXPECT_COUNTS(l, c.indicators, c.skipped, c.errors);
  }
}

TEST(StixPattern, NestingIsBounded) {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "(";
  deep += "[ipv4-addr:value = '198.51.100.1']";
  for (int i = 0; i < 40; ++i) deep += ")";
  const Loaded l = load_text(parse_stix, bundle_with(deep));
  EXPECT_COUNTS(l, 0, 0, 1);
  EXPECT_NE(l.report.errors[0].message.find("nested too deeply"), std::string::npos);
  std::string ok = "(((" "[ipv4-addr:value = '198.51.100.1']" ")))";
  EXPECT_COUNTS(load_text(parse_stix, bundle_with(ok)), 1, 0, 0);
}

// ---------------------------------------------------------------- MISP

TEST(MispEvent, EventAttributesAndObjects) {
  const Loaded l = load(parse_misp_event, "misp/event.json");
  // 9 top-level attributes map to 10 indicators (domain|ip gives two),
  // objects give 3; skipped: to_ids false (ip-dst, text, filename), uri.
  EXPECT_COUNTS(l, 13, 4, 0);
  EXPECT_EQ(l.store.source_count(), 2u);  // the event, and the attribute with its own tag
  const auto m = ip(l, "198.51.100.10");
  ASSERT_EQ(m.size(), 1u);
  const Source& s = *m[0].source;
  EXPECT_EQ(s.feed, "event.json");
  EXPECT_EQ(s.format, "misp");
  EXPECT_EQ(s.name, "ExampleLoader epoch 5 C2 infrastructure");
  EXPECT_EQ(s.tags, (std::vector<std::string>{"tlp:white", "misp-galaxy:malpedia=\"ExampleLoader\""}));
  EXPECT_EQ(s.first_seen, "2026-03-14");
  EXPECT_EQ(s.reference, "misp event 5e8f2c1a-3b4d-4e6f-8a9b-0c1d2e3f4a5b");

  const auto tagged = ip(l, "198.51.100.12");
  ASSERT_EQ(tagged.size(), 1u);
  EXPECT_EQ(tagged[0].source->tags,
            (std::vector<std::string>{"tlp:white", "misp-galaxy:malpedia=\"ExampleLoader\"", "kill-chain:command-and-control"}));
  EXPECT_EQ(tagged[0].source->name, s.name);

  EXPECT_EQ(ip(l, "198.51.100.11").size(), 1u);  // ip-src|port
  EXPECT_EQ(ip(l, "203.0.113.50").size(), 1u);   // domain|ip, both halves
  EXPECT_EQ(domain(l, "dl.evil-misp.example").size(), 2u);  // itself and evil-misp.example
  EXPECT_EQ(domain(l, "x.c2.evil-misp.example").size(), 2u);  // hostname and its parent domain
  EXPECT_EQ(url(l, "http://evil-misp.example/payload.bin").size(), 1u);
  EXPECT_EQ(hash(l, "ffeeddccbbaa99887766554433221100").size(), 1u);                                  // to_ids "1"
  EXPECT_EQ(hash(l, "1111111111111111111111111111111111111111111111111111111111111111").size(), 1u);  // filename|sha256
  EXPECT_EQ(domain(l, "obj.evil-misp.example").size(), 2u);  // object attribute (+ parent evil-misp.example)
  EXPECT_EQ(ip(l, "198.51.100.13").size(), 1u);
  EXPECT_EQ(hash(l, "2222222222222222222222222222222222222222").size(), 1u);  // to_ids 1
  EXPECT_TRUE(ip(l, "192.0.2.200").empty());  // to_ids false
}

TEST(MispEvent, SearchResponseWithSeveralEvents) {
  const Loaded l = load(parse_misp_event, "misp/response.json");
  EXPECT_COUNTS(l, 2, 0, 1);
  EXPECT_EQ(l.report.errors[0].message, "response[2] has no \"Event\"");
  const auto a = url(l, "https://login.phish-a.example/verify");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].source->name, "Phishing wave A");
  EXPECT_EQ(a[0].source->tags, std::vector<std::string>{"phishing"});
  EXPECT_EQ(a[0].source->first_seen, "2026-03-01");
  const auto b = domain(l, "phish-b.example");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].source->reference, "misp event 6a000000-0000-4000-8000-000000000002");
  EXPECT_TRUE(b[0].source->tags.empty());
}

TEST(MispEvent, BadAttributesAreErrorsAndTheRestLoads) {
  const Loaded l = load(parse_misp_event, "misp/bad_event.json");
  EXPECT_COUNTS(l, 1, 0, 5);
  const std::string ev = "misp event '7b000000-0000-4000-8000-000000000001'";
  const auto& e = l.report.errors;
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e[0].message, ev + ": Attribute[1] has no type or value");
  EXPECT_EQ(e[1].message, ev + ": Attribute[2] is not an object");
  EXPECT_EQ(e[2].message, ev + ": \"Object\" is not a list");
  // Values the store refuses are reported when the event's Source is written.
  EXPECT_EQ(e[3].message, ev + ": invalid ip 'not-an-ip'");
  EXPECT_EQ(e[4].message, ev + ": invalid hash 'xyz'");
  EXPECT_EQ(domain(l, "survivor.example").size(), 1u);
}

TEST(MispEvent, WrongShapes) {
  EXPECT_COUNTS(load_text(parse_misp_event, R"({"Event": []})"), 0, 0, 1);
  EXPECT_COUNTS(load_text(parse_misp_event, R"({"Event": {"info": "no attributes"}})"), 0, 0, 0);
  EXPECT_COUNTS(load_text(parse_misp_event, R"({"Event": {"Attribute": {}}})"), 0, 0, 1);
  EXPECT_COUNTS(load_text(parse_misp_event, R"({"Events": {}})"), 0, 0, 1);
  EXPECT_COUNTS(load_text(parse_misp_event, R"({"Event": {"Attribute": [)"), 0, 0, 1);
  EXPECT_COUNTS(load_text(parse_misp_event, ""), 0, 0, 1);
  // A list of events (the feed's JSON export of several events).
  const Loaded l = load_text(parse_misp_event,
                             R"([{"Event": {"uuid": "1", "Attribute": [{"type": "ip-dst", "value": "198.51.100.2"}]}},
                                 {"Event": {"uuid": "2", "Attribute": [{"type": "mutex", "value": "m"},
                                   {"type": "ip-dst", "value": "198.51.100.3", "deleted": true}]}}])");
  EXPECT_COUNTS(l, 1, 2, 0);
  EXPECT_TRUE(ip(l, "198.51.100.3").empty());
}

TEST(MispFeedDir, ManifestListsTheEvents) {
  LoadReport report;
  IndicatorStore store;
  load_misp_feed_dir((kData / "misp_feed").string(), store, report);
  store.finalize();
  EXPECT_EQ(report.files, 3u);  // manifest and the two events present
  EXPECT_EQ(report.indicators, 3u);
  EXPECT_EQ(report.skipped, 0u);
  ASSERT_EQ(report.errors_total, 2u) << errors_text(report);
  // nlohmann orders the manifest's keys: "../escape" sorts first.
  EXPECT_EQ(std::filesystem::path(report.errors[0].file).filename(), "manifest.json");
  EXPECT_EQ(report.errors[0].message, "event id '../escape' is not a uuid");
  EXPECT_EQ(std::filesystem::path(report.errors[1].file).filename(), "8c000000-0000-4000-8000-000000000003.json");
  EXPECT_EQ(report.errors[1].message.rfind("event listed in manifest.json cannot be read", 0), 0u);

  Loaded l{std::move(store), std::move(report)};
  const auto one = ip(l, "198.51.100.60");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].source->feed, "misp_feed");
  EXPECT_EQ(one[0].source->format, "misp");
  EXPECT_EQ(one[0].source->name, "Feed event one");
  EXPECT_EQ(one[0].source->tags, (std::vector<std::string>{"tlp:white", "ransomware"}));
  EXPECT_EQ(one[0].source->reference, "misp event 8c000000-0000-4000-8000-000000000001");
  EXPECT_EQ(hash(l, "3333333333333333333333333333333333333333333333333333333333333333").size(), 1u);
  // Event two's file has no info and no tags: the manifest's are used.
  const auto two = domain(l, "bot.feed-two.example");
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(two[0].source->name, "Feed event two (info only in the manifest)");
  EXPECT_EQ(two[0].source->tags, (std::vector<std::string>{"tlp:amber", "botnet"}));
  EXPECT_EQ(two[0].source->first_seen, "2026-02-21");
  EXPECT_TRUE(ip(l, "198.51.100.69").empty());  // a file the manifest does not list
}

TEST(MispFeedDir, MissingManifest) {
  LoadReport report;
  IndicatorStore store;
  load_misp_feed_dir((kData / "otx").string(), store, report);
  EXPECT_EQ(report.files, 0u);
  EXPECT_EQ(report.indicators, 0u);
  ASSERT_EQ(report.errors_total, 1u);
  EXPECT_EQ(std::filesystem::path(report.errors[0].file).filename(), "manifest.json");
  EXPECT_EQ(report.errors[0].message.rfind("cannot read MISP feed manifest", 0), 0u);
}

// ---------------------------------------------------------------- OTX

TEST(OtxPulse, OnePulse) {
  const Loaded l = load(parse_otx_pulses, "otx/pulse.json");
  // skipped: email, Mutex, FileHash-PEHASH, an inactive IPv4
  EXPECT_COUNTS(l, 9, 4, 0);
  EXPECT_EQ(l.store.source_count(), 1u);
  const auto m = ip(l, "198.51.100.30");
  ASSERT_EQ(m.size(), 1u);
  const Source& s = *m[0].source;
  EXPECT_EQ(s.feed, "pulse.json");
  EXPECT_EQ(s.format, "otx_pulse");
  EXPECT_EQ(s.name, "ExampleStrike beacons March 2026");
  EXPECT_EQ(s.tags, (std::vector<std::string>{"examplestrike", "c2", "beacon"}));
  EXPECT_EQ(s.first_seen, "2026-03-01T10:00:00.000000");
  EXPECT_EQ(s.last_seen, "2026-03-02T11:00:00.000000");
  EXPECT_EQ(s.reference, "https://otx.alienvault.com/pulse/65f0c2b3a4d5e6f7081920a1");

  EXPECT_EQ(ip(l, "2001:db8::30").size(), 1u);
  const auto cidr = ip(l, "203.0.113.130");
  ASSERT_EQ(cidr.size(), 1u);
  EXPECT_EQ(cidr[0].indicator, "203.0.113.128/25");
  EXPECT_TRUE(ip(l, "203.0.113.127").empty());
  EXPECT_EQ(domain(l, "cs.evil-otx.example").size(), 1u);
  EXPECT_EQ(domain(l, "www.cs2.evil-otx.example").size(), 1u);
  EXPECT_EQ(url(l, "http://cs.evil-otx.example/submit.php?id=1").size(), 1u);
  EXPECT_EQ(hash(l, "44444444444444444444444444444444").size(), 1u);
  EXPECT_EQ(hash(l, "5555555555555555555555555555555555555555").size(), 1u);
  EXPECT_EQ(hash(l, "6666666666666666666666666666666666666666666666666666666666666666").size(), 1u);
  EXPECT_TRUE(hash(l, "77777777777777777777777777777777").empty());  // PEHASH
  EXPECT_TRUE(ip(l, "198.51.100.31").empty());                      // is_active 0
}

TEST(OtxPulse, SubscribedPageAndList) {
  const Loaded l = load(parse_otx_pulses, "otx/subscribed.json");
  EXPECT_COUNTS(l, 3, 1, 0);  // the CVE is skipped
  EXPECT_EQ(l.store.source_count(), 2u);
  const auto m = ip(l, "198.51.100.51");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].source->name, "Exploited appliance");
  EXPECT_TRUE(m[0].source->tags.empty());
  EXPECT_EQ(m[0].source->reference, "https://otx.alienvault.com/pulse/65f0c2b3a4d5e6f7081920c3");
  EXPECT_EQ(domain(l, "drop.loader-otx.example")[0].source->tags, std::vector<std::string>{"loader"});

  const Loaded list = load_text(parse_otx_pulses, "[" + read(kData / "otx/pulse.json") + "]");
  EXPECT_COUNTS(list, 9, 4, 0);
}

TEST(OtxPulse, Empty) {
  const Loaded l = load(parse_otx_pulses, "otx/empty.json");
  EXPECT_COUNTS(l, 0, 0, 0);
  EXPECT_EQ(l.store.source_count(), 0u);
}

TEST(OtxPulse, WrongShapes) {
  const Loaded l = load(parse_otx_pulses, "otx/bad.json");
  EXPECT_COUNTS(l, 1, 0, 4);
  const auto& e = l.report.errors;
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].message, "pulse 'No indicators list': no \"indicators\" list");
  EXPECT_EQ(e[1].message, "results[1] is not an object");
  EXPECT_EQ(e[2].message, "pulse 'Partly broken': indicators[0] has no type or indicator");
  EXPECT_EQ(e[3].message, "pulse 'Partly broken': invalid ip '300.1.1.1'");
  const auto m = domain(l, "ok.evil-otx.example");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].source->reference, "");  // the id is not pasted into a URL
  EXPECT_TRUE(m[0].source->tags.empty());  // "tags" was not a list

  EXPECT_COUNTS(load_text(parse_otx_pulses, R"({"count": 1})"), 0, 0, 1);
  EXPECT_COUNTS(load_text(parse_otx_pulses, R"({"name": "x", "indicators": 5})"), 0, 0, 1);
}

// ---------------------------------------------------------------- dispatch

struct FeedCase {
  const char* file;
  uint64_t indicators;
  uint64_t skipped;
  uint64_t errors;
  const char* format;
};

TEST(JsonFeed, ChoosesTheFormatByContent) {
  const std::vector<FeedCase> cases = {
      {"stix/good_bundle.json", 14, 4, 0, "stix"},   {"stix/bad_bundle.json", 1, 0, 7, "stix"},
      {"stix/empty_bundle.json", 0, 0, 0, nullptr},  {"misp/event.json", 13, 4, 0, "misp"},
      {"misp/response.json", 2, 0, 1, "misp"},       {"misp/bad_event.json", 1, 0, 5, "misp"},
      {"otx/pulse.json", 9, 4, 0, "otx_pulse"},      {"otx/subscribed.json", 3, 1, 0, "otx_pulse"},
      {"otx/empty.json", 0, 0, 0, nullptr},          {"otx/bad.json", 1, 0, 4, "otx_pulse"},
      {"misp_feed/8c000000-0000-4000-8000-000000000001.json", 2, 0, 0, "misp"},
  };
  for (const FeedCase& c : cases) {
    SCOPED_TRACE(c.file);
    Loaded l;
    const std::filesystem::path p = kData / c.file;
    EXPECT_TRUE(parse_json_feed(p.filename().string(), read(p), l.store, l.report));
    EXPECT_COUNTS(l, c.indicators, c.skipped, c.errors);
    for (size_t i = 0; c.format != nullptr && i < l.store.source_count(); ++i) {
      EXPECT_EQ(l.store.source(static_cast<uint32_t>(i)).format, c.format);
    }
  }
}

TEST(JsonFeed, OtherTextIsNotClaimed) {
  for (const char* text : {R"({"foo": 1})", "[]", "[1, 2]", R"({"type": "indicator"})", R"({"results": [1]})",
                           "198.51.100.7\nevil.example\n", "", "   ", "first_seen_utc,dst_ip\n"}) {
    SCOPED_TRACE(text);
    Loaded l;
    EXPECT_FALSE(parse_json_feed("x.json", text, l.store, l.report));
    EXPECT_COUNTS(l, 0, 0, 0);
  }
}

TEST(JsonFeed, BrokenJsonIsReportedWithItsLine) {
  Loaded l;
  EXPECT_TRUE(parse_json_feed("cut.json", "{\"type\": \"bundle\",\n \"objects\": [\n", l.store, l.report));
  EXPECT_COUNTS(l, 0, 0, 1);
  EXPECT_EQ(l.report.errors[0].file, "cut.json");
  EXPECT_EQ(l.report.errors[0].line, 3u);
}

TEST(JsonFeed, ByteOrderMarkIsAccepted) {
  Loaded l;
  EXPECT_TRUE(parse_json_feed("bom.json", "\xEF\xBB\xBF" + read(kData / "otx/pulse.json"), l.store, l.report));
  EXPECT_COUNTS(l, 9, 4, 0);
}

TEST(JsonFeed, DeepNestingIsRefusedBeforeParsing) {
  const std::string deep = std::string(5000, '[') + std::string(5000, ']');
  Loaded l;
  EXPECT_TRUE(parse_json_feed("deep.json", deep, l.store, l.report));
  EXPECT_COUNTS(l, 0, 0, 1);
  EXPECT_EQ(l.report.errors[0].message, "JSON nested deeper than 100 levels");
  // Brackets inside strings do not count.
  const std::string quoted = R"({"name": "p", "indicators": [], "description": ")" + std::string(500, '[') + R"("})";
  Loaded q;
  EXPECT_TRUE(parse_json_feed("q.json", quoted, q.store, q.report));
  EXPECT_COUNTS(q, 0, 0, 0);
}

TEST(JsonFeed, OversizeInputIsRefusedWithoutReadingIt) {
  // 512 MiB + 1 of untouched anonymous pages: the size check must come first.
  const size_t n = (size_t{512} << 20) + 1;
  void* p = mmap(nullptr, n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  Loaded l;
  parse_stix("huge.json", std::string_view(static_cast<const char*>(p), n), l.store, l.report);
  munmap(p, n);
  EXPECT_COUNTS(l, 0, 0, 1);
  EXPECT_EQ(l.report.errors[0].message, "JSON feed of 536870913 bytes is over the limit of 536870912 bytes");
}

}  // namespace
}  // namespace trawl::intel
