// Tests for the pure SMB-side parsers: NBSS headers, SMB1 messages and AndX
// chains, SMB2 messages and compounds, NTLMSSP and SPNEGO, DCE/RPC PDUs and
// the per-pipe DCE/RPC state (fragments, traversal search, limits), with good,
// truncated, oversize and garbage input.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "analyzers/smb/dcerpc.h"
#include "analyzers/smb/ntlm.h"
#include "analyzers/smb/smb_builder.h"
#include "analyzers/smb/smb_names.h"
#include "analyzers/smb/smb_parser.h"
#include "analyzers/smb/utf16.h"

namespace trawl::analyzers::smb {
namespace {

using test_util::Bytes;
using test_util::Smb1;
using test_util::Smb1Header;
using test_util::Smb2Header;

core::ByteView view(const std::vector<uint8_t>& v) { return {v.data(), v.size()}; }

// ---- NBSS -----------------------------------------------------------------

TEST(Nbss, SessionMessageUses24LengthBits) {
  const std::vector<uint8_t> h{0x00, 0x01, 0x02, 0x03};
  NbssHeader n;
  ASSERT_TRUE(parse_nbss_header(view(h), n));
  EXPECT_EQ(n.type, kNbssMessage);
  EXPECT_EQ(n.length, 0x010203u);
}

TEST(Nbss, ControlTypesUse17BitsAndRejectOtherFlags) {
  NbssHeader n;
  const std::vector<uint8_t> req{0x81, 0x01, 0x00, 0x44};
  ASSERT_TRUE(parse_nbss_header(view(req), n));
  EXPECT_EQ(n.length, 0x10044u);
  const std::vector<uint8_t> bad_flags{0x81, 0x02, 0x00, 0x44};
  EXPECT_FALSE(parse_nbss_header(view(bad_flags), n));
  const std::vector<uint8_t> unknown{0x42, 0x00, 0x00, 0x00};
  EXPECT_FALSE(parse_nbss_header(view(unknown), n));
  const std::vector<uint8_t> short_hdr{0x00, 0x00};
  EXPECT_FALSE(parse_nbss_header(view(short_hdr), n));
}

// ---- UTF-16 ---------------------------------------------------------------

TEST(Utf16, ConvertsBmpSurrogatesAndStopsAtNul) {
  Bytes b;
  b.u16('A').u16(0xe9).u16(0x20ac).u16(0xd83d).u16(0xde00).u16(0).u16('Z');
  std::string out;
  const size_t used = utf16le_to_utf8(b.view(), out);
  EXPECT_EQ(out, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  EXPECT_EQ(used, 12u);
}

TEST(Utf16, LoneSurrogateBecomesReplacementAndLengthIsCapped) {
  Bytes b;
  b.u16(0xdc00).u16('x').u16(0xd800);
  std::string out;
  utf16le_to_utf8(b.view(), out);
  EXPECT_EQ(out, "\xef\xbf\xbdx\xef\xbf\xbd");
  Bytes many;
  for (int i = 0; i < 100; ++i) many.u16('a');
  out.clear();
  utf16le_to_utf8(many.view(), out, 10);
  EXPECT_EQ(out, std::string(10, 'a'));
}

// ---- SMB1 -----------------------------------------------------------------

std::vector<uint8_t> negotiate_request(const std::vector<std::string>& dialects, uint16_t pid_high = 0) {
  Smb1Header h;
  h.pid_high = pid_high;
  Bytes bytes;
  for (const std::string& d : dialects) bytes.u8(2).ascii(d);
  return Smb1(h).add(smb1::kNegotiate, Bytes{}, bytes).build();
}

TEST(Smb1Parser, NegotiateRequestDialectsAndPidHigh) {
  const auto msg = negotiate_request({"PC NETWORK PROGRAM 1.0", "NT LM 0.12", "SMB 2.002"}, 0x0026);
  std::vector<SmbCommand> cmds;
  core::Anomalies a;
  ASSERT_TRUE(parse_smb1(view(msg), false, cmds, a));
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].command, smb1::kNegotiate);
  EXPECT_FALSE(cmds[0].response);
  EXPECT_EQ(cmds[0].pid_high, 0x0026);
  EXPECT_EQ(cmds[0].pid, 0x0026feffu);
  EXPECT_EQ(cmds[0].dialects, (std::vector<std::string>{"PC NETWORK PROGRAM 1.0", "NT LM 0.12", "SMB 2.002"}));
  EXPECT_EQ(a.total(), 0u);
}

TEST(Smb1Parser, DialectListIsCapped) {
  std::vector<std::string> many(100, "NT LM 0.12");
  const auto msg = negotiate_request(many);
  std::vector<SmbCommand> cmds;
  core::Anomalies a;
  ASSERT_TRUE(parse_smb1(view(msg), false, cmds, a));
  EXPECT_EQ(cmds[0].dialects.size(), SmbLimits{}.max_dialects);
  EXPECT_EQ(a.count(kAnomTooManyDialects), 1u);
}

// SESSION_SETUP_ANDX (extended security) chained with TREE_CONNECT_ANDX.
TEST(Smb1Parser, AndxChainSessionSetupAndTreeConnect) {
  Smb1Header h;
  h.mid = 7;
  const auto blob = test_util::spnego_init(test_util::ntlm_negotiate());
  Bytes ss = test_util::andx_words();
  ss.u16(4356).u16(50).u16(0).u32(0).u16(static_cast<unsigned>(blob.size())).u32(0).u32(0x800000d4);
  Bytes ss_bytes;
  ss_bytes.append(blob);
  Bytes tc = test_util::andx_words();
  tc.u16(0).u16(1);
  auto tc_bytes = [](size_t off) {
    Bytes b;
    b.u8(0);  // password
    if ((off + 1) & 1) b.u8(0);
    b.utf16("\\\\10.0.0.2\\IPC$").ascii("?????");
    return b;
  };
  const auto msg = Smb1(h).add(smb1::kSessionSetupAndx, ss, ss_bytes, true).add(smb1::kTreeConnectAndx, tc, tc_bytes).build();
  std::vector<SmbCommand> cmds;
  core::Anomalies a;
  ASSERT_TRUE(parse_smb1(view(msg), false, cmds, a));
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(cmds[0].command, smb1::kSessionSetupAndx);
  EXPECT_EQ(cmds[0].security_blob.size(), blob.size());
  EXPECT_EQ(cmds[1].command, smb1::kTreeConnectAndx);
  EXPECT_EQ(cmds[1].path, "\\\\10.0.0.2\\IPC$");
  EXPECT_EQ(cmds[1].service, "?????");
  EXPECT_EQ(cmds[1].message_id, 7u);
  EXPECT_EQ(a.total(), 0u);
}

TEST(Smb1Parser, AndxOffsetBackwardsIsAnAnomalyAndStops) {
  Smb1Header h;
  Bytes ss = test_util::andx_words();
  ss.u16(4356).u16(50).u16(0).u32(0).u16(0).u32(0).u32(0);
  auto msg = Smb1(h).add(smb1::kSessionSetupAndx, ss, Bytes{}).build();
  msg[33] = smb1::kTreeConnectAndx;  // AndXCommand
  msg[35] = 20;                      // AndXOffset into the header
  msg[36] = 0;
  std::vector<SmbCommand> cmds;
  core::Anomalies a;
  ASSERT_TRUE(parse_smb1(view(msg), false, cmds, a));
  EXPECT_EQ(cmds.size(), 1u);
  EXPECT_EQ(a.count(kAnomAndxLoop), 1u);
}

TEST(Smb1Parser, AndxChainLengthIsCapped) {
  // Every LOGOFF_ANDX points at the next; the message holds 12 of them.
  Smb1 m(Smb1Header{});
  for (int i = 0; i < 12; ++i) m.add(smb1::kLogoffAndx, test_util::andx_words(), Bytes{}, true);
  const auto msg = m.build();
  std::vector<SmbCommand> cmds;
  core::Anomalies a;
  ASSERT_TRUE(parse_smb1(view(msg), false, cmds, a));
  EXPECT_EQ(cmds.size(), SmbLimits{}.max_andx);
  EXPECT_EQ(a.count(kAnomTooManyAndx), 1u);
}

TEST(Smb1Parser, TruncatedAndGarbageInput) {
  std::vector<SmbCommand> cmds;
  core::Anomalies a;
  const std::vector<uint8_t> garbage{'G', 'E', 'T', ' ', '/', ' ', 'H', 'T'};
  EXPECT_FALSE(parse_smb1(view(garbage), false, cmds, a));
  const auto full = negotiate_request({"NT LM 0.12"});
  // Every prefix parses without reading past it; short headers are refused.
  for (size_t n = 0; n < full.size(); ++n) {
    cmds.clear();
    std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const bool ok = parse_smb1(view(cut), false, cmds, a);
    EXPECT_EQ(ok, n >= 32) << n;
    if (ok) {
      ASSERT_EQ(cmds.size(), 1u);
      EXPECT_TRUE(cmds[0].truncated || n == full.size()) << n;
    }
  }
  EXPECT_GT(a.count(kAnomTruncated), 0u);
}

TEST(Smb1Parser, WriteAndxDataAndTransactionPipeFields) {
  Smb1Header h;
  h.tid = 2048;
  const std::vector<uint8_t> payload{5, 0, 11, 3, 0x10, 0, 0, 0};
  Bytes w = test_util::andx_words();
  // FID, Offset, Timeout, WriteMode, Remaining, DataLengthHigh, DataLength, DataOffset, OffsetHigh
  w.u16(0x4000).u32(0).u32(0).u16(8).u16(8).u16(0).u16(static_cast<unsigned>(payload.size())).u16(0).u32(0);
  auto msg = Smb1(h).add(smb1::kWriteAndx, w, [&](size_t off) {
    (void)off;
    Bytes b;
    b.u8(0).append(payload);
    return b;
  }).build();
  // DataOffset: right after ByteCount and one pad byte.
  const size_t data_off = msg.size() - payload.size();
  msg[32 + 1 + 22] = static_cast<uint8_t>(data_off);
  std::vector<SmbCommand> cmds;
  core::Anomalies a;
  ASSERT_TRUE(parse_smb1(view(msg), false, cmds, a));
  ASSERT_EQ(cmds.size(), 1u);
  ASSERT_TRUE(cmds[0].has_file);
  EXPECT_EQ(cmds[0].file.persistent, 0x4000u);
  EXPECT_EQ(cmds[0].data_len, payload.size());
  EXPECT_EQ(std::vector<uint8_t>(cmds[0].data.begin(), cmds[0].data.end()), payload);
  EXPECT_EQ(cmds[0].tree_id, 2048u);

  // The same message cut in the middle of its data: a clipped view, no anomaly.
  std::vector<SmbCommand> cut_cmds;
  core::Anomalies b;
  std::vector<uint8_t> cut(msg.begin(), msg.end() - 3);
  ASSERT_TRUE(parse_smb1(view(cut), true, cut_cmds, b));
  EXPECT_TRUE(cut_cmds[0].truncated);
  EXPECT_EQ(cut_cmds[0].data.size(), payload.size() - 3);
  EXPECT_EQ(b.total(), 0u);
}

TEST(Smb1Parser, DosErrorStatus) {
  Smb1Header h;
  h.response = true;
  h.flags2 = 0x0001;               // no NT status
  h.status = 0x02 | (0x0005 << 16);  // ERRSRV? class 2, code 5 in bytes 7-8
  auto msg = Smb1(h).add(smb1::kTreeConnectAndx, Bytes{}, Bytes{}).build();
  std::vector<SmbCommand> cmds;
  core::Anomalies a;
  ASSERT_TRUE(parse_smb1(view(msg), false, cmds, a));
  EXPECT_TRUE(cmds[0].dos_error);
  EXPECT_TRUE(cmds[0].error_body);
  EXPECT_EQ(cmds[0].status, 0x00050002u);
}

// ---- SMB2 -----------------------------------------------------------------

Bytes smb2_negotiate_body(const std::vector<uint16_t>& dialects) {
  Bytes b;
  b.u16(36).u16(static_cast<unsigned>(dialects.size())).u16(1).u16(0).u32(0x7f).zeros(16).u32(0).u16(0).u16(0);
  for (uint16_t d : dialects) b.u16(d);
  return b;
}

TEST(Smb2Parser, NegotiateDialectsAndNames) {
  Smb2Header h;
  h.command = smb2::kNegotiate;
  const auto msg = test_util::smb2(h, smb2_negotiate_body({0x0202, 0x0210, 0x0300, 0x0302, 0x0311}));
  std::vector<SmbCommand> cmds;
  core::Anomalies a;
  ASSERT_TRUE(parse_smb2(view(msg), false, cmds, a));
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].dialect_codes, (std::vector<uint16_t>{0x0202, 0x0210, 0x0300, 0x0302, 0x0311}));
  EXPECT_EQ(smb2_dialect_name(0x0311), "SMB 3.1.1");
  EXPECT_EQ(smb2_dialect_name(0x02ff), "SMB 2.???");
  EXPECT_EQ(smb2_dialect_name(0x0999), "0x0999");
  EXPECT_EQ(a.total(), 0u);
}

