// Pure DNS message parser (RFC 1035 + EDNS0): bytes of one message to a
// DnsMessage, with names and rdata rendered the way Zeek's dns.log writes them.
// Hostile input becomes named anomalies and a kPartial/kError result, never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/anomalies.h"
#include "core/byte_view.h"
#include "core/ip_address.h"

namespace trawl::analyzers::dns {

inline const core::AnomalyId kAnomTruncated{"dns.truncated_message"};
inline const core::AnomalyId kAnomCompressionLoop{"dns.compression_loop"};
inline const core::AnomalyId kAnomForwardPointer{"dns.forward_pointer"};
inline const core::AnomalyId kAnomNameTooLong{"dns.name_too_long"};
inline const core::AnomalyId kAnomBadLabelType{"dns.bad_label_type"};
inline const core::AnomalyId kAnomTooManyRecords{"dns.too_many_records"};
inline const core::AnomalyId kAnomRdataOverflow{"dns.rdata_overflow"};
inline const core::AnomalyId kAnomRdataLengthMismatch{"dns.rdata_length_mismatch"};
inline const core::AnomalyId kAnomTxtTooLong{"dns.txt_too_long"};
inline const core::AnomalyId kAnomMultipleOpt{"dns.multiple_opt"};
inline const core::AnomalyId kAnomTrailingData{"dns.trailing_data"};

// kOk: every counted section entry was parsed and kept.
// kPartial: the header parsed, but the message ended early or a limit dropped
//           entries; `out` holds everything before that point.
// kError: no header (< 12 bytes) or a malformed name (pointer loop, bad
//         label type, oversize name); `out` holds what came before.
// A forward compression pointer is followed (and counted as an anomaly).
enum class ParseResult { kOk, kPartial, kError };

struct DnsLimits {
  size_t max_records_per_section = 256;  // questions count as a section
  uint32_t max_name_jumps = 32;
  size_t max_txt_bytes = 4096;  // per message, over all TXT strings kept

  bool operator==(const DnsLimits&) const = default;
};

enum RrType : uint16_t {
  kTypeA = 1,
  kTypeNs = 2,
  kTypeCname = 5,
  kTypeSoa = 6,
  kTypePtr = 12,
  kTypeMx = 15,
  kTypeTxt = 16,
  kTypeAaaa = 28,
  kTypeSrv = 33,
  kTypeOpt = 41,
  kTypeDs = 43,
  kTypeRrsig = 46,
  kTypeNsec = 47,
  kTypeDnskey = 48,
  kTypeNsec3 = 50,
  kTypeNsec3Param = 51,
  kTypeSpf = 99,
};

struct DnsFlags {
  bool qr = false;
  uint8_t opcode = 0;
  bool aa = false;
  bool tc = false;
  bool rd = false;
  bool ra = false;
  bool z = false;
  bool ad = false;
  bool cd = false;
};

struct DnsQuestion {
  std::string name;      // lower-cased, dotted, no trailing dot, odd bytes as \xNN
  std::string original;  // the same with the case as sent (0x20 randomisation, base64 tunnels)
  uint16_t qtype = 0;
  uint16_t qclass = 0;
};

struct DnsRecord {
  std::string name;
  uint16_t type = 0;
  uint16_t rclass = 0;
  uint32_t ttl = 0;
  // As Zeek's dns.log answers: address, target name, "TXT <len> <str> ...",
  // SOA mname, "RRSIG <type> <signer>", "DNSKEY <alg>", "NSEC <owner> <next>",
  // "DS <alg> <digest type>", "NSEC3", "NSEC3PARAM", or "<unknown type=N>";
  // empty when the rdata was malformed.
  std::string rdata;
  core::IpAddress address;  // A and AAAA (when has_address)
  bool has_address = false;
  uint16_t preference = 0;  // MX preference, SRV priority
  uint16_t weight = 0;      // SRV
  uint16_t port = 0;        // SRV
  std::vector<std::string> txt;  // TXT character-strings (escaped)
};

struct DnsOpt {
  bool present = false;
  uint16_t udp_payload_size = 0;
  uint8_t extended_rcode = 0;  // upper 8 bits of the 12-bit rcode
  uint8_t version = 0;
  bool do_bit = false;
};

struct DnsMessage {
  uint16_t id = 0;
  DnsFlags flags;
  uint16_t rcode = 0;  // 12 bits when an OPT record is present
  uint16_t qdcount = 0;
  uint16_t ancount = 0;
  uint16_t nscount = 0;
  uint16_t arcount = 0;
  std::vector<DnsQuestion> questions;
  std::vector<DnsRecord> answers;
  std::vector<DnsRecord> authority;
  std::vector<DnsRecord> additional;  // without the OPT pseudo-record
  DnsOpt opt;
};

// Parses one DNS message. `out` is reset first. Work is linear in msg.size()
// times limits.max_name_jumps at worst.
ParseResult parse_dns_message(core::ByteView msg, DnsMessage& out, core::Anomalies& anomalies,
                              const DnsLimits& limits = {});

// DNS over TCP framing (2-byte big-endian length prefix): the number of bytes
// the first framed message occupies in `stream` (prefix included) if it is all
// there, 0 if more bytes are needed. The message is stream[2, result).
size_t dns_tcp_message_length(core::ByteView stream);

}  // namespace trawl::analyzers::dns
