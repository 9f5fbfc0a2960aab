#include "sinkhole/ftp_service.h"

#include <algorithm>
#include <cstdio>

#include "output/json_line.h"
#include "sinkhole/fake_content.h"
#include "sinkhole/service_util.h"

namespace trawl::sinkhole {

namespace {

constexpr int64_t kPollNs = 100 * 1000 * 1000;  // how often a waiting session looks at its channel
constexpr size_t kMaxArg = 1024;

const char* const kListedFiles[] = {"readme.txt", "setup.exe", "invoice.pdf", "index.html", "backup.zip"};

std::string_view fake_body_for(std::string_view name) { return fake_file_for_extension(path_extension(name)).body; }

class FtpSession final : public LineSession {
 public:
  FtpSession(const FtpConfig& config, const SessionInfo& info, FtpDataBroker& broker, bool banner)
      : LineSession(info, config.max_line), config_(config), broker_(broker), banner_(banner) {}
  const char* name() const override { return "ftp"; }

  void on_open(core::Timestamp now, std::vector<uint8_t>& out) override {
    last_now_ = now;
    if (banner_) reply(out, 220, config_.banner);
  }

  void on_timer(core::Timestamp now, std::vector<uint8_t>& out) override {
    last_now_ = now;
    check_transfer(now, out);
  }

  core::Timestamp next_deadline() const override {
    if (!transfer_) return core::Timestamp{INT64_MAX};
    if (channel_ && (channel_->done || channel_->closed)) return core::Timestamp{0};
    // Polled: the data session finishing does not wake this one by itself.
    return std::min(transfer_deadline_, last_now_ + kPollNs);
  }

  void on_closed(core::Timestamp) override { channel_.reset(); }

 protected:
  void on_line_too_long(std::vector<uint8_t>& out) override { reply(out, 500, "Input line too long."); }

  void on_line(std::string_view line, core::Timestamp now, std::vector<uint8_t>& out) override {
    last_now_ = now;
    check_transfer(now, out);
    auto [verb, arg_view] = split_command(line);
    const std::string arg(arg_view.substr(0, kMaxArg));
    std::string password;
    std::vector<std::pair<std::string, std::string>> extra;
    code_ = 0;
    if (verb == "USER") {
      user_ = arg;
      reply(out, 331, "Please specify the password.");
    } else if (verb == "PASS") {
      password = arg;
      reply(out, 230, "Login successful.");
    } else if (verb == "SYST") {
      reply(out, 215, "UNIX Type: L8");
    } else if (verb == "FEAT") {
      append_text(out, "211-Features:\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n UTF8\r\n");
      reply(out, 211, "End");
    } else if (verb == "OPTS") {
      reply(out, 200, "Always in UTF8 mode.");
    } else if (verb == "PWD" || verb == "XPWD") {
      reply(out, 257, "\"" + cwd_ + "\" is the current directory");
    } else if (verb == "CWD" || verb == "XCWD") {
      if (!arg.empty()) cwd_ = arg.front() == '/' ? arg : (cwd_ == "/" ? "/" : cwd_ + "/") + arg;
      cwd_.resize(std::min<size_t>(cwd_.size(), kMaxArg));
      reply(out, 250, "Directory successfully changed.");
    } else if (verb == "CDUP" || verb == "XCUP") {
      cwd_ = "/";
      reply(out, 250, "Directory successfully changed.");
    } else if (verb == "TYPE") {
      reply(out, 200, ascii_upper(arg).starts_with("A") ? "Switching to ASCII mode." : "Switching to Binary mode.");
    } else if (verb == "MODE" || verb == "STRU") {
      reply(out, 200, "Mode set.");
    } else if (verb == "SIZE") {
      reply(out, 213, std::to_string(fake_body_for(arg).size()));
    } else if (verb == "MDTM") {
      reply(out, 213, "20240101000000");
    } else if (verb == "PASV" || verb == "EPSV") {
      passive(verb == "EPSV", out, extra);
    } else if (verb == "PORT" || verb == "EPRT") {
      channel_.reset();
      active_ = true;
      reply(out, 200, "PORT command successful. Consider using PASV.");
    } else if (verb == "LIST" || verb == "NLST" || verb == "MLSD") {
      std::string listing;
      if (verb == "NLST") {
        for (const char* f : kListedFiles) listing += std::string(f) + "\r\n";
      } else {
        listing = ftp_fake_listing();
      }
      start_transfer(verb, arg, FtpDataChannel::Op::kSend, std::move(listing),
                     "Here comes the directory listing.", now, out);
    } else if (verb == "RETR") {
      const std::string_view body = fake_body_for(arg);
      extra.emplace_back("mime_type", std::string(fake_file_for_extension(path_extension(arg)).content_type));
      extra.emplace_back("file_size", std::to_string(body.size()));
      start_transfer(verb, arg, FtpDataChannel::Op::kSend, std::string(body),
                     "Opening BINARY mode data connection for " + arg + " (" + std::to_string(body.size()) + " bytes).",
                     now, out);
    } else if (verb == "STOR" || verb == "APPE" || verb == "STOU") {
      start_transfer(verb, arg, FtpDataChannel::Op::kReceive, {}, "Ok to send data.", now, out);
    } else if (verb == "DELE" || verb == "RMD" || verb == "XRMD") {
      reply(out, 250, "Delete operation successful.");
    } else if (verb == "MKD" || verb == "XMKD") {
      reply(out, 257, "\"" + arg + "\" created");
    } else if (verb == "RNFR") {
      reply(out, 350, "Ready for RNTO.");
    } else if (verb == "RNTO") {
      reply(out, 250, "Rename successful.");
    } else if (verb == "REST") {
      reply(out, 350, "Restart position accepted (" + arg + ").");
    } else if (verb == "ABOR") {
      reply(out, 225, "No transfer to ABOR.");
    } else if (verb == "ALLO") {
      reply(out, 202, "ALLO command ignored.");
    } else if (verb == "NOOP") {
      reply(out, 200, "NOOP ok.");
    } else if (verb == "HELP") {
      reply(out, 214, "Help OK.");
    } else if (verb == "AUTH" || verb == "PBSZ" || verb == "PROT") {
      reply(out, 530, "Please login with USER and PASS.");
    } else if (verb == "QUIT") {
      reply(out, 221, "Goodbye.");
      close_ = true;
    } else {
      reply(out, 500, "Unknown command.");
    }
    log_command(verb, verb == "PASS" ? std::string() : arg, password, extra);
  }