Bytes tree_connect_body(const std::string& path) {
  Bytes b;
  const auto p = test_util::utf16_bytes(path);
  b.u16(9).u16(0).u16(64 + 8).u16(static_cast<unsigned>(p.size())).append(p);
  return b;
}

Bytes create_body(const std::string& name) {
  Bytes b;
  const auto n = test_util::utf16_bytes(name);
  b.u16(57).u8(0).u8(0).u32(2).u64(0).u64(0).u32(0x0012019f).u32(0).u32(7).u32(1).u32(0x40);
  b.u16(64 + 56).u16(static_cast<unsigned>(n.size())).u32(0).u32(0).append(n);
  return b;
}

TEST(Smb2Parser, CompoundOfThreeWithOffsetsFromEachHeader) {
  Smb2Header a1;
  a1.command = smb2::kTreeConnect;
  a1.message_id = 4;
  Smb2Header a2;
  a2.command = smb2::kCreate;
  a2.message_id = 5;
  a2.flags = smb2::kFlagRelated;
  Smb2Header a3;
  a3.command = smb2::kClose;
  a3.message_id = 6;
  a3.flags = smb2::kFlagRelated;
  Bytes close;
  close.u16(24).u16(0).u32(0).u64(~uint64_t{0}).u64(~uint64_t{0});
  const auto msg = test_util::compound({test_util::smb2(a1, tree_connect_body("\\\\srv\\IPC$")),
                                        test_util::smb2(a2, create_body("srvsvc")), test_util::smb2(a3, close)});
  std::vector<SmbCommand> cmds;
  core::Anomalies an;
  ASSERT_TRUE(parse_smb2(view(msg), false, cmds, an));
  ASSERT_EQ(cmds.size(), 3u);
  EXPECT_EQ(cmds[0].path, "\\\\srv\\IPC$");
  EXPECT_EQ(cmds[1].name, "srvsvc");
  EXPECT_EQ(cmds[1].message_id, 5u);
  EXPECT_TRUE(cmds[2].has_file);
  EXPECT_EQ(cmds[2].file.persistent, ~uint64_t{0});
  EXPECT_EQ(an.total(), 0u);
}

