// TcpReassembler: turns one direction of a TCP connection's segments into an
// ordered byte stream with explicit gaps, under per-stream and global caps.
//
// Design
// - Sequence space. Every sequence number is mapped to a 64-bit offset in the
//   stream (0 = first data byte): the 32-bit distance from the base is taken
//   as the signed distance (within +-2^31) from the next expected offset, so a
//   stream may run past 2^32 bytes and wrap any number of times. The base is
//   isn+1 after set_isn(isn) (the SYN takes one number), otherwise the
//   sequence number of the first segment seen (a capture that starts
//   mid-stream; data from before that segment is then old and dropped).
// - Zero copy in order. Data at the next expected offset goes straight to
//   StreamSink::on_data as a view into the caller's packet, valid only during
//   that call. Only out-of-order data is copied, into blocks keyed by offset.
// - Overlaps: first data wins (Zeek's Reassembler keeps what it already holds
//   and only fills holes with newer data; the BSD/"first" policy). New data
//   only ever fills holes. Where new bytes overlap buffered bytes and differ,
//   tcp.retransmission_inconsistency is counted. Bytes already delivered are
//   not kept (that is what makes in-order delivery copy-free), so a
//   retransmission of delivered data is dropped without comparison, as Zeek
//   does with its default tcp_max_old_segments = 0.
// - Gaps. Bytes that will not come are reported as on_gap(n) in stream order
//   and added to missed_bytes(): a snaplen-cut segment's missing tail
//   (payload shorter than payload_len_on_wire) right away; holes before
//   buffered data when a cap is hit, on flush() and on close().
// - Caps. Buffered bytes are limited per stream (limits.max_buffered_bytes)
//   and against a ReassemblyBudget shared by all streams of one thread, and
//   buffered blocks per stream (limits.max_segments). When new out-of-order
//   data does not fit, the stream gives up on its first hole: it reports it as
//   a gap, delivers what then is in order, and repeats until the data fits or
//   has become in order itself (tcp.reassembly_cap_reached is counted once per
//   segment that forced this). Nothing buffered ever exceeds a cap.
// - FIN. The first FIN fixes the end of the stream; data past it is dropped.
//   The stream ends (StreamSink::on_end) when everything up to the FIN has
//   been delivered or skipped. A FIN does not skip holes by itself, because
//   the retransmission of a lost segment often arrives after the FIN; close()
//   (connection end) does.
// - No exceptions; hostile input only costs counted anomalies and gaps.
// One reassembler per direction; a ReassemblyBudget belongs to one thread.
// Callbacks must not call back into the same reassembler.
#pragma once

#include <cstdint>
#include <map>
#include <memory>

#include "core/anomalies.h"
#include "core/byte_view.h"

namespace trawl::flow {

inline const core::AnomalyId kTcpRetransmissionInconsistency{"tcp.retransmission_inconsistency"};
inline const core::AnomalyId kTcpReassemblyCapReached{"tcp.reassembly_cap_reached"};

// Reassembly memory shared by all streams of one worker thread.
struct ReassemblyBudget {
  uint64_t max_bytes = 256ull << 20;
  uint64_t used = 0;
};

struct ReassemblyLimits {
  uint64_t max_buffered_bytes = 1u << 20;  // out-of-order bytes held per stream
  uint32_t max_segments = 256;             // out-of-order blocks held per stream
};

// Where a stream goes. Views passed to on_data live only for the call.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual void on_data(core::ByteView data) = 0;
  virtual void on_gap(uint64_t bytes) = 0;
  virtual void on_end() {}
};

class TcpReassembler {
 public:
  TcpReassembler(StreamSink& sink, ReassemblyBudget& budget, core::Anomalies& anomalies,
                 const ReassemblyLimits& limits = {});
  ~TcpReassembler();
  TcpReassembler(const TcpReassembler&) = delete;
  TcpReassembler& operator=(const TcpReassembler&) = delete;

  // The SYN's sequence number; data starts at isn + 1. Ignored once data was seen.
  void set_isn(uint32_t isn);
  // One segment. payload is what was captured of its data; it may be shorter
  // than payload_len_on_wire (snaplen), and the missing tail becomes a gap.
  void segment(uint32_t seq, core::ByteView payload, uint32_t payload_len_on_wire, bool fin);
  // The peer acknowledged everything before `ack`: holes below it that lie
  // before buffered data will not be filled (the sender considers them
  // delivered), so they become gaps now, as Zeek reports acked-but-unseen
  // data. Never skips past the buffered data: an acknowledgement captured
  // ahead of its data (span-port reordering) costs nothing.
  void acked(uint32_t ack);
  // Gives up on every hole before buffered data: delivers all of it, with gaps.
  void flush();
  // The connection is over: flush(), a gap up to the FIN if one was seen,
  // on_end(). Later segments are ignored.
  void close();

  uint64_t delivered_bytes() const { return delivered_; }
  uint64_t missed_bytes() const { return missed_; }
  // Stream offset up to which everything was delivered or reported as a gap.
  uint64_t next_offset() const { return static_cast<uint64_t>(next_); }
  uint64_t buffered_bytes() const { return buffered_; }
  uint32_t buffered_segments() const { return static_cast<uint32_t>(blocks_.size()); }
  bool fin_seen() const { return fin_ >= 0; }
  // Offset of the FIN (the stream's length); meaningful when fin_seen().
  uint64_t fin_offset() const { return static_cast<uint64_t>(fin_); }
  bool ended() const { return ended_; }

 private:
  // A buffered range [start, end); data is null for a known hole (the
  // snaplen-cut tail of an out-of-order segment).
  struct Block {
    int64_t end = 0;
    std::unique_ptr<uint8_t[]> data;
  };

  int64_t offset_of(uint32_t seq) const;
  bool insert_out_of_order(int64_t start, int64_t data_end, int64_t end, const uint8_t* data);
  void deliver_in_order(int64_t start, int64_t data_end, int64_t end, const uint8_t* data);
  void deliver_front_blocks();
  void skip_to(int64_t offset);
  void deliver_block(std::map<int64_t, Block>::iterator it);
  void release(std::map<int64_t, Block>::iterator it);
  void end();
  void trim_to_fin();
  void check_end();
  void gap(int64_t bytes);

  StreamSink& sink_;
  ReassemblyBudget& budget_;
  core::Anomalies& anomalies_;
  ReassemblyLimits limits_;

  bool started_ = false;
  bool ended_ = false;
  uint32_t base_ = 0;
  int64_t next_ = 0;
  int64_t fin_ = -1;
  uint64_t delivered_ = 0;
  uint64_t missed_ = 0;
  uint64_t buffered_ = 0;
  std::map<int64_t, Block> blocks_;
};

}  // namespace trawl::flow
