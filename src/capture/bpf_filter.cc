#include "capture/bpf_filter.h"

#include <pcap/pcap.h>

namespace trawl::capture {

namespace {
// Packets carry LINKTYPE_* values (file format); libpcap's compiler wants
// DLT_* values. They are equal except for a few historic ones (libpcap's own
// linktype_to_dlt is not public).
int linktype_to_dlt(uint16_t linktype) {
  switch (linktype) {
    case 100:
      return DLT_ATM_RFC1483;
    case 101:
      return DLT_RAW;
    case 102:
      return DLT_SLIP_BSDOS;
    case 103:
      return DLT_PPP_BSDOS;
    case 106:
      return DLT_ATM_CLIP;
    case 108:
      return DLT_LOOP;
    default:
      return linktype;
  }
}
}  // namespace

struct BpfFilter::Program {
  uint16_t linktype = 0;
  bool valid = false;
  bpf_program prog{};
  ~Program() {
    if (valid) pcap_freecode(&prog);
  }
};

BpfFilter::BpfFilter() = default;
BpfFilter::~BpfFilter() = default;

std::unique_ptr<BpfFilter::Program> BpfFilter::build(uint16_t linktype, std::string& err) const {
  auto p = std::make_unique<Program>();
  p->linktype = linktype;
  pcap_t* dead = pcap_open_dead(linktype_to_dlt(linktype), static_cast<int>(snaplen_));
  if (!dead) {
    err = "cannot create a libpcap handle for link type " + std::to_string(linktype);
    return p;
  }
  if (pcap_compile(dead, &p->prog, expression_.c_str(), 1, PCAP_NETMASK_UNKNOWN) == 0) {
    p->valid = true;
  } else {
    err = pcap_geterr(dead);
  }
  pcap_close(dead);
  return p;
}

bool BpfFilter::compile(const std::string& expression, uint16_t linktype, uint32_t snaplen, std::string& err) {
  expression_ = expression;
  snaplen_ = snaplen == 0 ? 262144 : snaplen;
  programs_.clear();
  errors_.clear();
  last_ = nullptr;
  std::string why;
  auto p = build(linktype, why);
  if (!p->valid) {
    err = why;
    return false;
  }
  programs_.push_back(std::move(p));
  last_ = programs_.back().get();
  return true;
}

BpfFilter::Program* BpfFilter::program_for(uint16_t linktype) {
  for (auto& p : programs_) {
    if (p->linktype == linktype) return p.get();
  }
  std::string why;
  programs_.push_back(build(linktype, why));
  if (!programs_.back()->valid)
    errors_.push_back("filter '" + expression_ + "' cannot apply to link type " + std::to_string(linktype) + ": " +
                      why);
  return programs_.back().get();
}

bool BpfFilter::matches(const RawPacket& pkt) {
  Program* p = (last_ && last_->linktype == pkt.linktype) ? last_ : (last_ = program_for(pkt.linktype));
  if (!p->valid) return false;
  pcap_pkthdr h{};
  h.caplen = pkt.caplen;
  h.len = pkt.wirelen;
  return pcap_offline_filter(&p->prog, &h, pkt.data) != 0;
}

}  // namespace trawl::capture