TEST(Smb2Parser, BadNextCommandStopsTheChain) {
  Smb2Header h;
  h.command = smb2::kEcho;
  Bytes echo;
  echo.u16(4).u16(0);
  auto msg = test_util::compound({test_util::smb2(h, echo), test_util::smb2(h, echo)});
  msg[20] = 13;  // NextCommand not 8-aligned
  std::vector<SmbCommand> cmds;
  core::Anomalies a;
  ASSERT_TRUE(parse_smb2(view(msg), false, cmds, a));
  EXPECT_EQ(cmds.size(), 1u);
  EXPECT_EQ(a.count(kAnomBadCompound), 1u);
}

TEST(Smb2Parser, ErrorResponseHasNoCommandFields) {
  Smb2Header h;
  h.command = smb2::kTreeConnect;
  h.response = true;
  h.status = 0xc00000cc;
  Bytes err;
  err.u16(9).u8(0).u8(0).u32(0).u8(0);
  const auto msg = test_util::smb2(h, err);
  std::vector<SmbCommand> cmds;
  core::Anomalies a;
  ASSERT_TRUE(parse_smb2(view(msg), false, cmds, a));
  EXPECT_TRUE(cmds[0].error_body);
  EXPECT_EQ(cmds[0].share_type, 0);
  EXPECT_EQ(nt_status_name(cmds[0].status), "BAD_NETWORK_NAME");
}

