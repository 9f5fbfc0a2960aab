// smb_vuln: the SMB vulnerability-scan findings from synthetic smb records.
#include <gtest/gtest.h>

#include "analyzers/smb/smb_record.h"
#include "detect_test_util.h"

namespace trawl::detect {
namespace {

using analyzers::smb::SmbAction;
using analyzers::smb::SmbRecord;
using testing::at;
using testing::ip;
using DetectRun = testing::Run;
using testing::with_id;

constexpr const char* kSrvsvc = "4b324fc8-1670-01d3-1278-5a47bf6ee188";
constexpr const char* kRasrpc = "20610036-fa22-11cf-9823-00a0c911e5df";
constexpr const char* kDnsserver = "50abc2a4-574d-40b3-9d66-ee4fd5fba076";

SmbRecord smb(double t, const char* client, const char* server, SmbAction action) {
  static uint64_t counter = 0;
  SmbRecord r;
  r.ts = at(t);
  r.uid = "Csmb" + std::to_string(++counter);
  r.first_index = counter;
  r.orig_h = ip(client);
  r.orig_p = 40000;
  r.resp_h = ip(server);
  r.resp_p = 445;
  r.action = action;
  return r;
}

SmbRecord peek_fid0(double t, const char* client, const char* server, bool answered, uint32_t status) {
  auto r = smb(t, client, server, SmbAction::kTransaction);
  r.has_sub_command = true;
  r.sub_command = 0x23;
  r.has_fid = true;
  r.fid = 0;
  r.answered = answered;
  r.status = status;
  return r;
}

SmbRecord trans2_setup(double t, const char* client, const char* server) {
  auto r = smb(t, client, server, SmbAction::kTransaction2);
  r.has_sub_command = true;
  r.sub_command = 0x000e;
  r.answered = false;
  return r;
}

SmbRecord dce(double t, const char* client, const char* server, SmbAction action, const char* pipe, const char* uuid) {
  auto r = smb(t, client, server, action);
  r.named_pipe = pipe;
  r.uuid = uuid;
  r.answered = true;
  return r;
}

SmbRecord path_compare(double t, const char* client, const char* server, const char* pipe, uint16_t opnum,
                       bool traversal) {
  auto r = dce(t, client, server, SmbAction::kDceRpcRequest, pipe, kSrvsvc);
  r.has_opnum = true;
  r.opnum = opnum;
  r.path_traversal_checked = opnum == 31 || opnum == 32;
  r.path_traversal = traversal;
  return r;
}

SmbRecord negotiate(double t, const char* client, const char* server, uint16_t pid_high, bool smb2002, bool answered) {
  auto r = smb(t, client, server, SmbAction::kNegotiate);
  r.has_pid_high = true;
  r.pid_high = pid_high;
  r.dialects = {"NT LM 0.12"};
  if (smb2002) r.dialects.push_back("SMB 2.002");
  r.answered = answered;
  return r;
}

bool has_count(const Finding& f, const std::string& name, uint64_t value) {
  for (const auto& [n, v] : f.counts) {
    if (n == name) return v == value;
  }
  return false;
}

TEST(SmbVuln, EternalBlueProbeAnsweredVulnerableIsCritical) {
  DetectRun run("smb_vuln");
  run.set->on_record(peek_fid0(0, "192.168.189.138", "192.168.189.140", true, 0xc0000205));
  run.set->on_record(trans2_setup(0.4, "192.168.189.138", "192.168.189.140"));
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 1u);
  const Finding& f = fs[0];
  EXPECT_EQ(f.id, "smb.ms17_010");
  EXPECT_EQ(f.src, "192.168.189.138");
  EXPECT_EQ(f.dst, std::vector<std::string>{"192.168.189.140"});
  EXPECT_EQ(f.severity, Severity::kCritical);
  EXPECT_EQ(f.attack, "T1210");
  EXPECT_TRUE(has_count(f, "vulnerable", 1));
  EXPECT_TRUE(has_count(f, "doublepulsar_probes", 1));
  EXPECT_EQ(f.evidence.size(), 2u);
  EXPECT_NE(f.details.find("\"verdict\":\"vulnerable\""), std::string::npos);
  EXPECT_EQ(f.details.substr(0, 2), "{\"");  // one JSON object
  EXPECT_EQ(f.details.back(), '}');
  EXPECT_NE(f.summary.find("unpatched"), std::string::npos);
}

TEST(SmbVuln, PatchedAnswerIsHighAndDoublePulsarReplyIsAnImplant) {
  DetectRun run("smb_vuln");
  run.set->on_record(peek_fid0(0, "10.0.0.5", "10.0.0.9", true, 0xc0000022));
  run.set->on_record(trans2_setup(1, "10.0.0.5", "10.0.0.9"));
  auto reply = smb(1.1, "10.0.0.5", "10.0.0.9", SmbAction::kTransaction2);
  reply.unmatched_response = true;
  reply.answered = true;
  reply.status = 0xc0000002;
  run.set->on_record(reply);
  // An unmatched Trans2 reply from a host never probed counts for nothing.
  auto stray = smb(2, "10.0.0.5", "10.0.0.77", SmbAction::kTransaction2);
  stray.unmatched_response = true;
  run.set->on_record(stray);
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].severity, Severity::kCritical);  // the implant answered
  EXPECT_TRUE(has_count(fs[0], "doublepulsar_implants", 1));
  EXPECT_EQ(fs[0].dst_count, 1u);
  EXPECT_NE(fs[0].details.find("\"patched\":[\"10.0.0.9\"]"), std::string::npos);

  DetectRun patched("smb_vuln");
  patched.set->on_record(peek_fid0(0, "10.0.0.5", "10.0.0.9", true, 0xc0000008));
  auto ps = patched.finish();
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].severity, Severity::kHigh);
  EXPECT_NE(ps[0].details.find("\"verdict\":\"patched\""), std::string::npos);
}

