// The sinkhole's IRC server: enough of RFC 2812 for a bot to register, join
// its channels and talk (welcome 001-004 and MOTD, JOIN echo with NAMES,
// PING/PONG), logging NICK, USER, JOIN and PRIVMSG/NOTICE. It never pings on
// its own: bots that need a server PING to stay are rare, and the driver's
// idle timeout ends silent connections anyway.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "sinkhole/service.h"

namespace trawl::sinkhole {

struct IrcConfig {
  std::string hostname = "irc.example.net";
  std::string network = "ExampleNet";
  std::vector<std::string> motd = {"Welcome to ExampleNet."};
  size_t max_line = 4096;  // RFC 2812 says 512; bots send longer
};

std::unique_ptr<ServiceSession> make_irc_session(const IrcConfig& config, const SessionInfo& info);

}  // namespace trawl::sinkhole
