// Ethernet II, 802.3/LLC/SNAP, the reset of a reused DecodedPacket and link
// type dispatch.
#include "decode/packet_builder.h"

namespace trawl::test {
namespace {

using decode::DecodeStatus;
using decode::L3;
namespace anomaly = decode::anomaly;

class EthernetTest : public DecodeFixture {};

TEST_F(EthernetTest, Ipv4TcpFieldsAndMacs) {
  Tcp t;
  t.sport = 51000;
  t.dport = 443;
  t.seq = 0x01020304;
  t.ack = 0x0a0b0c0d;
  t.flags = 0x18;
  t.window = 512;
  const Bytes frame = ether(0x0800, ipv4(6, tcp(t, bytes_of("GET /"))));
  ASSERT_EQ(decode(frame, 1, 0, 1234567), DecodeStatus::kOk);
  EXPECT_EQ(out.ts.ns, 1234567);
  EXPECT_EQ(out.wirelen, frame.size());
  EXPECT_EQ(out.linktype, 1);
  EXPECT_TRUE(out.has_mac);
  EXPECT_EQ(out.src_mac, kMacA);
  EXPECT_EQ(out.dst_mac, kMacB);
  EXPECT_EQ(out.l3, L3::kIpv4);
  EXPECT_EQ(out.src, v4addr(kIpA));
  EXPECT_EQ(out.dst, v4addr(kIpB));
  EXPECT_EQ(out.ip_proto, 6);
  EXPECT_EQ(out.ttl, 64);
  EXPECT_EQ(out.ip_len, 20u + 20u + 5u);
  EXPECT_TRUE(out.has_l4);
  EXPECT_EQ(out.sport, 51000);
  EXPECT_EQ(out.dport, 443);
  EXPECT_EQ(out.seq, 0x01020304u);
  EXPECT_EQ(out.ack, 0x0a0b0c0du);
  EXPECT_EQ(out.tcp_flags, 0x18);
  EXPECT_EQ(out.window, 512);
  EXPECT_EQ(out.payload_len, 5u);
  EXPECT_EQ(payload_string(), "GET /");
  EXPECT_EQ(out.tunnel_depth, 0);
  EXPECT_FALSE(out.reassembled);
  EXPECT_FALSE(out.bad_checksum);
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(EthernetTest, PaddingIsNotPayload) {
  // A bare ACK is 54 bytes; Ethernet pads it to 60 (and some captures keep the FCS).
  const Bytes frame = pad_to(ether(0x0800, ipv4(6, tcp(1, 2, 0x10))), 64);
  ASSERT_EQ(decode(frame), DecodeStatus::kOk);
  EXPECT_EQ(out.ip_len, 40u);
  EXPECT_EQ(out.payload_len, 0u);
  EXPECT_TRUE(out.payload.empty());
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();

  const Bytes udp_frame = pad_to(ether(0x0800, ipv4(17, udp(53, 53, bytes_of("ab")))), 60);
  ASSERT_EQ(decode(udp_frame), DecodeStatus::kOk);
  EXPECT_EQ(out.payload_len, 2u);
  EXPECT_EQ(payload_string(), "ab");
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(EthernetTest, ReusedPacketIsResetButIndexKept) {
  ASSERT_EQ(decode(ether(0x86dd, ipv6(17, udp(1, 2, bytes_of("x"))))), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv6);
  out.index = 42;
  out.vlan_count = 2;  // garbage from the caller must not survive
  out.mss = 99;
  ASSERT_EQ(decode(ether(0x88cc, zeros(30))), DecodeStatus::kOk);  // LLDP
  EXPECT_EQ(out.index, 42u);
  EXPECT_EQ(out.l3, L3::kNone);
  EXPECT_FALSE(out.has_l4);
  EXPECT_EQ(out.vlan_count, 0);
  EXPECT_EQ(out.mss, 0);
  EXPECT_EQ(out.wscale, -1);
  EXPECT_EQ(out.sport, 0);
  EXPECT_EQ(out.payload_len, 0u);
  EXPECT_TRUE(out.has_mac);
}

TEST_F(EthernetTest, NonIpEthertypesAreOkWithoutAnomaly) {
  for (uint16_t type : std::initializer_list<uint16_t>{0x88cc, 0x8863, 0x888e, 0x88e5, 0x0842}) {
    ASSERT_EQ(decode(ether(type, zeros(46))), DecodeStatus::kOk) << type;
    EXPECT_EQ(out.l3, L3::kNone);
  }
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(EthernetTest, Llc8023IsNotIp) {
  // Spanning tree BPDU: 802.3 length frame, LLC 42 42 03.
  ASSERT_EQ(decode(ether_8023(Bytes{0x42, 0x42, 0x03} + zeros(35))), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kNone);
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(EthernetTest, SnapWithZeroOuiCarriesIp) {
  ASSERT_EQ(decode(ether_8023(snap(0x0800, ipv4(17, udp(10, 20, bytes_of("snap")))))), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv4);
  EXPECT_EQ(out.sport, 10);
  EXPECT_EQ(payload_string(), "snap");
  // Non-zero OUI (e.g. Cisco CDP): not IP.
  ASSERT_EQ(decode(ether_8023(Bytes{0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00} + zeros(30))),
            DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kNone);
}

TEST_F(EthernetTest, InvalidEthertypeIsCounted) {
  ASSERT_EQ(decode(ether(0x05ff, zeros(46))), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kNone);
  EXPECT_EQ(count(anomaly::kInvalidEthertype), 1u);
}

TEST_F(EthernetTest, TruncatedEthernet) {
  EXPECT_EQ(decode(zeros(13)), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTruncatedEthernet), 1u);
  EXPECT_FALSE(out.has_mac);
  EXPECT_EQ(decode({}), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTruncatedEthernet), 2u);
  // Cut by snaplen: a different, capture-side name.
  EXPECT_EQ(decode(zeros(10), 1, 60), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kHeaderCutBySnaplen), 1u);
}

TEST_F(EthernetTest, UnknownLinktype) {
  EXPECT_EQ(decode(eth_ipv4_tcp(), 147), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kUnknownLinktype), 1u);
  EXPECT_EQ(out.l3, L3::kNone);
  EXPECT_EQ(out.linktype, 147);
}

TEST_F(EthernetTest, ArpInsideEthernet) {
  ASSERT_EQ(decode(pad_to(ether(0x0806, arp(1, kMacA, kIpA, Mac{}, kIpB)), 60)), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kArp);
}

}  // namespace
}  // namespace trawl::test
