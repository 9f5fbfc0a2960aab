// Helpers for capture tests: build pcap and pcapng files in memory, compress
// them, write them to a temporary folder and read packets back.
#pragma once

#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "capture/packet_reader.h"

namespace trawl::capture::test {

using Bytes = std::vector<uint8_t>;

// Appends integers in a chosen byte order.
class ByteWriter {
 public:
  explicit ByteWriter(bool big_endian = false) : big_(big_endian) {}
  void set_big_endian(bool big) { big_ = big; }
  void u8(uint8_t v) { b_.push_back(v); }
  void u16(uint16_t v) {
    for (int i = 0; i < 2; ++i) b_.push_back(static_cast<uint8_t>(v >> (big_ ? 8 * (1 - i) : 8 * i)));
  }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) b_.push_back(static_cast<uint8_t>(v >> (big_ ? 8 * (3 - i) : 8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) b_.push_back(static_cast<uint8_t>(v >> (big_ ? 8 * (7 - i) : 8 * i)));
  }
  void bytes(const Bytes& v) { b_.insert(b_.end(), v.begin(), v.end()); }
  void pad4() {
    while (b_.size() % 4) b_.push_back(0);
  }
  const Bytes& data() const { return b_; }
  size_t size() const { return b_.size(); }

 private:
  Bytes b_;
  bool big_;
};

// A frame of n bytes whose content identifies it (seed, then a counter).
inline Bytes frame(size_t n, uint8_t seed) {
  Bytes f(n);
  for (size_t i = 0; i < n; ++i) f[i] = static_cast<uint8_t>(seed + i * 7);
  return f;
}

struct PcapOptions {
  bool big_endian = false;
  bool nanosecond = false;
  uint32_t snaplen = 65535;
  uint32_t linktype = 1;
};

class PcapBuilder {
 public:
  explicit PcapBuilder(PcapOptions o = {}) : o_(o), w_(o.big_endian) {
    w_.u32(o.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4);
    w_.u16(2);
    w_.u16(4);
    w_.u32(0);
    w_.u32(0);
    w_.u32(o.snaplen);
    w_.u32(o.linktype);
  }
  // frac is microseconds or nanoseconds, as the file's magic says.
  PcapBuilder& record(uint32_t sec, uint32_t frac, const Bytes& data, uint32_t wirelen = 0) {
    return raw_record(sec, frac, static_cast<uint32_t>(data.size()), wirelen ? wirelen : static_cast<uint32_t>(data.size()),
                      data);
  }
  // A record whose header may lie about its lengths.
  PcapBuilder& raw_record(uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t wirelen, const Bytes& data) {
    w_.u32(sec);
    w_.u32(frac);
    w_.u32(caplen);
    w_.u32(wirelen);
    w_.bytes(data);
    return *this;
  }
  PcapBuilder& raw(const Bytes& b) {
    w_.bytes(b);
    return *this;
  }
  const Bytes& bytes() const { return w_.data(); }

