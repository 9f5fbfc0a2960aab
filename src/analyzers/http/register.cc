// Registers HTTP/1.x (TCP; recognised by content on any port, these ports are hints).
#include <memory>

#include "analyzers/http/http_analyzer.h"
#include "analyzers/registry.h"

namespace trawl::analyzers::http {

void register_protocols(Registry& r) {
  Protocol p;
  p.name = "http";
  p.transport = 6;
  p.ports = {80, 8080, 7080, 8888, 8000, 3128, 81};
  p.probe = &probe_http;
  p.create = [](Context& ctx) -> std::unique_ptr<Analyzer> { return std::make_unique<HttpAnalyzer>(ctx); };
  r.add(std::move(p));
}

}  // namespace trawl::analyzers::http
