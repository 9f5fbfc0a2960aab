// Name helpers shared by the DNS detectors (dga, ddns, dns_tunnel,
// dns_resolver): registered-domain extraction, label statistics and the
// dynamic-DNS provider list.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "detect/evidence.h"

namespace trawl::detect::dns {

// The registered domain of a lower-case name: one label more than its public
// suffix ("a.b.example.co.uk" -> "example.co.uk"). Public suffixes come from
// the ICANN section of the Public Suffix List (Debian package `publicsuffix`,
// /usr/share/publicsuffix/public_suffix_list.dat) when that file exists, else
// from a small built-in rule (the TLD, or two labels for ccTLD second levels
// such as co.uk, com.au). The private section (cloudfront.net, duckdns.org ...)
// is deliberately not used: those hosting names keep their provider as the
// registered domain. Returns an empty view for a bare suffix or one label.
std::string_view registered_domain(std::string_view name);

// The label just left of the public suffix ("example" for a.example.co.uk).
std::string_view registrable_label(std::string_view name);

// Everything left of the registered domain, without the joining dot ("a.b").
std::string_view subdomain(std::string_view name, std::string_view registered);

// True when the public suffix list file was found and loaded.
bool public_suffix_list_loaded();

// Names that are local or infrastructure lookups rather than Internet names
// (reverse lookups under .arpa, mDNS .local, single labels): the DNS
// detectors skip them.
bool skip_name(std::string_view name);

// True when every byte is a host-name character [a-z0-9-._]. Records write
// other bytes as \xNN, so a backslash marks them; tunnels (iodine) send raw
// bytes in labels.
bool hostname_chars(std::string_view name);

// True when the name starts with an IPv4 address's four numeric labels
// ("4.3.2.1.origin.asn.cymru.com", "4.3.2.1.zen.spamhaus.org"): DNSBL and
// IP-to-ASN lookups, which encode an address, not data.
bool address_lookup(std::string_view name);

// Shannon entropy in bits per character.
double entropy(std::string_view s);

// The dynamic-DNS provider domain `name` lies under ("duckdns.org"), or empty.
// The list is kDdnsProviders in dns_util.cc (see docs/findings/dns.md).
std::string_view ddns_provider(std::string_view name);
const std::vector<std::string_view>& ddns_providers();

// A JSON array of strings: ["a","b"].
std::string json_string_array(const std::vector<std::string>& v);

// Evidence for DNS findings: many transactions share one UDP "connection"
// uid, so the sample keeps distinct uids (first `cap`, in record order) while
// total() counts every evidence record.
class UidSample {
 public:
  explicit UidSample(size_t cap = 20) : cap_(cap) {}
  void add(std::string_view uid) {
    ++total_;
    // A flow's transactions arrive together: the newest uid is the likeliest
    // repeat, so it is checked before the search.
    if (uids_.size() < cap_ && !uid.empty() && (uids_.empty() || uids_.back() != uid) && !uids_.contains(uid)) {
      uids_.push_back(uid);
    }
  }
  std::vector<std::string> uids() const { return uids_.to_vector(); }
  size_t held() const { return uids_.size(); }
  uint64_t total() const { return total_; }

 private:
  size_t cap_;
  PackedUids uids_;  // detect/evidence.h: a uid in 19 bytes, not 64
  uint64_t total_ = 0;
};

// DNS type names for the types the detectors count.
std::string qtype_name(unsigned qtype);

}  // namespace trawl::detect::dns
