#include "sinkhole/config.h"

#include <toml++/toml.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <utility>

namespace trawl::sinkhole {

namespace {

// Walks one parsed document; the first problem wins and stops the walk.
class Reader {
 public:
  Reader(std::string_view name, std::string base_dir) : name_(name), base_dir_(std::move(base_dir)) {}

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

  void fail(const toml::source_region& where, const std::string& what) {
    if (failed()) return;
    error_ = name_ + ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column) + ": " + what;
  }

  // Calls `on(key, node)` for every key of `t`; `on` returns false for an
  // unknown key.
  template <typename F>
  void each(const toml::table& t, const std::string& prefix, F&& on) {
    for (auto&& [k, v] : t) {
      if (failed()) return;
      const std::string key(k.str());
      if (!on(key, v) && !failed()) fail(k.source(), "unknown key '" + prefix + key + "'");
    }
  }

  const toml::table* table(const toml::node& n, const std::string& key) {
    const toml::table* t = n.as_table();
    if (!t) fail(n.source(), "'" + key + "' must be a table");
    return t;
  }

  template <typename T>
  void uint(const toml::node& n, const std::string& key, T& out, uint64_t min = 0,
            uint64_t max = std::numeric_limits<T>::max()) {
    const auto* v = n.as_integer();
    if (!v) return fail(n.source(), "'" + key + "' must be an integer");
    const int64_t x = v->get();
    if (x < 0 || static_cast<uint64_t>(x) < min || static_cast<uint64_t>(x) > max)
      return fail(n.source(), "'" + key + "' must be between " + std::to_string(min) + " and " + std::to_string(max));
    out = static_cast<T>(x);
  }

  // A duration given in `unit_ns` units (ms, s) stored in nanoseconds.
  void duration(const toml::node& n, const std::string& key, int64_t& out_ns, int64_t unit_ns, int64_t max_units) {
    int64_t units = 0;
    uint(n, key, units, 0, static_cast<uint64_t>(max_units));
    if (!failed()) out_ns = units * unit_ns;
  }

  void boolean(const toml::node& n, const std::string& key, bool& out) {
    const auto* v = n.as_boolean();
    if (!v) return fail(n.source(), "'" + key + "' must be true or false");
    out = v->get();
  }

  void string(const toml::node& n, const std::string& key, std::string& out, size_t max = 64 * 1024) {
    const auto* v = n.as_string();
    if (!v) return fail(n.source(), "'" + key + "' must be a string");
    if (v->get().size() > max) return fail(n.source(), "'" + key + "' is longer than " + std::to_string(max));
    out = v->get();
  }

  // A file name: relative names are taken from the configuration file's folder.
  void path(const toml::node& n, const std::string& key, std::string& out) {
    std::string s;
    string(n, key, s, 4096);
    if (failed()) return;
    if (!s.empty() && s.front() != '/' && !base_dir_.empty()) s = base_dir_ + "/" + s;
    out = s;
  }

  void address(const toml::node& n, const std::string& key, core::IpAddress& out, int family = 0) {
    std::string s;
    string(n, key, s, 64);
    if (failed()) return;
    auto a = core::IpAddress::parse(s);
    if (!a) return fail(n.source(), "'" + key + "': '" + s + "' is not an IP address");
    if ((family == 4 && !a->is_v4()) || (family == 6 && !a->is_v6()))
      return fail(n.source(), "'" + key + "' must be an IPv" + std::to_string(family) + " address");
    out = *a;
  }

  void network(const toml::node& n, const std::string& key, core::IpNetwork& out) {
    std::string s;
    string(n, key, s, 64);
    if (failed()) return;
    // A bare address is a one-address network.
    std::string text = s;
    if (text.find('/') == std::string::npos) {
      auto a = core::IpAddress::parse(text);
      if (a) text += a->is_v4() ? "/32" : "/128";
    }
    auto net = core::IpNetwork::parse(text);
    if (!net) return fail(n.source(), "'" + key + "': '" + s + "' is not an address or network (a.b.c.d/n)");
    out = *net;
  }