 private:
  void reply(std::vector<uint8_t>& out, int code, std::string_view text) {
    append_text(out, std::to_string(code) + " ");
    append_text(out, text);
    append_text(out, "\r\n");
    if (code_ == 0) {  // the record keeps the first reply to the command
      code_ = code;
      reply_msg_ = std::string(text.substr(0, kMaxArg));
    }
  }

  void passive(bool extended, std::vector<uint8_t>& out, std::vector<std::pair<std::string, std::string>>& extra) {
    if (!extended && !info_.server_ip.is_v4()) return reply(out, 522, "Network protocol not supported, use (2).");
    channel_ = std::make_shared<FtpDataChannel>();
    channel_->control_conn = info_.conn;
    active_ = false;
    const uint16_t port = broker_.listen(info_.guest_ip, info_.server_ip, channel_);
    extra.emplace_back("data_channel.passive", "true");
    extra.emplace_back("data_channel.orig_h", "\"" + info_.guest_ip.to_string() + "\"");
    extra.emplace_back("data_channel.resp_h", "\"" + info_.server_ip.to_string() + "\"");
    extra.emplace_back("data_channel.resp_p", std::to_string(port));
    if (extended) return reply(out, 229, "Entering Extended Passive Mode (|||" + std::to_string(port) + "|)");
    const uint8_t* a = info_.server_ip.wire_data();
    char text[96];
    std::snprintf(text, sizeof text, "Entering Passive Mode (%u,%u,%u,%u,%u,%u).", a[0], a[1], a[2], a[3], port >> 8,
                  port & 0xff);
    reply(out, 227, text);
  }

  void start_transfer(const std::string& verb, const std::string& arg, FtpDataChannel::Op op, std::string payload,
                      const std::string& text, core::Timestamp now, std::vector<uint8_t>& out) {
    if (!channel_ || channel_->op != FtpDataChannel::Op::kNone) {
      if (active_) return reply(out, 425, "Failed to establish connection.");
      return reply(out, 425, "Use PORT or PASV first.");
    }
    channel_->op = op;
    channel_->payload = std::move(payload);
    channel_->command = verb;
    channel_->arg = arg;
    channel_->user = user_;
    transfer_ = true;
    transfer_deadline_ = now + config_.data_wait_ns;
    reply(out, 150, text);
  }