TEST(Smb2Parser, BufferOffsetsOutsideTheMessageAreAnomalies) {
  Smb2Header h;
  h.command = smb2::kTreeConnect;
  Bytes body;
  body.u16(9).u16(0).u16(64 + 8).u16(400);  // PathLength beyond the end
  const auto msg = test_util::smb2(h, body);
  std::vector<SmbCommand> cmds;
  core::Anomalies a;
  ASSERT_TRUE(parse_smb2(view(msg), false, cmds, a));
  EXPECT_TRUE(cmds[0].truncated);
  EXPECT_EQ(a.count(kAnomTruncated), 1u);
  Bytes inside_header;
  inside_header.u16(9).u16(0).u16(10).u16(4);  // PathOffset inside the header
  const auto msg2 = test_util::smb2(h, inside_header);
  cmds.clear();
  ASSERT_TRUE(parse_smb2(view(msg2), false, cmds, a));
  EXPECT_EQ(a.count(kAnomBadOffset), 1u);
  EXPECT_TRUE(cmds[0].path.empty());
}

TEST(Smb2Parser, EveryPrefixIsSafe) {
  Smb2Header h;
  h.command = smb2::kCreate;
  const auto full = test_util::smb2(h, create_body("\\some\\file.txt"));
  core::Anomalies a;
  for (size_t n = 0; n <= full.size(); ++n) {
    std::vector<SmbCommand> cmds;
    std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const bool ok = parse_smb2(view(cut), n < full.size(), cmds, a);
    EXPECT_EQ(ok, n >= 64) << n;
  }
}

// ---- NTLMSSP / SPNEGO -----------------------------------------------------

