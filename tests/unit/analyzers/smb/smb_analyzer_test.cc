// Tests for the SMB analyzer driven through a Dispatcher: the probe, the
// MS08-067 probe sequence over SMB1 (records for every step, the DCE/RPC bind
// and the NetPathCompare with its traversal flag), a CVE-2009-3103 negotiate,
// an SMB2 session with NTLM logins (auth.jsonl), DCE/RPC over SMB2 pipes,
// MS17-010 probe replies, bulk data skipped, SMB3 encryption, delivery in any
// chunking, gaps, and every limit with its anomaly.
#include "analyzers/smb/smb_analyzer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/common/auth_record.h"
#include "analyzers/dispatcher.h"
#include "analyzers/smb/smb_builder.h"
#include "analyzers/smb/smb_names.h"
#include "analyzers/smb/smb_record.h"
#include "flow/conn_record.h"

namespace trawl::analyzers::smb {
namespace {

using test_util::Bytes;
using test_util::nbss;
using test_util::Smb1;
using test_util::Smb1Header;
using test_util::Smb2Header;

core::Timestamp at(int64_t ms) { return core::Timestamp::from_sec_nsec(1700000000, 0) + ms * 1000000; }

ConnInfo test_conn(uint16_t resp_p = 445) {
  ConnInfo c;
  c.uid = "CSmbTest0000000001";
  c.orig_h = *core::IpAddress::parse("10.0.0.1");
  c.resp_h = *core::IpAddress::parse("10.0.0.2");
  c.orig_p = 49152;
  c.resp_p = resp_p;
  c.proto = 6;
  return c;
}

struct Harness {
  explicit Harness(const ConnInfo& info = test_conn(), bool reveal = false)
      : config{reveal}, d(info, config, anomalies, sink, registry()) {}

  void c(const std::vector<uint8_t>& smb_msg, int64_t ms) { raw(true, nbss(smb_msg), ms); }
  void s(const std::vector<uint8_t>& smb_msg, int64_t ms) { raw(false, nbss(smb_msg), ms); }
  void raw(bool is_orig, const std::vector<uint8_t>& bytes, int64_t ms) {
    d.stream_data(is_orig, {bytes.data(), bytes.size()}, at(ms));
  }
  void finish(int64_t ms = 100000) { d.finish(at(ms), rec); }

  // Plays a script: each step's NBSS-framed bytes in pieces of `chunk` bytes (0: whole).
  void play(const std::vector<struct Step>& script, size_t chunk = 0);

  std::vector<const SmbRecord*> smb() const {
    std::vector<const SmbRecord*> out;
    for (const auto& r : sink) {
      if (auto* s = dynamic_cast<const SmbRecord*>(r.get())) out.push_back(s);
    }
    return out;
  }
  std::vector<const AuthRecord*> auth() const {
    std::vector<const AuthRecord*> out;
    for (const auto& r : sink) {
      if (auto* a = dynamic_cast<const AuthRecord*>(r.get())) out.push_back(a);
    }
    return out;
  }
  const SmbRecord* find(std::string_view command, size_t nth = 0) const {
    for (const SmbRecord* r : smb()) {
      if (r->command_name == command && nth-- == 0) return r;
    }
    return nullptr;
  }
  std::string json() const {
    std::string out;
    for (const auto& r : sink) r->write_json(out);
    return out;
  }