TEST(SmbVuln, NmapCheckVulnsSetGivesOneFindingPerCheckAndNamesTheTool) {
  DetectRun run("smb_vuln");
  const char* s = "192.168.56.10";
  run.set->on_record(path_compare(0, s, "192.168.56.20", "\\BROWSER", 32, true));
  run.set->on_record(path_compare(1, s, "192.168.56.20", "\\PIPE\\srvsvc", 31, true));
  run.set->on_record(negotiate(2, s, "192.168.56.20", 0x0026, true, false));
  run.set->on_record(dce(3, s, "192.168.56.20", SmbAction::kDceRpcBind, "\\router", kRasrpc));
  run.set->on_record(dce(4, s, "192.168.56.20", SmbAction::kDceRpcBind, "\\DNSSERVER", kDnsserver));
  auto req = dce(5, s, "192.168.56.20", SmbAction::kDceRpcRequest, "\\DNSSERVER", kDnsserver);
  req.answered = false;
  run.set->on_record(req);
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 4u);
  for (const char* id : {"smb.ms08_067", "smb.cve_2009_3103", "smb.ms06_025", "smb.ms07_029"}) {
    auto f = with_id(fs, id);
    ASSERT_EQ(f.size(), 1u) << id;
    EXPECT_EQ(f[0]->src, s);
    EXPECT_EQ(f[0]->severity, Severity::kHigh);
    EXPECT_NE(f[0]->summary.find("nmap smb-check-vulns"), std::string::npos) << f[0]->summary;
    EXPECT_NE(f[0]->details.find("\"tool\":\"nmap smb-check-vulns\""), std::string::npos);
  }
  EXPECT_TRUE(has_count(*with_id(fs, "smb.ms08_067")[0], "probes", 2));
  EXPECT_NE(with_id(fs, "smb.cve_2009_3103")[0]->summary.find("no answer"), std::string::npos);
  EXPECT_TRUE(has_count(*with_id(fs, "smb.ms07_029")[0], "unanswered", 1));

  // Two of the four checks: not named as nmap (threshold 3).
  DetectRun two("smb_vuln");
  two.set->on_record(path_compare(0, s, "192.168.56.20", "\\BROWSER", 32, true));
  two.set->on_record(negotiate(2, s, "192.168.56.20", 0x0026, true, true));
  auto ts = two.finish();
  ASSERT_EQ(ts.size(), 2u);
  for (const auto& f : ts) EXPECT_EQ(f.summary.find("nmap"), std::string::npos) << f.summary;
  DetectRun two_low("smb_vuln", {"smb_vuln.nmap_min_checks=2"});
  two_low.set->on_record(path_compare(0, s, "192.168.56.20", "\\BROWSER", 32, true));
  two_low.set->on_record(negotiate(2, s, "192.168.56.20", 0x0026, true, true));
  for (const auto& f : two_low.finish()) EXPECT_NE(f.summary.find("nmap"), std::string::npos);
}