  template <typename F>
  void array(const toml::node& n, const std::string& key, size_t max, F&& each_elem) {
    const toml::array* a = n.as_array();
    if (!a) return fail(n.source(), "'" + key + "' must be an array");
    if (a->size() > max) return fail(n.source(), "'" + key + "' has more than " + std::to_string(max) + " entries");
    for (const toml::node& e : *a) {
      if (failed()) return;
      each_elem(e);
    }
  }

 private:
  std::string name_;
  std::string base_dir_;
  std::string error_;
};

constexpr size_t kMaxOverrides = 10000;

void read_sinkhole(Reader& r, const toml::table& t, SinkholeConfig& c) {
  r.each(t, "sinkhole.", [&](const std::string& k, const toml::node& v) {
    if (k == "answer_icmp_echo") r.boolean(v, k, c.answer_icmp_echo);
    else if (k == "answer_arp") r.boolean(v, k, c.answer_arp);
    else if (k == "answer_ndp") r.boolean(v, k, c.answer_ndp);
    else if (k == "ca_dir") r.path(v, k, c.ca_dir);
    else if (k == "never_answer")
      r.array(v, k, 1024, [&](const toml::node& e) {
        core::IpNetwork n;
        r.network(e, k, n);
        if (!r.failed()) c.never_answer.push_back(n);
      });
    else return false;
    return true;
  });
}

void read_limits(Reader& r, const toml::table& t, SinkholeLimits& l) {
  r.each(t, "limits.", [&](const std::string& k, const toml::node& v) {
    if (k == "max_events_per_call") r.uint(v, k, l.max_events_per_call, 1, 1000000);
    else if (k == "max_artifact_bytes") r.uint(v, k, l.max_artifact_bytes);
    else if (k == "max_artifact_files") r.uint(v, k, l.max_artifact_files);
    else if (k == "max_iocs_per_kind") r.uint(v, k, l.max_iocs_per_kind, 1, 100000000);
    else if (k == "udp_logged_bytes") r.uint(v, k, l.udp_logged_bytes, 0, 65535);
    else if (k == "max_udp_events") r.uint(v, k, l.max_udp_events);
    else if (k == "max_records_per_log") r.uint(v, k, l.max_records_per_log);
    else return false;
    return true;
  });
}

void read_tcp(Reader& r, const toml::table& t, TcpConfig& c) {
  constexpr int64_t kMs = 1000000;
  r.each(t, "tcp.", [&](const std::string& k, const toml::node& v) {
    if (k == "rst_ports") {
      c.rst_ports.clear();
      r.array(v, k, 65536, [&](const toml::node& e) {
        uint16_t p = 0;
        r.uint(e, k, p, 1, 65535);
        c.rst_ports.insert(p);
      });
    } else if (k == "max_connections") r.uint(v, k, c.max_connections, 1, 10000000);
    else if (k == "max_half_open") r.uint(v, k, c.max_half_open, 1, 10000000);
    else if (k == "mss") r.uint(v, k, c.our_mss, 64, 65495);
    else if (k == "recv_window") r.uint(v, k, c.recv_window, 1024, 65535);
    else if (k == "max_ooo_bytes") r.uint(v, k, c.max_ooo_bytes);
    else if (k == "max_ooo_segments") r.uint(v, k, c.max_ooo_segments);
    else if (k == "max_send_queue") r.uint(v, k, c.max_send_queue, 1, 1ULL << 30);
    else if (k == "rto_initial_ms") r.duration(v, k, c.rto_initial_ns, kMs, 600000);
    else if (k == "rto_max_ms") r.duration(v, k, c.rto_max_ns, kMs, 600000);
    else if (k == "max_retransmits") r.uint(v, k, c.max_retransmits, 0, 100);
    else if (k == "max_synack_retransmits") r.uint(v, k, c.max_synack_retransmits, 0, 100);
    else if (k == "linger_ms") r.duration(v, k, c.linger_ns, kMs, 600000);
    else if (k == "idle_timeout_s") r.duration(v, k, c.idle_timeout_ns, core::kNsPerSec, 86400);
    else if (k == "ttl") r.uint(v, k, c.ttl, 1, 255);
    else if (k == "seed") r.uint(v, k, c.seed);
    else return false;
    return true;
  });
}

void read_dns_override(Reader& r, const toml::node& n, std::vector<DnsOverride>& out) {
  const toml::table* t = r.table(n, "dns.override");
  if (!t) return;
  DnsOverride o;
  r.each(*t, "dns.override.", [&](const std::string& k, const toml::node& v) {
    if (k == "name") r.string(v, k, o.name, 255);
    else if (k == "nxdomain") r.boolean(v, k, o.nxdomain);
    else if (k == "v4") {
      core::IpAddress a;
      r.address(v, k, a, 4);
      o.v4 = a;
    } else if (k == "v6") {
      core::IpAddress a;
      r.address(v, k, a, 6);
      o.v6 = a;
    } else return false;
    return true;
  });
  if (!r.failed() && o.name.empty()) r.fail(n.source(), "a dns.override needs a 'name'");
  out.push_back(std::move(o));
}

void read_dns(Reader& r, const toml::table& t, DnsResponderConfig& c) {
  r.each(t, "dns.", [&](const std::string& k, const toml::node& v) {
    if (k == "mode") {
      std::string m;
      r.string(v, k, m, 16);
      if (m == "pool") c.mode = DnsResponderConfig::Mode::kPool;
      else if (m == "fixed") c.mode = DnsResponderConfig::Mode::kFixed;
      else if (!r.failed()) r.fail(v.source(), "'mode' must be \"pool\" or \"fixed\"");
    } else if (k == "fixed_v4") r.address(v, k, c.fixed_v4, 4);
    else if (k == "fixed_v6") r.address(v, k, c.fixed_v6, 6);
    else if (k == "pool_v4") r.network(v, k, c.pool_v4);
    else if (k == "pool_v6") r.network(v, k, c.pool_v6);
    else if (k == "ttl") r.uint(v, k, c.ttl, 0, 2147483647);
    else if (k == "nxdomain_first") r.uint(v, k, c.nxdomain_first, 0, 1000);
    else if (k == "builtin_overrides") r.boolean(v, k, c.builtin_overrides);
    else if (k == "txt") r.string(v, k, c.txt, 4096);
    else if (k == "ptr_domain") r.string(v, k, c.ptr_domain, 200);
    else if (k == "max_names") r.uint(v, k, c.max_names, 1, 100000000);
    else if (k == "max_udp_edns") r.uint(v, k, c.max_udp_edns, 512, 65535);
    else if (k == "max_tcp_queries") r.uint(v, k, c.max_tcp_queries, 1, 1000000);
    else if (k == "override") {
      c.overrides.clear();
      r.array(v, "dns.override", kMaxOverrides, [&](const toml::node& e) { read_dns_override(r, e, c.overrides); });
    } else return false;
    return true;
  });
}

void read_http_override(Reader& r, const toml::node& n, std::vector<HttpOverride>& out) {
  const toml::table* t = r.table(n, "http.override");
  if (!t) return;
  HttpOverride o;
  r.each(*t, "http.override.", [&](const std::string& k, const toml::node& v) {
    if (k == "host") r.string(v, k, o.host, 255);
    else if (k == "path") r.string(v, k, o.path, 8192);
    else if (k == "status") r.uint(v, k, o.status, 100, 599);
    else if (k == "content_type") r.string(v, k, o.content_type, 255);
    else if (k == "body") r.string(v, k, o.body, 16 * 1024 * 1024);
    else if (k == "body_file") r.path(v, k, o.body_file);
    else if (k == "use_fake") r.boolean(v, k, o.use_fake);
    else if (k == "location") r.string(v, k, o.location, 8192);
    else return false;
    return true;
  });
  if (!r.failed() && !o.body.empty() && !o.body_file.empty())
    r.fail(n.source(), "an http.override has both 'body' and 'body_file'");
  out.push_back(std::move(o));
}

void read_http(Reader& r, const toml::table& t, HttpResponderConfig& c) {
  r.each(t, "http.", [&](const std::string& k, const toml::node& v) {
    if (k == "connectivity_checks") r.boolean(v, k, c.connectivity_checks);
    else if (k == "server") r.string(v, k, c.server, 255);
    else if (k == "max_header_bytes") r.uint(v, k, c.max_header_bytes, 1024, 16 * 1024 * 1024);
    else if (k == "max_body") r.uint(v, k, c.max_body, 0, 1ULL << 40);
    else if (k == "max_body_kept") r.uint(v, k, c.max_body_kept, 0, 1ULL << 30);
    else if (k == "max_requests") r.uint(v, k, c.max_requests, 1, 1000000);
    else if (k == "override") {
      c.overrides.clear();
      r.array(v, "http.override", kMaxOverrides, [&](const toml::node& e) { read_http_override(r, e, c.overrides); });
    } else return false;
    return true;
  });
}

// `[services.ports]`: `25 = "smtp"`; "sniff" removes a default so the port
// is sniffed like any other.
void read_port_map(Reader& r, const toml::table& t, const std::string& prefix, std::map<uint16_t, ServiceKind>& m) {
  r.each(t, prefix, [&](const std::string& k, const toml::node& v) {
    uint32_t port = 0;
    const bool numeric = !k.empty() && k.size() <= 5 && k.find_first_not_of("0123456789") == std::string::npos;
    if (numeric) port = static_cast<uint32_t>(std::stoul(k));
    if (!numeric || port == 0 || port > 65535) {
      r.fail(v.source(), "'" + prefix + k + "': the key must be a port number (1-65535)");
      return true;
    }
    std::string word;
    r.string(v, prefix + k, word, 32);
    if (r.failed()) return true;
    if (word == "sniff") {
      m.erase(static_cast<uint16_t>(port));
      return true;
    }
    const auto kind = parse_service_kind(word);
    if (!kind) {
      r.fail(v.source(), "'" + prefix + k + "': unknown service '" + word +
                             "' (http, tls, smtp, pop3, ftp, irc, dns, catchall or sniff)");
      return true;
    }
    m[static_cast<uint16_t>(port)] = *kind;
    return true;
  });
}

void read_services(Reader& r, const toml::table& t, ServicesConfig& c) {
  r.each(t, "services.", [&](const std::string& k, const toml::node& v) {
    if (k == "sniff_wait_ms") r.duration(v, k, c.sniff_wait_ns, 1000000, 600000);
    else if (k == "sniff_max_bytes") r.uint(v, k, c.sniff_max_bytes, 1, 65536);
    else if (k == "ports" || k == "tls_inner") {
      const toml::table* sub = r.table(v, "services." + k);
      if (sub) read_port_map(r, *sub, "services." + k + ".", k == "ports" ? c.ports : c.tls_inner);
    } else if (k == "smtp") {
      const toml::table* sub = r.table(v, "services.smtp");
      if (!sub) return true;
      r.each(*sub, "services.smtp.", [&](const std::string& sk, const toml::node& sv) {
        if (sk == "hostname") r.string(sv, sk, c.smtp.hostname, 255);
        else if (sk == "banner") r.string(sv, sk, c.smtp.banner, 1024);
        else if (sk == "max_message") r.uint(sv, sk, c.smtp.max_message, 1024, 1ULL << 30);
        else if (sk == "max_line") r.uint(sv, sk, c.smtp.max_line, 512, 1 << 20);
        else if (sk == "max_recipients") r.uint(sv, sk, c.smtp.max_recipients, 1, 100000);
        else if (sk == "max_messages") r.uint(sv, sk, c.smtp.max_messages, 1, 100000);
        else if (sk == "starttls") r.boolean(sv, sk, c.smtp.starttls);
        else return false;
        return true;
      });
    } else if (k == "pop3") {
      const toml::table* sub = r.table(v, "services.pop3");
      if (!sub) return true;
      r.each(*sub, "services.pop3.", [&](const std::string& sk, const toml::node& sv) {
        if (sk == "hostname") r.string(sv, sk, c.pop3.hostname, 255);
        else if (sk == "banner") r.string(sv, sk, c.pop3.banner, 1024);
        else if (sk == "max_line") r.uint(sv, sk, c.pop3.max_line, 512, 1 << 20);
        else return false;
        return true;
      });
    } else if (k == "ftp") {
      const toml::table* sub = r.table(v, "services.ftp");
      if (!sub) return true;
      r.each(*sub, "services.ftp.", [&](const std::string& sk, const toml::node& sv) {
        if (sk == "banner") r.string(sv, sk, c.ftp.banner, 1024);
        else if (sk == "passive_port_first") r.uint(sv, sk, c.ftp.passive_port_first, 1, 65535);
        else if (sk == "passive_port_last") r.uint(sv, sk, c.ftp.passive_port_last, 1, 65535);
        else if (sk == "max_pending_data") r.uint(sv, sk, c.ftp.max_pending_data, 1, 100000);
        else if (sk == "data_wait_s") r.duration(sv, sk, c.ftp.data_wait_ns, core::kNsPerSec, 3600);
        else if (sk == "max_upload") r.uint(sv, sk, c.ftp.max_upload, 0, 1ULL << 30);
        else if (sk == "max_line") r.uint(sv, sk, c.ftp.max_line, 512, 1 << 20);
        else return false;
        return true;
      });
    } else if (k == "irc") {
      const toml::table* sub = r.table(v, "services.irc");
      if (!sub) return true;
      r.each(*sub, "services.irc.", [&](const std::string& sk, const toml::node& sv) {
        if (sk == "hostname") r.string(sv, sk, c.irc.hostname, 255);
        else if (sk == "network") r.string(sv, sk, c.irc.network, 255);
        else if (sk == "max_line") r.uint(sv, sk, c.irc.max_line, 512, 1 << 20);
        else if (sk == "motd") {
          c.irc.motd.clear();
          r.array(sv, sk, 100, [&](const toml::node& e) {
            std::string line;
            r.string(e, sk, line, 400);
            c.irc.motd.push_back(std::move(line));
          });
        } else return false;
        return true;
      });
    } else if (k == "catchall") {
      const toml::table* sub = r.table(v, "services.catchall");
      if (!sub) return true;
      r.each(*sub, "services.catchall.", [&](const std::string& sk, const toml::node& sv) {
        if (sk == "banner") r.string(sv, sk, c.catchall.banner, 1024);
        else if (sk == "max_logged") r.uint(sv, sk, c.catchall.max_logged, 0, 1 << 20);
        else return false;
        return true;
      });
    } else return false;
    return true;
  });
}

}  // namespace

