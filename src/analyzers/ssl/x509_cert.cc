#include "analyzers/ssl/x509_cert.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <climits>
#include <ctime>
#include <memory>

namespace trawl::analyzers::ssl {

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct NamesFree {
  void operator()(GENERAL_NAMES* n) const { GENERAL_NAMES_free(n); }
};

std::string print_name(const X509_NAME* name, size_t cap) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || name == nullptr) return {};
  if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  if (n <= 0 || data == nullptr) return {};
  return std::string(data, std::min(static_cast<size_t>(n), cap));
}

std::string asn1_bytes(const ASN1_STRING* s, size_t cap) {
  if (s == nullptr) return {};
  const int n = ASN1_STRING_length(s);
  const unsigned char* d = ASN1_STRING_get0_data(s);
  if (n <= 0 || d == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(d), std::min(static_cast<size_t>(n), cap));
}

bool epoch_of(const ASN1_TIME* t, int64_t& out) {
  struct tm tm = {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return false;
  out = static_cast<int64_t>(timegm(&tm));
  return true;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

bool parse_x509(core::ByteView der, CertInfo& out, const X509Limits& limits) {
  out = CertInfo{};
  if (der.empty() || der.size() > static_cast<size_t>(LONG_MAX)) return false;
  const unsigned char* p = der.data();
  std::unique_ptr<X509, X509Free> x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x) return false;
  out.subject = print_name(X509_get_subject_name(x.get()), limits.max_name);
  out.issuer = print_name(X509_get_issuer_name(x.get()), limits.max_name);

  const X509_NAME* subject = X509_get_subject_name(x.get());
  int pos = -1;
  int last = -1;
  while ((pos = X509_NAME_get_index_by_NID(subject, NID_commonName, pos)) >= 0) last = pos;
  if (last >= 0) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(subject, last);
    out.common_name = asn1_bytes(X509_NAME_ENTRY_get_data(e), limits.max_san_name);
  }

  int64_t nb = 0, na = 0;
  if (epoch_of(X509_get0_notBefore(x.get()), nb) && epoch_of(X509_get0_notAfter(x.get()), na)) {
    out.has_validity = true;
    out.not_before = nb;
    out.not_after = na;
  }

  std::unique_ptr<GENERAL_NAMES, NamesFree> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x.get(), NID_subject_alt_name, nullptr, nullptr)));
  if (names) {
    const int n = sk_GENERAL_NAME_num(names.get());
    for (int i = 0; i < n && out.san_dns.size() < limits.max_san; ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(names.get(), i);
      if (g == nullptr || g->type != GEN_DNS) continue;
      out.san_dns.push_back(asn1_bytes(g->d.dNSName, limits.max_san_name));
    }
  }
  return true;
}

bool hostname_matches_pattern(std::string_view host, std::string_view pattern) {
  if (host.empty() || pattern.empty()) return false;
  if (iequal(host, pattern)) return true;
  const size_t pdot = pattern.find('.');
  const size_t star = pattern.find('*');
  if (star == std::string_view::npos || pdot == std::string_view::npos || star > pdot) return false;
  const std::string_view plabel = pattern.substr(0, pdot);
  const std::string_view psuffix = pattern.substr(pdot);  // ".example.com"
  if (psuffix.find('*') != std::string_view::npos || plabel.find('*', star + 1) != std::string_view::npos) {
    return false;
  }
  if (psuffix.find('.', 1) == std::string_view::npos) return false;  // "*.com": too broad
  const size_t hdot = host.find('.');
  if (hdot == std::string_view::npos) return false;
  const std::string_view hlabel = host.substr(0, hdot);
  if (!iequal(host.substr(hdot), psuffix)) return false;
  const std::string_view prefix = plabel.substr(0, star);
  const std::string_view suffix = plabel.substr(star + 1);
  if (hlabel.size() < prefix.size() + suffix.size()) return false;
  return iequal(hlabel.substr(0, prefix.size()), prefix) &&
         iequal(hlabel.substr(hlabel.size() - suffix.size()), suffix);
}

bool hostname_matches_cert(std::string_view host, const CertInfo& cert) {
  for (const std::string& n : cert.san_dns) {
    if (hostname_matches_pattern(host, n)) return true;
  }
  return !cert.common_name.empty() && hostname_matches_pattern(host, cert.common_name);
}

}  // namespace trawl::analyzers::ssl
