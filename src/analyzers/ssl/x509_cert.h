// X.509 certificates as ssl.jsonl reports them: subject and issuer in
// RFC 2253 form (as Zeek prints them), validity, DNS subject alternative
// names, decoded with OpenSSL (which checks every DER length itself).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/anomalies.h"
#include "core/byte_view.h"

namespace trawl::analyzers::ssl {

// The DER did not decode as a certificate.
inline const core::AnomalyId kAnomBadX509{"ssl.bad_x509_certificate"};

struct CertInfo {
  std::string subject;      // "CN=www.google.com,O=Google Inc,L=Mountain View,ST=California,C=US"
  std::string issuer;
  std::string common_name;  // the most specific (last) CN of the subject, raw bytes
  bool has_validity = false;
  int64_t not_before = 0;   // seconds since the epoch
  int64_t not_after = 0;
  std::vector<std::string> san_dns;  // DNS names of the subjectAltName extension, raw bytes
};

struct X509Limits {
  size_t max_name = 4096;   // bytes of a rendered subject or issuer kept
  size_t max_san = 100;     // DNS names kept
  size_t max_san_name = 255;
};

// Decodes one DER certificate. false: not a certificate (`out` is empty).
bool parse_x509(core::ByteView der, CertInfo& out, const X509Limits& limits = {});

// RFC 6125 matching of a host name (the SNI) against one certificate name:
// case-insensitive; a '*' in the left-most label (alone or with a prefix or
// suffix, "*.example.com", "ww*.example.com") matches within that one label,
// and only under at least two more labels.
bool hostname_matches_pattern(std::string_view host, std::string_view pattern);
// The host matches a DNS subject alternative name or the subject CN.
bool hostname_matches_cert(std::string_view host, const CertInfo& cert);

}  // namespace trawl::analyzers::ssl