bool parse_config(std::string_view text, std::string_view name, SinkholeConfig& out, std::string& error) {
  error.clear();
  std::string base;
  const std::filesystem::path p(name);
  if (p.has_parent_path()) base = p.parent_path().string();
  Reader r(name, base);
  toml::table doc;
  try {
    doc = toml::parse(text, std::string(name));
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    error = std::string(name) + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) + ": " +
            std::string(e.description());
    return false;
  }
  r.each(doc, "", [&](const std::string& k, const toml::node& v) {
    const toml::table* t = r.table(v, k);
    if (!t) return true;
    if (k == "sinkhole") read_sinkhole(r, *t, out);
    else if (k == "limits") read_limits(r, *t, out.limits);
    else if (k == "tcp") read_tcp(r, *t, out.tcp);
    else if (k == "dns") read_dns(r, *t, out.dns);
    else if (k == "http") read_http(r, *t, out.http);
    else if (k == "services") read_services(r, *t, out.services);
    else return false;
    return true;
  });
  if (!r.failed() && out.tcp.max_half_open > out.tcp.max_connections)
    error = std::string(name) + ": tcp.max_half_open must not exceed tcp.max_connections";
  if (r.failed()) error = r.error();
  return error.empty();
}

bool load_config(const std::string& path, SinkholeConfig& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot read the configuration file";
    return false;
  }
  // A configuration file is small; a huge one is a mistake, not a config.
  constexpr std::streamsize kMaxBytes = 16 * 1024 * 1024;
  std::string text(static_cast<size_t>(kMaxBytes) + 1, '\0');
  in.read(text.data(), kMaxBytes + 1);
  if (in.gcount() > kMaxBytes) {
    error = path + ": larger than 16 MiB";
    return false;
  }
  text.resize(static_cast<size_t>(in.gcount()));
  if (!parse_config(text, path, out, error)) return false;
  // Override bodies from files are read now, so a missing file stops the
  // start instead of a request later.
  return load_override_files(out.http, error);
}

}  // namespace trawl::sinkhole
