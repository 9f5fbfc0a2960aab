#include "analyzers/dns/dns_log_record.h"

#include <cstring>

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
  output::JsonLine j(out, output::JsonLine::Flush::kAtEnd);
  j.ts("ts", ts)
      .str("uid", uid)
      .ip("id.orig_h", orig_h)
      .u64("id.orig_p", orig_p)
      .ip("id.resp_h", resp_h)
      .u64("id.resp_p", resp_p)
      .str("proto", tcp ? "tcp" : "udp")
      .u64("trans_id", trans_id);
  if (rtt_ns) j.micros("rtt", *rtt_ns);
  if (query) j.str("query", *query);
  if (qclass) j.u64("qclass", *qclass).str("qclass_name", qclass_name(*qclass));
  if (qtype) j.u64("qtype", *qtype).str("qtype_name", qtype_name(*qtype));
  if (rcode) j.u64("rcode", *rcode).str("rcode_name", rcode_name(*rcode));
  j.boolean("AA", aa).boolean("TC", tc).boolean("RD", rd).boolean("RA", ra).u64("Z", z);
  if (!answers.empty()) {
    j.begin_array("answers");
    for (const DnsAnswer& a : answers) j.add_str(a.text);
    j.end_array().begin_array("TTLs");
    for (const DnsAnswer& a : answers) {
      // Zeek writes intervals as floating-point seconds.
      char buf[output::kU64TextMax + 2];
      char* e = output::write_u64(buf, a.ttl);
      std::memcpy(e, ".0", 2);
      j.add_raw(std::string_view(buf, static_cast<size_t>(e + 2 - buf)));
    }
    j.end_array();
  }
  j.boolean("rejected", rejected);
  j.end();
}

}  // namespace trawl::analyzers::dns
