// HTTP as a ServiceSession: the existing HttpSession (http_responder.h)
// answering, and each request turned into a "sinkhole_http" event with its
// IOCs (URL, user agent, domain) and, for POST/PUT, the body as an artifact.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "sinkhole/http_responder.h"
#include "sinkhole/service.h"

namespace trawl::sinkhole {

// `tls`: inside a terminated TLS connection (https:// URLs). `tunnel`, if
// set, makes the session that takes the bytes after an answered CONNECT (the
// router sniffs them again: TLS through a proxy); without it they are dropped.
using TunnelFactory = std::function<std::unique_ptr<ServiceSession>(const SessionInfo&)>;
std::unique_ptr<ServiceSession> make_http_session(const HttpResponder& responder, const SessionInfo& info,
                                                  bool tls = false, TunnelFactory tunnel = {});

// The URL an exchange asked for: the absolute-form target as sent, else
// http://HOST/target with the server's address when there was no Host.
std::string http_exchange_url(const HttpExchange& ex, const SessionInfo& info, bool tls = false);

}  // namespace trawl::sinkhole
