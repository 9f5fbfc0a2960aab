// Dispatcher: the flow::AppLayer of one connection. Recognises the protocol
// from the first bytes (ports are hints, see registry.h), then feeds the
// protocol's Analyzer, handles upgrades (STARTTLS -> ssl) and fills the
// connection's service. AnalyzerFactory creates one per connection and
// collects the records of one flow table (one worker thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "analyzers/analyzer.h"
#include "analyzers/registry.h"
#include "flow/app_layer.h"

namespace trawl::analyzers {

class AnalyzerFactory final : public flow::AppLayerFactory {
 public:
  // Records go to `sink` (appended in emission order); anomalies to `anomalies`.
  AnalyzerFactory(AnalyzerConfig config, core::Anomalies& anomalies,
                  std::vector<std::unique_ptr<Record>>& sink, const Registry& reg = registry())
      : config_(config), anomalies_(anomalies), sink_(sink), registry_(reg) {}
  std::unique_ptr<flow::AppLayer> create(flow::ConnInfo info) override;

 private:
  AnalyzerConfig config_;
  core::Anomalies& anomalies_;
  std::vector<std::unique_ptr<Record>>& sink_;
  const Registry& registry_;
};

class Dispatcher final : public flow::AppLayer, public Context {
 public:
  // Probe buffer per direction (TCP) and datagrams tried (UDP) before giving up.
  static constexpr size_t kProbeBytes = 2048;
  static constexpr int kProbeDatagrams = 4;

  Dispatcher(flow::ConnInfo info, const AnalyzerConfig& config, core::Anomalies& anomalies,
             std::vector<std::unique_ptr<Record>>& sink, const Registry& reg);
  ~Dispatcher() override;

  // flow::AppLayer
  void stream_data(bool is_orig, core::ByteView data, core::Timestamp ts) override;
  void stream_gap(bool is_orig, uint64_t bytes, core::Timestamp ts) override;
  void stream_end(bool is_orig, core::Timestamp ts) override;
  void datagram(bool is_orig, core::ByteView data, core::Timestamp ts) override;
  void finish(core::Timestamp ts, flow::ConnRecord& rec) override;
  bool wants_data() const override { return state_ != State::kDone; }
  // Done without ever starting an analyzer: finish() would only report an
  // empty service, so the flow table may free this object early.
  bool disposable() const override { return state_ == State::kDone && !analyzer_ && retired_.empty(); }
  std::string take_uid() override { return std::move(info_.uid); }

  // Context
  const ConnInfo& conn() const override { return info_; }
  const AnalyzerConfig& config() const override { return config_; }
  core::Anomalies& anomalies() override { return anomalies_; }
  void emit(std::unique_ptr<Record> record) override;
  void give_up() override;
  void upgrade(std::string_view service) override;

  const std::string& service() const { return service_; }

 private:
  enum class State : uint8_t { kProbing, kActive, kDone };
  struct Chunk {
    bool is_orig;
    uint32_t offset;  // into buf[is_orig ? 0 : 1]
    uint32_t len;
    core::Timestamp ts;
  };
  // TCP probing state, allocated at the first byte and freed once probing
  // ends: most live connections (UDP, or TCP past probing) never need it.
  struct ProbeBuffers {
    std::string buf[2];          // probe bytes: orig, resp
    std::vector<Chunk> chunks;   // arrival order of the probe bytes
  };

  void probe(bool more_orig, bool more_resp);
  // Asks the candidates in order (hint ports first); starts the first kYes
  // (returns true), drops every kNo.
  bool ask_candidates(ProbeInput in);
  void start(const Protocol& p);
  void stop_probing();
  void deliver(bool is_orig, core::ByteView data, core::Timestamp ts);
  void after_call();
  void add_service(std::string_view name);
  size_t probe_size(size_t d) const { return probe_ ? probe_->buf[d].size() : 0; }

  flow::ConnInfo info_;
  AnalyzerConfig config_;
  State state_ = State::kProbing;
  bool ended_[2] = {false, false};
  bool finished_ = false;
  bool upgrade_pending_ = false;
  int datagrams_ = 0;
  uint32_t seq_ = 0;
  // Candidates still possible, as bit sets over registry indexes (at most
  // Registry::kMaxProtocols): no per-connection vector. Those whose hint
  // ports include the responder port are asked first, each set in registry order.
  uint64_t candidates_ = 0;
  uint64_t hinted_ = 0;
  core::Anomalies& anomalies_;
  std::vector<std::unique_ptr<Record>>& sink_;
  const Registry& registry_;
  std::unique_ptr<ProbeBuffers> probe_;
  std::unique_ptr<Analyzer> analyzer_;
  std::vector<std::unique_ptr<Analyzer>> retired_;  // replaced by an upgrade; finished at the end
  const Protocol* upgrade_to_ = nullptr;  // when upgrade_pending_ (null: unknown protocol)
  std::string service_;
};

}  // namespace trawl::analyzers