  AnalyzerConfig config;
  core::Anomalies anomalies;
  std::vector<std::unique_ptr<Record>> sink;
  Dispatcher d;
  flow::ConnRecord rec;
};

// A bare Context for driving SmbAnalyzer with non-default limits.
struct DirectCtx : Context {
  ConnInfo info = test_conn();
  AnalyzerConfig cfg;
  core::Anomalies an;
  std::vector<std::unique_ptr<Record>> out;
  bool gave_up = false;
  const ConnInfo& conn() const override { return info; }
  const AnalyzerConfig& config() const override { return cfg; }
  core::Anomalies& anomalies() override { return an; }
  void emit(std::unique_ptr<Record> r) override { out.push_back(std::move(r)); }
  void give_up() override { gave_up = true; }
  void upgrade(std::string_view) override {}
};

struct Step {
  bool orig;
  std::vector<uint8_t> bytes;  // NBSS framed
  int64_t ms;
};
using Script = std::vector<Step>;

void Harness::play(const Script& script, size_t chunk) {
  for (const Step& st : script) {
    const size_t n = chunk == 0 ? st.bytes.size() : chunk;
    for (size_t i = 0; i < st.bytes.size(); i += n) {
      d.stream_data(st.orig, core::ByteView(st.bytes).subspan(i, std::min(n, st.bytes.size() - i)), at(st.ms));
    }
  }
}

struct ScriptBuilder {
  Script s;
  void c(const std::vector<uint8_t>& m, int64_t ms) { s.push_back({true, nbss(m), ms}); }
  void r(const std::vector<uint8_t>& m, int64_t ms) { s.push_back({false, nbss(m), ms}); }
};

// ---- SMB1 message makers (nmap smb-vuln-ms08-067 shapes) --------------------------

constexpr uint16_t kUid = 2048;
constexpr uint16_t kTid = 2049;
constexpr uint16_t kFid = 0x4000;

Smb1Header req(uint16_t mid, uint16_t tid = 0, uint16_t uid = 0) {
  Smb1Header h;
  h.mid = mid;
  h.tid = tid;
  h.uid = uid;
  return h;
}
Smb1Header rsp(uint16_t mid, uint32_t status = 0, uint16_t tid = 0, uint16_t uid = 0) {
  Smb1Header h = req(mid, tid, uid);
  h.response = true;
  h.status = status;
  return h;
}

std::vector<uint8_t> negotiate_req(uint16_t mid, const std::vector<std::string>& dialects, uint16_t pid_high = 0) {
  Smb1Header h = req(mid);
  h.pid_high = pid_high;
  Bytes bytes;
  for (const std::string& d : dialects) bytes.u8(2).ascii(d);
  return Smb1(h).add(smb1::kNegotiate, Bytes{}, bytes).build();
}

std::vector<uint8_t> negotiate_rsp(uint16_t mid, uint16_t index, bool ext_sec = true) {
  Bytes w;
  w.u16(index).u8(ext_sec ? 0x03 : 0x03).u16(50).u16(1).u32(16644).u32(65536).u32(0);
  w.u32(ext_sec ? 0x8000e3fd : 0x0000e3fd).u64(0).u16(0).u8(ext_sec ? 0 : 8);
  Bytes b;
  if (ext_sec) {
    b.zeros(16).append(test_util::spnego_init({}));
  } else {
    b.u8(1).u8(2).u8(3).u8(4).u8(5).u8(6).u8(7).u8(8).utf16("WORKGROUP");
  }
  return Smb1(rsp(mid)).add(smb1::kNegotiate, w, b).build();
}

std::vector<uint8_t> session_setup_req(uint16_t mid, const std::vector<uint8_t>& blob, uint16_t uid = 0) {
  Bytes w = test_util::andx_words();
  w.u16(4356).u16(50).u16(0).u32(0).u16(static_cast<unsigned>(blob.size())).u32(0).u32(0x800000d4);
  return Smb1(req(mid, 0, uid)).add(smb1::kSessionSetupAndx, w, [blob](size_t off) {
    Bytes b;
    b.append(blob);
    if ((off + b.size()) & 1) b.u8(0);
    b.utf16("Unix").utf16("Nmap");
    return b;
  }, true).build();
}

std::vector<uint8_t> session_setup_rsp(uint16_t mid, uint32_t status, const std::vector<uint8_t>& blob,
                                       uint16_t action = 0) {
  Bytes w = test_util::andx_words();
  w.u16(action).u16(static_cast<unsigned>(blob.size()));
  Bytes b;
  b.append(blob);
  return Smb1(rsp(mid, status, 0, kUid)).add(smb1::kSessionSetupAndx, w, b, true).build();
}

std::vector<uint8_t> tree_connect_req(uint16_t mid, const std::string& path) {
  Bytes w = test_util::andx_words();
  w.u16(0).u16(1);
  return Smb1(req(mid, 0, kUid)).add(smb1::kTreeConnectAndx, w, [path](size_t off) {
    Bytes b;
    b.u8(0);
    if ((off + 1) & 1) b.u8(0);
    b.utf16(path).ascii("?????");
    return b;
  }, true).build();
}

std::vector<uint8_t> tree_connect_rsp(uint16_t mid, const std::string& service, uint32_t status = 0) {
  Bytes w = test_util::andx_words();
  w.u16(1);
  Bytes b;
  b.ascii(service).u16(0);
  if (status != 0) return Smb1(rsp(mid, status, kTid, kUid)).add(smb1::kTreeConnectAndx, Bytes{}, Bytes{}).build();
  return Smb1(rsp(mid, 0, kTid, kUid)).add(smb1::kTreeConnectAndx, w, b, true).build();
}

std::vector<uint8_t> nt_create_req(uint16_t mid, const std::string& name) {
  Bytes w = test_util::andx_words();
  const auto n = test_util::utf16_bytes(name, true);
  w.u8(0).u16(static_cast<unsigned>(n.size())).u32(0x16).u32(0).u32(0x2019f).u64(0).u32(0).u32(3).u32(1).u32(0x40);
  w.u32(2).u8(0);
  return Smb1(req(mid, kTid, kUid)).add(smb1::kNtCreateAndx, w, [n](size_t off) {
    Bytes b;
    if (off & 1) b.u8(0);
    b.append(n);
    return b;
  }, true).build();
}

std::vector<uint8_t> nt_create_rsp(uint16_t mid, uint16_t fid, uint16_t file_type) {
  Bytes w = test_util::andx_words();
  w.u8(0).u16(fid).u32(1).u64(0).u64(0).u64(0).u64(0).u32(0x80).u64(4096).u64(0).u16(file_type).u16(0x05ff).u8(0);
  return Smb1(rsp(mid, 0, kTid, kUid)).add(smb1::kNtCreateAndx, w, Bytes{}, true).build();
}

std::vector<uint8_t> write_req(uint16_t mid, uint16_t fid, const std::vector<uint8_t>& data) {
  Bytes w = test_util::andx_words();
  w.u16(fid).u32(0).u32(0xffffffff).u16(8).u16(static_cast<unsigned>(data.size())).u16(0);
  w.u16(static_cast<unsigned>(data.size() & 0xffff)).u16(0).u32(0);
  auto m = Smb1(req(mid, kTid, kUid)).add(smb1::kWriteAndx, w, [data](size_t) {
    Bytes b;
    b.u8(0).append(data);
    return b;
  }, true).build();
  const size_t data_off = m.size() - data.size();
  m[33 + 22] = static_cast<uint8_t>(data_off & 0xff);
  m[33 + 23] = static_cast<uint8_t>(data_off >> 8);
  return m;
}

std::vector<uint8_t> write_rsp(uint16_t mid, uint16_t count) {
  Bytes w = test_util::andx_words();
  w.u16(count).u16(0xffff).u16(0).u16(0);
  return Smb1(rsp(mid, 0, kTid, kUid)).add(smb1::kWriteAndx, w, Bytes{}, true).build();
}

std::vector<uint8_t> read_req(uint16_t mid, uint16_t fid) {
  Bytes w = test_util::andx_words();
  w.u16(fid).u32(0).u16(1024).u16(1024).u32(0).u16(0).u32(0);
  return Smb1(req(mid, kTid, kUid)).add(smb1::kReadAndx, w, Bytes{}, true).build();
}

std::vector<uint8_t> read_rsp(uint16_t mid, const std::vector<uint8_t>& data) {
  Bytes w = test_util::andx_words();
  w.u16(0xffff).u16(0).u16(0).u16(static_cast<unsigned>(data.size())).u16(0).u16(0).zeros(8);
  auto m = Smb1(rsp(mid, 0, kTid, kUid)).add(smb1::kReadAndx, w, [data](size_t) {
    Bytes b;
    b.u8(0).append(data);
    return b;
  }, true).build();
  const size_t data_off = m.size() - data.size();
  m[33 + 12] = static_cast<uint8_t>(data_off & 0xff);
  m[33 + 13] = static_cast<uint8_t>(data_off >> 8);
  return m;
}

// TRANSACTION on "\PIPE\" with setup {subcommand, fid}.
std::vector<uint8_t> trans_req(uint16_t mid, uint16_t sub, uint16_t fid, const std::vector<uint8_t>& data,
                               uint16_t tid = kTid) {
  Bytes w;
  w.u16(0).u16(static_cast<unsigned>(data.size())).u16(0).u16(1024).u8(0).u8(0).u16(0).u32(0).u16(0);
  w.u16(0).u16(0).u16(static_cast<unsigned>(data.size())).u16(0).u8(2).u8(0).u16(sub).u16(fid);
  auto m = Smb1(req(mid, tid, kUid)).add(smb1::kTransaction, w, [data](size_t off) {
    Bytes b;
    if (off & 1) b.u8(0);
    b.utf16("\\PIPE\\");
    while ((off + b.size()) % 4) b.u8(0);
    b.append(data);
    return b;
  }).build();
  const size_t data_off = m.size() - data.size();
  m[33 + 20] = static_cast<uint8_t>(data_off & 0xff);  // ParameterOffset
  m[33 + 21] = static_cast<uint8_t>(data_off >> 8);
  m[33 + 24] = static_cast<uint8_t>(data_off & 0xff);  // DataOffset
  m[33 + 25] = static_cast<uint8_t>(data_off >> 8);
  return m;
}

std::vector<uint8_t> trans_rsp(uint16_t mid, uint32_t status, const std::vector<uint8_t>& data,
                               uint8_t cmd = smb1::kTransaction) {
  if (status != 0 && data.empty()) return Smb1(rsp(mid, status, kTid, kUid)).add(cmd, Bytes{}, Bytes{}).build();
  Bytes w;
  w.u16(0).u16(static_cast<unsigned>(data.size())).u16(0).u16(0).u16(0).u16(0);
  w.u16(static_cast<unsigned>(data.size())).u16(0).u16(0).u8(0).u8(0);
  auto m = Smb1(rsp(mid, status, kTid, kUid)).add(cmd, w, [data](size_t) {
    Bytes b;
    b.u8(0).append(data);
    return b;
  }).build();
  const size_t data_off = m.size() - data.size();
  m[33 + 14] = static_cast<uint8_t>(data_off & 0xff);
  m[33 + 15] = static_cast<uint8_t>(data_off >> 8);
  return m;
}

const std::vector<std::string> kNmapDialects{"PC NETWORK PROGRAM 1.0", "MICROSOFT NETWORKS 1.03",
                                             "MICROSOFT NETWORKS 3.0", "LANMAN1.0", "LM1.2X002",
                                             "Samba", "NT LANMAN 1.0", "NT LM 0.12"};

// ---- probe ---------------------------------------------------------------------

TEST(SmbProbe, ContentDecides) {
  ProbeInput in;
  const auto neg = nbss(negotiate_req(1, {"NT LM 0.12"}));
  in.orig = {neg.data(), neg.size()};
  EXPECT_EQ(probe_smb(in), Probe::kYes);
  in.orig = in.orig.first(5);
  EXPECT_EQ(probe_smb(in), Probe::kMaybe);
  const auto sreq = test_util::nbss_session_request("SERVER", "CLIENT");
  in.orig = {sreq.data(), sreq.size()};
  EXPECT_EQ(probe_smb(in), Probe::kYes);
  const std::string http = "GET / HTTP/1.1\r\n";
  in.orig = {reinterpret_cast<const uint8_t*>(http.data()), http.size()};
  EXPECT_EQ(probe_smb(in), Probe::kNo);
  // A zero-led message that is not SMB (e.g. another length-prefixed protocol).
  const std::vector<uint8_t> other{0, 0, 0, 8, 'S', 'S', 'H', '-', 1, 2, 3, 4};
  in.orig = {other.data(), other.size()};
  EXPECT_EQ(probe_smb(in), Probe::kNo);
}

// ---- MS08-067 probe over SMB1 ----------------------------------------------------

Script ms08_067_script(bool traversal) {
  ScriptBuilder h;
  const uint8_t chal[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
  h.c(negotiate_req(1, kNmapDialects), 0);
  h.r(negotiate_rsp(1, 7), 1);
  h.c(session_setup_req(2, test_util::spnego_init(test_util::ntlm_negotiate())), 2);
  h.r(session_setup_rsp(2, kStatusMoreProcessing, test_util::spnego_resp(test_util::ntlm_challenge(chal, "WG", "VICTIM"))), 3);
  h.c(session_setup_req(3, test_util::spnego_resp(test_util::ntlm_authenticate("", "", "", {0}, {})), kUid), 4);
  h.r(session_setup_rsp(3, 0, test_util::spnego_resp({}, 0), 1), 5);
  h.c(tree_connect_req(4, "\\\\10.0.0.2\\IPC$"), 6);
  h.r(tree_connect_rsp(4, "IPC"), 7);
  h.c(nt_create_req(5, "\\BROWSER"), 8);
  h.r(nt_create_rsp(5, kFid, 2), 9);
  const auto bind = test_util::dce_bind(1, {{0, std::string(kUuidSrvsvc), 3, 0}});
  h.c(write_req(6, kFid, bind), 10);
  h.r(write_rsp(6, static_cast<uint16_t>(bind.size())), 11);
  h.c(read_req(7, kFid), 12);
  h.r(read_rsp(7, test_util::dce_bind_ack(1, {0})), 13);
  const auto stub = test_util::netpathcompare_stub(
      "10.0.0.2", traversal ? "\\AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\\..\\n" : "\\AAAA\\n", "\\n");
  h.c(trans_req(8, 0x26, kFid, test_util::dce_request(2, 0, 32, stub)), 14);
  h.r(trans_rsp(8, 0, test_util::dce_response(2, 0, {0, 0, 0, 0, 0, 0, 0, 0})), 15);
  return h.s;
}

TEST(SmbAnalyzer, Ms08067ProbeSequence) {
  Harness h;
  h.play(ms08_067_script(true));
  h.finish();
  EXPECT_EQ(h.d.service(), "smb");
  std::vector<std::string> cmds;
  for (const SmbRecord* r : h.smb()) cmds.push_back(r->command_name);
  EXPECT_EQ(cmds, (std::vector<std::string>{"NEGOTIATE", "SESSION_SETUP_ANDX", "SESSION_SETUP_ANDX",
                                            "TREE_CONNECT_ANDX", "NT_CREATE_ANDX", "WRITE_ANDX",
                                            "DCE_RPC_BIND", "READ_ANDX", "DCE_RPC_REQUEST", "TRANSACTION"}));
  const SmbRecord* neg = h.find("NEGOTIATE");
  ASSERT_NE(neg, nullptr);
  EXPECT_EQ(neg->dialects, kNmapDialects);
  EXPECT_EQ(neg->dialect, "NT LM 0.12");
  EXPECT_TRUE(neg->has_pid_high);
  EXPECT_EQ(neg->pid_high, 0);
  EXPECT_EQ(neg->status, 0u);
  EXPECT_EQ(neg->rtt_ns, 1000000);

  const SmbRecord* ss1 = h.find("SESSION_SETUP_ANDX", 0);
  EXPECT_EQ(ss1->status, kStatusMoreProcessing);
  EXPECT_EQ(ss1->auth_mech, "ntlm");
  EXPECT_FALSE(ss1->has_user);
  const SmbRecord* ss2 = h.find("SESSION_SETUP_ANDX", 1);
  EXPECT_TRUE(ss2->has_user);
  EXPECT_EQ(ss2->username, "");
  EXPECT_TRUE(ss2->guest);

  const SmbRecord* tc = h.find("TREE_CONNECT_ANDX");
  EXPECT_EQ(tc->tree, "\\\\10.0.0.2\\IPC$");
  EXPECT_EQ(tc->tree_service, "IPC");
  EXPECT_EQ(tc->share_type, smb2::kSharePipe);

  const SmbRecord* cr = h.find("NT_CREATE_ANDX");
  EXPECT_EQ(cr->name, "\\BROWSER");
  EXPECT_TRUE(cr->is_pipe);
  EXPECT_EQ(cr->fid, kFid);
  EXPECT_EQ(cr->tree, "\\\\10.0.0.2\\IPC$");

  const SmbRecord* bind = h.find("DCE_RPC_BIND");
  ASSERT_NE(bind, nullptr);
  EXPECT_EQ(bind->action, SmbAction::kDceRpcBind);
  EXPECT_EQ(bind->named_pipe, "\\BROWSER");
  EXPECT_EQ(normalized_pipe_name(bind->named_pipe), "browser");
  EXPECT_EQ(bind->uuid, kUuidSrvsvc);
  EXPECT_EQ(bind->uuid_ver_major, 3);
  EXPECT_EQ(bind->endpoint, "srvsvc");
  EXPECT_TRUE(bind->has_bind_result);
  EXPECT_EQ(bind->bind_result, 0);
  EXPECT_EQ(bind->rtt_ns, 3000000);  // write at 10 ms, ack read at 13 ms

  const SmbRecord* call = h.find("DCE_RPC_REQUEST");
  ASSERT_NE(call, nullptr);
  EXPECT_EQ(call->opnum, 32);
  EXPECT_EQ(call->operation, "NetprPathCompare");
  EXPECT_EQ(call->uuid, kUuidSrvsvc);
  EXPECT_TRUE(call->path_traversal_checked);
  EXPECT_TRUE(call->path_traversal);
  EXPECT_GT(call->stub_len, 100u);

  const SmbRecord* tr = h.find("TRANSACTION");
  EXPECT_TRUE(tr->has_sub_command);
  EXPECT_EQ(tr->sub_command, 0x26u);
  EXPECT_EQ(tr->name, "\\BROWSER");
  EXPECT_TRUE(tr->has_fid);

  // One anonymous login, granted as guest.
  const auto auths = h.auth();
  ASSERT_EQ(auths.size(), 1u);
  EXPECT_EQ(auths[0]->proto, "smb");
  EXPECT_EQ(auths[0]->method, "ntlm-anonymous");
  EXPECT_EQ(auths[0]->user, "");
  EXPECT_EQ(auths[0]->outcome, AuthOutcome::kSuccess);
  EXPECT_EQ(auths[0]->reply, "SUCCESS (guest)");
  EXPECT_FALSE(auths[0]->has_password);
  EXPECT_EQ(h.anomalies.total(), 0u) << h.json();

  const std::string j = h.json();
  EXPECT_NE(j.find("\"command\":\"DCE_RPC_REQUEST\""), std::string::npos);
  EXPECT_NE(j.find("\"path_traversal\":true"), std::string::npos);
  EXPECT_NE(j.find("\"uuid\":\"4b324fc8-1670-01d3-1278-5a47bf6ee188\",\"uuid_version\":\"3.0\""), std::string::npos);
  EXPECT_NE(j.find("\"tree\":\"\\\\\\\\10.0.0.2\\\\IPC$\""), std::string::npos);
}

TEST(SmbAnalyzer, CleanNetPathCompareIsNotFlagged) {
  Harness h;
  h.play(ms08_067_script(false));
  h.finish();
  const SmbRecord* call = h.find("DCE_RPC_REQUEST");
  ASSERT_NE(call, nullptr);
  EXPECT_TRUE(call->path_traversal_checked);
  EXPECT_FALSE(call->path_traversal);
}

TEST(SmbAnalyzer, AnyChunkingGivesTheSameRecords) {
  const Script script = ms08_067_script(true);
  Harness whole;
  whole.play(script);
  whole.finish();
  for (size_t chunk : {1, 3, 7, 64}) {
    Harness h;
    h.play(script, chunk);
    h.finish();
    EXPECT_EQ(h.json(), whole.json()) << chunk;
    EXPECT_EQ(h.anomalies.total(), 0u);
  }
  // All of one direction's messages in a single delivery (pipelined) still pair up.
  Harness batched;
  std::vector<uint8_t> all_c;
  for (const Step& st : script) {
    if (st.orig) all_c.insert(all_c.end(), st.bytes.begin(), st.bytes.end());
  }
  batched.raw(true, all_c, 0);
  for (const Step& st : script) {
    if (!st.orig) batched.raw(false, st.bytes, st.ms);
  }
  batched.finish();
  EXPECT_EQ(batched.anomalies.count(kAnomUnmatched), 0u);
  ASSERT_GE(batched.smb().size(), 5u);
  for (const SmbRecord* r : batched.smb()) EXPECT_TRUE(r->answered) << r->command_name;
}


// ---- CVE-2009-3103 --------------------------------------------------------------

TEST(SmbAnalyzer, Cve20093103NegotiateAnsweredBySmb2) {
  Harness h;
  // The exploit's negotiate: PID High 0x0026 ('&') and "SMB 2.002" offered.
  h.c(negotiate_req(0, {"PC NETWORK PROGRAM 1.0", "LANMAN1.0", "Windows for Workgroups 3.1a", "LM1.2X002",
                        "LANMAN2.1", "NT LM 0.12", "SMB 2.002"},
                    0x0026),
      0);
  // A Vista/2008 server answers with an SMB2 NEGOTIATE response (MessageId 0).
  Smb2Header hr;
  hr.command = smb2::kNegotiate;
  hr.response = true;
  Bytes body;
  body.u16(65).u16(1).u16(0x0202).u16(0).zeros(16).u32(7).u32(65536).u32(65536).u32(65536).u64(0).u64(0);
  body.u16(128).u16(0).u32(0);
  h.s(test_util::smb2(hr, body), 2);
  h.finish();
  const auto recs = h.smb();
  ASSERT_EQ(recs.size(), 1u);
  const SmbRecord* r = recs[0];
  EXPECT_EQ(r->version, SmbVersion::kSmb1);
  EXPECT_EQ(r->command_name, "NEGOTIATE");
  EXPECT_EQ(r->pid_high, 0x0026);
  EXPECT_EQ(r->dialects.back(), "SMB 2.002");
  EXPECT_EQ(r->dialect, "SMB 2.0.2");
  EXPECT_TRUE(r->answered);
  EXPECT_EQ(h.anomalies.total(), 0u);
  EXPECT_NE(h.json().find("\"pid_high\":38"), std::string::npos);
}

TEST(SmbAnalyzer, UnansweredNegotiateIsLoggedAtTheEnd) {
  Harness h;
  h.c(negotiate_req(0, {"NT LM 0.12", "SMB 2.002"}, 0x0026), 0);
  EXPECT_TRUE(h.smb().empty());
  h.finish(5000);
  ASSERT_EQ(h.smb().size(), 1u);
  EXPECT_FALSE(h.smb()[0]->answered);
  EXPECT_EQ(h.smb()[0]->rtt_ns, -1);
  EXPECT_EQ(h.json().find("\"status\""), std::string::npos);
}

// ---- MS17-010 scanner replies (as in the ID2T capture) ------------------------------

TEST(SmbAnalyzer, Ms17010PeekNamedPipeAndTrans2SessionSetup) {
  Harness h;
  h.c(tree_connect_req(4, "\\\\192.168.189.140\\IPC$"), 0);
  h.s(tree_connect_rsp(4, "IPC"), 1);
  h.c(trans_req(5, 0x23, 0, {}), 2);
  h.s(trans_rsp(5, 0xc0000205, {}), 3);
  // Trans2 SESSION_SETUP (DoublePulsar ping): setup {0x000e}.
  Bytes w;
  w.u16(12).u16(0).u16(1).u16(0).u8(0).u8(0).u16(0).u32(0x00a6d9a4).u16(0);
  w.u16(12).u16(66).u16(0).u16(78).u8(1).u8(0).u16(0x000e);
  const auto t2 = Smb1(req(65, kTid, kUid)).add(smb1::kTransaction2, w, [](size_t) {
    Bytes b;
    b.zeros(13);
    return b;
  }).build();
  h.c(t2, 4);
  h.s(trans_rsp(65, 0xc0000002, {}, smb1::kTransaction2), 5);
  h.finish();
  const SmbRecord* peek = h.find("TRANSACTION");
  ASSERT_NE(peek, nullptr);
  EXPECT_EQ(peek->sub_command, 0x23u);
  EXPECT_TRUE(peek->has_fid);
  EXPECT_EQ(peek->fid, 0);
  EXPECT_EQ(peek->status, 0xc0000205u);
  EXPECT_EQ(peek->tree, "\\\\192.168.189.140\\IPC$");
  const SmbRecord* t2r = h.find("TRANSACTION2");
  ASSERT_NE(t2r, nullptr);
  EXPECT_EQ(t2r->sub_command, 0x0eu);
  EXPECT_EQ(t2r->status, 0xc0000002u);
  const std::string j = h.json();
  EXPECT_NE(j.find("\"sub_command\":\"PEEK_NMPIPE\""), std::string::npos);
  EXPECT_NE(j.find("\"status\":\"INSUFF_SERVER_RESOURCES\",\"status_code\":\"0xc0000205\""), std::string::npos);
  EXPECT_NE(j.find("\"sub_command\":\"SESSION_SETUP\""), std::string::npos);
  EXPECT_NE(j.find("\"fid\":0"), std::string::npos);
}

TEST(SmbAnalyzer, ResponseWithAnUnknownMidIsLoggedAsUnmatched) {
  Harness h;
  h.c(trans_req(65, 0x23, 0, {}), 0);
  // DoublePulsar answers with MID + 16.
  h.s(trans_rsp(81, 0xc0000002, {}, smb1::kTransaction2), 1);
  h.finish();
  const SmbRecord* u = h.find("TRANSACTION2");
  ASSERT_NE(u, nullptr);
  EXPECT_TRUE(u->unmatched_response);
  EXPECT_EQ(u->message_id, 81u);
  EXPECT_EQ(h.anomalies.count(kAnomUnmatched), 1u);
  ASSERT_NE(h.find("TRANSACTION"), nullptr);
  EXPECT_FALSE(h.find("TRANSACTION")->answered);
}

// ---- SMB1 plain (non-extended) session setup ------------------------------------------

std::vector<uint8_t> plain_session_setup(uint16_t mid, const std::string& user, const std::string& domain,
                                         const std::vector<uint8_t>& oem, const std::vector<uint8_t>& uni) {
  Bytes w = test_util::andx_words();
  w.u16(4356).u16(50).u16(0).u32(0).u16(static_cast<unsigned>(oem.size())).u16(static_cast<unsigned>(uni.size()));
  w.u32(0).u32(0xd4);
  return Smb1(req(mid)).add(smb1::kSessionSetupAndx, w, [=](size_t off) {
    Bytes b;
    b.append(oem).append(uni);
    if ((off + b.size()) & 1) b.u8(0);
    b.utf16(user).utf16(domain).utf16("Windows 5.1").utf16("");
    return b;
  }, true).build();
}

TEST(SmbAnalyzer, PlainSessionSetupsAnonymousAndNtlmv1) {
  Harness h(test_conn(), true);
  h.c(negotiate_req(1, {"NT LM 0.12"}), 0);
  h.s(negotiate_rsp(1, 0, false), 1);
  h.c(plain_session_setup(2, "", "", {0}, {}), 2);
  h.s(session_setup_rsp(2, 0, {}), 3);
  h.c(plain_session_setup(3, "admin", "CORP", std::vector<uint8_t>(24, 0x41), std::vector<uint8_t>(24, 0x42)), 4);
  h.s(Smb1(rsp(3, 0xc000006d)).add(smb1::kSessionSetupAndx, Bytes{}, Bytes{}).build(), 5);
  h.finish();
  const auto a = h.auth();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0]->method, "ntlm-anonymous");
  EXPECT_EQ(a[0]->outcome, AuthOutcome::kSuccess);
  EXPECT_EQ(a[1]->method, "ntlmv1");
  EXPECT_EQ(a[1]->user, "admin");
  EXPECT_EQ(a[1]->domain, "CORP");
  EXPECT_EQ(a[1]->outcome, AuthOutcome::kFailure);
  EXPECT_EQ(a[1]->reply, "LOGON_FAILURE");
  // reveal_credentials: the challenge-response in NetNTLMv1 form (server challenge 0102..08).
  EXPECT_TRUE(a[1]->has_password);
  EXPECT_EQ(a[1]->password,
            "admin::CORP:414141414141414141414141414141414141414141414141:"
            "424242424242424242424242424242424242424242424242:0102030405060708");
  const SmbRecord* ss = h.find("SESSION_SETUP_ANDX", 1);
  EXPECT_EQ(ss->auth_mech, "plain");
  EXPECT_EQ(ss->username, "admin");
  EXPECT_EQ(ss->domainname, "CORP");
}

TEST(SmbAnalyzer, PlaintextPasswordOnlyWithReveal) {
  for (bool reveal : {false, true}) {
    Harness h(test_conn(), reveal);
    h.c(negotiate_req(1, {"NT LM 0.12"}), 0);
    // Security mode 0x01 (user level, no challenge/response) and no challenge.
    auto nr = negotiate_rsp(1, 0, false);
    nr[32 + 1 + 2] = 0x01;  // SecurityMode
    nr[32 + 1 + 33] = 0;    // ChallengeLength
    Smb1Header h1 = rsp(1);
    Bytes w;
    w.u16(0).u8(0x01).u16(50).u16(1).u32(16644).u32(65536).u32(0).u32(0x0000e3fd).u64(0).u16(0).u8(0);
    Bytes b;
    b.utf16("WORKGROUP");
    h.s(Smb1(h1).add(smb1::kNegotiate, w, b).build(), 1);
    const std::vector<uint8_t> pw{'s', 'e', 'c', 'r', 'e', 't', 0};
    h.c(plain_session_setup(2, "bob", "WG", pw, {}), 2);
    h.s(session_setup_rsp(2, 0, {}), 3);
    h.finish();
    const auto a = h.auth();
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0]->method, "plaintext");
    EXPECT_EQ(a[0]->has_password, reveal);
    EXPECT_EQ(a[0]->password, reveal ? "secret" : "");
    EXPECT_EQ(h.json().find("secret") != std::string::npos, reveal);
  }
}