TEST(SmbVuln, OrdinarySmbGivesNothing) {
  DetectRun run("smb_vuln");
  const char* c = "10.0.0.5";
  const char* sv = "10.0.0.6";
  run.set->on_record(dce(0, c, sv, SmbAction::kDceRpcBind, "srvsvc", kSrvsvc));
  run.set->on_record(path_compare(1, c, sv, "srvsvc", 15, false));           // NetrShareEnum
  run.set->on_record(path_compare(2, c, sv, "srvsvc", 32, false));           // no traversal
  run.set->on_record(path_compare(3, c, sv, "lsarpc", 32, true));            // wrong pipe
  run.set->on_record(negotiate(4, c, sv, 0, true, true));                    // SMB 2.002, normal PID
  run.set->on_record(negotiate(5, c, sv, 0x0026, false, true));              // odd PID, no SMB 2.002
  run.set->on_record(dce(6, c, sv, SmbAction::kDceRpcBind, "lsarpc", kRasrpc));  // RASRPC on another pipe
  run.set->on_record(dce(7, c, sv, SmbAction::kDceRpcBind, "srvsvc", kDnsserver));
  auto peek = peek_fid0(8, c, sv, true, 0);
  peek.fid = 0x4000;  // a real pipe
  run.set->on_record(peek);
  auto other_trans2 = trans2_setup(9, c, sv);
  other_trans2.sub_command = 0x0001;  // FIND_FIRST2
  run.set->on_record(other_trans2);
  EXPECT_TRUE(run.finish().empty());
}

TEST(SmbVuln, MinVictimsBoundaryAndVictimsCap) {
  DetectRun two("smb_vuln", {"smb_vuln.min_victims=3"});
  two.set->on_record(peek_fid0(0, "10.0.0.5", "10.0.1.1", true, 0xc0000205));
  two.set->on_record(peek_fid0(1, "10.0.0.5", "10.0.1.2", true, 0xc0000205));
  EXPECT_TRUE(two.finish().empty());
  DetectRun three("smb_vuln", {"smb_vuln.min_victims=3"});
  for (int i = 1; i <= 3; ++i) {
    const std::string v = "10.0.1." + std::to_string(i);
    three.set->on_record(peek_fid0(i, "10.0.0.5", v.c_str(), true, 0xc0000205));
  }
  auto fs = three.finish();
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].dst_count, 3u);

  // A /16 sweep: one finding, a bounded sample, the full count.
  DetectRun big("smb_vuln");
  for (int i = 0; i < 10000; ++i) {
    const std::string v = "10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    big.set->on_record(peek_fid0(i * 0.01, "10.0.0.5", v.c_str(), i % 2 == 0, 0xc0000205));
  }
  auto bs = big.finish();
  ASSERT_EQ(bs.size(), 1u);
  EXPECT_EQ(bs[0].dst_count, 10000u);
  EXPECT_EQ(bs[0].dst.size(), 20u);
  EXPECT_EQ(bs[0].evidence.size(), 20u);
  EXPECT_EQ(bs[0].evidence_total, 10000u);
  EXPECT_TRUE(has_count(bs[0], "unanswered", 5000));
}

TEST(SmbVuln, ThresholdsAreListed) {
  DetectRun run("smb_vuln");
  EXPECT_TRUE(run.config.entries().contains("smb_vuln.min_victims"));
  EXPECT_TRUE(run.config.entries().contains("smb_vuln.nmap_min_checks"));
}

}  // namespace
}  // namespace trawl::detect
