#include "flow/app_stream.h"

namespace trawl::flow {

AppStream::AppStream(std::unique_ptr<AppLayer> layer, uint8_t orig_side, const StreamEnv& env)
    : layer_(std::move(layer)), env_(&env), orig_side_(orig_side) {}

AppStream::~AppStream() = default;

void AppStream::Side::on_data(core::ByteView data) {
  if (!owner->live()) return;
  owner->layer_->stream_data(owner->is_orig(side), data, owner->tcp_->now);
  owner->release_if_disposable();
}

void AppStream::Side::on_gap(uint64_t bytes) {
  owner->tcp_->new_gap[side] += bytes;
  if (!owner->live()) return;
  owner->layer_->stream_gap(owner->is_orig(side), bytes, owner->tcp_->now);
  owner->release_if_disposable();
}

void AppStream::Side::on_end() {
  if (!owner->live()) return;
  owner->layer_->stream_end(owner->is_orig(side), owner->tcp_->now);
  owner->release_if_disposable();
}

TcpReassembler& AppStream::reassembler(uint8_t side) {
  std::unique_ptr<TcpReassembler>& r = tcp_->r[side];
  if (!r) r = std::make_unique<TcpReassembler>(tcp_->sides[side], *env_->budget, *env_->anomalies, env_->limits);
  return *r;
}

void AppStream::tcp_packet(uint8_t side, const decode::DecodedPacket& pkt, std::optional<uint32_t> isn,
                           core::Timestamp t) {
  namespace tf = decode::tcp_flag;
  if (!tcp_) {
    tcp_ = std::make_unique<Tcp>();
    for (uint8_t s = 0; s < 2; ++s) {
      tcp_->sides[s].owner = this;
      tcp_->sides[s].side = s;
    }
  }
  tcp_->now = t;
  const uint8_t f = pkt.tcp_flags;
  if (f & tf::kRst) return;  // a RST's payload is not part of the stream
  if ((f & tf::kAck) && tcp_->r[side ^ 1]) tcp_->r[side ^ 1]->acked(pkt.ack);
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
  if (!live() || payload.empty()) return;
  layer_->datagram(is_orig(side), payload, t);
  release_if_disposable();
}

void AppStream::close(core::Timestamp t) {
  if (!tcp_) return;
  tcp_->now = t;
  // Originator first, so the order of events does not depend on key order.
  for (uint8_t s : {orig_side_, static_cast<uint8_t>(orig_side_ ^ 1)}) {
    if (tcp_->r[s]) tcp_->r[s]->close();
  }
}

void AppStream::finish(core::Timestamp t, ConnRecord& rec) {
  if (layer_) layer_->finish(t, rec);
}

}  // namespace trawl::flow
