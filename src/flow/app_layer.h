// AppLayer: what the flow table hands a connection's payload to. The flow
// module only knows this interface; analyzers/ implements it (protocol
// detection and the per-protocol analyzers), so flow/ never depends on them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/byte_view.h"
#include "core/ip_address.h"
#include "core/timestamp.h"
#include "flow/conn_record.h"

namespace trawl::flow {

// Who a connection is, as every record names it. Roles are the ones the flow
// table has decided when the application layer is created (at the first
// payload byte, after any handshake flip).
struct ConnInfo {
  std::string uid;
  core::IpAddress orig_h;
  core::IpAddress resp_h;
  uint16_t orig_p = 0;
  uint16_t resp_p = 0;
  uint8_t proto = 0;          // 6 TCP, 17 UDP
  uint64_t first_index = 0;   // input index of the connection's first packet
  core::Timestamp start;      // first packet time
};

class AppLayer {
 public:
  virtual ~AppLayer() = default;
  // TCP: the next in-order bytes of one direction (a view valid only for the
  // call). ts is the time of the packet that completed them.
  virtual void stream_data(bool is_orig, core::ByteView data, core::Timestamp ts) = 0;
  // TCP: `bytes` of this direction will never come (a hole in the capture).
  virtual void stream_gap(bool is_orig, uint64_t bytes, core::Timestamp ts) = 0;
  // TCP: this direction ended (FIN reached, or the connection closed).
  virtual void stream_end(bool is_orig, core::Timestamp ts) = 0;
  // UDP: one datagram's payload (what was captured of it).
  virtual void datagram(bool is_orig, core::ByteView data, core::Timestamp ts) = 0;
  // The connection is over: emit what is pending and fill rec.service.
  virtual void finish(core::Timestamp ts, ConnRecord& rec) = 0;
  // false once nothing more will be parsed (no protocol recognised, or the
  // analyzer gave up): the flow table then stops reassembling this connection.
  virtual bool wants_data() const = 0;
  // true once the layer will parse nothing more and finish() would only
  // leave rec.service empty: the flow table may then delete it early (its
  // memory matters more than the rest of a long connection's life).
  virtual bool disposable() const { return false; }
  // After finish(): the ConnInfo uid it was created with (moved out, so the
  // conn record reuses it); empty if it kept none.
  virtual std::string take_uid() { return {}; }
};

// Creates the application layer of a connection; one factory per flow table
// (so per worker thread). May return null (nothing to analyse).
class AppLayerFactory {
 public:
  virtual ~AppLayerFactory() = default;
  // By value: the layer keeps it (its uid string is moved, not copied).
  virtual std::unique_ptr<AppLayer> create(ConnInfo info) = 0;
};

}  // namespace trawl::flow