// ---- SMB2 --------------------------------------------------------------------------

struct Smb2Session {
  uint64_t mid = 0;
  uint64_t session = 0x0000400000000001;
  uint32_t tree = 0;
  ScriptBuilder b;
  int64_t ms = 0;

  Smb2Header hdr(uint16_t cmd, bool response, uint32_t status = 0) const {
    Smb2Header h;
    h.command = cmd;
    h.response = response;
    h.status = status;
    h.message_id = mid;
    h.session_id = cmd == smb2::kNegotiate ? 0 : session;
    h.tree_id = tree;
    return h;
  }
  void exchange(uint16_t cmd, const Bytes& rq, uint32_t status, const Bytes& rs) {
    b.c(test_util::smb2(hdr(cmd, false), rq), ms++);
    b.r(test_util::smb2(hdr(cmd, true, status), rs), ms++);
    ++mid;
  }
};

Bytes smb2_error_body() {
  Bytes e;
  e.u16(9).u8(0).u8(0).u32(0).u8(0);
  return e;
}
Bytes smb2_session_setup_req(const std::vector<uint8_t>& blob) {
  Bytes b;
  b.u16(25).u8(0).u8(1).u32(1).u32(0).u16(64 + 24).u16(static_cast<unsigned>(blob.size())).u64(0).append(blob);
  return b;
}
Bytes smb2_session_setup_rsp(const std::vector<uint8_t>& blob, uint16_t flags = 0) {
  Bytes b;
  b.u16(9).u16(flags).u16(64 + 8).u16(static_cast<unsigned>(blob.size())).append(blob);
  return b;
}
Bytes smb2_tree_req(const std::string& path) {
  Bytes b;
  const auto p = test_util::utf16_bytes(path);
  b.u16(9).u16(0).u16(64 + 8).u16(static_cast<unsigned>(p.size())).append(p);
  return b;
}
Bytes smb2_tree_rsp(uint8_t type) {
  Bytes b;
  b.u16(16).u8(type).u8(0).u32(0x30).u32(0).u32(0x1f01ff);
  return b;
}
Bytes smb2_create_req(const std::string& name) {
  Bytes b;
  const auto n = test_util::utf16_bytes(name);
  b.u16(57).u8(0).u8(0).u32(2).u64(0).u64(0).u32(0x0012019f).u32(0).u32(7).u32(1).u32(0x40);
  b.u16(64 + 56).u16(static_cast<unsigned>(n.size())).u32(0).u32(0).append(n);
  return b;
}
Bytes smb2_create_rsp(uint64_t persistent, uint64_t vol) {
  Bytes b;
  b.u16(89).u8(0).u8(0).u32(1).zeros(32).u64(4096).u64(0).u32(0x80).u32(0).u64(persistent).u64(vol).u32(0).u32(0);
  return b;
}
Bytes smb2_file(uint64_t p, uint64_t v) {
  Bytes b;
  b.u64(p).u64(v);
  return b;
}
Bytes smb2_write_req(uint64_t p, uint64_t v, const std::vector<uint8_t>& data) {
  Bytes b;
  b.u16(49).u16(64 + 48).u32(static_cast<uint32_t>(data.size())).u64(0).append(smb2_file(p, v));
  b.u32(0).u32(0).u16(0).u16(0).u32(0).append(data);
  return b;
}
Bytes smb2_write_rsp(uint32_t count) {
  Bytes b;
  b.u16(17).u16(0).u32(count).u32(0).u16(0).u16(0);
  return b;
}
Bytes smb2_read_req(uint64_t p, uint64_t v, uint32_t len) {
  Bytes b;
  b.u16(49).u8(0x50).u8(0).u32(len).u64(0).append(smb2_file(p, v)).u32(0).u32(0).u32(0).u16(0).u16(0).u8(0);
  return b;
}
Bytes smb2_read_rsp(const std::vector<uint8_t>& data) {
  Bytes b;
  b.u16(17).u8(64 + 16).u8(0).u32(static_cast<uint32_t>(data.size())).u32(0).u32(0).append(data);
  return b;
}
Bytes smb2_ioctl_req(uint64_t p, uint64_t v, uint32_t ctl, const std::vector<uint8_t>& in) {
  Bytes b;
  b.u16(57).u16(0).u32(ctl).append(smb2_file(p, v)).u32(64 + 56).u32(static_cast<uint32_t>(in.size()));
  b.u32(0).u32(64 + 56).u32(0).u32(4280).u32(1).u32(0).append(in);
  return b;
}
Bytes smb2_ioctl_rsp(uint64_t p, uint64_t v, uint32_t ctl, const std::vector<uint8_t>& out) {
  Bytes b;
  b.u16(49).u16(0).u32(ctl).append(smb2_file(p, v)).u32(64 + 48).u32(0).u32(64 + 48);
  b.u32(static_cast<uint32_t>(out.size())).u32(0).u32(0).append(out);
  return b;
}
Bytes smb2_close_req(uint64_t p, uint64_t v) {
  Bytes b;
  b.u16(24).u16(0).u32(0).append(smb2_file(p, v));
  return b;
}
Bytes smb2_simple_body() {
  Bytes b;
  b.u16(4).u16(0);
  return b;
}
Bytes smb2_close_rsp() {
  Bytes b;
  b.u16(60).u16(0).u32(0).zeros(56);
  return b;
}

