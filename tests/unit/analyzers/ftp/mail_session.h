// MailSession: drives one TCP connection's Dispatcher from a byte transcript
// (client and server turns) and collects its records, for the ftp, pop3 and
// imap unit tests. Each turn can be delivered whole or in small pieces to
// check that parsing does not depend on segment boundaries.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/analyzer.h"
#include "analyzers/common/auth_record.h"
#include "analyzers/dispatcher.h"
#include "analyzers/registry.h"
#include "core/anomalies.h"
#include "flow/conn_record.h"

namespace trawl::analyzers::testing {

class MailSession {
 public:
  explicit MailSession(uint16_t resp_port, bool reveal = false, size_t chunk = 0) : chunk_(chunk) {
    info_.uid = "CmailTest000000001";
    info_.orig_h = *core::IpAddress::parse("192.0.2.20");
    info_.resp_h = *core::IpAddress::parse("192.0.2.10");
    info_.orig_p = 50123;
    info_.resp_p = resp_port;
    info_.proto = 6;
    info_.start = now_;
    config_.reveal_credentials = reveal;
    dispatcher_ = std::make_unique<Dispatcher>(info_, config_, anomalies_, sink_, registry());
  }

  // One client (c) or server (s) turn; each turn is 1 ms after the last.
  MailSession& c(std::string_view bytes) { return send(true, bytes); }
  MailSession& s(std::string_view bytes) { return send(false, bytes); }
  MailSession& gap(bool is_orig, uint64_t bytes) {
    dispatcher_->stream_gap(is_orig, bytes, tick());
    return *this;
  }
  // Both directions end and the connection is finished.
  void end() {
    if (finished_) return;
    finished_ = true;
    dispatcher_->stream_end(true, tick());
    dispatcher_->stream_end(false, tick());
    flow::ConnRecord rec;
    dispatcher_->finish(tick(), rec);
    service_ = rec.service;
  }

  template <typename T>
  std::vector<const T*> records() const {
    std::vector<const T*> out;
    for (const auto& r : sink_) {
      if (const T* t = dynamic_cast<const T*>(r.get())) out.push_back(t);
    }
    return out;
  }
  std::vector<const AuthRecord*> auth() const { return records<AuthRecord>(); }
  // Every record of one log, as written.
  std::string json(std::string_view log) const {
    std::string out;
    for (const auto& r : sink_) {
      if (r->log() == log) r->write_json(out);
    }
    return out;
  }
  uint64_t anomaly(const core::AnomalyId& id) const { return anomalies_.count(id); }
  uint64_t anomalies_total() const { return anomalies_.total(); }
  const std::string& service() const { return finished_ ? service_ : dispatcher_->service(); }
  bool wants_data() const { return dispatcher_->wants_data(); }

 private:
  core::Timestamp tick() {
    now_ = now_ + 1000000;
    return now_;
  }
  MailSession& send(bool is_orig, std::string_view bytes) {
    const core::Timestamp ts = tick();
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    if (chunk_ == 0) {
      dispatcher_->stream_data(is_orig, {p, bytes.size()}, ts);
      return *this;
    }
    for (size_t off = 0; off < bytes.size(); off += chunk_) {
      dispatcher_->stream_data(is_orig, {p + off, std::min(chunk_, bytes.size() - off)}, ts);
    }
    return *this;
  }

  flow::ConnInfo info_;
  AnalyzerConfig config_;
  core::Anomalies anomalies_;
  std::vector<std::unique_ptr<Record>> sink_;
  std::unique_ptr<Dispatcher> dispatcher_;
  core::Timestamp now_{1700000000LL * 1000000000LL};
  size_t chunk_;
  bool finished_ = false;
  std::string service_;
};

}  // namespace trawl::analyzers::testing
