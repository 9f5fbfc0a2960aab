// Frame builder: every frame decodes back with the project's decoder to the
// fields it was built from, and its checksums verify.
#include "sinkhole/frame.h"

#include <gtest/gtest.h>

#include <string>

#include "capture/raw_packet.h"
#include "core/anomalies.h"
#include "decode/checksum.h"
#include "decode/decoder.h"

namespace trawl::sinkhole {
namespace {

const MacAddress kGuestMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const MacAddress kOurMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

core::IpAddress ip(const char* s) { return *core::IpAddress::parse(s); }

FrameAddrs addrs(const char* src, const char* dst) {
  FrameAddrs a;
  a.src_mac = kOurMac;
  a.dst_mac = kGuestMac;
  a.src = ip(src);
  a.dst = ip(dst);
  a.ttl = 61;
  return a;
}

core::ByteView view(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

class FrameTest : public ::testing::Test {
 protected:
  // Decodes with checksum verification on; fails the test on any anomaly.
  decode::DecodedPacket decode(const Frame& f) {
    capture::RawPacket raw;
    raw.caplen = static_cast<uint32_t>(f.size());
    raw.wirelen = raw.caplen;
    raw.linktype = 1;
    raw.data = f.data();
    decode::DecodedPacket out;
    EXPECT_EQ(decoder_.decode(raw, out), decode::DecodeStatus::kOk);
    EXPECT_FALSE(out.bad_checksum);
    EXPECT_EQ(anomalies_.total(), 0u);
    return out;
  }
  core::Anomalies anomalies_;
  decode::Decoder decoder_{anomalies_, [] {
                             decode::DecoderLimits l;
                             l.verify_checksums = true;
                             return l;
                           }()};
};

TEST_F(FrameTest, TcpIpv4WithMss) {
  TcpFields t{443, 50123, 0xfffffff0u, 0x12345678u, decode::tcp_flag::kSyn | decode::tcp_flag::kAck, 65535, 1460};
  const Frame f = build_tcp_frame(addrs("203.0.113.7", "198.51.100.10"), t);
  ASSERT_EQ(f.size(), 14u + 20 + 24);
  const auto p = decode(f);
  EXPECT_EQ(p.src_mac, kOurMac);
  EXPECT_EQ(p.dst_mac, kGuestMac);
  EXPECT_EQ(p.src.to_string(), "203.0.113.7");
  EXPECT_EQ(p.dst.to_string(), "198.51.100.10");
  EXPECT_EQ(p.ttl, 61);
  EXPECT_EQ(p.ip_proto, decode::ip_proto::kTcp);
  EXPECT_EQ(p.sport, 443);
  EXPECT_EQ(p.dport, 50123);
  EXPECT_EQ(p.seq, 0xfffffff0u);
  EXPECT_EQ(p.ack, 0x12345678u);
  EXPECT_EQ(p.tcp_flags, decode::tcp_flag::kSyn | decode::tcp_flag::kAck);
  EXPECT_EQ(p.window, 65535);
  EXPECT_EQ(p.mss, 1460);
  EXPECT_EQ(p.wscale, -1);
  EXPECT_FALSE(p.sack_permitted);
  EXPECT_EQ(p.payload_len, 0u);
  // DF set, IPv4 header checksum verifies on its own.
  EXPECT_EQ(f[14 + 6], 0x40);
  EXPECT_TRUE(decode::detail::checksum_ok(core::ByteView(f.data() + 14, 20)));
}

TEST_F(FrameTest, TcpIpv6WithPayload) {
  const std::string body = "HTTP/1.1 200 OK\r\n\r\nodd";  // odd length: checksum pads
  TcpFields t{80, 40000, 7, 9, decode::tcp_flag::kAck | decode::tcp_flag::kPsh, 1000, 0};
  const Frame f = build_tcp_frame(addrs("2001:db8:1::7", "2001:db8::10"), t, view(body));
  ASSERT_EQ(f.size(), 14u + 40 + 20 + body.size());
  const auto p = decode(f);
  EXPECT_EQ(p.l3, decode::L3::kIpv6);
  EXPECT_EQ(p.ttl, 61);
  EXPECT_EQ(p.src.to_string(), "2001:db8:1::7");
  EXPECT_EQ(p.mss, 0);
  EXPECT_EQ(std::string(core::as_chars(p.payload)), body);
  EXPECT_EQ(p.payload_len, body.size());
}

TEST_F(FrameTest, UdpBothFamilies) {
  const std::string body = "dns answer";
  for (const auto& a : {addrs("203.0.113.53", "198.51.100.10"), addrs("2001:db8:1::53", "2001:db8::10")}) {
    const Frame f = build_udp_frame(a, 53, 5353, view(body));
    const auto p = decode(f);
    EXPECT_EQ(p.ip_proto, decode::ip_proto::kUdp);
    EXPECT_EQ(p.sport, 53);
    EXPECT_EQ(p.dport, 5353);
    EXPECT_EQ(std::string(core::as_chars(p.payload)), body);
    const size_t l4 = 14 + (a.src.is_v4() ? 20u : 40u);
    EXPECT_NE(f[l4 + 6] | f[l4 + 7], 0);  // a checksum is always present
  }
}

TEST_F(FrameTest, IcmpEchoReplyBothFamilies) {
  // identifier 0x1234, sequence 7, data "ping"
  const std::string body = std::string("\x12\x34\x00\x07", 4) + "ping";
  const Frame f4 = build_icmp_frame(addrs("203.0.113.9", "198.51.100.10"), 0, 0, view(body));
  const auto p4 = decode(f4);
  EXPECT_EQ(p4.ip_proto, decode::ip_proto::kIcmp);
  EXPECT_EQ(p4.sport, 0);  // type
  EXPECT_EQ(p4.icmp_id, 0x1234);
  EXPECT_TRUE(decode::detail::checksum_ok(core::ByteView(f4.data() + 34, f4.size() - 34)));

  const Frame f6 = build_icmp_frame(addrs("2001:db8:1::9", "2001:db8::10"), 129, 0, view(body));
  const auto p6 = decode(f6);
  EXPECT_EQ(p6.ip_proto, decode::ip_proto::kIcmpv6);
  EXPECT_EQ(p6.sport, 129);
  EXPECT_EQ(p6.icmp_id, 0x1234);
}

TEST_F(FrameTest, ReplyAddrsSwapsEverything) {
  decode::DecodedPacket guest;
  guest.src_mac = kGuestMac;
  guest.dst_mac = kOurMac;
  guest.src = ip("198.51.100.10");
  guest.dst = ip("203.0.113.7");
  const FrameAddrs a = reply_addrs(guest);
  EXPECT_EQ(a.src_mac, kOurMac);
  EXPECT_EQ(a.dst_mac, kGuestMac);
  EXPECT_EQ(a.src, guest.dst);
  EXPECT_EQ(a.dst, guest.src);
}

TEST_F(FrameTest, RefusesMixedFamiliesAndOversize) {
  EXPECT_TRUE(build_tcp_frame(addrs("203.0.113.7", "2001:db8::10"), TcpFields{}).empty());
  const std::string big(kMaxTransportBytes, 'x');
  EXPECT_TRUE(build_tcp_frame(addrs("203.0.113.7", "198.51.100.10"), TcpFields{}, view(big)).empty());
  EXPECT_TRUE(build_udp_frame(addrs("203.0.113.7", "198.51.100.10"), 1, 2, view(big)).empty());
  EXPECT_TRUE(build_icmp_frame(addrs("203.0.113.7", "198.51.100.10"), 0, 0, view(big)).empty());
  // The largest that fits still builds and decodes.
  const std::string fits(kMaxTransportBytes - kTcpHeader, 'y');
  const Frame f = build_tcp_frame(addrs("203.0.113.7", "198.51.100.10"), TcpFields{}, view(fits));
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(decode(f).payload_len, fits.size());
}

TEST(TransportChecksum, KnownValue) {
  // RFC 1071-style check: the field's complement sums with the segment to 0xffff.
  const uint8_t seg[] = {0x00, 0x35, 0x13, 0x89, 0x00, 0x0a, 0x00, 0x00, 0x61, 0x62};
  const uint16_t sum = transport_checksum(ip("192.0.2.1"), ip("192.0.2.2"), 17, seg);
  uint8_t with[sizeof seg];
  std::copy(seg, seg + sizeof seg, with);
  with[6] = static_cast<uint8_t>(sum >> 8);
  with[7] = static_cast<uint8_t>(sum);
  decode::DecodedPacket p;
  p.src = ip("192.0.2.1");
  p.dst = ip("192.0.2.2");
  EXPECT_TRUE(decode::detail::transport_checksum_ok(p, 17, with));
  // Hand computation: 0xc000+0x0201 + 0xc000+0x0202 + 0x11 + 0x0a + 0x35+0x1389+0x0a+0x6162
  EXPECT_EQ(sum, 0x06b6);
}

}  // namespace
}  // namespace trawl::sinkhole
