// Shared pieces of the sinkhole's text-protocol services (SMTP, POP3, FTP,
// IRC): a bounded line splitter as a ServiceSession base, and small helpers
// for logging bytes and commands.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/byte_view.h"
#include "core/ip_address.h"
#include "core/timestamp.h"
#include "sinkhole/service.h"

namespace trawl::sinkhole {

void append_text(std::vector<uint8_t>& out, std::string_view s);
// Lower-case hex of every byte.
std::string hex_bytes(core::ByteView data);
// Printable ASCII kept, every other byte as '.', like hexdump -C.
std::string printable_text(core::ByteView data);
std::string ascii_upper(std::string_view s);
std::string ascii_lower(std::string_view s);
std::string_view trim_spaces(std::string_view s);
// "VERB rest of line" -> {"VERB" upper-cased, "rest of line"}.
std::pair<std::string, std::string_view> split_command(std::string_view line);
// RFC 4648 base64 (padding optional, whitespace not allowed). False on bad input.
bool base64_decode(std::string_view in, std::string& out);
std::string base64_encode(std::string_view in);
// A JSON array of strings.
std::string json_string_array(const std::vector<std::string>& items);
// The address in "FROM:<a@b> SIZE=1" / "TO:<a@b>" / "<a@b>" / "a@b"; empty if none.
std::string mail_path_address(std::string_view arg);
// "[2001:db8::1]" or "192.0.2.1": the address as it appears in a URL's host.
std::string url_host(const core::IpAddress& ip);

// A session that reads CRLF (or LF) terminated lines, each at most
// `max_line` bytes; a longer line is dropped whole (on_line_too_long) and
// reading resumes after its end. While `raw_` is set the bytes go to on_raw
// instead (SMTP's DATA), which returns how many it consumed.
class LineSession : public ServiceSession {
 public:
  void on_data(core::ByteView data, core::Timestamp now, std::vector<uint8_t>& out) override;
  bool wants_close() const override { return close_; }
  void take_events(std::vector<ServiceEvent>& out) override;

 protected:
  LineSession(const SessionInfo& info, size_t max_line) : info_(info), max_line_(max_line) {}
  virtual void on_line(std::string_view line, core::Timestamp now, std::vector<uint8_t>& out) = 0;
  virtual void on_line_too_long(std::vector<uint8_t>& out) = 0;
  virtual size_t on_raw(core::ByteView data, core::Timestamp now, std::vector<uint8_t>& out) {
    (void)data, (void)now, (void)out;
    raw_ = false;
    return 0;
  }
  void emit(std::string log, std::string json, std::vector<Ioc> iocs = {}) {
    ServiceEvent e;
    e.log = std::move(log);
    e.json = std::move(json);
    e.iocs = std::move(iocs);
    events_.push_back(std::move(e));
  }

  SessionInfo info_;
  std::vector<ServiceEvent> events_;
  bool close_ = false;
  bool raw_ = false;
  // The connection changed protocol (STARTTLS): on_data reads no more lines
  // from the bytes it was given, and unread_ says how many it left.
  bool stop_lines_ = false;
  size_t unread_ = 0;

 private:
  size_t max_line_;
  std::string line_;
  bool discarding_ = false;  // inside a line that was too long
};

}  // namespace trawl::sinkhole