  // A transfer that finished gets its 226 (or 425 when its data connection never came).
  void check_transfer(core::Timestamp now, std::vector<uint8_t>& out) {
    if (!transfer_ || !channel_) return;
    const int saved = code_;
    code_ = -1;  // these replies belong to no command record
    if (channel_->done) {
      reply(out, 226, "Transfer complete.");
    } else if (channel_->closed) {
      reply(out, 426, "Connection closed; transfer aborted.");
    } else if (now >= transfer_deadline_) {
      reply(out, 425, "Failed to establish connection.");
    } else {
      code_ = saved;
      return;
    }
    code_ = saved;
    transfer_ = false;
    channel_.reset();  // one transfer per PASV, as servers do
  }

  void log_command(const std::string& verb, const std::string& arg, const std::string& password,
                   const std::vector<std::pair<std::string, std::string>>& extra) {
    std::string j;
    output::JsonLine line(j);
    line.str("user", user_);
    if (!password.empty() || verb == "PASS") line.str("password", password);
    line.str("command", verb).str("arg", arg).u64("reply_code", static_cast<uint64_t>(std::max(code_, 0)))
        .str("reply_msg", reply_msg_);
    for (const auto& [k, v] : extra) {
      if (k == "mime_type") {
        line.str(k, v);
      } else {
        line.raw(k, v);
      }
    }
    line.end_object();
    emit("sinkhole_ftp", std::move(j));
  }

  const FtpConfig& config_;
  FtpDataBroker& broker_;
  bool banner_;
  std::shared_ptr<FtpDataChannel> channel_;
  std::string user_;
  std::string cwd_ = "/";
  bool active_ = false;
  bool transfer_ = false;
  core::Timestamp transfer_deadline_{INT64_MAX};
  core::Timestamp last_now_{0};
  int code_ = 0;
  std::string reply_msg_;
};

class FtpDataSession final : public ServiceSession {
 public:
  FtpDataSession(const FtpConfig& config, const SessionInfo& info, std::shared_ptr<FtpDataChannel> channel)
      : config_(config), channel_(std::move(channel)) {
    (void)info;
  }
  const char* name() const override { return "ftp-data"; }

  void on_open(core::Timestamp now, std::vector<uint8_t>& out) override {
    channel_->connected = true;
    opened_ = now;
    last_now_ = now;
    act(now, out);
  }
  void on_data(core::ByteView data, core::Timestamp now, std::vector<uint8_t>& out) override {
    last_now_ = now;
    if (channel_->op == FtpDataChannel::Op::kSend) return;  // a download: the guest has nothing to send
    received_ += data.size();
    const size_t room = config_.max_upload - std::min(config_.max_upload, upload_.size());
    upload_.insert(upload_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(std::min(room, data.size())));
    act(now, out);
  }
  void on_peer_closed(core::Timestamp now, std::vector<uint8_t>& out) override {
    last_now_ = now;
    if (channel_->op != FtpDataChannel::Op::kSend) finish_upload(true);
    close_ = true;
    (void)out;
  }
  void on_closed(core::Timestamp) override {
    finish_upload(false);
    channel_->closed = true;
  }
  void on_timer(core::Timestamp now, std::vector<uint8_t>& out) override {
    last_now_ = now;
    act(now, out);
  }
  core::Timestamp next_deadline() const override {
    if (close_) return core::Timestamp{INT64_MAX};
    if (channel_->op == FtpDataChannel::Op::kSend) return core::Timestamp{0};
    if (channel_->op == FtpDataChannel::Op::kNone) return last_now_ + kPollNs;  // waiting for the command
    return core::Timestamp{INT64_MAX};
  }
  bool wants_close() const override { return close_; }
  void take_events(std::vector<ServiceEvent>& out) override {
    for (auto& e : events_) out.push_back(std::move(e));
    events_.clear();
  }

 private:
  void act(core::Timestamp now, std::vector<uint8_t>& out) {
    if (close_) return;
    if (channel_->op == FtpDataChannel::Op::kSend) {
      append_text(out, channel_->payload);
      channel_->payload.clear();
      channel_->done = true;
      close_ = true;
    } else if (channel_->op == FtpDataChannel::Op::kNone && now - opened_ >= config_.data_wait_ns) {
      close_ = true;  // no command came for this connection
    }
  }