constexpr uint64_t kP = 0x11;
constexpr uint64_t kV = 0x22;

Script smb2_pipe_script() {
  Smb2Session s;
  const uint8_t chal[8] = {9, 8, 7, 6, 5, 4, 3, 2};
  Bytes neg;
  neg.u16(36).u16(2).u16(1).u16(0).u32(0x7f).zeros(16).u32(0).u16(0).u16(0).u16(0x0202).u16(0x0210);
  Bytes negr;
  negr.u16(65).u16(1).u16(0x0210).u16(0).zeros(16).u32(7).u32(65536).u32(65536).u32(65536).u64(0).u64(0);
  negr.u16(0).u16(0).u32(0);
  s.exchange(smb2::kNegotiate, neg, 0, negr);
  // Two logins: a wrong password, then the right one.
  for (uint32_t final_status : {0xc000006du, 0u}) {
    s.exchange(smb2::kSessionSetup, smb2_session_setup_req(test_util::spnego_init(test_util::ntlm_negotiate())),
               kStatusMoreProcessing,
               smb2_session_setup_rsp(test_util::spnego_resp(test_util::ntlm_challenge(chal, "CORP", "FS01"))));
    const auto auth = test_util::ntlm_authenticate("CORP", "alice", "WS7", std::vector<uint8_t>(24, 0),
                                                   std::vector<uint8_t>(60, 0x5a));
    s.exchange(smb2::kSessionSetup, smb2_session_setup_req(test_util::spnego_resp(auth)), final_status,
               final_status ? smb2_error_body() : smb2_session_setup_rsp(test_util::spnego_resp({}, 0)));
  }
  s.exchange(smb2::kTreeConnect, smb2_tree_req("\\\\fs01\\IPC$"), 0, smb2_tree_rsp(2));
  s.tree = 5;
  // The tree id is assigned by the response: rebuild that exchange with it.
  s.b.s.pop_back();
  Smb2Header th = s.hdr(smb2::kTreeConnect, true);
  th.message_id = s.mid - 1;
  s.b.r(test_util::smb2(th, smb2_tree_rsp(2)), s.ms - 1);
  s.exchange(smb2::kCreate, smb2_create_req("srvsvc"), 0, smb2_create_rsp(kP, kV));
  const auto bind = test_util::dce_bind(1, {{0, std::string(kUuidSrvsvc), 3, 0}, {1, std::string(kUuidSrvsvc), 3, 0}});
  s.exchange(smb2::kWrite, smb2_write_req(kP, kV, bind), 0, smb2_write_rsp(static_cast<uint32_t>(bind.size())));
  s.exchange(smb2::kRead, smb2_read_req(kP, kV, 1024), 0, smb2_read_rsp(test_util::dce_bind_ack(1, {0, 2})));
  const auto req = test_util::dce_request(2, 0, 15, std::vector<uint8_t>(40, 0));
  s.exchange(smb2::kIoctl, smb2_ioctl_req(kP, kV, smb2::kFsctlPipeTransceive, req), 0,
             smb2_ioctl_rsp(kP, kV, smb2::kFsctlPipeTransceive, test_util::dce_response(2, 0, std::vector<uint8_t>(64, 1))));
  s.exchange(smb2::kClose, smb2_close_req(kP, kV), 0, smb2_close_rsp());
  return s.b.s;
}

