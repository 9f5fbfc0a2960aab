// RdpAnalyzer: one RDP connection's connection sequence. Reads the X.224
// Connection Request (cookie, requested protocols) and Confirm (selected
// protocol or failure); hands the rest to the TLS analyzer when the server
// selects SSL, CredSSP or RDSTLS (ctx.upgrade("ssl")); under standard RDP
// security reads the MCS Connect Initial and Response (client core and
// network data, server security) and then gives up, since what follows is
// RC4-encrypted. One rdp.jsonl record per connection; one auth.jsonl record
// per connection whose client sent a "Cookie: mstshash=" user.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analyzers/analyzer.h"
#include "analyzers/rdp/rdp_parser.h"
#include "analyzers/rdp/rdp_record.h"
#include "analyzers/registry.h"

namespace trawl::analyzers::rdp {

struct RdpLimits {
  uint32_t max_pdus = 16;  // TPKTs per direction before giving up
  Limits parse;
};

class RdpAnalyzer final : public Analyzer {
 public:
  explicit RdpAnalyzer(Context& ctx, const RdpLimits& limits = {});

  void data(bool is_orig, core::ByteView bytes, core::Timestamp ts) override;
  void gap(bool is_orig, uint64_t bytes, core::Timestamp ts) override;
  void finish(core::Timestamp ts) override;

  // Content probe: an X.224 Connection Request in a TPKT from the client.
  static Probe probe(const ProbeInput& in);

 private:
  struct Direction {
    std::string buf;  // a TPKT split across data() calls
    uint32_t pdus = 0;
  };

  void on_pdu(bool is_orig, core::ByteView tpkt, core::Timestamp ts);
  void on_request(core::ByteView rest, core::Timestamp ts);
  void on_confirm(core::ByteView rest);
  void on_server_data(const ServerData& s);
  void on_client_data(const ClientData& c);
  void touch(core::Timestamp ts);
  void stop();

  Context& ctx_;
  RdpLimits limits_;
  Direction dirs_[2];
  bool stopped_ = false;
  bool request_seen_ = false;
  bool client_data_seen_ = false;
  std::optional<core::Timestamp> first_ts_;
  RdpRecord rec_;
};

std::unique_ptr<Analyzer> create(Context& ctx);

}  // namespace trawl::analyzers::rdp
