// Records back from JSON: for every record type, write_json(read(line)) ==
// line, byte for byte, and the typed fields detectors read come back.
#include "store/record_json.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "analyzers/common/auth_record.h"
#include "analyzers/dns/dns_log_record.h"
#include "analyzers/ftp/ftp_record.h"
#include "analyzers/http/http_record.h"
#include "analyzers/imap/imap_record.h"
#include "analyzers/pop3/pop3_record.h"
#include "analyzers/rdp/rdp_record.h"
#include "analyzers/smb/smb_record.h"
#include "analyzers/smtp/smtp_record.h"
#include "analyzers/ssh/ssh_record.h"
#include "analyzers/ssl/ssl_record.h"
#include "app/engine.h"
#include "core/community_id.h"

namespace trawl::store {
namespace {

core::IpAddress ip(const char* s) { return *core::IpAddress::parse(s); }

// Bytes JsonLine must escape, and ones it writes as they are.
const std::string kNasty = std::string("a\"b\\c\n\t\r\x01\x7f") + "\xc3\xa9" + "\xff\xc3" + "z" + "\xe2\x82\xac";

template <typename R>
void set_id(R& r) {
  r.ts = core::Timestamp{1700000000123456789};
  r.uid = "CAbcdefghijklmnopq";
  r.orig_h = ip("192.0.2.10");
  r.orig_p = 49152;
  r.resp_h = ip("2001:db8::1");
  r.resp_p = 443;
}

std::string line_of(const analyzers::Record& r) {
  std::string s;
  r.write_json(s);
  s.pop_back();
  return s;
}

// Reads `line` as `log` and writes it again.
std::string again(std::string_view log, const std::string& line) {
  TypedRecord t;
  std::string err;
  EXPECT_TRUE(typed_from_json(log, line, t, err)) << log << ": " << err << "\n" << line;
  return typed_to_json(t);
}

TEST(RecordJson, ConnRoundTripAndFlags) {
  flow::ConnRecord c;
  c.ts = core::Timestamp{1700000000000001000};
  c.uid = "C1234567890abcdefg";
  c.orig_h = ip("10.0.0.5");
  c.orig_p = 40000;
  c.resp_h = ip("203.0.113.9");
  c.resp_p = 22;
  c.proto = 6;
  c.service = "ssh";
  c.has_duration = true;
  c.duration_ns = 2500000;
  c.orig_bytes = 10;
  c.resp_bytes = 20;
  c.conn_state = flow::ConnState::kRSTR;
  c.history = "ShADadr";
  // Flags as that history tells them: the line leaves them out and the reader
  // infers them.
  c.orig_first_flags = 0x02;
  c.orig_flags = 0x02 | 0x10 | 0x08;
  c.resp_flags = 0x02 | 0x10 | 0x08 | 0x04;
  c.orig_pkts = 4;
  c.orig_ip_bytes = 250;
  c.resp_pkts = 5;
  c.resp_ip_bytes = 300;
  c.community_id = "1:abc=";
  c.has_vlan = true;
  c.vlan = 10;
  c.has_inner_vlan = true;
  c.inner_vlan = 20;
  std::string line;
  output::append_conn_json(c, line);
  line.pop_back();
  EXPECT_EQ(line.find("flags"), std::string::npos);
  EXPECT_EQ(again("conn", line), line);

  flow::ConnRecord back;
  std::string err;
  ASSERT_TRUE(conn_from_json(line, back, err)) << err;
  EXPECT_EQ(back.proto, 6);
  EXPECT_EQ(back.conn_state, flow::ConnState::kRSTR);
  EXPECT_EQ(back.last_ts.ns, 1700000000002501000);
  EXPECT_EQ(back.orig_first_flags, 0x02);         // S
  EXPECT_EQ(back.orig_flags, 0x02 | 0x10 | 0x08);  // S, A, D
  EXPECT_EQ(back.resp_flags, 0x02 | 0x10 | 0x08 | 0x04);  // h, d, a, r

  // No duration: the fields are absent and stay absent; ICMPv6 stays 58.
  flow::ConnRecord icmp;
  icmp.ts = core::Timestamp{-1500000000};  // before the epoch
  icmp.uid = "Cx";
  icmp.orig_h = ip("2001:db8::2");
  icmp.resp_h = ip("2001:db8::3");
  icmp.orig_p = 128;
  icmp.resp_p = 129;
  icmp.proto = 58;
  icmp.conn_state = flow::ConnState::kOTH;
  line.clear();
  output::append_conn_json(icmp, line);
  line.pop_back();
  EXPECT_EQ(again("conn", line), line);
  ASSERT_TRUE(conn_from_json(line, back, err)) << err;
  EXPECT_EQ(back.proto, 58);
  EXPECT_FALSE(back.has_duration);
}

TEST(RecordJson, UnknownTransportNumberFromCommunityId) {
  flow::ConnRecord c;
  c.ts = core::Timestamp{1700000000000000000};
  c.uid = "Cgre";
  c.orig_h = ip("192.0.2.1");
  c.resp_h = ip("192.0.2.2");
  c.proto = 47;  // GRE: written as "unknown_transport"
  c.community_id = core::community_id_v1(c.orig_h, c.resp_h, 47, 0, 0);
  std::string line;
  output::append_conn_json(c, line);
  line.pop_back();
  ASSERT_NE(line.find("\"proto\":\"unknown_transport\""), std::string::npos);
  flow::ConnRecord back;
  std::string err;
  ASSERT_TRUE(conn_from_json(line, back, err)) << err;
  EXPECT_EQ(back.proto, 47);
  EXPECT_EQ(again("conn", line), line);
}

TEST(RecordJson, ConnFlagsFromTheLineWhenPresent) {
  std::string line =
      R"({"ts":1.000000,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":80,)"
      R"("proto":"tcp","conn_state":"S0","missed_bytes":0,"history":"F","orig_pkts":1,"orig_ip_bytes":40,)"
      R"("resp_pkts":0,"resp_ip_bytes":0,"community_id":"x","orig_first_flags":41,"orig_flags":41,"resp_flags":0})";
  flow::ConnRecord c;
  std::string err;
  ASSERT_TRUE(conn_from_json(line, c, err)) << err;
  EXPECT_EQ(c.orig_first_flags, 41);  // FIN|PSH|URG: an Xmas probe, which the history alone cannot tell
  EXPECT_EQ(c.ts.ns, 1000000000);
}

// The writer adds the flags exactly when the history would misread them, so
// every record reads back with the flags the detectors saw.
TEST(RecordJson, ConnFlagsWrittenWhereTheHistoryCannotTellThem) {
  struct Case {
    const char* history;
    uint8_t first, orig, resp;
    bool written;
  };
  const Case cases[] = {
      {"F", 0x29, 0x29, 0x00, true},               // Xmas: FIN|PSH|URG reads as "F"
      {"F", 0x01, 0x01, 0x00, false},              // FIN probe
      {"Sr", 0x02, 0x02, 0x14, true},              // refused: RST|ACK reads as RST
      {"Sr", 0x02, 0x02, 0x04, false},             // bare RST
      {"ShADadFf", 0x02, 0x1b, 0x1b, false},       // a whole conversation
      {"ShADadFf", 0xc2, 0xdb, 0x5b, false},       // ECN bits are not what the history is read for
      {"", 0x00, 0x00, 0x00, false},               // NULL probe, unanswered
      {"Dd", 0x10, 0x18, 0x18, true},              // first packet a bare ACK, not "D"
  };
  for (const auto& k : cases) {
    flow::ConnRecord c;
    c.ts = core::Timestamp{1000000000};
    c.uid = "CAAAAAAAAAAAAAAAAA";
    c.orig_h = ip("192.0.2.1");
    c.resp_h = ip("192.0.2.2");
    c.orig_p = 40000;
    c.resp_p = 80;
    c.proto = 6;
    c.history = k.history;
    c.orig_first_flags = k.first;
    c.orig_flags = k.orig;
    c.resp_flags = k.resp;
    EXPECT_EQ(flow::flags_beyond_history(c), k.written) << k.history << " " << int(k.first);
    std::string line;
    output::append_conn_json(c, line);
    line.pop_back();
    EXPECT_EQ(line.find("orig_first_flags") != std::string::npos, k.written) << line;
    flow::ConnRecord back;
    std::string err;
    ASSERT_TRUE(conn_from_json(line, back, err)) << err;
    EXPECT_EQ(back.orig_first_flags & 0x3f, k.first & 0x3f) << line;
    EXPECT_EQ(back.orig_flags & 0x3f, k.orig & 0x3f) << line;
    EXPECT_EQ(back.resp_flags & 0x3f, k.resp & 0x3f) << line;
    EXPECT_EQ(again("conn", line), line);
  }
  // UDP never carries them.
  flow::ConnRecord u;
  u.proto = 17;
  u.orig_flags = 0x3f;
  EXPECT_FALSE(flow::flags_beyond_history(u));
}

TEST(RecordJson, ArpRoundTrip) {
  output::ArpRecord a;
  a.ts = core::Timestamp{1600000000500000000};
  a.op = 7;
  a.src_mac = {0, 0x11, 0x22, 0x33, 0x44, 0xff};
  a.sender_mac = {1, 2, 3, 4, 5, 6};
  a.sender_ip = ip("192.0.2.1");
  a.target_ip = ip("192.0.2.2");
  a.has_vlan = true;
  a.vlan = 4095;
  std::string line;
  output::append_arp_json(a, line);
  line.pop_back();
  EXPECT_EQ(again("arp", line), line);
  output::ArpRecord b;
  std::string err;
  ASSERT_TRUE(arp_from_json(line, b, err));
  EXPECT_EQ(b.src_mac, a.src_mac);
  EXPECT_EQ(b.op, 7);
}

TEST(RecordJson, AuthRoundTrip) {
  analyzers::AuthRecord r;
  r.ts = core::Timestamp{1700000000000000000};
  r.uid = "Cu";
  r.client = ip("10.1.1.1");
  r.client_port = 5555;
  r.server = ip("10.1.1.2");
  r.server_port = 110;
  r.proto = "pop3";
  r.method = "USER/PASS";
  r.user = kNasty;
  r.domain = "CORP";
  r.password = "s3cr\xe9t";
  r.has_password = true;
  r.outcome = analyzers::AuthOutcome::kFailure;
  r.reply = "-ERR no";
  std::string line = line_of(r);
  EXPECT_EQ(again("auth", line), line);
  r.method.clear();
  r.domain.clear();
  r.has_password = false;
  r.reply.clear();
  r.outcome = analyzers::AuthOutcome::kUnknown;
  line = line_of(r);
  EXPECT_EQ(again("auth", line), line);
  std::string err;
  auto back = record_from_json("auth", line, err);
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(static_cast<const analyzers::AuthRecord&>(*back).user, kNasty);
}

TEST(RecordJson, DnsRoundTripAndTypedAnswers) {
  analyzers::dns::DnsLogRecord r;
  set_id(r);
  r.trans_id = 4242;
  r.rtt_ns = 1500000;
  r.query = "www.example.com";
  r.qclass = 1;
  r.qtype = 1;
  r.rcode = 0;
  r.rd = r.ra = true;
  r.z = 3;
  analyzers::dns::DnsAnswer cname;
  cname.text = "edge.example.net";
  cname.ttl = 300;
  analyzers::dns::DnsAnswer a;
  a.text = "198.51.100.7";
  a.ttl = 4294967295u;
  r.answers = {cname, a};
  std::string line = line_of(r);
  EXPECT_EQ(again("dns", line), line);
  std::string err;
  auto back = record_from_json("dns", line, err);
  ASSERT_NE(back, nullptr) << err;
  const auto& d = static_cast<const analyzers::dns::DnsLogRecord&>(*back);
  ASSERT_EQ(d.answers.size(), 2u);
  EXPECT_EQ(d.answers[0].type, 5);
  EXPECT_FALSE(d.answers[0].address);
  ASSERT_TRUE(d.answers[1].address);
  EXPECT_EQ(d.answers[1].address->to_string(), "198.51.100.7");
  EXPECT_EQ(d.answers[1].ttl, 4294967295u);
  EXPECT_TRUE(d.saw_query);
  EXPECT_TRUE(d.saw_reply);
  EXPECT_EQ(d.reply_ts.ns, 1700000000123457000 + 1500000);

  // A response alone: no qtype/qclass, no answers, rejected, over TCP.
  analyzers::dns::DnsLogRecord q;
  set_id(q);
  q.tcp = true;
  q.query = "\\x00odd\xff";
  q.rcode = 3;
  q.rejected = true;
  line = line_of(q);
  EXPECT_EQ(again("dns", line), line);
}

TEST(RecordJson, FtpRoundTrip) {
  analyzers::ftp::FtpRecord r;
  set_id(r);
  r.password = "<hidden>";
  r.command = "RETR";
  r.arg = "ftp://192.0.2.1/a b";
  r.file_size = 123;
  r.reply_code = 226;
  r.reply_msg = "ok";
  r.data_channel = analyzers::ftp::DataChannel{true, ip("192.0.2.10"), ip("192.0.2.1"), 20000};
  std::string line = line_of(r);
  EXPECT_EQ(again("ftp", line), line);
  analyzers::ftp::FtpRecord bare;
  set_id(bare);
  bare.command = "USER";
  line = line_of(bare);
  EXPECT_EQ(again("ftp", line), line);
}

TEST(RecordJson, HttpRoundTrip) {
  analyzers::http::HttpRecord r;
  set_id(r);
  r.trans_depth = 2;
  r.method = "POST";
  r.host = "example.com:8080";
  r.uri = "/a?b=c d";
  r.referrer = "x";
  r.version = "1.1";
  r.user_agent = kNasty;
  r.origin = "o";
  r.request_body_len = 5;
  r.response_body_len = 6;
  r.status_code = 200;
  r.status_msg = "OK";
  r.info_code = 100;
  r.info_msg = "Continue";
  r.username = "u";
  r.password = "p";
  r.proxied = {"X-FORWARDED-FOR -> 192.0.2.3", "VIA -> p"};
  r.orig_mime_type = "application/x-www-form-urlencoded";
  r.resp_mime_type = "text/html";
  r.post_fields = {"user", "pass"};
  r.resp_location = "/next";
  std::string line = line_of(r);
  EXPECT_EQ(again("http", line), line);
  analyzers::http::HttpRecord bare;
  set_id(bare);
  line = line_of(bare);
  EXPECT_EQ(again("http", line), line);
}

TEST(RecordJson, ImapPop3RoundTrip) {
  analyzers::imap::ImapRecord i;
  set_id(i);
  i.user = "bob";
  i.tag = "a1";
  i.command = "LOGIN";
  i.arg = "bob <hidden>";
  i.status = "NO";
  i.msg = "bad";
  i.request_literal_bytes = 7;
  i.response_literal_bytes = 9;
  std::string line = line_of(i);
  EXPECT_EQ(again("imap", line), line);
  analyzers::pop3::Pop3Record p;
  set_id(p);
  p.command = "RETR";
  p.arg = "1";
  p.status = "+OK";
  p.response_body_len = 0;
  line = line_of(p);
  EXPECT_EQ(again("pop3", line), line);
  p.status.clear();
  p.response_body_len.reset();
  line = line_of(p);
  EXPECT_EQ(again("pop3", line), line);
}

TEST(RecordJson, RdpSshRoundTrip) {
  analyzers::rdp::RdpRecord r;
  set_id(r);
  r.cookie = "mstshash=admin";
  r.result = "Success";
  r.requested_protocols = std::vector<std::string>{"SSL", "HYBRID"};
  r.client_channels = std::vector<std::string>{};
  r.desktop_width = 1024;
  r.desktop_height = 768;
  r.cert_count = 2;
  r.cert_permanent = false;
  r.encryption_method = "128bit";
  std::string line = line_of(r);
  EXPECT_EQ(again("rdp", line), line);
  analyzers::ssh::SshRecord s;
  set_id(s);
  s.version = 2;
  s.auth_success = false;
  s.auth_attempts = 3;
  s.client = "SSH-2.0-x";
  s.hassh = "h";
  s.hassh_server = "hs";
  line = line_of(s);
  EXPECT_EQ(again("ssh", line), line);
}

TEST(RecordJson, SslRoundTripWithNamesAndUnknowns) {
  analyzers::ssl::SslRecord r;
  set_id(r);
  r.version = 0x0303;
  r.cipher = 0xc02f;
  r.curve = 29;
  r.server_name = "example.com";
  r.last_alert = 40;
  r.next_protocol = "h2";
  r.established = true;
  r.ssl_history = "CsxknGIi";
  r.has_certificates = true;
  r.cert_chain_fps = {"aa", "bb"};
  r.subject = "CN=example.com";
  r.issuer = "CN=ca";
  r.sni_matches_cert = true;
  r.client_version = 0x0303;
  r.ja3 = "j3";
  r.ja4 = "j4";
  r.not_valid_before = -1;
  r.not_valid_after = 2000000000;
  r.san_dns = {"example.com", "*.example.com"};
  std::string line = line_of(r);
  EXPECT_EQ(again("ssl", line), line);
  std::string err;
  auto back = record_from_json("ssl", line, err);
  ASSERT_NE(back, nullptr) << err;
  const auto& s = static_cast<const analyzers::ssl::SslRecord&>(*back);
  EXPECT_EQ(s.version, 0x0303);
  EXPECT_EQ(s.cipher, 0xc02f);
  EXPECT_EQ(s.last_alert, 40);

  r.version = 0x7f17;  // TLSv13-draft23
  r.cipher = 0x1f1f;   // unknown-7967
  r.curve = 0xfafa;
  r.has_certificates = false;
  line = line_of(r);
  EXPECT_EQ(again("ssl", line), line);
  back = record_from_json("ssl", line, err);
  ASSERT_NE(back, nullptr) << err;
  EXPECT_EQ(static_cast<const analyzers::ssl::SslRecord&>(*back).cipher, 0x1f1f);
}

TEST(RecordJson, SmbRoundTripAndTypedFields) {
  namespace smb = analyzers::smb;
  smb::SmbRecord r;
  set_id(r);
  r.version = smb::SmbVersion::kSmb1;
  r.action = smb::SmbAction::kTransaction;
  r.command = smb::smb1::kTransaction;
  r.command_name = "TRANSACTION";
  r.has_sub_command = true;
  r.sub_command = 0x23;  // PeekNamedPipe
  r.answered = true;
  r.status = 0xc0000205;
  r.rtt_ns = 1000;
  r.has_message_id = true;
  r.message_id = 65;
  r.has_fid = true;
  r.fid = 0;
  r.tree = "\\\\192.0.2.1\\IPC$";
  std::string line = line_of(r);
  EXPECT_EQ(again("smb", line), line);
  std::string err;
  auto back = record_from_json("smb", line, err);
  ASSERT_NE(back, nullptr) << err;
  const auto& s = static_cast<const smb::SmbRecord&>(*back);
  EXPECT_EQ(s.action, smb::SmbAction::kTransaction);
  EXPECT_EQ(s.sub_command, 0x23u);
  EXPECT_EQ(s.status, 0xc0000205u);
  EXPECT_TRUE(s.has_fid);

  smb::SmbRecord n;
  set_id(n);
  n.version = smb::SmbVersion::kSmb1;
  n.action = smb::SmbAction::kNegotiate;
  n.command = smb::smb1::kNegotiate;
  n.command_name = "NEGOTIATE";
  n.has_pid_high = true;
  n.pid_high = 0xfeff;
  n.dialects = {"NT LM 0.12", "SMB 2.002"};
  n.dialect = "NT LM 0.12";
  n.answered = true;
  n.dos_error = true;
  n.status = 0x00010002;
  line = line_of(n);
  EXPECT_EQ(again("smb", line), line);

  smb::SmbRecord d;
  set_id(d);
  d.version = smb::SmbVersion::kSmb2;
  d.action = smb::SmbAction::kDceRpcBind;
  d.command_name = "DCE_RPC_BIND";
  d.named_pipe = "srvsvc";
  d.uuid = "4b324fc8-1670-01d3-1278-5a47bf6ee188";
  d.uuid_ver_major = 3;
  d.endpoint = "srvsvc";
  d.has_bind_result = true;
  d.bind_result = 2;
  d.bind_reason = 1;
  d.has_user = true;
  d.guest = true;
  d.share_type = 2;
  line = line_of(d);
  EXPECT_EQ(again("smb", line), line);
  back = record_from_json("smb", line, err);
  ASSERT_NE(back, nullptr) << err;
  EXPECT_EQ(static_cast<const smb::SmbRecord&>(*back).action, smb::SmbAction::kDceRpcBind);

  smb::SmbRecord q;
  set_id(q);
  q.version = smb::SmbVersion::kSmb2;
  q.action = smb::SmbAction::kDceRpcRequest;
  q.command_name = "DCE_RPC_REQUEST";
  q.has_opnum = true;
  q.opnum = 31;
  q.operation = "NetprPathCanonicalize";
  q.stub_len = 100;
  q.path_traversal_checked = true;
  q.path_traversal = true;
  q.fault = true;
  q.fault_status = 0x1c010003;
  line = line_of(q);
  EXPECT_EQ(again("smb", line), line);
}

TEST(RecordJson, SmtpRoundTrip) {
  analyzers::smtp::SmtpRecord r;
  set_id(r);
  r.has_helo = true;
  r.helo = "client";
  r.mailfrom = "<a@example.com>";
  r.rcptto = {"<b@example.com>"};
  r.has_date = r.has_from = r.has_to = r.has_cc = r.has_subject = true;
  r.date = "today";
  r.from = "A";
  r.to = {"B", "C"};
  r.cc = {"D"};
  r.subject = kNasty;
  r.has_x_originating_ip = true;
  r.x_originating_ip = ip("198.51.100.1");
  r.has_last_reply = true;
  r.last_reply = "250 ok";
  r.path = {ip("2001:db8::1"), ip("192.0.2.10")};
  r.tls = true;
  r.auth_mechanism = "LOGIN";
  r.has_auth_user = true;
  r.auth_user = "a";
  r.auth_outcome = analyzers::AuthOutcome::kSuccess;
  r.attachments = {{"invoice.exe", "application/x-msdownload", 1234, false}, {"", "text/plain", 0, true}};
  std::string line = line_of(r);
  EXPECT_EQ(again("smtp", line), line);
  std::string err;
  auto back = record_from_json("smtp", line, err);
  ASSERT_NE(back, nullptr) << err;
  const auto& s = static_cast<const analyzers::smtp::SmtpRecord&>(*back);
  ASSERT_EQ(s.attachments.size(), 2u);
  EXPECT_EQ(s.attachments[0].name, "invoice.exe");
  EXPECT_FALSE(s.attachments[0].complete);
}

TEST(RecordJson, FindingRoundTrip) {
  detect::Finding f;
  f.id = "scan.tcp_syn";
  f.ts = core::Timestamp{1700000000000000000};
  f.last_ts = core::Timestamp{1700000010000000000};
  f.severity = detect::Severity::kHigh;
  f.confidence = 0.9;
  f.src = "192.0.2.5";
  f.dst = {"192.0.2.6"};
  f.dst_count = 1;
  f.ports = {22, 80};
  f.service = "ssh";
  f.counts = {{"probes", 100}, {"ports", 2}};
  f.summary = "a \"scan\"";
  f.attack = "T1046";
  f.evidence = {"C1", "C2"};
  f.evidence_total = 100;
  f.details = R"({"open":[22],"rate":1.250,"nested":{"a":true,"b":null}})";
  std::string line;
  detect::append_finding_json(f, line);
  line.pop_back();
  detect::Finding back;
  std::string err;
  ASSERT_TRUE(finding_from_json(line, back, err)) << err;
  std::string again_line;
  detect::append_finding_json(back, again_line);
  again_line.pop_back();
  EXPECT_EQ(again_line, line);
  EXPECT_EQ(back.evidence_total, 100u);
}

TEST(RecordJson, MalformedLinesGiveMessages) {
  const char* bad[] = {
      "",
      "{",
      "[]",
      "{\"ts\":}",
      "{\"ts\":1.0,\"uid\":\"C\"",
      "{\"ts\":\"1.0\"}",
      "{\"ts\":1.0e400,\"uid\":\"C\"}",
      "{\"ts\":1.0} trailing",
      "{\"a\":\"\\ud800\"}",
      "{\"a\":\"\\q\"}",
      "{\"a\":[[[[[[[[[[[[1]]]]]]]]]]]]}",
  };
  for (const char* line : bad) {
    std::string err;
    flow::ConnRecord c;
    EXPECT_FALSE(conn_from_json(line, c, err)) << line;
    EXPECT_FALSE(err.empty()) << line;
    for (auto log : analyzer_logs()) {
      err.clear();
      EXPECT_EQ(record_from_json(log, line, err), nullptr) << log << " " << line;
      EXPECT_FALSE(err.empty());
    }
  }
  std::string err;
  // A port out of range, an address that is not one.
  std::string line =
      R"({"ts":1.0,"uid":"C","id.orig_h":"10.0.0.1","id.orig_p":70000,"id.resp_h":"10.0.0.2","id.resp_p":1,"proto":"ftp","user":"u","command":"X"})";
  EXPECT_EQ(record_from_json("ftp", line, err), nullptr);
  EXPECT_NE(err.find("id.orig_p"), std::string::npos) << err;
  line = R"({"ts":1.0,"uid":"C","id.orig_h":"10.0.0.300","id.orig_p":7,"id.resp_h":"10.0.0.2","id.resp_p":1,"user":"u","command":"X"})";
  EXPECT_EQ(record_from_json("ftp", line, err), nullptr);
  EXPECT_NE(err.find("id.orig_h"), std::string::npos) << err;
  EXPECT_EQ(record_from_json("nosuchlog", "{}", err), nullptr);
  EXPECT_NE(err.find("unknown log"), std::string::npos);
}


// The property on real output: every line `trawl analyze` writes for the
// test captures (repository and shared ones with every protocol) reads back
// and writes again byte for byte.
TEST(RecordJson, AnalyzeOutputRoundTrips) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  auto add_dir = [&files](const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return;
    for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
      std::string ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".pcap" || ext == ".pcapng")) files.push_back(e.path().string());
    }
  };
  const fs::path data(TRAWL_TEST_DATA);
  add_dir(data / "pcaps");
  add_dir(data / "crafted");
  add_dir(data / ".." / ".." / "samples");
  const fs::path shared(TRAWL_SHARED_PCAPS);
  for (const char* f : {"smb_worm/ms17-010_eternalblue_scan_id2t.pcap", "bruteforce/ssh_guess_zeek.pcap",
                        "bruteforce/ftp_bruteforce_zeek.pcap", "smtp/smtp_authlogin_attachment_zeek.pcap",
                        "dns/dns_txt_tunnel_suricata.pcap", "c2_beacon/caldera_ragdoll_http_c2.pcap",
                        "c2_beacon/beacon_https_jitter2-3s_slips.pcap", "benign/many_protocols_pcpp.pcap",
                        "scan/nmap_xmas_scan_evilfingers.pcap"}) {
    std::error_code ec;
    if (fs::exists(shared / f, ec)) files.push_back((shared / f).string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 10u);
  std::map<std::string, uint64_t> per_log;
  uint64_t failures = 0;
  for (const auto& path : files) {
    app::EngineOptions o;
    o.progress = false;
    app::Engine e(o);
    auto check = [&](std::string_view log, std::string line) {
      line.pop_back();  // the newline
      ++per_log[std::string(log)];
      TypedRecord t;
      std::string err;
      bool ok = typed_from_json(log, line, t, err);
      if (!ok || typed_to_json(t) != line) {
        if (++failures <= 5) {
          ADD_FAILURE() << path << ": " << log << (ok ? " differs" : ": " + err) << "\n  in:  " << line
                        << "\n  out: " << (ok ? typed_to_json(t) : "");
        }
      }
    };
    e.on_conn = [&](const flow::ConnRecord& r) {
      std::string s;
      output::append_conn_json(r, s);
      check("conn", std::move(s));
    };
    e.on_arp = [&](const output::ArpRecord& r) {
      std::string s;
      output::append_arp_json(r, s);
      check("arp", std::move(s));
    };
    e.on_record = [&](const analyzers::Record& r) {
      std::string s;
      r.write_json(s);
      check(r.log(), std::move(s));
    };
    app::RunStats st;
    e.run({path}, st);
  }
  EXPECT_EQ(failures, 0u);
  // Every log was seen, so every reader was exercised on real lines.
  for (const char* log : {"conn", "arp", "auth", "dns", "ftp", "http", "imap", "pop3", "rdp", "smb", "smtp", "ssh",
                          "ssl"}) {
    EXPECT_GT(per_log[log], 0u) << log;
  }
}

}  // namespace
}  // namespace trawl::store
