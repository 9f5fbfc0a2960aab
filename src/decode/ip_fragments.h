// IpFragments: IPv4 and IPv6 fragment reassembly with bounded memory, packet-time
// expiry and a first-fragment-wins overlap policy. Internal to the decoder.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/anomalies.h"
#include "core/byte_view.h"
#include "core/timestamp.h"
#include "decode/decoded_packet.h"
#include "decode/decoder.h"

namespace trawl::decode::detail {

// One fragment as the IP layer saw it.
struct FragmentInfo {
  bool v6 = false;
  const uint8_t* src = nullptr;  // 4 (IPv4) or 16 (IPv6) bytes, wire order
  const uint8_t* dst = nullptr;
  uint8_t proto = 0;    // IPv4: protocol; IPv6: next header of the fragment header
  uint8_t ttl = 0;
  uint32_t id = 0;
  uint32_t offset = 0;  // in bytes
  bool more = false;
  core::ByteView data;  // the fragment's payload, fully captured
  uint32_t hdr_len = 0;  // bytes in front of the fragmentable part (IPv6: without the fragment header)
  uint32_t ip_len = 0;   // this fragment's IP length (IPv4 total length; IPv6 40 + payload length)
};

// A completed datagram.
struct Reassembled {
  core::ByteView data;   // the reassembled payload; valid until the next packet
  uint32_t hdr_len = 0;  // header length of the offset-0 fragment
  uint8_t proto = 0;     // protocol / next header of the offset-0 fragment
  uint8_t ttl = 0;       // of the offset-0 fragment
  uint16_t fragments = 0;
  uint32_t ip_bytes = 0;
};

enum class FragmentResult : uint8_t {
  kStored,    // kept; the datagram is not complete yet
  kComplete,  // the datagram is complete (see Reassembled)
  kRejected,  // dropped and counted as an anomaly
};

// Overlap policy: bytes received first are kept (first wins, per 8-byte block);
// later copies of them only count decode.fragment_overlap (or _duplicate when a
// fragment brings nothing new) and decode.fragment_overlap_conflict when their
// content differs. Every accepted fragment, duplicates included, counts in
// Reassembled::fragments and ip_bytes, as it was a packet on the wire.
class IpFragments {
 public:
  IpFragments(core::Anomalies& anomalies, const DecoderLimits& limits);
  ~IpFragments();
  IpFragments(const IpFragments&) = delete;
  IpFragments& operator=(const IpFragments&) = delete;

  // Start of every packet: completed datagrams of the previous packet are
  // released and expired partial datagrams dropped.
  void begin_packet(core::Timestamp now) {
    now_ = now;
    done_used_ = 0;
    if (head_ != kNone) expire();
  }

  // vlan/vlan_count keep datagrams of different VLANs apart.
  FragmentResult add(const FragmentInfo& f, const DecodedPacket& pkt, Reassembled& done);

  size_t pending() const { return live_; }
  uint64_t pending_bytes() const { return pending_bytes_; }
  // Drops every pending datagram, counting decode.fragment_incomplete.
  void drop_all();

 private:
  static constexpr uint32_t kNone = 0xffffffffu;
  static constexpr uint32_t kUnknown = 0xffffffffu;
  static constexpr uint32_t kMaxPayload = 65535;  // fragmentable bytes of one datagram
  static constexpr size_t kBlockWords = (kMaxPayload / 8 + 1 + 63) / 64;

  struct Key {
    std::array<uint8_t, 16> src{};
    std::array<uint8_t, 16> dst{};
    uint32_t id = 0;
    uint16_t vlan0 = 0;
    uint16_t vlan1 = 0;
    uint8_t proto = 0;
    uint8_t v6 = 0;
    uint8_t vlan_count = 0;
    uint8_t pad = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Datagram {
    Key key;
    int64_t first_ns = 0;
    uint32_t prev = kNone;  // creation order, oldest first
    uint32_t next = kNone;
    uint32_t total = kUnknown;  // payload length, known once the last fragment came
    uint32_t hdr_len = 0;
    uint32_t ip_bytes = 0;
    uint16_t count = 0;
    uint8_t proto = 0;
    uint8_t ttl = 0;
    bool have_first = false;
    size_t accounted = 0;
    std::vector<uint8_t> buf;
    std::array<uint64_t, kBlockWords> blocks{};
  };

  uint32_t create(const Key& key);
  void remove(uint32_t slot);
  void expire();
  // Evicts the oldest datagrams (not keep) until extra more bytes fit.
  bool make_room(size_t extra, uint32_t keep);
  bool complete(const Datagram& d) const;

  core::Anomalies& anomalies_;
  const DecoderLimits& limits_;
  core::Timestamp now_;
  std::unordered_map<Key, uint32_t, KeyHash> index_;
  std::vector<Datagram> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<std::vector<uint8_t>> spare_buffers_;
  std::vector<std::vector<uint8_t>> done_;  // completed payloads of the current packet
  size_t done_used_ = 0;
  uint32_t head_ = kNone;
  uint32_t tail_ = kNone;
  size_t live_ = 0;
  uint64_t pending_bytes_ = 0;
};

}  // namespace trawl::decode::detail
