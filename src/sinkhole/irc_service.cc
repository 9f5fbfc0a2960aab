#include "sinkhole/irc_service.h"

#include <algorithm>

#include "output/json_line.h"
#include "sinkhole/service_util.h"

namespace trawl::sinkhole {

namespace {

constexpr size_t kMaxField = 512;

class IrcSession final : public LineSession {
 public:
  IrcSession(const IrcConfig& config, const SessionInfo& info) : LineSession(info, config.max_line), config_(config) {}
  const char* name() const override { return "irc"; }

 protected:
  void on_line_too_long(std::vector<uint8_t>& out) override { numeric(out, "417", ":Input line was too long"); }

  void on_line(std::string_view line, core::Timestamp, std::vector<uint8_t>& out) override {
    // An optional ":prefix " from the client is ignored (RFC 2812 2.3).
    if (!line.empty() && line.front() == ':') {
      const size_t sp = line.find(' ');
      line = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    }
    auto [verb, rest] = split_command(line);
    if (verb.empty()) return;
    std::vector<std::string_view> params = split_params(rest);
    auto param = [&](size_t i) { return i < params.size() ? std::string(params[i].substr(0, kMaxField)) : std::string(); };
    if (verb == "NICK") {
      if (params.empty()) return numeric(out, "431", ":No nickname given");
      const std::string old = prefix();
      nick_ = param(0);
      log(verb, {{"nick", nick_}});
      if (registered_) return send(out, ":" + old + " NICK :" + nick_);
      maybe_welcome(out);
    } else if (verb == "USER") {
      if (params.size() < 4) return numeric(out, "461", "USER :Not enough parameters");
      user_ = param(0);
      log(verb, {{"user", user_}, {"realname", param(3)}});
      maybe_welcome(out);
    } else if (verb == "PASS") {
      log(verb, {{"password", param(0)}});
    } else if (verb == "CAP") {
      const std::string sub = ascii_upper(param(0));
      if (sub == "LS" || sub == "LIST") send(out, ":" + config_.hostname + " CAP * " + sub + " :");
      else if (sub == "REQ") send(out, ":" + config_.hostname + " CAP * NAK :" + param(1));
    } else if (verb == "PING") {
      send(out, ":" + config_.hostname + " PONG " + config_.hostname + " :" + param(0));
    } else if (verb == "PONG") {
    } else if (verb == "JOIN") {
      if (params.empty()) return numeric(out, "461", "JOIN :Not enough parameters");
      std::string_view list = params[0];
      // Bounded by the line length.
      while (!list.empty()) {
        const size_t comma = list.find(',');
        const std::string channel(list.substr(0, std::min(comma, list.size())).substr(0, kMaxField));
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        if (channel.empty()) continue;
        log(verb, {{"channel", channel}});
        send(out, ":" + prefix() + " JOIN :" + channel);
        numeric(out, "331", channel + " :No topic is set");
        numeric(out, "353", "= " + channel + " :@" + nick_);
        numeric(out, "366", channel + " :End of /NAMES list.");
      }
    } else if (verb == "PART") {
      send(out, ":" + prefix() + " PART " + param(0));
    } else if (verb == "PRIVMSG" || verb == "NOTICE") {
      if (params.size() < 2) return numeric(out, "412", ":No text to send");
      log(verb, {{"target", param(0)}, {"text", std::string(params.back().substr(0, config_.max_line))}});
    } else if (verb == "MODE") {
      const std::string target = param(0);
      if (!target.empty() && (target[0] == '#' || target[0] == '&')) numeric(out, "324", target + " +nt");
      else send(out, ":" + prefix() + " MODE " + nick_ + " :+i");
    } else if (verb == "WHO") {
      numeric(out, "315", param(0) + " :End of /WHO list.");
    } else if (verb == "USERHOST") {
      numeric(out, "302", ":" + nick_ + "=+" + user_ + "@" + info_.guest_ip.to_string());
    } else if (verb == "QUIT") {
      log(verb, {{"text", param(0)}});
      send(out, "ERROR :Closing Link: " + info_.guest_ip.to_string() + " (Quit: " + param(0) + ")");
      close_ = true;
    } else {
      numeric(out, "421", verb.substr(0, kMaxField) + " :Unknown command");
    }
  }

 private:
  // Space-separated parameters; one starting with ':' takes the rest of the line.
  static std::vector<std::string_view> split_params(std::string_view s) {
    std::vector<std::string_view> p;
    while (!s.empty() && p.size() < 15) {
      if (s.front() == ':') {
        p.push_back(s.substr(1));
        break;
      }
      const size_t sp = s.find(' ');
      p.push_back(s.substr(0, sp));
      if (sp == std::string_view::npos) break;
      s = trim_spaces(s.substr(sp + 1));
    }
    return p;
  }

  std::string prefix() const {
    return (nick_.empty() ? "*" : nick_) + "!" + (user_.empty() ? "~u" : user_) + "@" + info_.guest_ip.to_string();
  }
  static void send(std::vector<uint8_t>& out, const std::string& line) {
    append_text(out, line);
    append_text(out, "\r\n");
  }
  void numeric(std::vector<uint8_t>& out, const std::string& code, const std::string& text) {
    send(out, ":" + config_.hostname + " " + code + " " + (nick_.empty() ? "*" : nick_) + " " + text);
  }

  void maybe_welcome(std::vector<uint8_t>& out) {
    if (registered_ || nick_.empty() || user_.empty()) return;
    registered_ = true;
    numeric(out, "001", ":Welcome to the " + config_.network + " IRC Network " + prefix());
    numeric(out, "002", ":Your host is " + config_.hostname + ", running version ircd-2.11");
    numeric(out, "003", ":This server was created Mon Jan 1 2024");
    numeric(out, "004", config_.hostname + " ircd-2.11 iowx lmnopstv");
    numeric(out, "375", ":- " + config_.hostname + " Message of the Day -");
    for (const auto& l : config_.motd) numeric(out, "372", ":- " + l);
    numeric(out, "376", ":End of /MOTD command.");
  }

  void log(const std::string& command, std::vector<std::pair<std::string, std::string>> fields) {
    std::string j;
    output::JsonLine line(j);
    line.str("command", command).str("nick", nick_);
    for (const auto& [k, v] : fields) {
      if (k != "nick") line.str(k, v);
    }
    line.end_object();
    emit("sinkhole_irc", std::move(j));
  }

  const IrcConfig& config_;
  std::string nick_, user_;
  bool registered_ = false;
};

}  // namespace

std::unique_ptr<ServiceSession> make_irc_session(const IrcConfig& config, const SessionInfo& info) {
  return std::make_unique<IrcSession>(config, info);
}

}  // namespace trawl::sinkhole