TEST(SmbAnalyzer, Smb2LoginsTreePipeAndDceRpc) {
  Harness h;
  h.play(smb2_pipe_script());
  h.finish();
  std::vector<std::string> cmds;
  for (const SmbRecord* r : h.smb()) cmds.push_back(r->command_name);
  EXPECT_EQ(cmds, (std::vector<std::string>{"NEGOTIATE_PROTOCOL", "SESSION_SETUP", "SESSION_SETUP", "SESSION_SETUP",
                                            "SESSION_SETUP", "TREE_CONNECT", "CREATE", "WRITE", "DCE_RPC_BIND", "READ",
                                            "DCE_RPC_REQUEST", "IOCTL", "CLOSE"}));
  const SmbRecord* neg = h.find("NEGOTIATE_PROTOCOL");
  EXPECT_EQ(neg->version, SmbVersion::kSmb2);
  EXPECT_EQ(neg->dialects, (std::vector<std::string>{"SMB 2.0.2", "SMB 2.1"}));
  EXPECT_EQ(neg->dialect, "SMB 2.1");
  EXPECT_FALSE(neg->has_pid_high);
  const SmbRecord* failed = h.find("SESSION_SETUP", 1);
  EXPECT_EQ(failed->username, "alice");
  EXPECT_EQ(failed->domainname, "CORP");
  EXPECT_EQ(failed->hostname, "WS7");
  EXPECT_EQ(failed->status, 0xc000006du);
  const SmbRecord* tc = h.find("TREE_CONNECT");
  EXPECT_EQ(tc->tree, "\\\\fs01\\IPC$");
  EXPECT_EQ(tc->share_type, smb2::kSharePipe);
  const SmbRecord* cr = h.find("CREATE");
  EXPECT_EQ(cr->name, "srvsvc");
  EXPECT_TRUE(cr->is_pipe);
  EXPECT_EQ(cr->tree, "\\\\fs01\\IPC$");
  const SmbRecord* bind = h.find("DCE_RPC_BIND");
  EXPECT_EQ(bind->version, SmbVersion::kSmb2);
  EXPECT_EQ(bind->named_pipe, "srvsvc");
  EXPECT_EQ(bind->uuid, kUuidSrvsvc);
  EXPECT_EQ(bind->bind_result, 0);  // one context accepted, the other (NDR64) rejected
  const SmbRecord* call = h.find("DCE_RPC_REQUEST");
  EXPECT_EQ(call->opnum, 15);
  EXPECT_EQ(call->operation, "NetrShareEnum");
  EXPECT_FALSE(call->path_traversal_checked);
  const SmbRecord* io = h.find("IOCTL");
  EXPECT_EQ(io->sub_command, smb2::kFsctlPipeTransceive);
  EXPECT_EQ(io->name, "srvsvc");
  EXPECT_NE(h.json().find("\"sub_command\":\"FSCTL_PIPE_TRANSCEIVE\""), std::string::npos);
  EXPECT_EQ(h.find("CLOSE")->name, "srvsvc");

  const auto a = h.auth();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0]->method, "ntlmv2");
  EXPECT_EQ(a[0]->user, "alice");
  EXPECT_EQ(a[0]->domain, "CORP");
  EXPECT_EQ(a[0]->outcome, AuthOutcome::kFailure);
  EXPECT_EQ(a[0]->reply, "LOGON_FAILURE");
  EXPECT_EQ(a[1]->outcome, AuthOutcome::kSuccess);
  EXPECT_EQ(a[1]->reply, "SUCCESS");
  EXPECT_FALSE(a[0]->has_password);
  // No NTLM response bytes anywhere in the output without reveal_credentials.
  EXPECT_EQ(h.json().find("5a5a5a5a"), std::string::npos);
  EXPECT_EQ(h.anomalies.total(), 0u);
}

