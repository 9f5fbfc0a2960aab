// Protocol registry: each protocol folder registers itself; no central list.
//
// Every folder src/analyzers/<name>/ that has a file register.cc defines
//
//   namespace trawl::analyzers::<name> { void register_protocols(Registry& r); }
//
// and CMake generates the code that calls all of them (sorted by folder name),
// so adding a protocol touches only its own folder.
//
// Detection is by content; ports are hints. The dispatcher keeps the first
// bytes of each direction and asks every candidate protocol's probe (those
// whose hint ports match the responder port first). The first kYes wins.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "analyzers/analyzer.h"
#include "core/byte_view.h"

namespace trawl::analyzers {

enum class Probe : uint8_t {
  kNo,     // not this protocol (never asked again for this connection)
  kMaybe,  // could be; ask again when more bytes have arrived
  kYes,    // this protocol: create its analyzer
};

// What a probe sees: the first bytes of each direction (up to
// Dispatcher::kProbeBytes each; TCP: in order from the stream start or from
// the first byte after a gap; UDP: the first datagram of each direction).
struct ProbeInput {
  core::ByteView orig;
  core::ByteView resp;
  uint16_t orig_p = 0;
  uint16_t resp_p = 0;
  bool port_hint = false;  // the responder port is one of this protocol's hint ports
  bool orig_done = false;  // no more orig bytes will come (FIN, or probe buffer full)
  bool resp_done = false;
};

struct Protocol {
  std::string_view name;       // service name in conn.jsonl: "dns", "http", "ssl", ...
  uint8_t transport = 6;       // 6 TCP, 17 UDP
  std::vector<uint16_t> ports;  // responder ports that hint at it
  Probe (*probe)(const ProbeInput& in) = nullptr;
  std::unique_ptr<Analyzer> (*create)(Context& ctx) = nullptr;
};

class Registry {
 public:
  // The Dispatcher keeps its candidate protocols as 64-bit sets of indexes.
  static constexpr size_t kMaxProtocols = 64;
  // Appends p; more than kMaxProtocols is a programming error (the list is
  // fixed at build time) and aborts.
  void add(Protocol p);
  const std::vector<Protocol>& protocols() const { return protocols_; }
  const Protocol* find(std::string_view name, uint8_t transport) const;

 private:
  std::vector<Protocol> protocols_;
};

// Every registered protocol (built once, on first use; thread-safe).
const Registry& registry();

}  // namespace trawl::analyzers