  void finish_upload(bool complete) {
    if (reported_ || channel_->op == FtpDataChannel::Op::kSend) return;
    if (channel_->op == FtpDataChannel::Op::kNone) {
      if (received_ == 0) return;
      channel_->command = "-";  // bytes with no STOR: still what the guest sent
    }
    reported_ = true;
    channel_->done = complete;
    std::string j;
    output::JsonLine(j).str("user", channel_->user).str("command", channel_->command).str("arg", channel_->arg)
        .u64("file_size", received_).boolean("truncated", received_ > upload_.size()).boolean("complete", complete)
        .boolean("data_channel.passive", true).u64("control_conn", channel_->control_conn).end_object();
    ServiceEvent e;
    e.log = "sinkhole_ftp";
    e.json = std::move(j);
    e.artifact_kind = "ftp_upload";
    e.artifact = std::move(upload_);
    upload_.clear();
    events_.push_back(std::move(e));
  }

  const FtpConfig& config_;
  std::shared_ptr<FtpDataChannel> channel_;
  std::vector<ServiceEvent> events_;
  std::vector<uint8_t> upload_;
  uint64_t received_ = 0;
  core::Timestamp opened_{0};
  core::Timestamp last_now_{0};
  bool close_ = false;
  bool reported_ = false;
};

}  // namespace

std::string ftp_fake_listing() {
  std::string s;
  for (const char* f : kListedFiles) {
    char line[160];
    std::snprintf(line, sizeof line, "-rw-r--r--    1 ftp      ftp      %8zu Jan 01  2024 %s\r\n", fake_body_for(f).size(), f);
    s += line;
  }
  return s;
}

FtpDataBroker::FtpDataBroker(const FtpConfig& config) : config_(config) {}

void FtpDataBroker::prune() {
  std::erase_if(entries_, [](const Entry& e) { return e.channel.expired(); });
}

uint16_t FtpDataBroker::listen(const core::IpAddress& guest, const core::IpAddress& server,
                               std::shared_ptr<FtpDataChannel> ch) {
  prune();
  const uint32_t first = config_.passive_port_first;
  const uint32_t last = std::max<uint32_t>(first, config_.passive_port_last);
  const uint32_t span = last - first + 1;
  uint16_t port = static_cast<uint16_t>(first + next_ % span);
  // A port already waiting for this guest and address is skipped (bounded: the span or the table size).
  for (uint32_t tries = 0; tries < span; ++tries) {
    port = static_cast<uint16_t>(first + next_++ % span);
    const bool taken = std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
      return e.port == port && e.guest == guest && e.server == server;
    });
    if (!taken) break;
  }
  std::erase_if(entries_, [&](const Entry& e) { return e.port == port && e.guest == guest && e.server == server; });
  while (!entries_.empty() && entries_.size() >= std::max<size_t>(config_.max_pending_data, 1)) {
    entries_.erase(entries_.begin());
  }
  entries_.push_back(Entry{guest, server, port, ch});
  return port;
}

std::shared_ptr<FtpDataChannel> FtpDataBroker::claim(const SessionInfo& info) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->port == info.server_port && it->guest == info.guest_ip && it->server == info.server_ip) {
      auto ch = it->channel.lock();
      entries_.erase(it);
      if (ch && !ch->connected) return ch;
      return nullptr;
    }
  }
  return nullptr;
}

size_t FtpDataBroker::pending() const {
  return static_cast<size_t>(
      std::count_if(entries_.begin(), entries_.end(), [](const Entry& e) { return !e.channel.expired(); }));
}

std::unique_ptr<ServiceSession> make_ftp_session(const FtpConfig& config, const SessionInfo& info,
                                                 FtpDataBroker& broker, bool banner) {
  return std::make_unique<FtpSession>(config, info, broker, banner);
}

std::unique_ptr<ServiceSession> make_ftp_data_session(const FtpConfig& config, const SessionInfo& info,
                                                      std::shared_ptr<FtpDataChannel> channel) {
  return std::make_unique<FtpDataSession>(config, info, std::move(channel));
}

}  // namespace trawl::sinkhole
