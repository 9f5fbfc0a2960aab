#include "sinkhole/http_service.h"

#include <algorithm>
#include <utility>

#include "output/json_line.h"
#include "sinkhole/service_util.h"

namespace trawl::sinkhole {

namespace {

constexpr size_t kBodyHead = 256;  // bytes of a request body shown in the record

bool is_ip_literal(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return core::IpAddress::parse(host).has_value();
}

std::string header_value(const HttpExchange& ex, std::string_view name) {
  for (const auto& [n, v] : ex.headers) {
    if (ascii_lower(n) == name) return v;
  }
  return {};
}

class HttpService final : public ServiceSession {
 public:
  HttpService(const HttpResponder& responder, const SessionInfo& info, bool tls, TunnelFactory tunnel)
      : session_(responder), info_(info), tls_(tls), tunnel_factory_(std::move(tunnel)) {}
  const char* name() const override { return "http"; }

  void on_data(core::ByteView data, core::Timestamp now, std::vector<uint8_t>& out) override {
    if (tunnel_) return tunnel_->on_data(data, now, out);
    const size_t used = session_.feed(data, now, out);
    collect();
    if (session_.tunnel() && tunnel_factory_) {
      tunnel_ = tunnel_factory_(info_);
      tunnel_->on_open(now, out);
      // A client that did not wait for "200 Connection established" sent
      // the tunnel's first bytes (a ClientHello) behind the request.
      if (used < data.size()) tunnel_->on_data(data.subspan(used), now, out);
    }
  }
  void on_peer_closed(core::Timestamp now, std::vector<uint8_t>& out) override {
    if (tunnel_) return tunnel_->on_peer_closed(now, out);
    session_.end_of_stream();
    collect();
  }
  void on_closed(core::Timestamp now) override {
    if (tunnel_) return tunnel_->on_closed(now);
    session_.end_of_stream();
    collect();
  }
  void on_timer(core::Timestamp now, std::vector<uint8_t>& out) override {
    if (tunnel_) tunnel_->on_timer(now, out);
  }
  core::Timestamp next_deadline() const override {
    return tunnel_ ? tunnel_->next_deadline() : core::Timestamp{INT64_MAX};
  }
  bool wants_close() const override { return tunnel_ ? tunnel_->wants_close() : session_.wants_close(); }
  void take_events(std::vector<ServiceEvent>& out) override {
    for (auto& e : events_) out.push_back(std::move(e));
    events_.clear();
    if (tunnel_) tunnel_->take_events(out);
  }

 private:
  void collect() {
    for (auto& ex : session_.take_exchanges()) events_.push_back(to_event(ex));
  }

  ServiceEvent to_event(HttpExchange& ex) {
    ServiceEvent e;
    e.log = "sinkhole_http";
    const std::string url = http_exchange_url(ex, info_, tls_);
    const std::string host = ex.host.empty() ? info_.server_ip.to_string() : ex.host;
    std::string_view head(ex.body);
    head = head.substr(0, kBodyHead);
    output::JsonLine(e.json).str("method", ex.method).str("host", host).str("uri", ex.target).str("version", ex.version)
        .str("user_agent", ex.user_agent).u64("status_code", ex.status).str("served", ex.served)
        .u64("request_body_len", ex.body_length).u64("response_body_len", ex.response_length)
        .str("resp_mime_type", ex.content_type).str("orig_mime_type", header_value(ex, "content-type"))
        .str("body_head", head).boolean("complete", ex.complete).str("url", url).end_object();
    e.iocs.push_back({Ioc::Kind::kUrl, url});
    if (!ex.user_agent.empty()) e.iocs.push_back({Ioc::Kind::kUserAgent, ex.user_agent});
    if (!ex.host.empty() && !is_ip_literal(ex.host)) e.iocs.push_back({Ioc::Kind::kDomain, ex.host});
    if ((ex.method == "POST" || ex.method == "PUT") && !ex.body.empty()) {
      e.artifact_kind = "http_body";
      e.artifact.assign(ex.body.begin(), ex.body.end());
    }
    return e;
  }

  HttpSession session_;
  SessionInfo info_;
  bool tls_;
  TunnelFactory tunnel_factory_;
  std::unique_ptr<ServiceSession> tunnel_;
  std::vector<ServiceEvent> events_;
};

}  // namespace

std::string http_exchange_url(const HttpExchange& ex, const SessionInfo& info, bool tls) {
  const std::string_view target = ex.target;
  if (target.starts_with("http://") || target.starts_with("https://")) return std::string(target);
  std::string url = tls ? "https://" : "http://";
  url += ex.host.empty() ? url_host(info.server_ip) : ex.host;
  const uint16_t default_port = tls ? 443 : 80;
  if (info.server_port != default_port && info.server_port != 0) url += ":" + std::to_string(info.server_port);
  if (ex.method == "CONNECT" || target.empty() || target.front() != '/') {
    if (ex.method == "CONNECT") return url;
    url += '/';
  }
  url += target;
  return url;
}

std::unique_ptr<ServiceSession> make_http_session(const HttpResponder& responder, const SessionInfo& info,
                                                  bool tls, TunnelFactory tunnel) {
  return std::make_unique<HttpService>(responder, info, tls, std::move(tunnel));
}

}  // namespace trawl::sinkhole
