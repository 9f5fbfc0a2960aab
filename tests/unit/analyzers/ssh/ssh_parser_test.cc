// Tests for the pure SSH parsing functions: version lines and Zeek's version
// rules, packet framing, KEXINIT (a real one from Zeek's sshguess trace and
// hostile ones), host keys, negotiation, MD5/HASSH and the size inference.
#include "analyzers/ssh/ssh_parser.h"

#include <gtest/gtest.h>

#include "analyzers/ssh/ssh_test_util.h"

namespace trawl::analyzers::ssh {
namespace {

using test::Bytes;

core::ByteView view(const std::vector<uint8_t>& v) { return {v.data(), v.size()}; }

TEST(SshVersion, RecognisesVersionLines) {
  EXPECT_TRUE(is_version_line("SSH-2.0-OpenSSH_6.2"));
  EXPECT_TRUE(is_version_line("SSH-1.99-Cisco-1.25"));
  EXPECT_TRUE(is_version_line("SSH-2.0-"));
  EXPECT_FALSE(is_version_line("SSH-2.0"));
  EXPECT_FALSE(is_version_line("SSH--foo"));
  EXPECT_FALSE(is_version_line("ssh-2.0-x"));
  EXPECT_FALSE(is_version_line("220 ProFTPD"));
  EXPECT_FALSE(is_version_line(""));
}

TEST(SshVersion, ZeekVersionRules) {
  EXPECT_EQ(proto_version("SSH-2.0-x"), ProtoVersion::kSsh2);
  EXPECT_EQ(proto_version("SSH-1.99-x"), ProtoVersion::kSsh199);
  EXPECT_EQ(proto_version("SSH-1.5-x"), ProtoVersion::kSsh1);
  EXPECT_EQ(proto_version("SSH-3.0-x"), ProtoVersion::kUnknown);
  EXPECT_EQ(negotiated_version("SSH-2.0-a", "SSH-2.0-b"), 2);
  EXPECT_EQ(negotiated_version("SSH-1.99-a", "SSH-2.0-b"), 2);
  EXPECT_EQ(negotiated_version("SSH-2.0-a", "SSH-1.99-b"), 2);
  EXPECT_EQ(negotiated_version("SSH-1.99-a", "SSH-1.99-b"), 2);
  EXPECT_EQ(negotiated_version("SSH-1.5-a", "SSH-1.99-b"), 1);
  EXPECT_EQ(negotiated_version("SSH-1.99-a", "SSH-1.5-b"), 1);
  EXPECT_EQ(negotiated_version("SSH-1.5-a", "SSH-1.5-b"), 1);
  EXPECT_EQ(negotiated_version("SSH-1.5-a", "SSH-2.0-b"), 0);
  EXPECT_EQ(negotiated_version("SSH-2.0-a", "SSH-1.5-b"), 0);
  EXPECT_EQ(negotiated_version("SSH-2.0-a", "SSH-3.0-b"), -1);
  EXPECT_EQ(negotiated_version("SSH-", "SSH-2.0-b"), -1);
}

TEST(SshFrame, GoodShortLongAndMalformed) {
  const std::vector<uint8_t> p = test::newkeys();  // 00 00 00 0c 0a 15 + 10 padding
  Frame f;
  ASSERT_EQ(frame_packet(view(p), 65536, f), FrameResult::kOk);
  EXPECT_EQ(f.total, p.size());
  ASSERT_EQ(f.payload.size(), 1u);
  EXPECT_EQ(f.payload[0], kMsgNewkeys);
  EXPECT_EQ(frame_packet(view(p).subspan(0, 3), 65536, f), FrameResult::kNeedMore);
  EXPECT_EQ(f.total, 0u);
  EXPECT_EQ(frame_packet(view(p).subspan(0, 9), 65536, f), FrameResult::kNeedMore);
  EXPECT_EQ(f.total, p.size());
  EXPECT_EQ(frame_packet(view(p), 8, f), FrameResult::kTooLong);
  const std::vector<uint8_t> huge{0xff, 0xff, 0xff, 0xff, 4, 20};
  EXPECT_EQ(frame_packet(view(huge), 65536, f), FrameResult::kTooLong);
  // Padding that leaves no message number.
  const std::vector<uint8_t> bad_pad{0, 0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(frame_packet(view(bad_pad), 65536, f), FrameResult::kMalformed);
  const std::vector<uint8_t> tiny{0, 0, 0, 1, 0};
  EXPECT_EQ(frame_packet(view(tiny), 65536, f), FrameResult::kMalformed);
}

// The client's KEXINIT of connection 0 in Zeek's sshguess.pcap (OpenSSH 6.2),
// framed from the fixture's third and fourth client segments.
std::vector<uint8_t> real_client_kexinit_packet() {
  auto segs = test::load_segments("sshguess_conn0.txt");
  std::vector<uint8_t> stream;
  for (const auto& s : segs) {
    if (s.is_orig) stream.insert(stream.end(), s.bytes.begin(), s.bytes.end());
  }
  // Skip the version line "SSH-2.0-OpenSSH_6.2\r\n".
  return std::vector<uint8_t>(stream.begin() + 21, stream.end());
}

TEST(SshKexinit, RealClientKexinitMatchesTshark) {
  const auto stream = real_client_kexinit_packet();
  Frame f;
  ASSERT_EQ(frame_packet(view(stream), 65536, f), FrameResult::kOk);
  core::Anomalies an;
  KexInit k;
  ASSERT_TRUE(parse_kexinit(f.payload, k, an));
  EXPECT_EQ(an.total(), 0u);
  // Lists as tshark 4.0 shows them for frame 9 (ssh.kex_algorithms ...).
  EXPECT_EQ(k.kex,
            "diffie-hellman-group-exchange-sha256,diffie-hellman-group-exchange-sha1,"
            "diffie-hellman-group14-sha1,diffie-hellman-group1-sha1");
  EXPECT_EQ(k.comp_c2s, "none,zlib@openssh.com,zlib");
  EXPECT_EQ(k.host_key.rfind("ssh-rsa-cert-v01@openssh.com,", 0), 0u);
  EXPECT_EQ(k.lang_c2s, "");
  EXPECT_FALSE(k.first_kex_follows);
  // tshark's ssh.kex.hassh for the same packet.
  EXPECT_EQ(hassh_client(k), "1f120ecfc2c57fbdeaf66b93a3bf26ee");
}

TEST(SshKexinit, EveryTruncationFailsCleanly) {
  const auto stream = real_client_kexinit_packet();
  Frame f;
  ASSERT_EQ(frame_packet(view(stream), 65536, f), FrameResult::kOk);
  for (size_t n = 0; n < f.payload.size(); ++n) {
    core::Anomalies an;
    KexInit k;
    EXPECT_FALSE(parse_kexinit(f.payload.subspan(0, n), k, an)) << n;
    EXPECT_EQ(an.count(kAnomMalformedKexinit), 1u) << n;
  }
}

TEST(SshKexinit, OversizeNameListLengthAndWrongType) {
  Bytes p;
  p.u8(20);
  for (int i = 0; i < 16; ++i) p.u8(0);
  p.u32(0xfffffff0).raw("curve25519-sha256");
  core::Anomalies an;
  KexInit k;
  EXPECT_FALSE(parse_kexinit(view(p.b), k, an));
  EXPECT_TRUE(k.kex.empty());
  p.b[0] = 21;
  EXPECT_FALSE(parse_kexinit(view(p.b), k, an));
  EXPECT_EQ(an.count(kAnomMalformedKexinit), 2u);
}

TEST(SshNegotiation, FirstClientAlgorithmTheServerHas) {
  EXPECT_EQ(find_alg("a,b,c", "c,b"), "b");
  EXPECT_EQ(find_alg(",,a,,b,", "b,a"), "a");
  EXPECT_EQ(find_alg("a,b", "c"), "Algorithm negotiation failed");
  EXPECT_EQ(find_alg("", ""), "Algorithm negotiation failed");
  EXPECT_EQ(find_alg("aes128-ctr", "aes128-ctr,aes256-ctr"), "aes128-ctr");
  // A name is matched whole, never as a prefix.
  EXPECT_EQ(find_alg("aes128", "aes128-ctr"), "Algorithm negotiation failed");
  EXPECT_EQ(find_bidirectional_alg("x,y", "x,y", "y", "y"), "y");
  EXPECT_EQ(find_bidirectional_alg("x,y", "x,y", "y", "x"), "To server: y, to client: x");
}

TEST(SshKexFamily, Families) {
  EXPECT_EQ(kex_family("diffie-hellman-group-exchange-sha256"), KexFamily::kDhGex);
  EXPECT_EQ(kex_family("diffie-hellman-group14-sha1"), KexFamily::kDh);
  EXPECT_EQ(kex_family("diffie-hellman-group16-sha512"), KexFamily::kDh);
  EXPECT_EQ(kex_family("curve25519-sha256@libssh.org"), KexFamily::kEcdh);
  EXPECT_EQ(kex_family("ecdh-sha2-nistp256"), KexFamily::kEcdh);
  EXPECT_EQ(kex_family("sntrup761x25519-sha512@openssh.com"), KexFamily::kEcdh);
  EXPECT_EQ(kex_family("mlkem768x25519-sha256"), KexFamily::kEcdh);
  EXPECT_EQ(kex_family("gss-group14-sha256-toWM5Slw5Ew8Mqkay+al2g=="), KexFamily::kGss);
  EXPECT_EQ(kex_family("rsa2048-sha256"), KexFamily::kRsa);
  EXPECT_EQ(kex_family("Algorithm negotiation failed"), KexFamily::kUnknown);
}

TEST(SshHostKey, ByFamilyAndMalformed) {
  const auto blob = test::ed25519_blob();
  Bytes reply;
  reply.u8(31).str(blob).str("q");
  core::Anomalies an;
  core::ByteView key;
  ASSERT_TRUE(server_host_key(KexFamily::kEcdh, view(reply.b), key, an));
  EXPECT_EQ(std::vector<uint8_t>(key.begin(), key.end()), blob);
  // Under group exchange, message 31 is the group, not the reply.
  EXPECT_FALSE(server_host_key(KexFamily::kDhGex, view(reply.b), key, an));
  reply.b[0] = 33;
  EXPECT_TRUE(server_host_key(KexFamily::kDhGex, view(reply.b), key, an));
  EXPECT_EQ(an.total(), 0u);
  Bytes bad;
  bad.u8(31).u32(1000).raw("short");
  EXPECT_FALSE(server_host_key(KexFamily::kDh, view(bad.b), key, an));
  EXPECT_EQ(an.count(kAnomMalformedKexReply), 1u);
  EXPECT_FALSE(server_host_key(KexFamily::kDh, {}, key, an));
}

TEST(SshDigest, Md5KnownVectorsAndFingerprintFormat) {
  // RFC 1321 appendix A.5.
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  const std::string abc = "abc";
  EXPECT_EQ(md5_fingerprint({reinterpret_cast<const uint8_t*>(abc.data()), abc.size()}),
            "90:01:50:98:3c:d2:4f:b0:d6:96:3f:7d:28:e1:7f:72");
  test::KexLists l;
  KexInit k;
  k.kex = l.kex;
  k.enc_c2s = "c2s";
  k.enc_s2c = l.enc;
  k.mac_s2c = l.mac;
  k.comp_s2c = l.comp;
  EXPECT_EQ(hassh_server(k), md5_hex(l.kex + ";" + l.enc + ";" + l.mac + ";" + l.comp));
}

using Ev = AuthInference::Event;

TEST(SshInference, FailuresThenSuccess) {
  AuthInference a;
  EXPECT_EQ(a.segment(false, 40), Ev::kNone);  // server data before the client's: ignored
  EXPECT_EQ(a.segment(true, 56), Ev::kNone);   // SERVICE_REQUEST
  EXPECT_EQ(a.segment(false, 56), Ev::kNone);  // SERVICE_ACCEPT
  EXPECT_EQ(a.segment(true, 72), Ev::kNone);   // "none"
  EXPECT_EQ(a.segment(false, 72), Ev::kNone);  // USERAUTH_FAILURE: size learnt, not counted
  EXPECT_EQ(a.segment(true, 152), Ev::kNone);
  EXPECT_EQ(a.segment(false, 72), Ev::kFailure);
  EXPECT_EQ(a.segment(false, 88), Ev::kNone);  // an odd size: nothing
  EXPECT_EQ(a.segment(false, 72), Ev::kFailure);
  EXPECT_FALSE(a.decided());
  EXPECT_EQ(a.segment(false, 40), Ev::kSuccess);  // 56 - 16
  EXPECT_TRUE(a.decided());
  EXPECT_EQ(a.segment(false, 72), Ev::kNone);
}

TEST(SshInference, NoneMethodSuccessAndBannerSkip) {
  AuthInference none;
  none.segment(true, 56);
  none.segment(false, 64);
  EXPECT_EQ(none.segment(false, 48), Ev::kSuccess);

  AuthInference banner;
  banner.segment(true, 56);
  banner.segment(false, 56);
  EXPECT_EQ(banner.segment(false, 600), Ev::kNone);  // pre-auth banner, skipped once
  EXPECT_EQ(banner.segment(false, 72), Ev::kNone);   // the failure size
  EXPECT_EQ(banner.segment(false, 72), Ev::kFailure);
}

}  // namespace
}  // namespace trawl::analyzers::ssh
