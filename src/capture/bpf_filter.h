// BpfFilter: a tcpdump-style filter expression compiled by libpcap and run on
// RawPackets. One compiled program per link type, since inputs may mix them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture/raw_packet.h"

namespace trawl::capture {

class BpfFilter {
 public:
  BpfFilter();
  ~BpfFilter();
  BpfFilter(const BpfFilter&) = delete;
  BpfFilter& operator=(const BpfFilter&) = delete;

  // Compiles expression for linktype (checking it, and caching the program).
  // Packets of other link types get the same expression compiled on first
  // sight. Returns false with err = libpcap's message (pcap_geterr) on a bad
  // expression.
  bool compile(const std::string& expression, uint16_t linktype, uint32_t snaplen, std::string& err);

  // True if pkt passes. Packets of a link type the expression cannot be
  // compiled for (e.g. "ether host" on raw IP) never pass; the reason is
  // listed once in errors().
  bool matches(const RawPacket& pkt);

  const std::string& expression() const { return expression_; }
  // "filter 'X' cannot apply to link type N: reason", once per link type.
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  struct Program;
  Program* program_for(uint16_t linktype);
  std::unique_ptr<Program> build(uint16_t linktype, std::string& err) const;

  std::string expression_;
  uint32_t snaplen_ = 262144;
  std::vector<std::unique_ptr<Program>> programs_;  // one per link type seen
  Program* last_ = nullptr;                          // most packets share one link type
  std::vector<std::string> errors_;
};

}  // namespace trawl::capture
