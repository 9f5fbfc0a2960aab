// The sinkhole's DNS server: one query in, one answer out (UDP datagrams and
// TCP's length-prefixed stream), so that every name the guest asks for
// resolves and later connections to the answered address map back to the name.
// Pure and deterministic: no sockets, no clocks, no randomness.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/anomalies.h"
#include "core/byte_view.h"
#include "core/ip_address.h"

namespace trawl::sinkhole {

inline const core::AnomalyId kAnomDnsMalformedQuery{"sinkhole.dns_malformed_query"};
inline const core::AnomalyId kAnomDnsDroppedQuery{"sinkhole.dns_dropped_query"};
inline const core::AnomalyId kAnomDnsTruncated{"sinkhole.dns_truncated_response"};
inline const core::AnomalyId kAnomDnsNameTableFull{"sinkhole.dns_name_table_full"};
inline const core::AnomalyId kAnomDnsTcpTooManyQueries{"sinkhole.dns_tcp_too_many_queries"};

// A per-domain rule. `name` is a lower-case name without the trailing dot,
// matched exactly, or "*.example.com" for every name below example.com (and
// not example.com itself). The first matching rule in configuration order wins.
struct DnsOverride {
  std::string name;
  bool nxdomain = false;
  // Answers for A / AAAA. A rule with only one family answers the other
  // type with no data (NOERROR, empty answer), which sends clients to it.
  std::optional<core::IpAddress> v4;
  std::optional<core::IpAddress> v6;
};

struct DnsResponderConfig {
  enum class Mode : uint8_t {
    kFixed,  // every name resolves to fixed_v4 / fixed_v6
    kPool,   // each new name gets the next address of pool_v4 / pool_v6
  };
  Mode mode = Mode::kPool;
  core::IpAddress fixed_v4 = core::IpAddress::v4(0xc6120001);  // 198.18.0.1
  core::IpAddress fixed_v6 = *core::IpAddress::parse("2001:2::1");
  // RFC 2544 / RFC 5180 benchmarking ranges: never routed on the internet,
  // so an answer can never leak traffic to a real host.
  core::IpNetwork pool_v4 = *core::IpNetwork::parse("198.18.0.0/15");
  core::IpNetwork pool_v6 = *core::IpNetwork::parse("2001:2::/48");
  uint32_t ttl = 300;
  // Answer NXDOMAIN to the first N queries of each name (malware that checks
  // for a resolver that answers everything), then resolve normally.
  uint32_t nxdomain_first = 0;
  std::vector<DnsOverride> overrides;
  // Answers Windows' NCSI DNS probe (dns.msftncsi.com) with the real
  // addresses, before the overrides above.
  bool builtin_overrides = true;
  std::string txt = "v=spf1 -all";  // TXT answer (cut into 255-byte strings)
  std::string ptr_domain = "localdomain";  // PTR for unknown addresses: host-a-b-c-d.<ptr_domain>
  // Names remembered (pool addresses, reverse map, NXDOMAIN counters). When
  // full, new names still resolve (to a hash of the name in the pool) but are
  // not remembered.
  size_t max_names = 100000;
  // Largest UDP answer for a client that sent EDNS; 512 without EDNS.
  uint16_t max_udp_edns = 1232;
  // TCP: queries answered per connection, then the stream is closed.
  size_t max_tcp_queries = 1000;
};

// Empty when the configuration is usable; else what is wrong with it (a
// pool of the wrong family or without room, an override address of the
// wrong family, an override without an answer, a bad name), for the driver
// to report before starting.
std::string check_config(const DnsResponderConfig& config);

// One answered (or refused) query, for the dns record and iocs.json.
struct DnsExchange {
  uint16_t id = 0;
  std::string query;  // lower-case, as the project's parser renders it
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  uint16_t rcode = 0;
  std::vector<std::string> answers;  // rdata text of the answer section
  uint32_t ttl = 0;
  bool truncated = false;
  bool malformed = false;  // answered FORMERR
};

// Holds the run's name table: one instance per run, used from one thread.
class DnsResponder {
 public:
  explicit DnsResponder(DnsResponderConfig config = {});

  // Answers one query datagram. Returns false, and leaves `out` empty, when
  // the datagram is dropped (shorter than a header, or a response: QR set).
  // The answer fits in 512 bytes, or the client's EDNS size up to
  // max_udp_edns; when it does not, it carries the question only and TC.
  bool answer_udp(core::ByteView query, std::vector<uint8_t>& out, DnsExchange* exchange = nullptr);
  // The same for one query taken out of a TCP stream (no length prefix in
  // `query` or `out`); answers up to 65535 bytes, never truncated.
  bool answer_tcp(core::ByteView query, std::vector<uint8_t>& out, DnsExchange* exchange = nullptr);

  // The name whose pool address this is (pool mode), or the last name
  // answered with it (fixed mode, overrides). nullopt if never answered.
  std::optional<std::string> name_for(const core::IpAddress& address) const;

  const DnsResponderConfig& config() const { return config_; }
  const core::Anomalies& anomalies() const { return anomalies_; }
  size_t names_remembered() const { return names_.size(); }

 private:
  friend class DnsTcpSession;
  struct NameState {
    uint32_t index = 0;    // pool slot (pool mode)
    uint32_t queries = 0;  // for nxdomain_first
  };

  bool answer(core::ByteView query, size_t limit, std::vector<uint8_t>& out, DnsExchange* exchange);
  // The remembered state of `name`, created on first use; nullptr when the
  // table is full and the name is new.
  NameState* state_for(const std::string& name);
  core::IpAddress address_for(const std::string& name, bool v6);
  void remember(const core::IpAddress& address, const std::string& name);

  DnsResponderConfig config_;
  std::vector<DnsOverride> rules_;  // built-ins first, then config_.overrides
  std::unordered_map<std::string, NameState> names_;
  std::vector<std::string> by_index_;  // pool slot -> name
  std::map<core::IpAddress, std::string> last_name_;  // fixed and override answers
  core::Anomalies anomalies_;
};

// DNS over TCP for one connection: bytes from the client in, length-prefixed
// answers out. Buffers at most one message (65537 bytes).
class DnsTcpSession {
 public:
  explicit DnsTcpSession(DnsResponder& responder) : responder_(responder) {}

  // Appends the framed answers to every complete query in `data` to `out`.
  // Returns false once the session wants the connection closed (too many
  // queries); later calls do nothing.
  bool feed(core::ByteView data, std::vector<uint8_t>& out, std::vector<DnsExchange>* exchanges = nullptr);
  bool closed() const { return closed_; }

 private:
  DnsResponder& responder_;
  std::vector<uint8_t> buffer_;
  size_t queries_ = 0;
  bool closed_ = false;
};

// The reverse-lookup name for `address` ("4.3.2.1.in-addr.arpa", nibbles
// under ip6.arpa); `parse_reverse_name` is its inverse.
std::string reverse_name(const core::IpAddress& address);
std::optional<core::IpAddress> parse_reverse_name(std::string_view name);

}  // namespace trawl::sinkhole
