#include "flow/app_stream.h"

namespace trawl::flow {

AppStream::AppStream(std::unique_ptr<AppLayer> layer, uint8_t orig_side, ReassemblyBudget& budget,
                     core::Anomalies& anomalies, const ReassemblyLimits& limits)
    : layer_(std::move(layer)), orig_side_(orig_side), budget_(budget), anomalies_(anomalies), limits_(limits) {
  for (uint8_t s = 0; s < 2; ++s) {
    sides_[s].owner = this;
    sides_[s].side = s;
  }
}

AppStream::~AppStream() = default;

void AppStream::Side::on_data(core::ByteView data) {
  if (owner->live()) owner->layer_->stream_data(owner->is_orig(side), data, owner->now_);
}

void AppStream::Side::on_gap(uint64_t bytes) {
  owner->new_gap_[side] += bytes;
  if (owner->live()) owner->layer_->stream_gap(owner->is_orig(side), bytes, owner->now_);
}

void AppStream::Side::on_end() {
  if (owner->live()) owner->layer_->stream_end(owner->is_orig(side), owner->now_);
}

TcpReassembler& AppStream::reassembler(uint8_t side) {
  if (!r_[side]) r_[side] = std::make_unique<TcpReassembler>(sides_[side], budget_, anomalies_, limits_);
  return *r_[side];
}

void AppStream::tcp_packet(uint8_t side, const decode::DecodedPacket& pkt, std::optional<uint32_t> isn,
                           core::Timestamp t) {
  namespace tf = decode::tcp_flag;
  now_ = t;
  const uint8_t f = pkt.tcp_flags;
  if (f & tf::kRst) return;  // a RST's payload is not part of the stream
  if ((f & tf::kAck) && r_[side ^ 1]) r_[side ^ 1]->acked(pkt.ack);
  TcpReassembler& r = reassembler(side);
  uint32_t seq = pkt.seq;
  if (f & tf::kSyn) {
    r.set_isn(seq);
    seq += 1;
  } else if (isn) {
    r.set_isn(*isn);
  }
  if (pkt.payload_len == 0 && !(f & tf::kFin)) return;
  r.segment(seq, pkt.payload, pkt.payload_len, (f & tf::kFin) != 0);
}

void AppStream::datagram(uint8_t side, core::ByteView payload, core::Timestamp t) {
  now_ = t;
  if (live() && !payload.empty()) layer_->datagram(is_orig(side), payload, t);
}

void AppStream::close(core::Timestamp t) {
  now_ = t;
  // Originator first, so the order of events does not depend on key order.
  for (uint8_t s : {orig_side_, static_cast<uint8_t>(orig_side_ ^ 1)}) {
    if (r_[s]) r_[s]->close();
  }
}

void AppStream::finish(core::Timestamp t, ConnRecord& rec) {
  now_ = t;
  if (layer_) layer_->finish(t, rec);
}

}  // namespace trawl::flow
