// RdpRecord: one line of rdp.jsonl, Zeek's rdp.log fields (plus the
// protocols the client requested).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analyzers/analyzer.h"

namespace trawl::analyzers::rdp {

class RdpRecord final : public Record {
 public:
  std::string_view log() const override { return "rdp"; }
  void write_json(std::string& out) const override;

  std::string uid;
  core::IpAddress orig_h;
  uint16_t orig_p = 0;
  core::IpAddress resp_h;
  uint16_t resp_p = 0;
  std::optional<std::string> cookie;
  std::optional<std::string> result;
  std::optional<std::string> security_protocol;
  std::optional<std::vector<std::string>> requested_protocols;
  std::optional<std::vector<std::string>> client_channels;
  std::optional<std::string> keyboard_layout;
  std::optional<std::string> client_build;
  std::optional<std::string> client_name;
  std::optional<std::string> client_dig_product_id;
  std::optional<uint32_t> desktop_width;
  std::optional<uint32_t> desktop_height;
  std::optional<std::string> requested_color_depth;
  std::optional<std::string> cert_type;
  uint32_t cert_count = 0;
  std::optional<bool> cert_permanent;
  std::optional<std::string> encryption_level;
  std::optional<std::string> encryption_method;
};

}  // namespace trawl::analyzers::rdp
