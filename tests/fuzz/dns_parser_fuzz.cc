// Fuzz target for analyzers::dns::parse_dns_message. The input is parsed as
// one DNS message with default limits and again with small ones, then walked
// as a DNS-over-TCP stream of length-prefixed messages. Every string kept is
// read so that a bad view or uninitialised byte is caught.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "analyzers/dns/dns_message.h"
#include "core/anomalies.h"

namespace {

using trawl::analyzers::dns::DnsLimits;
using trawl::analyzers::dns::DnsMessage;
using trawl::analyzers::dns::DnsRecord;
using trawl::analyzers::dns::ParseResult;

volatile uint64_t g_sink;

uint64_t touch(const std::string& s) {
  uint64_t sum = s.size();
  for (char c : s) sum += static_cast<unsigned char>(c);
  return sum;
}

uint64_t touch(const std::vector<DnsRecord>& rrs, const DnsLimits& limits) {
  if (rrs.size() > limits.max_records_per_section) __builtin_trap();
  uint64_t sum = 0;
  for (const DnsRecord& rr : rrs) {
    sum += touch(rr.name) + touch(rr.rdata) + rr.type + rr.rclass + rr.ttl + rr.preference + rr.weight + rr.port;
    for (const std::string& t : rr.txt) sum += touch(t);
  }
  return sum;
}

void parse_one(const uint8_t* data, size_t size, const DnsLimits& limits, trawl::core::Anomalies& anomalies) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[size == 0 ? 1 : size]);
  if (size != 0) std::memcpy(copy.get(), data, size);
  DnsMessage m;
  const ParseResult r = parse_dns_message({copy.get(), size}, m, anomalies, limits);
  if (size < 12 && r != ParseResult::kError) __builtin_trap();
  if (m.questions.size() > limits.max_records_per_section) __builtin_trap();
  uint64_t sum = uint64_t{m.id} + m.rcode + m.flags.opcode + m.opt.udp_payload_size + (m.opt.do_bit ? 1u : 0u);
  for (const auto& q : m.questions) {
    if (q.name.size() > 4 * 255) __builtin_trap();  // 255 wire bytes, at most 4 output bytes each
    sum += touch(q.name) + q.qtype + q.qclass;
  }
  sum += touch(m.answers, limits) + touch(m.authority, limits) + touch(m.additional, limits);
  g_sink = g_sink + sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  trawl::core::Anomalies anomalies;
  parse_one(data, size, DnsLimits{}, anomalies);

  DnsLimits small;
  small.max_records_per_section = 3;
  small.max_name_jumps = 4;
  small.max_txt_bytes = 16;
  parse_one(data, size, small, anomalies);

  trawl::core::ByteView stream{data, size};
  while (true) {
    const size_t n = trawl::analyzers::dns::dns_tcp_message_length(stream);
    if (n == 0) break;
    if (n < 2 || n > stream.size()) __builtin_trap();
    parse_one(stream.data() + 2, n - 2, DnsLimits{}, anomalies);
    stream = stream.subspan(n);
  }
  return 0;
}
