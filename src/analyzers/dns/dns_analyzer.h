// DnsAnalyzer: DNS over UDP (one message per datagram) and over TCP (2-byte
// length framing, many messages per connection, messages split across
// deliveries). Matches each response to its query by transaction id and
// question and emits one DnsLogRecord per transaction, as Zeek's dns.log.
// Also the content probes the registry uses to recognise DNS.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "analyzers/analyzer.h"
#include "analyzers/dns/dns_log_record.h"
#include "analyzers/dns/dns_message.h"
#include "analyzers/registry.h"

namespace trawl::analyzers::dns {

inline const core::AnomalyId kAnomTooManyPending{"dns.too_many_pending"};
inline const core::AnomalyId kAnomTooManyMessages{"dns.too_many_messages"};
inline const core::AnomalyId kAnomTcpMessageTooLarge{"dns.tcp_message_too_large"};
inline const core::AnomalyId kAnomTcpGap{"dns.tcp_gap"};
inline const core::AnomalyId kAnomUnmatchedReply{"dns.unmatched_reply"};
inline const core::AnomalyId kAnomTooManyQuestions{"dns.too_many_questions"};
inline const core::AnomalyId kAnomNotDns{"dns.not_dns"};

struct DnsAnalyzerLimits {
  // Transactions waiting for their other half (queries for a response, or
  // responses for a late query); the oldest is written out when a new one
  // would exceed this.
  size_t max_pending = 64;
  // Unmatched halves older than this are written out as they are.
  int64_t pending_timeout_ns = 60 * core::kNsPerSec;
  // TCP: bytes of one message kept for parsing; the rest of a longer message
  // is skipped by counting and its first bytes are parsed.
  size_t max_tcp_message = 16384;
  // Messages per connection; then the analyzer gives up.
  uint64_t max_messages = 100000;
  // Messages that cannot be DNS (shorter than a header, or more questions
  // than max_questions) in a row before the analyzer gives up.
  uint32_t max_bad_in_row = 16;
  // Zeek's dns_max_queries: a message with more questions is not parsed.
  uint16_t max_questions = 25;
  DnsLimits parser;

  bool operator==(const DnsAnalyzerLimits&) const = default;
};

class DnsAnalyzer final : public Analyzer {
 public:
  explicit DnsAnalyzer(Context& ctx, const DnsAnalyzerLimits& limits = {});
  ~DnsAnalyzer() override;

  void data(bool is_orig, core::ByteView bytes, core::Timestamp ts) override;
  void gap(bool is_orig, uint64_t bytes, core::Timestamp ts) override;
  void end_of_stream(bool is_orig, core::Timestamp ts) override;
  void finish(core::Timestamp ts) override;

 private:
  // One direction of a TCP connection: where the framing stands.
  struct TcpSide {
    uint8_t len_have = 0;      // bytes of the 2-byte length prefix seen
    uint8_t len_hi = 0;
    size_t msg_len = 0;        // length of the current message (when len_have == 2)
    size_t got = 0;            // bytes of it seen so far
    std::string buf;           // its first bytes, at most max_tcp_message
    bool damaged = false;      // a gap fell inside it: buf holds only what came before
    bool resync = false;       // framing lost: wait for a delivery that starts a message
  };
  struct Pending {
    std::unique_ptr<DnsLogRecord> rec;
    core::Timestamp seen;
    bool is_reply = false;      // a response waiting for its query
    bool has_question = false;  // the message had a question: the other half must ask the same
    std::string qname;
    uint16_t qtype = 0;
    uint16_t qclass = 0;
  };

  void tcp_data(TcpSide& s, core::ByteView in, core::Timestamp ts);
  void tcp_message_done(TcpSide& s, core::Timestamp ts);
  void message(core::ByteView bytes, core::Timestamp ts);
  // `m` is the message being handled (a per-thread scratch object; fill_reply
  // moves its answers out).
  void on_query(const DnsMessage& m, core::Timestamp ts);
  void on_reply(DnsMessage& m, core::Timestamp ts);
  static bool matches(const Pending& p, const DnsMessage& m);
  static void fill_query(DnsLogRecord& r, const DnsMessage& m);
  static void fill_reply(DnsLogRecord& r, DnsMessage& m, core::Timestamp ts);
  Pending make_pending(const DnsMessage& m, core::Timestamp ts, bool is_reply) const;
  void add_pending(Pending p);
  void expire(core::Timestamp now);
  void release_if_idle();
  void flush(Pending& p);
  void stop();

  // The defaults are shared: a copy per analyzer cost 64 bytes for each of
  // the many live DNS connections. Other limits get their own copy.
  static const DnsAnalyzerLimits kDefaultLimits;
  const DnsAnalyzerLimits* own_limits(const DnsAnalyzerLimits& limits);

  Context& ctx_;
  std::unique_ptr<const DnsAnalyzerLimits> own_limits_;  // set when not the defaults
  const DnsAnalyzerLimits* limits_;
  bool tcp_;
  bool mdns_;  // port 5353: responses without a query are the protocol's announcements
  bool stopped_ = false;
  uint64_t messages_ = 0;
  uint32_t bad_in_row_ = 0;
  std::unique_ptr<TcpSide[]> sides_;  // TCP only: orig, resp
  // Arrival order. A vector, not a deque: most connections carry one
  // transaction, and a deque allocates its map even when empty.
  std::vector<Pending> pending_;
};

// The registry's probes (see registry.h).
Probe probe_udp(const ProbeInput& in);
Probe probe_tcp(const ProbeInput& in);

}  // namespace trawl::analyzers::dns