TEST(SmbAnalyzer, Smb2RevealGivesNetNtlmv2) {
  Harness h(test_conn(), true);
  h.play(smb2_pipe_script());
  h.finish();
  const auto a = h.auth();
  ASSERT_EQ(a.size(), 2u);
  ASSERT_TRUE(a[0]->has_password);
  EXPECT_EQ(a[0]->password.rfind("alice::CORP:0908070605040302:5a5a", 0), 0u);
}

TEST(SmbAnalyzer, Smb2ByteAtATimeMatchesWhole) {
  Harness whole;
  whole.play(smb2_pipe_script());
  whole.finish();
  Harness bytes;
  bytes.play(smb2_pipe_script(), 1);
  bytes.finish();
  EXPECT_EQ(bytes.json(), whole.json());
}

TEST(SmbAnalyzer, Smb2InterimResponseWaitsForTheFinalOne) {
  Harness h;
  Smb2Session s;
  s.tree = 0;
  s.b.c(test_util::smb2(s.hdr(smb2::kCreate, false), smb2_create_req("big.iso")), 0);
  Smb2Header interim = s.hdr(smb2::kCreate, true, kStatusPending);
  interim.flags = smb2::kFlagAsync;
  interim.async_id = 9;
  s.b.r(test_util::smb2(interim, smb2_error_body()), 1);
  s.b.r(test_util::smb2(s.hdr(smb2::kCreate, true, 0xc0000022), smb2_error_body()), 5);
  h.play(s.b.s);
  h.finish();
  ASSERT_EQ(h.smb().size(), 1u);
  EXPECT_EQ(h.smb()[0]->status, 0xc0000022u);
  EXPECT_EQ(h.smb()[0]->rtt_ns, 5000000);
  EXPECT_EQ(h.anomalies.total(), 0u);
}

