#include "sinkhole/catchall_service.h"

#include <algorithm>

#include "output/json_line.h"
#include "sinkhole/service_util.h"

namespace trawl::sinkhole {

namespace {

class CatchallSession final : public ServiceSession {
 public:
  CatchallSession(const CatchallConfig& config, const SessionInfo& info, int64_t wait_ns, bool banner,
                  const char* service, bool banner_sent)
      : config_(config), banner_(banner && !config.banner.empty()), service_(service),
        wait_ns_(std::max<int64_t>(wait_ns, 0)), banner_sent_(banner_sent) {
    (void)info;  // the driver adds the connection's ids to each record
  }
  const char* name() const override { return service_; }

  void on_open(core::Timestamp now, std::vector<uint8_t>& out) override {
    opened_ = now;
    open_ = true;
    if (banner_ && !banner_sent_ && wait_ns_ == 0) send_banner(out);
  }
  void on_data(core::ByteView data, core::Timestamp, std::vector<uint8_t>&) override {
    received_ += data.size();
    const size_t room = config_.max_logged - std::min(config_.max_logged, first_.size());
    first_.insert(first_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(std::min(room, data.size())));
  }
  void on_peer_closed(core::Timestamp, std::vector<uint8_t>&) override { peer_closed_ = true; }
  // The guest is done and the catch-all has nothing more to say: close our
  // side too, so the connection ends (and its record is written) now rather
  // than at the idle timeout or at the sinkhole's stop.
  bool wants_close() const override { return peer_closed_; }
  void on_timer(core::Timestamp now, std::vector<uint8_t>& out) override {
    if (waiting() && now - opened_ >= wait_ns_) send_banner(out);
  }
  core::Timestamp next_deadline() const override {
    return waiting() ? opened_ + wait_ns_ : core::Timestamp{INT64_MAX};
  }
  void on_closed(core::Timestamp) override {
    if (reported_) return;
    reported_ = true;
    std::string j;
    output::JsonLine(j).str("service", service_).u64("bytes_received", received_)
        .u64("first_bytes_len", first_.size()).str("first_bytes_hex", hex_bytes(first_))
        .str("first_bytes_text", printable_text(first_)).boolean("banner_sent", banner_sent_)
        .boolean("peer_closed", peer_closed_).end_object();
    ServiceEvent e;
    e.log = std::string(service_) == "ssl" ? "sinkhole_tls" : "sinkhole_catchall";
    e.json = std::move(j);
    events_.push_back(std::move(e));
  }
  void take_events(std::vector<ServiceEvent>& out) override {
    for (auto& e : events_) out.push_back(std::move(e));
    events_.clear();
  }

 private:
  bool waiting() const { return open_ && banner_ && !banner_sent_ && received_ == 0 && !peer_closed_; }
  void send_banner(std::vector<uint8_t>& out) {
    append_text(out, config_.banner);
    banner_sent_ = true;
  }

  const CatchallConfig& config_;
  bool banner_;
  const char* service_;
  int64_t wait_ns_;
  bool banner_sent_;
  core::Timestamp opened_{0};
  bool open_ = false;
  bool peer_closed_ = false;
  bool reported_ = false;
  uint64_t received_ = 0;
  std::vector<uint8_t> first_;
  std::vector<ServiceEvent> events_;
};

}  // namespace

std::unique_ptr<ServiceSession> make_catchall_session(const CatchallConfig& config, const SessionInfo& info,
                                                      int64_t wait_ns, bool banner, const char* service,
                                                      bool banner_sent) {
  return std::make_unique<CatchallSession>(config, info, wait_ns, banner, service, banner_sent);
}

}  // namespace trawl::sinkhole
