// Test helper: builds DNS messages (and DNS-over-TCP streams) byte by byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/byte_view.h"

namespace trawl::analyzers::dns::test_util {

// Builds DNS messages byte by byte.
struct Msg {
  std::vector<uint8_t> b;

  Msg& u8(unsigned v) {
    b.push_back(static_cast<uint8_t>(v));
    return *this;
  }
  Msg& u16(unsigned v) {
    u8(v >> 8);
    return u8(v & 0xff);
  }
  Msg& u32(uint32_t v) {
    u16(v >> 16);
    return u16(v & 0xffff);
  }
  Msg& header(unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar) {
    return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
  }
  Msg& label(std::string_view l) {
    u8(static_cast<unsigned>(l.size()));
    for (char c : l) u8(static_cast<unsigned char>(c));
    return *this;
  }
  // Dotted labels without the terminating root label.
  Msg& labels(std::string_view dotted) {
    while (!dotted.empty()) {
      const size_t dot = dotted.find('.');
      label(dotted.substr(0, dot));
      dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
    }
    return *this;
  }
  Msg& name(std::string_view dotted) { return labels(dotted).u8(0); }
  Msg& ptr(unsigned offset) { return u16(0xc000u | offset); }
  // Record header with a 2-byte rdlength placeholder; returns its offset.
  size_t rr(unsigned type, uint32_t ttl = 300, unsigned cls = 1) {
    u16(type).u16(cls).u32(ttl).u16(0);
    return b.size() - 2;
  }
  void end_rdata(size_t len_at) {
    const size_t n = b.size() - len_at - 2;
    b[len_at] = static_cast<uint8_t>(n >> 8);
    b[len_at + 1] = static_cast<uint8_t>(n & 0xff);
  }
  size_t size() const { return b.size(); }
  core::ByteView view() const { return {b.data(), b.size()}; }
};

// The message with its 2-byte TCP length prefix.
inline std::vector<uint8_t> tcp_framed(const Msg& m) {
  std::vector<uint8_t> out;
  out.push_back(static_cast<uint8_t>(m.b.size() >> 8));
  out.push_back(static_cast<uint8_t>(m.b.size() & 0xff));
  out.insert(out.end(), m.b.begin(), m.b.end());
  return out;
}

}  // namespace trawl::analyzers::dns::test_util
