#include "analyzers/dns/dns_log_record.h"

#include <charconv>

#include "analyzers/dns/dns_names.h"
#include "output/json_line.h"

namespace trawl::analyzers::dns {

void DnsLogRecord::set_conn(const ConnInfo& c) {
  uid = c.uid;
  orig_h = c.orig_h;
  orig_p = c.orig_p;
  resp_h = c.resp_h;
  resp_p = c.resp_p;
  tcp = c.proto == 6;
}

void DnsLogRecord::write_json(std::string& out) const {
  output::JsonLine j(out);
  j.raw("ts", core::format_epoch_micros(ts))
      .str("uid", uid)
      .str("id.orig_h", orig_h.to_string())
      .u64("id.orig_p", orig_p)
      .str("id.resp_h", resp_h.to_string())
      .u64("id.resp_p", resp_p)
      .str("proto", tcp ? "tcp" : "udp")
      .u64("trans_id", trans_id);
  if (rtt_ns) j.raw("rtt", core::format_duration_micros(*rtt_ns));
  if (query) j.str("query", *query);
  if (qclass) j.u64("qclass", *qclass).str("qclass_name", qclass_name(*qclass));
  if (qtype) j.u64("qtype", *qtype).str("qtype_name", qtype_name(*qtype));
  if (rcode) j.u64("rcode", *rcode).str("rcode_name", rcode_name(*rcode));
  j.boolean("AA", aa).boolean("TC", tc).boolean("RD", rd).boolean("RA", ra).u64("Z", z);
  if (!answers.empty()) {
    std::string list;
    std::string ttls;
    list.reserve(answers.size() * 32);
    ttls.reserve(answers.size() * 12);
    list += '[';
    ttls += '[';
    for (const DnsAnswer& a : answers) {
      if (list.size() > 1) {
        list += ',';
        ttls += ',';
      }
      output::append_json_string(list, a.text);
      // Zeek writes intervals as floating-point seconds.
      char buf[16];
      const auto r = std::to_chars(buf, buf + sizeof buf, a.ttl);
      ttls.append(buf, r.ptr);
      ttls += ".0";
    }
    list += ']';
    ttls += ']';
    j.raw("answers", list).raw("TTLs", ttls);
  }
  j.boolean("rejected", rejected);
  j.end();
}

}  // namespace trawl::analyzers::dns
