// Fuzz target for the sinkhole's DNS responder. The first byte picks a
// configuration (pool or fixed, NXDOMAIN-first, a tiny name table, a long
// TXT, an override); the rest is answered as a UDP datagram and fed to a TCP
// session in pieces. Every answer must parse with the project's DNS parser,
// echo the id, have QR set and respect the UDP size bound.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "analyzers/dns/dns_message.h"
#include "core/anomalies.h"
#include "sinkhole/dns_responder.h"

namespace {

namespace dns = trawl::analyzers::dns;
using trawl::core::ByteView;
using trawl::sinkhole::DnsExchange;
using trawl::sinkhole::DnsResponder;
using trawl::sinkhole::DnsResponderConfig;
using trawl::sinkhole::DnsTcpSession;

void check_answer(ByteView query, const std::vector<uint8_t>& out, size_t bound) {
  if (out.size() < 12 || out.size() > bound) __builtin_trap();
  if (out[0] != query[0] || out[1] != query[1] || (out[2] & 0x80) == 0) __builtin_trap();
  dns::DnsMessage m;
  trawl::core::Anomalies an;
  if (dns::parse_dns_message(out, m, an) != dns::ParseResult::kOk) __builtin_trap();
  if (an.total() != 0) __builtin_trap();
}

DnsResponderConfig config_for(uint8_t sel) {
  DnsResponderConfig c;
  if (sel & 1) c.mode = DnsResponderConfig::Mode::kFixed;
  if (sel & 2) c.nxdomain_first = 1;
  if (sel & 4) c.max_names = 2;
  if (sel & 8) c.txt = std::string(700, 't');
  if (sel & 16) c.overrides.push_back({"*.example", (sel & 32) != 0, c.fixed_v4, std::nullopt});
  if (sel & 64) c.max_tcp_queries = 2;
  if (sel & 128) c.pool_v4 = *trawl::core::IpNetwork::parse("192.0.2.0/31");
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const DnsResponderConfig cfg = config_for(data[0]);
  const ByteView msg{data + 1, size - 1};
  DnsResponder r(cfg);
  std::vector<uint8_t> out;
  DnsExchange ex;
  // Twice: the second query of a name goes through the remembered state.
  for (int i = 0; i < 2; ++i) {
    if (r.answer_udp(msg, out, &ex)) {
      check_answer(msg, out, cfg.max_udp_edns);
    } else if (!out.empty()) {
      __builtin_trap();
    }
  }
  if (r.answer_tcp(msg, out)) check_answer(msg, out, 65535);
  for (const auto& a : ex.answers) {
    if (auto ip = trawl::core::IpAddress::parse(a)) (void)r.name_for(*ip);
  }

  DnsTcpSession s(r);
  std::vector<uint8_t> stream;
  const size_t piece = 1 + (data[0] % 7);
  for (size_t at = 0; at < msg.size(); at += piece) {
    s.feed(msg.subspan(at, std::min(piece, msg.size() - at)), stream);
  }
  ByteView rest(stream);
  while (!rest.empty()) {
    const size_t n = dns::dns_tcp_message_length(rest);
    if (n < 14) __builtin_trap();  // every framed answer is complete and has a header
    rest = rest.subspan(n);
  }
  return 0;
}
