#include "flow/conn_record.h"

#include "decode/decoded_packet.h"

namespace trawl::flow {

const char* conn_state_name(ConnState s) {
  switch (s) {
    case ConnState::kS0: return "S0";
    case ConnState::kS1: return "S1";
    case ConnState::kSF: return "SF";
    case ConnState::kREJ: return "REJ";
    case ConnState::kS2: return "S2";
    case ConnState::kS3: return "S3";
    case ConnState::kRSTO: return "RSTO";
    case ConnState::kRSTR: return "RSTR";
    case ConnState::kRSTOS0: return "RSTOS0";
    case ConnState::kRSTRH: return "RSTRH";
    case ConnState::kSH: return "SH";
    case ConnState::kSHR: return "SHR";
    case ConnState::kOTH: return "OTH";
  }
  return "OTH";
}

const char* proto_name(uint8_t ip_proto) {
  switch (ip_proto) {
    case 6: return "tcp";
    case 17: return "udp";
    case 1:
    case 58: return "icmp";  // Zeek logs ICMPv6 connections as "icmp" too
    default: return "unknown_transport";
  }
}

namespace {

namespace tf = decode::tcp_flag;
// FIN SYN RST PSH ACK URG: the bits the detectors read (not ECN's).
constexpr uint8_t kClassic = tf::kFin | tf::kSyn | tf::kRst | tf::kPsh | tf::kAck | tf::kUrg;

// The header bits each history letter stands for.
uint8_t letter_flags(char c) {
  switch (c) {
    case 'S': case 's': return tf::kSyn;
    case 'H': case 'h': return tf::kSyn | tf::kAck;
    case 'F': case 'f': return tf::kFin;
    case 'R': case 'r': return tf::kRst;
    case 'A': case 'a': return tf::kAck;
    case 'D': case 'd': return tf::kAck | tf::kPsh;
    case 'Q': case 'q': return tf::kSyn | tf::kFin;
    case 'I': case 'i': return tf::kFin | tf::kRst;
    default: return 0;
  }
}

}  // namespace

HistoryFlags flags_from_history(std::string_view history) {
  HistoryFlags f;
  bool first_seen = false;
  for (char c : history) {
    uint8_t bits = letter_flags(c);
    if (!bits) continue;
    if (c >= 'A' && c <= 'Z') {
      if (!first_seen) {
        f.orig_first = bits;
        first_seen = true;
      }
      f.orig |= bits;
    } else {
      f.resp |= bits;
    }
  }
  return f;
}

bool flags_beyond_history(const ConnRecord& r) {
  if (r.proto != 6) return false;
  HistoryFlags h = flags_from_history(r.history);
  return h.orig_first != (r.orig_first_flags & kClassic) || h.orig != (r.orig_flags & kClassic) ||
         h.resp != (r.resp_flags & kClassic);
}

}  // namespace trawl::flow
