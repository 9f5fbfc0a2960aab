// Tests for the SSH analyzer through a Dispatcher: a real connection of Zeek's
// sshguess trace (four failed attempts by Zeek's inference), the
// same on an unknown port and split differently, a synthesised successful
// login, the "none" method, zlib compression, gaps, limits and the probe.
#include "analyzers/ssh/ssh_analyzer.h"

#include <gtest/gtest.h>

#include "analyzers/ssh/ssh_test_util.h"

namespace trawl::analyzers::ssh {
namespace {

using test::Bytes;
using test::SshConn;
using test::Segment;

const std::vector<Segment>& guess_conn0() {
  static const std::vector<Segment> segs = test::load_segments("sshguess_conn0.txt");
  return segs;
}

// Index of the first segment of a direction that carries no cleartext any
// more: for this fixture, everything after the client's NEWKEYS (segment 9).
constexpr size_t kFirstEncrypted = 10;

std::string rendered(const Record& r) {
  std::string out;
  r.write_json(out);
  return out;
}

TEST(SshAnalyzer, ZeekSshguessConnection0) {
  const auto& segs = guess_conn0();
  ASSERT_EQ(segs.size(), 22u);
  SshConn run;
  run.replay(segs);
  // SERVICE_ACCEPT (56), the "none" probe's failure (56, the size learnt),
  // then four more replies of that size: a public key and three passwords.
  // Failures do not end the inference (a later success could still come).
  EXPECT_TRUE(run.d->wants_data());
  run.end();
  EXPECT_EQ(run.conn.service, "ssh");
  auto ssh = run.ssh();
  ASSERT_EQ(ssh.size(), 1u);
  const SshRecord& r = *ssh[0];
  EXPECT_EQ(r.ts, run.at(0));  // the client's version line came first
  EXPECT_EQ(r.version, 2u);
  EXPECT_EQ(r.client, "SSH-2.0-OpenSSH_6.2");
  EXPECT_EQ(r.server, "SSH-2.0-OpenSSH_6.7p1 Debian-3");
  EXPECT_EQ(r.auth_success, false);
  EXPECT_EQ(r.auth_attempts, 4u);
  EXPECT_EQ(r.kex_alg, "diffie-hellman-group-exchange-sha256");
  EXPECT_EQ(r.host_key_alg, "ssh-rsa");
  EXPECT_EQ(r.cipher_alg, "aes128-ctr");
  EXPECT_EQ(r.mac_alg, "hmac-sha1-etm@openssh.com");
  EXPECT_EQ(r.compression_alg, "none");
  ASSERT_TRUE(r.host_key);
  EXPECT_EQ(r.host_key->size(), 47u);
  // tshark's ssh.kex.hassh / ssh.kex.hasshserver for this connection.
  EXPECT_EQ(r.hassh, "1f120ecfc2c57fbdeaf66b93a3bf26ee");
  EXPECT_EQ(r.hassh_server, "3711ee816d3ea9975d96c39c31c54299");
  EXPECT_EQ(run.anomalies.total(), 0u);

  auto auth = run.auth();
  ASSERT_EQ(auth.size(), 4u);
  for (const AuthRecord* a : auth) {
    EXPECT_EQ(a->proto, "ssh");
    EXPECT_EQ(a->method, "inferred");
    EXPECT_EQ(a->user, "");
    EXPECT_EQ(a->outcome, AuthOutcome::kFailure);
    EXPECT_EQ(a->uid, "CsshTest1");
  }
  // Each at the time of the server reply that showed it (the 3rd to 6th
  // encrypted server segments).
  EXPECT_EQ(auth[0]->ts, run.at(segs[15].micros));
  EXPECT_EQ(auth[1]->ts, run.at(segs[17].micros));
  EXPECT_EQ(auth[2]->ts, run.at(segs[19].micros));
  EXPECT_EQ(auth[3]->ts, run.at(segs[21].micros));

  const std::string json = rendered(r);
  EXPECT_NE(json.find("\"auth_success\":false,\"auth_attempts\":4,\"client\":\"SSH-2.0-OpenSSH_6.2\""),
            std::string::npos)
      << json;
  EXPECT_EQ(json.find("direction"), std::string::npos);
}

TEST(SshAnalyzer, RecognisedOnAnyPortAndFromEitherSide) {
  SshConn run(40022);
  run.replay(guess_conn0());
  run.end();
  ASSERT_EQ(run.ssh().size(), 1u);
  EXPECT_EQ(run.ssh()[0]->auth_attempts, 4u);
  EXPECT_EQ(run.conn.service, "ssh");

  // The server speaks first and the client waits: known from the server's line.
  SshConn server_first(40022);
  server_first.send(false, "SSH-2.0-OpenSSH_9.6\r\n");
  EXPECT_EQ(server_first.d->service(), "ssh");
}

TEST(SshAnalyzer, CleartextSplitAnywhereGivesTheSameRecord) {
  const auto& segs = guess_conn0();
  for (size_t step : {1u, 3u, 7u, 100u}) {
    SshConn run;
    for (size_t i = 0; i < segs.size(); ++i) {
      const Segment& s = segs[i];
      if (i >= kFirstEncrypted) {
        run.send(s.is_orig, s.bytes, s.micros);
        continue;
      }
      for (size_t off = 0; off < s.bytes.size(); off += step) {
        const size_t n = std::min(step, s.bytes.size() - off);
        run.send(s.is_orig, std::vector<uint8_t>(s.bytes.begin() + static_cast<long>(off),
                                                 s.bytes.begin() + static_cast<long>(off + n)),
                 s.micros);
      }
    }
    run.end();
    ASSERT_EQ(run.ssh().size(), 1u) << step;
    const SshRecord& r = *run.ssh()[0];
    EXPECT_EQ(r.auth_attempts, 4u) << step;
    EXPECT_EQ(r.kex_alg, "diffie-hellman-group-exchange-sha256") << step;
    EXPECT_EQ(r.hassh_server, "3711ee816d3ea9975d96c39c31c54299") << step;
    EXPECT_TRUE(r.host_key) << step;
    EXPECT_EQ(run.anomalies.total(), 0u) << step;
  }
}

TEST(SshAnalyzer, SuccessAfterFailuresGivesUp) {
  auto segs = guess_conn0();
  segs.resize(18);  // up to the second counted failure
  SshConn run;
  run.replay(segs);
  // USERAUTH_SUCCESS: 16 bytes smaller than SERVICE_ACCEPT (56).
  run.send(false, test::noise(40), 9000000);
  EXPECT_FALSE(run.d->wants_data());
  run.send(true, test::noise(1000), 9100000);  // bulk after login: not looked at
  run.end();
  const SshRecord& r = *run.ssh().at(0);
  EXPECT_EQ(r.auth_success, true);
  EXPECT_EQ(r.auth_attempts, 3u);
  auto auth = run.auth();
  ASSERT_EQ(auth.size(), 3u);
  EXPECT_EQ(auth[0]->outcome, AuthOutcome::kFailure);
  EXPECT_EQ(auth[1]->outcome, AuthOutcome::kFailure);
  EXPECT_EQ(auth[2]->outcome, AuthOutcome::kSuccess);
  EXPECT_EQ(auth[2]->ts, run.at(9000000));
}

// A synthesised OpenSSH-like exchange up to both NEWKEYS, curve25519 kex.
void handshake(SshConn& run, const test::KexLists& client, const test::KexLists& server) {
  run.send(false, "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n", 0);
  Bytes c;
  c.raw("SSH-2.0-OpenSSH_9.7\r\n").raw(test::kexinit(client));
  run.send(true, c.b, 10);
  run.send(false, test::kexinit(server), 20);
  Bytes init;
  init.u8(30).str(std::string(32, 'c'));
  run.send(true, test::packet(init.b), 30);
  Bytes reply;
  reply.raw(test::ecdh_reply(test::ed25519_blob())).raw(test::newkeys());
  run.send(false, reply.b, 40);
  run.send(true, test::newkeys(), 50);
}

TEST(SshAnalyzer, SynthesisedCurve25519HostKeyAndNoneSuccess) {
  SshConn run(2222);
  handshake(run, {}, {});
  run.send(true, test::noise(44), 60);   // SERVICE_REQUEST
  run.send(false, test::noise(44), 70);  // SERVICE_ACCEPT
  run.send(true, test::noise(80), 80);   // USERAUTH_REQUEST "none"
  run.send(false, test::noise(28), 90);  // USERAUTH_SUCCESS right away (44 - 16)
  EXPECT_FALSE(run.d->wants_data());
  run.end();
  const SshRecord& r = *run.ssh().at(0);
  EXPECT_EQ(r.ts, run.at(0));
  EXPECT_EQ(r.kex_alg, "curve25519-sha256");
  EXPECT_EQ(r.host_key_alg, "ssh-ed25519");
  EXPECT_EQ(r.cipher_alg, "chacha20-poly1305@openssh.com");
  EXPECT_EQ(r.mac_alg, "umac-64-etm@openssh.com");
  const auto blob = test::ed25519_blob();
  EXPECT_EQ(r.host_key, md5_fingerprint({blob.data(), blob.size()}));
  EXPECT_EQ(r.auth_success, true);
  EXPECT_EQ(r.auth_attempts, 1u);
  EXPECT_EQ(run.auth().size(), 1u);
  EXPECT_EQ(run.anomalies.total(), 0u);
}

TEST(SshAnalyzer, ZlibCompressionDisablesTheInference) {
  test::KexLists zlib;
  zlib.comp = "zlib@openssh.com,none";
  SshConn run;
  handshake(run, zlib, zlib);
  EXPECT_FALSE(run.d->wants_data());  // nothing more can be learnt
  run.end();
  const SshRecord& r = *run.ssh().at(0);
  EXPECT_EQ(r.compression_alg, "zlib@openssh.com");
  EXPECT_FALSE(r.auth_success.has_value());
  EXPECT_EQ(r.auth_attempts, 0u);
  EXPECT_TRUE(run.auth().empty());
}

TEST(SshAnalyzer, NegotiationFailureAndDifferentDirections) {
  test::KexLists c;
  test::KexLists s;
  s.kex = "diffie-hellman-group1-sha1";
  s.enc = "aes256-ctr,chacha20-poly1305@openssh.com";
  SshConn run;
  handshake(run, c, s);
  run.end();
  const SshRecord& r = *run.ssh().at(0);
  EXPECT_EQ(r.kex_alg, "Algorithm negotiation failed");
  EXPECT_EQ(r.cipher_alg, "chacha20-poly1305@openssh.com");
  EXPECT_FALSE(r.host_key.has_value());
  EXPECT_EQ(run.anomaly(kAnomUnknownKex), 0u);
}

TEST(SshAnalyzer, ServerBannerLinesBeforeTheVersion) {
  SshConn run;
  run.send(false, "Welcome to the lab\r\nAuthorised use only\r\nSSH-2.0-dropbear_2022.83\r\n");
  run.send(true, "SSH-2.0-PuTTY_Release_0.80\r\n");
  run.end();
  const SshRecord& r = *run.ssh().at(0);
  EXPECT_EQ(r.server, "SSH-2.0-dropbear_2022.83");
  EXPECT_EQ(r.client, "SSH-2.0-PuTTY_Release_0.80");
  EXPECT_EQ(r.version, 2u);
  EXPECT_EQ(run.anomalies.total(), 0u);
}

TEST(SshAnalyzer, Ssh1IsNotFollowedPastTheVersions) {
  SshConn run;
  run.send(false, "SSH-1.5-OpenSSH_2.3\n");
  run.send(true, "SSH-1.5-PuTTY\n");
  EXPECT_FALSE(run.d->wants_data());
  run.end();
  EXPECT_EQ(run.ssh().at(0)->version, 1u);
  SshConn mixed;
  mixed.send(false, "SSH-2.0-a\r\n");
  mixed.send(true, "SSH-1.5-b\r\n");
  mixed.end();
  EXPECT_EQ(mixed.ssh().at(0)->version, 0u);
}

TEST(SshAnalyzer, GapStopsAndKeepsWhatWasSeen) {
  const auto& segs = guess_conn0();
  SshConn run;
  for (size_t i = 0; i < 4; ++i) run.send(segs[i].is_orig, segs[i].bytes, segs[i].micros);
  run.d->stream_gap(false, 500, run.at(9000));
  EXPECT_FALSE(run.d->wants_data());
  run.end();
  const SshRecord& r = *run.ssh().at(0);
  EXPECT_EQ(r.client, "SSH-2.0-OpenSSH_6.2");
  EXPECT_FALSE(r.auth_success.has_value());
  EXPECT_FALSE(r.kex_alg.has_value());
}

TEST(SshAnalyzer, OverlongVersionLine) {
  SshConn run;
  run.send(true, "SSH-2.0-" + std::string(2000, 'A'));
  EXPECT_FALSE(run.d->wants_data());
  EXPECT_EQ(run.anomaly(kAnomVersionTooLong), 1u);
  run.end();
  EXPECT_TRUE(run.ssh().empty());  // no complete version line: nothing to log
}

TEST(SshAnalyzer, TooManyBannerLines) {
  SshConn run;
  std::string lines;
  for (int i = 0; i < 40; ++i) lines += "banner line\r\n";
  run.send(false, "SSH-2.0-x\r\n");  // recognised by the server's line...
  run.send(true, lines);             // ...but the client never sends its own
  EXPECT_FALSE(run.d->wants_data());
  EXPECT_EQ(run.anomaly(kAnomTooManyBannerLines), 1u);
  EXPECT_EQ(run.anomaly(kAnomMalformedVersion), 1u);
}

TEST(SshAnalyzer, OversizeAndMalformedPackets) {
  SshConn big;
  Bytes b;
  b.raw("SSH-2.0-x\r\n").u32(1u << 20).u8(4).u8(20);
  big.send(true, b.b);
  EXPECT_FALSE(big.d->wants_data());
  EXPECT_EQ(big.anomaly(kAnomPacketTooLong), 1u);

  SshConn bad;
  Bytes m;
  m.raw("SSH-2.0-x\r\n").u32(8).u8(200).raw("12345678");
  bad.send(true, m.b);
  EXPECT_FALSE(bad.d->wants_data());
  EXPECT_EQ(bad.anomaly(kAnomMalformedPacket), 1u);
  bad.end();
  EXPECT_EQ(bad.ssh().size(), 1u);
}

TEST(SshAnalyzer, TooManyCleartextPackets) {
  SshConn run;
  Bytes b;
  b.raw("SSH-2.0-x\r\n");
  Bytes ignore;
  ignore.u8(2).str("x");
  for (int i = 0; i < 70; ++i) b.raw(test::packet(ignore.b));
  run.send(true, b.b);
  EXPECT_FALSE(run.d->wants_data());
  EXPECT_EQ(run.anomaly(kAnomTooManyCleartextPackets), 1u);
}

TEST(SshAnalyzer, UndecidedSessionsStopAfterTheWindow) {
  SshConn run;
  handshake(run, {}, {});
  run.send(true, test::noise(44), 60);
  run.send(false, test::noise(44), 70);
  // An interactive session whose sizes never show an outcome.
  int sent = 0;
  for (int i = 0; i < 1000 && run.d->wants_data(); ++i, ++sent) {
    run.send(i % 2 == 0, test::noise(static_cast<size_t>(100 + i % 7 * 16)), 80 + i);
  }
  EXPECT_FALSE(run.d->wants_data());
  EXPECT_LT(sent, 300);
  EXPECT_EQ(run.anomaly(kAnomInferenceWindowExhausted), 1u);
  run.end();
  // Server replies of the first reply's size (116 bytes) count as failures.
  EXPECT_EQ(run.ssh().at(0)->auth_success, false);
}

TEST(SshProbe, Decisions) {
  auto probe = [](std::string_view orig, std::string_view resp, bool hint, bool orig_done = false) {
    ProbeInput in;
    in.orig = {reinterpret_cast<const uint8_t*>(orig.data()), orig.size()};
    in.resp = {reinterpret_cast<const uint8_t*>(resp.data()), resp.size()};
    in.port_hint = hint;
    in.orig_done = orig_done;
    return SshAnalyzer::probe(in);
  };
  EXPECT_EQ(probe("SSH-2.0-OpenSSH_9.7\r\n", "", false), Probe::kYes);
  EXPECT_EQ(probe("SSH-2.0-", "", false), Probe::kYes);
  EXPECT_EQ(probe("SSH-2.", "", false), Probe::kMaybe);
  EXPECT_EQ(probe("SS", "", false), Probe::kMaybe);
  EXPECT_EQ(probe("SS", "", false, true), Probe::kNo);
  EXPECT_EQ(probe("GET / HTTP/1.1\r\n", "", true), Probe::kNo);
  EXPECT_EQ(probe("GET / HTTP/1.1\r\n", "SSH-2.0-x\r\n", true), Probe::kNo);
  EXPECT_EQ(probe("", "SSH-1.99-Cisco-1.25\r\n", false), Probe::kYes);
  // A server line that is not a version: still possible until the client
  // speaks (its version line decides), impossible once it has ended.
  EXPECT_EQ(probe("", "220 mail ESMTP\r\n", false), Probe::kMaybe);
  EXPECT_EQ(probe("", "220 mail ESMTP\r\n", false, true), Probe::kNo);
  EXPECT_EQ(probe("EHLO x\r\n", "220 mail ESMTP\r\n", true), Probe::kNo);
  // Lines before the server's version count only on an SSH port.
  EXPECT_EQ(probe("", "hello\r\nSSH-2.0-x\r\n", true), Probe::kYes);
  EXPECT_EQ(probe("", "hello\r\nSSH-2.0-x\r\n", false), Probe::kMaybe);
  EXPECT_EQ(probe("", "hello\r\nSSH-2.0-x\r\n", false, true), Probe::kNo);
  EXPECT_EQ(probe("", "SSH-x\r\n", false, true), Probe::kNo);
  EXPECT_EQ(probe("SSH-x\r\n", "", true), Probe::kNo);
}

}  // namespace
}  // namespace trawl::analyzers::ssh
