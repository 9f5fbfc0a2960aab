// AppStream: the payload side of one connection. TCP: one reassembler per
// direction (created at the first payload byte of the connection), whose
// in-order bytes and gaps go to the connection's AppLayer while it wants
// them; reassembly itself keeps running to the end so that gaps (missed
// bytes) are counted for every connection. UDP: datagrams go straight to the
// AppLayer. The AppLayer may be null (no analyzers configured). An AppLayer
// that reports itself disposable is deleted at once, to keep long-lived
// connections cheap (UDP: the flow table then drops the whole AppStream).
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

// What every stream of one flow table shares (one per table, outlives its
// streams), so each AppStream holds one pointer instead of copies.
struct StreamEnv {
  ReassemblyBudget* budget = nullptr;
  core::Anomalies* anomalies = nullptr;
  ReassemblyLimits limits;
};

class AppStream {
 public:
  // orig_side: the key side that is the originator now (roles as of creation).
  AppStream(std::unique_ptr<AppLayer> layer, uint8_t orig_side, const StreamEnv& env);
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
  // After finish(): the connection's uid as the AppLayer was given it (empty
  // if there is no AppLayer (any more); the conn record then makes it).
  std::string take_uid() { return layer_ ? layer_->take_uid() : std::string(); }
  // false once the AppLayer was deleted as disposable (or there was none).
  bool has_layer() const { return layer_ != nullptr; }

  // Gap bytes reported since the last call, per key side (for missed_bytes
  // and the 'G' history letter).
  uint64_t take_gap(uint8_t side) {
    if (!tcp_) return 0;
    uint64_t g = tcp_->new_gap[side];
    tcp_->new_gap[side] = 0;
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
  // TCP only, allocated at the first TCP packet: UDP streams (most live
  // analysed connections) then cost 32 bytes instead of about 112.
  struct Tcp {
    Side sides[2];
    std::unique_ptr<TcpReassembler> r[2];
    uint64_t new_gap[2] = {0, 0};
    core::Timestamp now;  // time of the packet being handled (for the callbacks)
  };
  bool live() const { return layer_ && layer_->wants_data(); }
  bool is_orig(uint8_t side) const { return side == orig_side_; }
  // After a call into the layer: frees it once it has nothing left to do.
  void release_if_disposable() {
    if (layer_->disposable()) layer_.reset();
  }
  TcpReassembler& reassembler(uint8_t side);

  std::unique_ptr<AppLayer> layer_;
  const StreamEnv* env_;
  std::unique_ptr<Tcp> tcp_;
  uint8_t orig_side_;
};

}  // namespace trawl::flow