// ---- bulk data, encryption, limits, gaps -------------------------------------------------

// Writes to a disk file: only their heads are read (a limit far below the
// message size counts no oversize anomaly), nothing is logged; the same
// writes to a pipe are read whole and hit the limit.
void play_direct(SmbAnalyzer& a, const Script& script, size_t chunk) {
  for (const Step& st : script) {
    for (size_t i = 0; i < st.bytes.size(); i += chunk) {
      a.data(st.orig, core::ByteView(st.bytes).subspan(i, std::min(chunk, st.bytes.size() - i)), at(st.ms));
    }
  }
}

Script file_writes(uint8_t share_type, const std::string& name) {
  Smb2Session s;
  s.tree = 7;
  s.b.c(test_util::smb2(s.hdr(smb2::kTreeConnect, false), smb2_tree_req("\\\\fs01\\data")), 0);
  s.b.r(test_util::smb2(s.hdr(smb2::kTreeConnect, true), smb2_tree_rsp(share_type)), 1);
  ++s.mid;
  s.exchange(smb2::kCreate, smb2_create_req(name), 0, smb2_create_rsp(1, 2));
  // 1 MiB of writes in 64 KiB messages.
  for (int i = 0; i < 16; ++i) {
    s.exchange(smb2::kWrite, smb2_write_req(1, 2, std::vector<uint8_t>(65536, static_cast<uint8_t>(i))), 0,
               smb2_write_rsp(65536));
  }
  s.exchange(smb2::kClose, smb2_close_req(1, 2), 0, smb2_close_rsp());
  return s.b.s;
}

TEST(SmbAnalyzer, BulkWritesToFilesAreSkippedNotLogged) {
  SmbAnalyzerLimits lim;
  lim.max_message = 4096;
  DirectCtx disk;
  SmbAnalyzer a(disk, lim);
  play_direct(a, file_writes(smb2::kShareDisk, "movie.mkv"), 1400);
  a.finish(at(1000));
  ASSERT_EQ(disk.out.size(), 2u);
  EXPECT_EQ(dynamic_cast<SmbRecord&>(*disk.out[0]).command_name, "TREE_CONNECT");
  EXPECT_EQ(dynamic_cast<SmbRecord&>(*disk.out[1]).command_name, "CREATE");
  EXPECT_FALSE(dynamic_cast<SmbRecord&>(*disk.out[1]).is_pipe);
  EXPECT_EQ(disk.an.total(), 0u);
  EXPECT_FALSE(disk.gave_up);

  DirectCtx pipe;
  SmbAnalyzer b(pipe, lim);
  play_direct(b, file_writes(smb2::kSharePipe, "spoolss"), 1400);
  b.finish(at(1000));
  EXPECT_EQ(pipe.an.count(kAnomOversize), 16u);
  // Not DCE/RPC data: the pipe is left alone after the first write.
  EXPECT_EQ(pipe.an.count(kAnomPipeDataCut), 0u);
  // TREE_CONNECT, CREATE, 16 WRITEs, CLOSE.
  EXPECT_EQ(pipe.out.size(), 19u);
}

TEST(SmbAnalyzer, TreeAndMessageLimits) {
  SmbAnalyzerLimits lim;
  lim.max_trees = 2;
  lim.max_messages = 9;
  DirectCtx ctx;
  SmbAnalyzer a(ctx, lim);
  for (uint16_t i = 0; i < 4; ++i) {
    Smb1Header h = rsp(i);
    h.tid = static_cast<uint16_t>(100 + i);
    Bytes w = test_util::andx_words();
    w.u16(1);
    Bytes b;
    b.ascii("A:").u16(0);
    a.data(true, nbss(tree_connect_req(i, "\\\\srv\\share" + std::to_string(i))), at(i));
    a.data(false, nbss(Smb1(h).add(smb1::kTreeConnectAndx, w, b, true).build()), at(i));
  }
  EXPECT_EQ(ctx.an.count(kAnomTooManyTrees), 2u);
  EXPECT_FALSE(ctx.gave_up);
  a.data(true, nbss(negotiate_req(50, {"NT LM 0.12"})), at(10));
  a.data(true, nbss(negotiate_req(51, {"NT LM 0.12"})), at(11));
  EXPECT_EQ(ctx.an.count(kAnomTooManyMessages), 1u);
  EXPECT_TRUE(ctx.gave_up);
}

TEST(SmbAnalyzer, OversizeMessageIsCutAndTheStreamContinues) {
  SmbAnalyzerLimits lim;
  DirectCtx ctx;
  lim.max_message = 4096;
  SmbAnalyzer a(ctx, lim);
  // A TRANSACTION (not on a pipe) with 10000 data bytes, then a normal negotiate.
  Bytes w;
  w.u16(0).u16(10000).u16(0).u16(0).u8(0).u8(0).u16(0).u32(0).u16(0);
  w.u16(0).u16(0).u16(10000).u16(70).u8(1).u8(0).u16(1);
  const auto big = nbss(Smb1(req(9)).add(smb1::kTransaction, w, [](size_t) {
    Bytes b;
    b.zeros(10001);
    return b;
  }).build());
  a.data(true, big, at(0));
  const auto neg = nbss(negotiate_req(10, {"NT LM 0.12"}));
  a.data(true, neg, at(1));
  a.finish(at(2));
  EXPECT_EQ(ctx.an.count(kAnomOversize), 1u);
  EXPECT_FALSE(ctx.gave_up);
  ASSERT_EQ(ctx.out.size(), 2u);
  EXPECT_EQ(dynamic_cast<SmbRecord&>(*ctx.out[1]).command_name, "NEGOTIATE");
}

TEST(SmbAnalyzer, LargeTrans2AndDirectoryListingsAreReadByTheirHeads) {
  SmbAnalyzerLimits lim;
  lim.max_message = 4096;
  DirectCtx ctx;
  SmbAnalyzer a(ctx, lim);
  // A TRANSACTION2 FIND_FIRST2 request with 10000 data bytes and its response.
  Bytes w;
  w.u16(0).u16(10000).u16(0).u16(0).u8(0).u8(0).u16(0).u32(0).u16(0);
  w.u16(0).u16(0).u16(10000).u16(70).u8(1).u8(0).u16(1);
  a.data(true, nbss(Smb1(req(9)).add(smb1::kTransaction2, w, [](size_t) {
    Bytes b;
    b.zeros(10001);
    return b;
  }).build()), at(0));
  a.data(false, nbss(trans_rsp(9, 0, std::vector<uint8_t>(20000, 0x33), smb1::kTransaction2)), at(1));
  // An SMB2 QUERY_DIRECTORY response of 60000 bytes (never logged).
  Smb2Header q;
  q.command = smb2::kQueryDirectory;
  q.response = true;
  q.message_id = 77;
  Bytes body;
  body.u16(9).u16(64 + 8).u32(60000).zeros(60000);
  a.data(false, nbss(test_util::smb2(q, body)), at(2));
  a.finish(at(3));
  EXPECT_EQ(ctx.an.count(kAnomOversize), 0u);
  EXPECT_EQ(ctx.an.count(kAnomUnmatched), 0u);
  ASSERT_EQ(ctx.out.size(), 1u);
  const auto& r = dynamic_cast<SmbRecord&>(*ctx.out[0]);
  EXPECT_EQ(r.command_name, "TRANSACTION2");
  EXPECT_EQ(r.sub_command, 1u);
  EXPECT_EQ(r.status, 0u);
}

