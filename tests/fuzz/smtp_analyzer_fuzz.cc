// Fuzz target for the SMTP analyzer through a Dispatcher (probe, pipelining,
// AUTH, DATA/BDAT, MIME, STARTTLS, gaps) and for the MIME walker alone.
//
// The input is a script of deliveries on one TCP connection to port 25. Each
// step starts with a control byte c; bit 0 is the direction (1: client):
//   c >> 6 == 0  data: a 2-byte big-endian length follows, then that many bytes
//   c >> 6 == 1  gap: the next byte n gives n * 7 + 1 missing bytes
//   c >> 6 == 2  end of this direction
//   c >> 6 == 3  data: ((c >> 1) & 31) + 1 bytes follow
// (a length past the end takes what is left). Every record is rendered as
// JSON. The whole input is then also parsed as one mail message by
// MimeParser, once in one piece and once in 7-byte pieces: both must give the
// same headers and attachments (the walker's result must not depend on how
// the bytes arrive).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "analyzers/dispatcher.h"
#include "dispatcher_script_fuzz.h"
#include "analyzers/smtp/mime.h"
#include "analyzers/smtp/smtp_record.h"
#include "core/anomalies.h"
#include "flow/conn_record.h"

namespace {

using trawl::analyzers::AnalyzerConfig;
using trawl::analyzers::Dispatcher;
using trawl::analyzers::Record;
using trawl::analyzers::smtp::MimeAttachment;
using trawl::analyzers::smtp::MimeParser;
using trawl::analyzers::smtp::SmtpRecord;

volatile uint64_t g_sink;

void run_session(const uint8_t* data, size_t size, bool reveal) {
  trawl::flow::ConnInfo info;
  info.uid = "CFuzzSmtp00000001";
  info.orig_h = *trawl::core::IpAddress::parse("10.0.0.1");
  info.resp_h = *trawl::core::IpAddress::parse("10.0.0.2");
  info.orig_p = 40000;
  info.resp_p = 25;
  info.proto = 6;
  AnalyzerConfig config;
  config.reveal_credentials = reveal;
  trawl::core::Anomalies anomalies;
  std::vector<std::unique_ptr<Record>> sink;
  Dispatcher d(info, config, anomalies, sink, trawl::analyzers::registry());
  trawl::flow::ConnRecord rec;
  trawl::fuzz::play_script(d, data, size, rec);
  std::string out;
  for (const auto& r : sink) {
    r->write_json(out);
    if (const auto* s = dynamic_cast<const SmtpRecord*>(r.get())) {
      if (s->rcptto.size() > 10000 || s->to.size() > 1000 || s->cc.size() > 1000) __builtin_trap();
      if (s->attachments.size() > 100) __builtin_trap();
    }
  }
  g_sink = g_sink + out.size() + rec.service.size();
}

struct MimeResult {
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<MimeAttachment> attachments;
};

MimeResult run_mime(const uint8_t* data, size_t size, size_t step) {
  trawl::core::Anomalies anomalies;
  MimeResult r;
  MimeParser m(anomalies);
  m.set_header_handler([&](std::string_view n, std::string_view v) { r.headers.emplace_back(n, v); });
  m.begin();
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  if (step == 0) {
    m.feed(all);
  } else {
    for (size_t i = 0; i < size; i += step) m.feed(all.substr(i, step));
  }
  m.end();
  r.attachments = m.attachments();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  run_session(data, size, false);
  run_session(data, size, true);

  const MimeResult whole = run_mime(data, size, 0);
  const MimeResult pieces = run_mime(data, size, 7);
  if (whole.headers != pieces.headers) __builtin_trap();
  if (whole.attachments.size() != pieces.attachments.size()) __builtin_trap();
  for (size_t i = 0; i < whole.attachments.size(); ++i) {
    const MimeAttachment& a = whole.attachments[i];
    const MimeAttachment& b = pieces.attachments[i];
    if (a.name != b.name || a.mime_type != b.mime_type || a.size != b.size || a.complete != b.complete) {
      __builtin_trap();
    }
  }
  return 0;
}