const uint8_t kChal[8] = {1, 2, 3, 4, 5, 6, 7, 8};

TEST(Ntlm, AuthenticateUnicodeFields) {
  std::vector<uint8_t> nt(54, 0xab);
  const auto tok = test_util::ntlm_authenticate("CORP", "alice", "WS01", std::vector<uint8_t>(24, 0), nt);
  NtlmMessage m;
  core::Anomalies a;
  ASSERT_TRUE(parse_ntlm(view(tok), m, a));
  EXPECT_EQ(m.type, NtlmType::kAuthenticate);
  EXPECT_EQ(m.user, "alice");
  EXPECT_EQ(m.domain, "CORP");
  EXPECT_EQ(m.workstation, "WS01");
  EXPECT_EQ(m.nt_response.size(), 54u);
  EXPECT_EQ(ntlm_auth_method(m), "ntlmv2");
  EXPECT_EQ(a.total(), 0u);
}

TEST(Ntlm, AuthenticateOemAndMethods) {
  const auto v1 = test_util::ntlm_authenticate("D", "bob", "W", std::vector<uint8_t>(24, 1), std::vector<uint8_t>(24, 2), false);
  NtlmMessage m;
  core::Anomalies a;
  ASSERT_TRUE(parse_ntlm(view(v1), m, a));
  EXPECT_EQ(m.user, "bob");
  EXPECT_EQ(ntlm_auth_method(m), "ntlmv1");
  const auto anon = test_util::ntlm_authenticate("", "", "", {0}, {});
  ASSERT_TRUE(parse_ntlm(view(anon), m, a));
  EXPECT_EQ(ntlm_auth_method(m), "ntlm-anonymous");
  const auto no_resp = test_util::ntlm_authenticate("WG", "root", "", {}, {});
  ASSERT_TRUE(parse_ntlm(view(no_resp), m, a));
  EXPECT_EQ(ntlm_auth_method(m), "ntlm-no-response");
  const auto lm_only = test_util::ntlm_authenticate("", "carol", "", std::vector<uint8_t>(24, 1), {});
  ASSERT_TRUE(parse_ntlm(view(lm_only), m, a));
  EXPECT_EQ(ntlm_auth_method(m), "lm");
}

TEST(Ntlm, CrackFormats) {
  std::vector<uint8_t> nt(20, 0x11);
  nt[0] = 0xaa;
  const auto tok = test_util::ntlm_authenticate("CORP", "alice", "WS", std::vector<uint8_t>(24, 0), nt);
  NtlmMessage m;
  core::Anomalies a;
  ASSERT_TRUE(parse_ntlm(view(tok), m, a));
  std::array<uint8_t, 8> chal{};
  std::copy(std::begin(kChal), std::end(kChal), chal.begin());
  // 20 bytes is not a valid NTLMv2 response shape but > 24 is the rule: none here.
  EXPECT_EQ(ntlm_crack_format(m, chal), "");
  std::vector<uint8_t> nt2(32, 0x22);
  const auto tok2 = test_util::ntlm_authenticate("CORP", "alice", "WS", {}, nt2);
  ASSERT_TRUE(parse_ntlm(view(tok2), m, a));
  EXPECT_EQ(ntlm_crack_format(m, chal),
            "alice::CORP:0102030405060708:22222222222222222222222222222222:22222222222222222222222222222222");
}

TEST(Ntlm, ChallengeTargetAndAvPairs) {
  const auto tok = test_util::ntlm_challenge(kChal, "CORP", "SRV01");
  NtlmMessage m;
  core::Anomalies a;
  ASSERT_TRUE(parse_ntlm(view(tok), m, a));
  EXPECT_EQ(m.type, NtlmType::kChallenge);
  EXPECT_EQ(m.target_name, "CORP");
  EXPECT_EQ(m.nb_domain, "CORP");
  EXPECT_EQ(m.nb_computer, "SRV01");
  EXPECT_EQ(m.server_challenge[0], 1);
  EXPECT_EQ(m.server_challenge[7], 8);
}

