// AppStream: the payload side of one connection. TCP: one reassembler per
// direction (created at the first payload byte of the connection), whose
// in-order bytes and gaps go to the connection's AppLayer while it wants
// them; reassembly itself keeps running to the end so that gaps (missed
// bytes) are counted for every connection. UDP: datagrams go straight to the
// AppLayer. The AppLayer may be null (no analyzers configured).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/anomalies.h"
#include "core/timestamp.h"
#include "decode/decoded_packet.h"
#include "flow/app_layer.h"
#include "flow/tcp_reassembler.h"

namespace trawl::flow {

class AppStream {
 public:
  // orig_side: the key side that is the originator now (roles as of creation).
  AppStream(std::unique_ptr<AppLayer> layer, uint8_t orig_side, ReassemblyBudget& budget,
            core::Anomalies& anomalies, const ReassemblyLimits& limits);
  ~AppStream();
  AppStream(const AppStream&) = delete;
  AppStream& operator=(const AppStream&) = delete;

  // One TCP packet from key side `side`. isn: the sender's initial sequence
  // number as the connection knows it (SYN seen, or one before its first
  // packet), if known.
  void tcp_packet(uint8_t side, const decode::DecodedPacket& pkt, std::optional<uint32_t> isn, core::Timestamp t);
  // One UDP datagram from key side `side`.
  void datagram(uint8_t side, core::ByteView payload, core::Timestamp t);
  // End of the connection: closes both streams (holes become gaps).
  void close(core::Timestamp t);
  // Then: the AppLayer emits what is pending and fills rec.service.
  void finish(core::Timestamp t, ConnRecord& rec);

  // Gap bytes reported since the last call, per key side (for missed_bytes
  // and the 'G' history letter).
  // The connection's uid when the application layer was given it (made once
  // per connection; the conn record takes it at the end). Empty otherwise.
  std::string uid;

  uint64_t take_gap(uint8_t side) {
    uint64_t g = new_gap_[side];
    new_gap_[side] = 0;
    return g;
  }

 private:
  struct Side final : StreamSink {
    AppStream* owner = nullptr;
    uint8_t side = 0;
    void on_data(core::ByteView data) override;
    void on_gap(uint64_t bytes) override;
    void on_end() override;
  };
  bool live() const { return layer_ && layer_->wants_data(); }
  bool is_orig(uint8_t side) const { return side == orig_side_; }
  TcpReassembler& reassembler(uint8_t side);

  std::unique_ptr<AppLayer> layer_;
  uint8_t orig_side_;
  ReassemblyBudget& budget_;
  core::Anomalies& anomalies_;
  ReassemblyLimits limits_;
  Side sides_[2];
  std::unique_ptr<TcpReassembler> r_[2];
  uint64_t new_gap_[2] = {0, 0};
  core::Timestamp now_;
};

}  // namespace trawl::flow
