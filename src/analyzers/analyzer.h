// The analyzer framework: what every protocol folder in analyzers/ implements
// and what it may use.
//
//   Protocol   one registered entry per protocol: service name, transport,
//              hint ports, a content probe and a factory (see registry.h).
//   Analyzer   the per-connection state machine of one protocol. It gets the
//              reassembled bytes of each direction (TCP) or each datagram
//              (UDP), calls its pure parser, and emits records through its
//              Context. It never sees packets.
//   Record     one line of one log (dns.jsonl, http.jsonl, auth.jsonl ...).
//   Context    the connection an analyzer works for: its ConnInfo, record
//              emission, anomalies, configuration, protocol upgrade.
//
// Hostile input: analyzers never throw and never abort; a violation is a
// named anomaly (see core/anomalies.h), and an analyzer that cannot follow the
// protocol any more calls ctx.give_up() (the connection keeps its service).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/anomalies.h"
#include "core/byte_view.h"
#include "core/timestamp.h"
#include "flow/app_layer.h"

namespace trawl::analyzers {

using flow::ConnInfo;

// Settings every analyzer can read.
struct AnalyzerConfig {
  // Write passwords into auth.jsonl (and other logs). Off by default: an
  // analyzer must not even keep a password it does not need unless this is set.
  bool reveal_credentials = false;
};

// One line of one log. Subclasses hold typed fields (detectors read them) and
// render themselves as one JSON object with Zeek's field names.
class Record {
 public:
  virtual ~Record() = default;
  // The log this record belongs to: the file stem ("dns" -> dns.jsonl).
  virtual std::string_view log() const = 0;
  // Appends one JSON object and a newline (use output::JsonLine).
  virtual void write_json(std::string& out) const = 0;

  core::Timestamp ts;        // the record's time (Zeek's ts); set by the analyzer
  // Set by Context::emit: the connection's first packet index and a per-
  // connection sequence number, so output order never depends on threads.
  uint64_t first_index = 0;
  uint32_t seq = 0;
};

// What an analyzer may do to its connection.
class Context {
 public:
  virtual ~Context() = default;
  virtual const ConnInfo& conn() const = 0;
  virtual const AnalyzerConfig& config() const = 0;
  virtual core::Anomalies& anomalies() = 0;
  // Hands a finished record on (ts must be set).
  virtual void emit(std::unique_ptr<Record> record) = 0;
  // The analyzer cannot follow the stream any more (a protocol violation it
  // cannot recover from, or a limit): no more bytes are delivered to it.
  virtual void give_up() = 0;
  // After the current call returns, the rest of the stream (both directions)
  // goes to a new analyzer of protocol `service` (e.g. "ssl" after STARTTLS
  // or HTTP CONNECT); the connection's service becomes "smtp,ssl".
  virtual void upgrade(std::string_view service) = 0;
};

class Analyzer {
 public:
  virtual ~Analyzer() = default;
  // TCP: the next in-order bytes of one direction (valid only for the call).
  // UDP: one datagram.
  virtual void data(bool is_orig, core::ByteView bytes, core::Timestamp ts) = 0;
  // TCP: `bytes` of this direction are missing; resynchronise or give up.
  virtual void gap(bool is_orig, uint64_t bytes, core::Timestamp ts) {
    (void)is_orig;
    (void)bytes;
    (void)ts;
  }
  // TCP: this direction has ended.
  virtual void end_of_stream(bool is_orig, core::Timestamp ts) {
    (void)is_orig;
    (void)ts;
  }
  // The connection is over: emit what is still pending (e.g. a request with
  // no response). Called once, also after give_up().
  virtual void finish(core::Timestamp ts) { (void)ts; }
};

}  // namespace trawl::analyzers
