// Pure RDP connection-sequence parsing (MS-RDPBCGR 2.2.1): TPKT framing,
// X.224 Connection Request (cookie, RDP_NEG_REQ) and Confirm (RDP_NEG_RSP or
// RDP_NEG_FAILURE), and the MCS Connect Initial / Connect Response with the
// GCC user data blocks (client core, network; server security) that travel
// in clear under standard RDP security. Bytes in, values out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/anomalies.h"
#include "core/byte_view.h"

namespace trawl::analyzers::rdp {

inline const core::AnomalyId kAnomNotTpkt{"rdp.not_tpkt"};
inline const core::AnomalyId kAnomBadTpktLength{"rdp.bad_tpkt_length"};
inline const core::AnomalyId kAnomMalformedX224{"rdp.malformed_x224"};
inline const core::AnomalyId kAnomMalformedCookie{"rdp.malformed_cookie"};
inline const core::AnomalyId kAnomMalformedNegotiation{"rdp.malformed_negotiation"};
inline const core::AnomalyId kAnomMalformedMcs{"rdp.malformed_mcs"};
inline const core::AnomalyId kAnomMalformedDataBlock{"rdp.malformed_data_block"};
inline const core::AnomalyId kAnomTooManyChannels{"rdp.too_many_channels"};
inline const core::AnomalyId kAnomTooManyCerts{"rdp.too_many_certificates"};
inline const core::AnomalyId kAnomTooManyPdus{"rdp.too_many_pdus"};

// X.224 TPDU codes (high nibble of the second header byte).
enum TpduCode : uint8_t {
  kTpduConnectRequest = 0xe0,
  kTpduConnectConfirm = 0xd0,
  kTpduData = 0xf0,
};

// RDP_NEG_REQ requestedProtocols / RDP_NEG_RSP selectedProtocol values.
enum ProtocolFlag : uint32_t {
  kProtocolRdp = 0x0,
  kProtocolSsl = 0x1,
  kProtocolHybrid = 0x2,
  kProtocolRdstls = 0x4,
  kProtocolHybridEx = 0x8,
  kProtocolRdsaad = 0x10,
};

// TPKT (RFC 1006): 03 00, a big-endian length covering the header.
enum class TpktResult : uint8_t { kOk, kNeedMore, kNotTpkt, kBadLength };
// `total` is the TPKT length once the 4-byte header is there (also with kNeedMore).
TpktResult frame_tpkt(core::ByteView in, size_t& total);

// The X.224 TPDU inside one TPKT: its code and the bytes after the fixed
// header (7 bytes for CR/CC, 3 for DT).
struct Tpdu {
  uint8_t code = 0;
  core::ByteView rest;
};
// false (and kAnomMalformedX224) if the header is short or its length
// indicator points past the TPKT.
bool parse_tpdu(core::ByteView tpkt, Tpdu& out, core::Anomalies& anomalies);

struct ConnectionRequest {
  std::optional<std::string> cookie;         // "Cookie: mstshash=VALUE\r\n"
  std::optional<std::string> routing_token;  // any other "Cookie: ..." line (e.g. msts=)
  std::optional<uint32_t> requested_protocols;
  uint8_t neg_flags = 0;
};
// Parses the bytes after the CR header. Malformed parts count anomalies;
// what came before them is kept.
void parse_connection_request(core::ByteView rest, ConnectionRequest& out, core::Anomalies& anomalies);

struct ConnectionConfirm {
  std::optional<uint32_t> selected_protocol;  // RDP_NEG_RSP
  std::optional<uint32_t> failure_code;       // RDP_NEG_FAILURE
  uint8_t flags = 0;
};
void parse_connection_confirm(core::ByteView rest, ConnectionConfirm& out, core::Anomalies& anomalies);

struct Limits {
  size_t max_channels = 64;  // channel names kept (the protocol allows 31)
  size_t max_certs = 16;     // X.509 certificates counted in the server's chain
};

// TS_UD_CS_CORE: the fields Zeek logs. Optional ones are unset when the
// block ends before them.
struct ClientCore {
  uint32_t version = 0;
  uint16_t desktop_width = 0;
  uint16_t desktop_height = 0;
  uint16_t color_depth = 0;
  uint32_t keyboard_layout = 0;
  uint32_t client_build = 0;
  std::string client_name;  // UTF-16LE to UTF-8, up to the first NUL
  std::optional<uint16_t> high_color_depth;
  std::optional<uint16_t> early_capability_flags;
  std::optional<std::string> dig_product_id;
};

struct ClientData {
  std::optional<ClientCore> core;
  std::optional<std::vector<std::string>> channels;  // TS_UD_CS_NET names, trailing NULs removed
  uint32_t channel_count = 0;                        // as announced
};

// MCS Connect Initial (BER [APPLICATION 101]) inside an X.224 DT: walks the
// BER header to userData, the T.124 ConferenceCreateRequest ("Duca") and its
// data blocks. false when it is not a Connect Initial or its BER is broken.
bool parse_connect_initial(core::ByteView mcs, ClientData& out, core::Anomalies& anomalies, const Limits& limits = {});

struct ServerData {
  std::optional<uint8_t> result;  // T.124 ConferenceCreateResponse result
  std::optional<uint32_t> encryption_method;
  std::optional<uint32_t> encryption_level;
  std::optional<uint32_t> cert_type;  // 1 proprietary (RSA), 2 X.509
  std::optional<bool> cert_permanent;
  uint32_t cert_count = 0;
};

// MCS Connect Response (BER [APPLICATION 102]): the GCC result ("McDn") and
// TS_UD_SC_SEC1 (encryption method and level, certificate type and count).
bool parse_connect_response(core::ByteView mcs, ServerData& out, core::Anomalies& anomalies, const Limits& limits = {});

// UTF-16LE to UTF-8 up to the first NUL unit; unpaired surrogates become U+FFFD.
std::string utf16le_to_utf8(core::ByteView in);

}  // namespace trawl::analyzers::rdp
