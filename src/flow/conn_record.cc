#include "flow/conn_record.h"

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

}  // namespace trawl::flow