TEST(SmbAnalyzer, Smb3TransformGivesUp) {
  Harness h;
  Smb2Session s;
  Bytes neg;
  neg.u16(36).u16(1).u16(1).u16(0).u32(0x7f).zeros(16).u32(0).u16(0).u16(0).u16(0x0311);
  s.b.c(test_util::smb2(s.hdr(smb2::kNegotiate, false), neg), 0);
  h.play(s.b.s);
  EXPECT_TRUE(h.d.wants_data());
  Bytes tf;
  tf.u8(0xfd).ascii("SMB", false).zeros(16).zeros(16).u32(100).u16(0).u16(1).u64(s.session).zeros(100);
  h.raw(true, nbss(tf.b), 1);
  EXPECT_FALSE(h.d.wants_data());
  h.finish();
  ASSERT_EQ(h.smb().size(), 1u);
  EXPECT_EQ(h.smb()[0]->dialects, (std::vector<std::string>{"SMB 3.1.1"}));
}

TEST(SmbAnalyzer, GarbageAfterTheStartGivesUp) {
  Harness h;
  h.c(negotiate_req(1, {"NT LM 0.12"}), 0);
  for (int i = 0; i < 20 && h.d.wants_data(); ++i) {
    h.raw(true, nbss(std::vector<uint8_t>(40, 0x41)), 1);
  }
  EXPECT_FALSE(h.d.wants_data());
  EXPECT_EQ(h.anomalies.count(kAnomBadMessage), SmbAnalyzerLimits{}.max_bad_messages + 1);
  h.finish();
  EXPECT_EQ(h.smb().size(), 1u);
}

TEST(SmbAnalyzer, GapResynchronisesOnTheNextMessage) {
  Harness h;
  h.c(negotiate_req(1, {"NT LM 0.12"}), 0);
  h.s(negotiate_rsp(1, 0), 1);
  const auto tc = nbss(tree_connect_req(4, "\\\\srv\\IPC$"));
  h.raw(true, std::vector<uint8_t>(tc.begin(), tc.begin() + 20), 2);
  h.d.stream_gap(true, 30, at(3));
  // The rest of the lost message, then a whole one.
  h.raw(true, std::vector<uint8_t>(tc.begin() + 50, tc.end()), 3);
  h.c(tree_connect_req(5, "\\\\srv\\C$"), 4);
  h.s(tree_connect_rsp(5, "A:"), 5);
  h.finish();
  const SmbRecord* r = h.find("TREE_CONNECT_ANDX");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->tree, "\\\\srv\\C$");
  EXPECT_EQ(r->share_type, smb2::kShareDisk);
  EXPECT_EQ(h.smb().size(), 2u);
}

TEST(SmbAnalyzer, GapInsideSkippedBulkDataKeepsTheFraming) {
  Harness h;
  Smb2Session s;
  s.tree = 7;
  s.b.c(test_util::smb2(s.hdr(smb2::kTreeConnect, false), smb2_tree_req("\\\\fs01\\data")), 0);
  s.b.r(test_util::smb2(s.hdr(smb2::kTreeConnect, true), smb2_tree_rsp(1)), 1);
  ++s.mid;
  s.exchange(smb2::kCreate, smb2_create_req("a.bin"), 0, smb2_create_rsp(1, 2));
  h.play(s.b.s);
  // A 64 KiB write whose bytes 1000-21000 were not captured, then a
  // TREE_DISCONNECT. The written data holds what looks like an SMB2 NEGOTIATE
  // message: the hole lies inside data being skipped, so the framing holds
  // and that "message" stays data (a resynchronisation would log it).
  std::vector<uint8_t> data(65536, 7);
  Bytes neg;
  neg.u16(36).u16(1).u16(1).u16(0).u32(0).zeros(16).u32(0).u16(0).u16(0).u16(0x0311);
  const auto fake = nbss(test_util::smb2(s.hdr(smb2::kNegotiate, false), neg));
  std::copy(fake.begin(), fake.end(), data.begin() + 30000);
  const auto w = nbss(test_util::smb2(s.hdr(smb2::kWrite, false), smb2_write_req(1, 2, data)));
  h.raw(true, std::vector<uint8_t>(w.begin(), w.begin() + 1000), 2);
  h.d.stream_gap(true, 20000, at(2));
  h.raw(true, std::vector<uint8_t>(w.begin() + 21000, w.end()), 2);
  ++s.mid;
  Smb2Session t = s;
  t.b.s.clear();
  t.exchange(smb2::kTreeDisconnect, smb2_simple_body(), 0, smb2_simple_body());
  h.play(t.b.s);
  h.finish();
  ASSERT_NE(h.find("TREE_DISCONNECT"), nullptr);
  EXPECT_TRUE(h.find("TREE_DISCONNECT")->answered);
  EXPECT_EQ(h.find("NEGOTIATE_PROTOCOL"), nullptr);
  EXPECT_EQ(h.anomalies.total(), 0u);
}

TEST(SmbAnalyzer, KerberosSessionSetupHasNoLoginLine) {
  Harness h;
  Smb2Session s;
  Bytes ap_req;
  ap_req.append(test_util::der(0x06, test_util::kOidKerberos)).u8(1).u8(0).u8(0x6e).u8(0);
  const auto token = test_util::der(0x60, ap_req.b);
  s.exchange(smb2::kSessionSetup, smb2_session_setup_req(test_util::spnego_init(token, test_util::kOidKerberos)),
             0, smb2_session_setup_rsp({}));
  h.play(s.b.s);
  h.finish();
  ASSERT_EQ(h.smb().size(), 1u);
  EXPECT_EQ(h.smb()[0]->auth_mech, "kerberos");
  EXPECT_FALSE(h.smb()[0]->has_user);
  EXPECT_TRUE(h.auth().empty());
}

TEST(SmbAnalyzer, PendingTableIsBounded) {
  Harness h;
  const size_t n = SmbAnalyzerLimits{}.max_pending + 10;
  for (size_t i = 0; i < n; ++i) h.c(trans_req(static_cast<uint16_t>(i), 0x23, 0, {}), 0);
  EXPECT_EQ(h.anomalies.count(kAnomTooManyPending), 10u);
  EXPECT_EQ(h.smb().size(), 10u);  // the oldest, logged unanswered to make room
  h.finish();
  EXPECT_EQ(h.smb().size(), n);
  EXPECT_EQ(h.smb().front()->message_id, 0u);
}

TEST(SmbAnalyzer, NetbiosSessionRequestOn139) {
  Harness h(test_conn(139));
  h.raw(true, test_util::nbss_session_request("VICTIM", "ATTACKER"), 0);
  h.raw(false, {0x82, 0, 0, 0}, 1);
  h.c(negotiate_req(1, {"NT LM 0.12"}), 2);
  h.s(negotiate_rsp(1, 0), 3);
  h.finish();
  EXPECT_EQ(h.d.service(), "smb");
  ASSERT_EQ(h.smb().size(), 1u);
  EXPECT_EQ(h.smb()[0]->dialect, "NT LM 0.12");
  EXPECT_EQ(h.anomalies.total(), 0u);
}

TEST(SmbAnalyzer, RecordsPerConnectionAreCapped) {
  DirectCtx ctx;
  SmbAnalyzerLimits lim;
  lim.max_records = 5;
  SmbAnalyzer a(ctx, lim);
  for (uint16_t i = 0; i < 10; ++i) {
    a.data(true, nbss(trans_req(i, 0x23, 0, {})), at(i));
    a.data(false, nbss(trans_rsp(i, 0xc0000205, {})), at(i));
  }
  a.finish(at(20));
  EXPECT_EQ(ctx.out.size(), 5u);
  EXPECT_TRUE(ctx.gave_up);
  EXPECT_EQ(ctx.an.count(kAnomTooManyRecords), 1u);
}

}  // namespace
}  // namespace trawl::analyzers::smb