TEST(Ntlm, FieldsPointingOutsideAreAnomalies) {
  auto tok = test_util::ntlm_authenticate("CORP", "alice", "WS01", {}, std::vector<uint8_t>(30, 1));
  tok[36 + 4] = 0xf0;  // user offset far beyond the end
  tok[36 + 5] = 0xff;
  NtlmMessage m;
  core::Anomalies a;
  ASSERT_TRUE(parse_ntlm(view(tok), m, a));
  EXPECT_TRUE(m.user.empty());
  EXPECT_EQ(m.domain, "CORP");
  EXPECT_EQ(a.count(kAnomNtlmFieldOutOfBounds), 1u);
  const std::vector<uint8_t> junk{'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 9, 0, 0, 0};
  EXPECT_FALSE(parse_ntlm(view(junk), m, a));
  std::vector<uint8_t> cut(tok.begin(), tok.begin() + 40);
  EXPECT_FALSE(parse_ntlm(view(cut), m, a));
  EXPECT_EQ(a.count(kAnomNtlmMalformed), 2u);
}

TEST(Spnego, FindsNtlmInInitRespAndRaw) {
  core::Anomalies a;
  const auto neg = test_util::ntlm_negotiate();
  const auto init = test_util::spnego_init(neg);
  SecurityToken t = find_security_token(view(init), a);
  EXPECT_EQ(t.mech, GssMech::kNtlm);
  EXPECT_EQ(t.ntlm.size(), neg.size());
  const auto auth = test_util::ntlm_authenticate("D", "u", "w", {}, std::vector<uint8_t>(40, 3));
  const auto resp = test_util::spnego_resp(auth);
  t = find_security_token(view(resp), a);
  EXPECT_EQ(t.mech, GssMech::kNtlm);
  EXPECT_EQ(t.ntlm.size(), auth.size());
  t = find_security_token(view(auth), a);
  EXPECT_EQ(t.mech, GssMech::kNtlm);
  EXPECT_EQ(a.total(), 0u);
}

TEST(Spnego, KerberosAndMechListWithoutToken) {
  core::Anomalies a;
  Bytes ap_req_inner;
  ap_req_inner.append(test_util::der(0x06, test_util::kOidKerberos)).u8(1).u8(0).u8(0x6e).u8(0);
  const auto krb_token = test_util::der(0x60, ap_req_inner.b);
  const auto init = test_util::spnego_init(krb_token, test_util::kOidKerberos);
  EXPECT_EQ(find_security_token(view(init), a).mech, GssMech::kKerberos);
  // The server's NegTokenInit in NEGOTIATE lists mechanisms only.
  const auto hint = test_util::spnego_init({}, test_util::kOidKerberos);
  SecurityToken t = find_security_token(view(hint), a);
  EXPECT_EQ(t.mech, GssMech::kKerberos);
  EXPECT_TRUE(t.ntlm.empty());
  EXPECT_EQ(a.total(), 0u);
}

TEST(Spnego, DamagedDerFallsBackToSignatureSearch) {
  core::Anomalies a;
  auto init = test_util::spnego_init(test_util::ntlm_negotiate());
  init[1] = 0x7f;  // outer length beyond the blob
  SecurityToken t = find_security_token(view(init), a);
  EXPECT_EQ(t.mech, GssMech::kNtlm);
  EXPECT_EQ(a.count(kAnomSpnegoMalformed), 1u);
  const std::vector<uint8_t> junk{0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 1, 2};
  t = find_security_token(view(junk), a);
  EXPECT_EQ(t.mech, GssMech::kNone);
  EXPECT_EQ(a.count(kAnomSpnegoMalformed), 2u);
}

// ---- DCE/RPC ----------------------------------------------------------------

TEST(DceRpc, UuidStringAndNames) {
  const auto wire = test_util::uuid_le(std::string(kUuidSrvsvc));
  EXPECT_EQ(dce_uuid_string(view(wire), true), kUuidSrvsvc);
  EXPECT_EQ(dce_interface_name(kUuidSrvsvc), "srvsvc");
  EXPECT_EQ(dce_interface_name("20610036-fa22-11cf-9823-00a0c911e5df"), "rasrpc");
  EXPECT_EQ(dce_interface_name("50abc2a4-574d-40b3-9d66-ee4fd5fba076"), "dnsserver");
  EXPECT_EQ(dce_operation_name(kUuidSrvsvc, 32), "NetprPathCompare");
  EXPECT_EQ(dce_operation_name(kUuidSrvsvc, 31), "NetprPathCanonicalize");
  EXPECT_EQ(dce_operation_name(kUuidSrvsvc, 999), "");
}

TEST(DceRpc, ParseBindAckRequestFault) {
  core::Anomalies a;
  DcePdu p;
  const auto bind = test_util::dce_bind(1, {{0, std::string(kUuidSrvsvc), 3, 0}, {1, std::string(kUuidSrvsvc), 3, 0}});
  ASSERT_TRUE(parse_dce_pdu(view(bind), p, a));
  EXPECT_EQ(p.type, 11);
  ASSERT_EQ(p.contexts.size(), 2u);
  EXPECT_EQ(p.contexts[1].id, 1);
  EXPECT_EQ(p.contexts[0].uuid, kUuidSrvsvc);
  EXPECT_EQ(p.contexts[0].ver_major, 3);
  const auto ack = test_util::dce_bind_ack(1, {0, 2});
  ASSERT_TRUE(parse_dce_pdu(view(ack), p, a));
  ASSERT_EQ(p.results.size(), 2u);
  EXPECT_EQ(p.results[0].result, 0);
  EXPECT_EQ(p.results[1].result, 2);
  const auto req = test_util::dce_request(2, 0, 32, {1, 2, 3, 4});
  ASSERT_TRUE(parse_dce_pdu(view(req), p, a));
  EXPECT_EQ(p.opnum, 32);
  EXPECT_EQ(p.stub.size(), 4u);
  const auto fault = test_util::dce_fault(2, 0x1c010002);
  ASSERT_TRUE(parse_dce_pdu(view(fault), p, a));
  EXPECT_EQ(p.fault_status, 0x1c010002u);
  EXPECT_EQ(a.total(), 0u);
}

TEST(DceRpc, MalformedPdus) {
  core::Anomalies a;
  DcePdu p;
  auto req = test_util::dce_request(2, 0, 32, {1, 2, 3, 4});
  req[0] = 4;
  EXPECT_FALSE(parse_dce_pdu(view(req), p, a));
  auto bind = test_util::dce_bind(1, {{0, std::string(kUuidSrvsvc), 3, 0}});
  bind[24] = 40;  // 40 contexts announced, one present
  EXPECT_FALSE(parse_dce_pdu(view(bind), p, a));
  auto auth = test_util::dce_request(3, 0, 1, {1, 2, 3, 4});
  auth[10] = 200;  // auth_length beyond the PDU
  EXPECT_FALSE(parse_dce_pdu(view(auth), p, a));
  EXPECT_EQ(a.count(kAnomDceMalformed), 3u);
}

TEST(DceRpc, TraversalPattern) {
  const auto yes = test_util::utf16_bytes("\\AAAA\\..\\n");
  EXPECT_TRUE(has_utf16_traversal(view(yes)));
  const auto fwd = test_util::utf16_bytes("/a/../b");
  EXPECT_TRUE(has_utf16_traversal(view(fwd)));
  const auto no = test_util::utf16_bytes("\\AAAA\\...\\n..\\");
  EXPECT_FALSE(has_utf16_traversal(view(no)));
  const std::vector<uint8_t> ascii{'\\', '.', '.', '\\', 'x', 'x', 'x', 'x'};
  EXPECT_FALSE(has_utf16_traversal(view(ascii)));
}

struct Events : DceSink {
  std::vector<DceBindEvent> binds;
  std::vector<DceCallEvent> calls;
  void on_bind(const DceBindEvent& e) override { binds.push_back(e); }
  void on_call(const DceCallEvent& e) override { calls.push_back(e); }
};

core::Timestamp at(int ms) { return core::Timestamp::from_sec_nsec(1700000000, 0) + int64_t{ms} * 1000000; }

TEST(DcePipe, BindAndCallsInOneWriteAndSplitReads) {
  DcePipe pipe;
  Events ev;
  core::Anomalies a;
  std::vector<uint8_t> w = test_util::dce_bind(1, {{0, std::string(kUuidSrvsvc), 3, 0}});
  const auto r1 = test_util::dce_request(2, 0, 15, std::vector<uint8_t>(12, 0));
  w.insert(w.end(), r1.begin(), r1.end());
  pipe.feed(true, view(w), at(0), ev, a);
  EXPECT_TRUE(ev.binds.empty());
  auto ack = test_util::dce_bind_ack(1, {0});
  const auto resp = test_util::dce_response(2, 0, std::vector<uint8_t>(100, 7));
  ack.insert(ack.end(), resp.begin(), resp.end());
  // Answers arrive 3 bytes at a time.
  for (size_t i = 0; i < ack.size(); i += 3) {
    const size_t n = std::min<size_t>(3, ack.size() - i);
    pipe.feed(false, view(ack).subspan(i, n), at(10), ev, a);
  }
  ASSERT_EQ(ev.binds.size(), 1u);
  EXPECT_TRUE(ev.binds[0].answered);
  EXPECT_EQ(ev.binds[0].results[0].result, 0);
  ASSERT_EQ(ev.calls.size(), 1u);
  EXPECT_EQ(ev.calls[0].opnum, 15);
  EXPECT_EQ(ev.calls[0].uuid, kUuidSrvsvc);
  EXPECT_EQ(ev.calls[0].stub_len, 12u);
  EXPECT_EQ(ev.calls[0].resp_stub_len, 100u);
  EXPECT_FALSE(ev.calls[0].traversal_checked);
  EXPECT_EQ(a.total(), 0u);
}

TEST(DcePipe, FragmentedNetPathCompareTraversalAcrossFragments) {
  DcePipe pipe;
  Events ev;
  core::Anomalies a;
  pipe.feed(true, view(test_util::dce_bind(1, {{0, std::string(kUuidSrvsvc), 3, 0}})), at(0), ev, a);
  pipe.feed(false, view(test_util::dce_bind_ack(1, {0})), at(1), ev, a);
  const auto stub = test_util::netpathcompare_stub("10.0.0.2", "\\AAAAAAAA\\..\\n", "\\n");
  // Split the stub inside "\..\" at every position: the pattern is always found.
  const auto pat = test_util::utf16_bytes("\\..\\");
  const size_t where = std::search(stub.begin(), stub.end(), pat.begin(), pat.end()) - stub.begin();
  for (size_t split = where + 1; split < where + pat.size(); ++split) {
    const uint32_t call = static_cast<uint32_t>(10 + split);
    std::vector<uint8_t> s1(stub.begin(), stub.begin() + static_cast<std::ptrdiff_t>(split));
    std::vector<uint8_t> s2(stub.begin() + static_cast<std::ptrdiff_t>(split), stub.end());
    pipe.feed(true, view(test_util::dce_request(call, 0, 32, s1, kDceFirstFrag)), at(2), ev, a);
    pipe.feed(true, view(test_util::dce_request(call, 0, 32, s2, kDceLastFrag)), at(3), ev, a);
    pipe.feed(false, view(test_util::dce_response(call, 0, {0, 0, 0, 0})), at(4), ev, a);
  }
  ASSERT_EQ(ev.calls.size(), pat.size() - 1);
  for (const auto& c : ev.calls) {
    EXPECT_TRUE(c.traversal_checked);
    EXPECT_TRUE(c.path_traversal) << c.call_id;
    EXPECT_EQ(c.fragments, 2u);
    EXPECT_EQ(c.stub_len, stub.size());
  }
  // The same call without the traversal.
  const auto clean = test_util::netpathcompare_stub("10.0.0.2", "\\AAAAAAAA\\n", "\\n");
  pipe.feed(true, view(test_util::dce_request(99, 0, 32, clean)), at(5), ev, a);
  pipe.feed(false, view(test_util::dce_fault(99, 0x1c010002)), at(6), ev, a);
  ASSERT_EQ(ev.calls.size(), pat.size());
  EXPECT_FALSE(ev.calls.back().path_traversal);
  EXPECT_TRUE(ev.calls.back().fault);
  EXPECT_EQ(a.total(), 0u);
}

TEST(DcePipe, NotDceRpcMarksThePipeAndLimitsHold) {
  DcePipe other;
  Events ev;
  core::Anomalies a;
  const std::vector<uint8_t> rap{0x00, 0x00, 'W', 'r', 'L', 'e', 'h', 0, 0, 0, 0, 0};
  other.feed(true, view(rap), at(0), ev, a);
  EXPECT_TRUE(other.broken());
  EXPECT_EQ(a.total(), 0u);

  DcePipe pipe;
  for (uint32_t i = 0; i < DcePipe::kMaxPendingCalls + 5; ++i) {
    pipe.feed(true, view(test_util::dce_request(i, 0, 1, {1, 2, 3, 4})), at(1), ev, a);
  }
  // The oldest unanswered calls were reported to make room.
  EXPECT_EQ(ev.calls.size(), 5u);
  EXPECT_EQ(a.count(kAnomDceTooManyCalls), 5u);
  pipe.flush(ev);
  EXPECT_EQ(ev.calls.size(), DcePipe::kMaxPendingCalls + 5);
  EXPECT_FALSE(ev.calls.back().answered);
}

TEST(DcePipe, ResynchronisesAfterLostBytes) {
  DcePipe pipe;
  Events ev;
  core::Anomalies a;
  const auto req = test_util::dce_request(1, 0, 5, std::vector<uint8_t>(40, 1));
  pipe.feed(true, view(req).first(30), at(0), ev, a);
  pipe.lose(true);
  pipe.feed(true, view(req).subspan(30), at(1), ev, a);  // the rest: ignored
  pipe.feed(true, view(test_util::dce_request(2, 0, 6, {})), at(2), ev, a);
  pipe.feed(false, view(test_util::dce_response(2, 0, {})), at(3), ev, a);
  ASSERT_EQ(ev.calls.size(), 1u);
  EXPECT_EQ(ev.calls[0].opnum, 6);
}

}  // namespace
}  // namespace trawl::analyzers::smb
