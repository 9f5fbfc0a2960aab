// Registers SMTP (TCP; recognised by content, ports 25, 587 and 2525 are hints;
// 465 is TLS from the first byte and belongs to ssl).
#include "analyzers/registry.h"
#include "analyzers/smtp/smtp_analyzer.h"
#include "analyzers/smtp/smtp_parser.h"

namespace trawl::analyzers::smtp {

void register_protocols(Registry& r) {
  Protocol p;
  p.name = "smtp";
  p.transport = 6;
  p.ports = {25, 587, 2525};
  p.probe = probe_smtp;
  p.create = create_smtp_analyzer;
  r.add(std::move(p));
}

}  // namespace trawl::analyzers::smtp