 private:
  PcapOptions o_;
  ByteWriter w_;
};

// pcapng blocks; the byte order changes with each section header.
class PcapngBuilder {
 public:
  PcapngBuilder& shb(bool big_endian = false) {
    big_ = big_endian;
    ByteWriter body(big_);
    body.u32(0x1A2B3C4D);
    body.u16(1);
    body.u16(0);
    body.u64(~uint64_t{0});
    return block(0x0A0D0D0A, body.data());
  }
  // tsresol < 0: no option. tsoffset: seconds, 0 means no option.
  PcapngBuilder& idb(uint16_t linktype, uint32_t snaplen = 0, int tsresol = -1, int64_t tsoffset = 0) {
    ByteWriter body(big_);
    body.u16(linktype);
    body.u16(0);
    body.u32(snaplen);
    body.u16(2);  // if_name: exercises skipping options
    body.u16(3);
    body.bytes({'e', 't', 'h'});
    body.pad4();
    if (tsresol >= 0) {
      body.u16(9);
      body.u16(1);
      body.u8(static_cast<uint8_t>(tsresol));
      body.pad4();
    }
    if (tsoffset != 0) {
      body.u16(14);
      body.u16(8);
      body.u64(static_cast<uint64_t>(tsoffset));
    }
    body.u16(0);
    body.u16(0);
    return block(1, body.data());
  }
  PcapngBuilder& epb(uint32_t iface, uint64_t ts_units, const Bytes& data, uint32_t wirelen = 0) {
    return epb_raw(iface, ts_units, static_cast<uint32_t>(data.size()),
                   wirelen ? wirelen : static_cast<uint32_t>(data.size()), data);
  }
  PcapngBuilder& epb_raw(uint32_t iface, uint64_t ts_units, uint32_t caplen, uint32_t wirelen, const Bytes& data) {
    ByteWriter body(big_);
    body.u32(iface);
    body.u32(static_cast<uint32_t>(ts_units >> 32));
    body.u32(static_cast<uint32_t>(ts_units));
    body.u32(caplen);
    body.u32(wirelen);
    body.bytes(data);
    body.pad4();
    body.u16(2);  // epb_flags option, ignored
    body.u16(4);
    body.u32(0);
    body.u16(0);
    body.u16(0);
    return block(6, body.data());
  }
  PcapngBuilder& spb(uint32_t wirelen, const Bytes& data) {
    ByteWriter body(big_);
    body.u32(wirelen);
    body.bytes(data);
    body.pad4();
    return block(3, body.data());
  }
  PcapngBuilder& pb(uint16_t iface, uint64_t ts_units, const Bytes& data) {
    ByteWriter body(big_);
    body.u16(iface);
    body.u16(0);
    body.u32(static_cast<uint32_t>(ts_units >> 32));
    body.u32(static_cast<uint32_t>(ts_units));
    body.u32(static_cast<uint32_t>(data.size()));
    body.u32(static_cast<uint32_t>(data.size()));
    body.bytes(data);
    body.pad4();
    return block(2, body.data());
  }
  PcapngBuilder& block(uint32_t type, const Bytes& body) {
    ByteWriter w(big_);
    uint32_t len = static_cast<uint32_t>(12 + body.size());
    w.u32(type);
    w.u32(len);
    w.bytes(body);
    w.u32(len);
    out_.insert(out_.end(), w.data().begin(), w.data().end());
    return *this;
  }
  PcapngBuilder& raw(const Bytes& b) {
    out_.insert(out_.end(), b.begin(), b.end());
    return *this;
  }
  const Bytes& bytes() const { return out_; }
  size_t size() const { return out_.size(); }

 private:
  Bytes out_;
  bool big_ = false;
};

inline Bytes gzip_compress(const Bytes& in, int level = 6) {
  z_stream zs{};
  deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  Bytes out(deflateBound(&zs, static_cast<uLong>(in.size())) + 64);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

inline Bytes zstd_compress(const Bytes& in, int level = 3) {
  Bytes out(ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), level);
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

inline Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline Bytes slice(const Bytes& b, size_t from, size_t to) {
  return Bytes(b.begin() + static_cast<std::ptrdiff_t>(from), b.begin() + static_cast<std::ptrdiff_t>(to));
}

// A packet copied out of a reader.
struct Packet {
  int64_t ts = 0;
  uint32_t caplen = 0;
  uint32_t wirelen = 0;
  uint16_t linktype = 0;
  uint16_t input = 0;
  Bytes data;
};

struct ReadAll {
  std::vector<Packet> packets;
  ReadResult last = ReadResult::kEnd;
};

inline ReadAll read_all(PacketReader& r, size_t max = 10000000) {
  ReadAll out;
  RawPacket p;
  while (out.packets.size() < max) {
    out.last = r.next(p);
    if (out.last != ReadResult::kPacket) break;
    out.packets.push_back({p.ts.ns, p.caplen, p.wirelen, p.linktype, p.input, Bytes(p.data, p.data + p.caplen)});
  }
  return out;
}

// Opens bytes in memory as a capture; nullptr and err on failure.
inline std::unique_ptr<PacketReader> open_bytes(const Bytes& b, core::Anomalies& a, std::string& err,
                                                uint16_t input = 0) {
  return open_capture(memory_byte_source(core::ByteView(b.data(), b.size())), "mem", input, a, err);
}

// A temporary folder removed with its contents at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "trawl-capture-XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    path_ = p ? p : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const Bytes& b) const {
    std::filesystem::path p = std::filesystem::path(path_) / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream f(p, std::ios::binary);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    return p.string();
  }

 private:
  std::string path_;
};

}  // namespace trawl::capture::test
