// Tests for the sinkhole's services on their own (no router, no sockets):
// each dialogue driven byte by byte and in one piece with exact replies,
// the records and artifacts they produce, and every limit.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sinkhole/catchall_service.h"
#include "sinkhole/fake_content.h"
#include "sinkhole/ftp_service.h"
#include "sinkhole/http_service.h"
#include "sinkhole/irc_service.h"
#include "sinkhole/mail_services.h"
#include "sinkhole/service_util.h"
#include "sinkhole/tls_session.h"

namespace trawl::sinkhole {
namespace {

constexpr core::Timestamp kT0 = core::Timestamp::from_sec_nsec(1700000000, 0);

SessionInfo guest_info(uint16_t port) {
  SessionInfo info;
  info.conn = 7;
  info.guest_ip = *core::IpAddress::parse("10.0.0.5");
  info.server_ip = *core::IpAddress::parse("198.51.100.21");
  info.guest_port = 49152;
  info.server_port = port;
  return info;
}

// Runs one session as the driver would, returning what it sends as text.
struct Driver {
  std::unique_ptr<ServiceSession> s;
  core::Timestamp now = kT0;
  std::string open() {
    std::vector<uint8_t> out;
    s->on_open(now, out);
    return std::string(out.begin(), out.end());
  }
  // Feeds `bytes` in pieces of `chunk` bytes.
  std::string send(std::string_view bytes, size_t chunk = 1) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i < bytes.size(); i += chunk) {
      const auto piece = bytes.substr(i, chunk);
      s->on_data(core::ByteView(reinterpret_cast<const uint8_t*>(piece.data()), piece.size()), now, out);
    }
    return std::string(out.begin(), out.end());
  }
  std::string timer(core::Timestamp t) {
    now = t;
    std::vector<uint8_t> out;
    s->on_timer(t, out);
    return std::string(out.begin(), out.end());
  }
  std::vector<ServiceEvent> events() {
    std::vector<ServiceEvent> e;
    s->take_events(e);
    return e;
  }
};

std::string text(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

// --- helpers ---------------------------------------------------------------

TEST(ServiceUtil, Base64AndAddresses) {
  std::string out;
  ASSERT_TRUE(base64_decode("AGFsaWNlAHB3", out));
  EXPECT_EQ(out, std::string("\0alice\0pw", 9));
  EXPECT_TRUE(base64_decode("Ym9i", out));
  EXPECT_EQ(out, "bob");
  EXPECT_FALSE(base64_decode("Ym9*", out));
  EXPECT_FALSE(base64_decode("Y", out));
  EXPECT_EQ(base64_encode("bob"), "Ym9i");
  EXPECT_EQ(base64_encode("ab"), "YWI=");
  EXPECT_EQ(mail_path_address("FROM:<a@example.com> SIZE=12"), "a@example.com");
  EXPECT_EQ(mail_path_address("TO: b@example.org"), "b@example.org");
  EXPECT_EQ(mail_path_address("FROM:<>"), "");
  EXPECT_EQ(hex_bytes(std::vector<uint8_t>{0x00, 0x41, 0xff}), "0041ff");
  EXPECT_EQ(printable_text(std::vector<uint8_t>{0x00, 0x41, 0xff, 0x20}), ".A. ");
  EXPECT_STREQ(to_string(Ioc::Kind::kUserAgent), "user_agent");
  EXPECT_STREQ(to_string(Ioc::Kind::kJa4), "ja4");
}

// --- SMTP ------------------------------------------------------------------

const char kSmtpClient[] =
    "EHLO client.example\r\n"
    "AUTH LOGIN\r\n"
    "Ym9i\r\n"
    "c2VjcmV0\r\n"
    "MAIL FROM:<alice@example.com> SIZE=100\r\n"
    "RCPT TO:<bob@example.org>\r\n"
    "RCPT TO:<carol@example.net>\r\n"
    "DATA\r\n"
    "From: Alice <alice@example.com>\r\n"
    "Subject: Quarterly\r\n"
    " report\r\n"
    "\r\n"
    "..hidden line\r\n"
    "body\r\n"
    ".\r\n"
    "QUIT\r\n";

const char kSmtpServer[] =
    "250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n"
    "250 SMTPUTF8\r\n"
    "334 VXNlcm5hbWU6\r\n"
    "334 UGFzc3dvcmQ6\r\n"
    "235 2.7.0 Authentication successful\r\n"
    "250 2.1.0 Ok\r\n"
    "250 2.1.5 Ok\r\n"
    "250 2.1.5 Ok\r\n"
    "354 End data with <CR><LF>.<CR><LF>\r\n"
    "250 2.0.0 Ok: queued as 70001\r\n"
    "221 2.0.0 Bye\r\n";

TEST(SmtpService, WholeDialogueByteByByteAndInOnePiece) {
  const SmtpConfig config;
  for (size_t chunk : {size_t{1}, size_t{7}, sizeof kSmtpClient}) {
    SCOPED_TRACE(chunk);
    Driver d{make_smtp_session(config, guest_info(25))};
    EXPECT_STREQ(d.s->name(), "smtp");
    EXPECT_EQ(d.open(), "220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n");
    EXPECT_EQ(d.send(kSmtpClient, chunk), kSmtpServer);
    EXPECT_TRUE(d.s->wants_close());
    auto ev = d.events();
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0].log, "sinkhole_smtp");
    EXPECT_EQ(ev[0].json,
              R"({"event":"auth","helo":"client.example","mechanism":"LOGIN","user":"bob","password":"secret"})");
    EXPECT_EQ(ev[1].json,
              R"({"event":"message","trans_depth":1,"helo":"client.example","mailfrom":"alice@example.com",)"
              R"("rcptto":["bob@example.org","carol@example.net"],"from":"Alice <alice@example.com>","to":"",)"
              R"("subject":"Quarterly report","msg_bytes":84,"truncated":false,"complete":true,"auth_user":"bob"})");
    EXPECT_EQ(ev[1].artifact_kind, "smtp_message");
    EXPECT_EQ(text(ev[1].artifact),
              "From: Alice <alice@example.com>\r\nSubject: Quarterly\r\n report\r\n\r\n.hidden line\r\nbody\r\n");
    ASSERT_EQ(ev[1].iocs.size(), 3u);
    EXPECT_EQ(ev[1].iocs[0].kind, Ioc::Kind::kEmail);
    EXPECT_EQ(ev[1].iocs[0].value, "alice@example.com");
    EXPECT_EQ(ev[1].iocs[2].value, "carol@example.net");
  }
}

TEST(SmtpService, AuthPlainSequenceErrorsAndNoBanner) {
  const SmtpConfig config;
  Driver d{make_smtp_session(config, guest_info(2525), false)};
  EXPECT_EQ(d.open(), "");
  EXPECT_EQ(d.send("HELO x\r\nAUTH PLAIN AGFsaWNlAHB3\r\n"), "250 mail.example.com\r\n235 2.7.0 Authentication successful\r\n");
  EXPECT_EQ(d.send("AUTH PLAIN\r\n!!\r\nAUTH CRAM-MD5\r\nAUTH LOGIN\r\n*\r\n"),
            "334 \r\n501 5.5.2 Cannot decode response\r\n504 5.5.4 Unrecognized authentication type\r\n"
            "334 VXNlcm5hbWU6\r\n501 5.7.0 Authentication aborted\r\n");
  EXPECT_EQ(d.send("RCPT TO:<x@y>\r\nMAIL FROM:<>\r\nDATA\r\nSTARTTLS\r\nVRFY root\r\nNOOP\r\nRSET\r\nBOGUS\r\n"),
            "503 5.5.1 Error: need MAIL command\r\n250 2.1.0 Ok\r\n554 5.5.1 Error: no valid recipients\r\n"
            "454 4.7.0 TLS not available due to local problem\r\n252 2.0.0 root\r\n250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n"
            "502 5.5.2 Error: command not recognized\r\n");
  auto ev = d.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].json, R"({"event":"auth","helo":"x","mechanism":"PLAIN","user":"alice","password":"pw"})");
}

TEST(SmtpService, Limits) {
  SmtpConfig config;
  config.max_message = 10;
  config.max_line = 16;
  config.max_recipients = 1;
  config.max_messages = 2;
  Driver d{make_smtp_session(config, guest_info(25))};
  d.open();
  EXPECT_EQ(d.send("HELO a-very-long-hostname.example\r\nHELO h\r\n"),
            "500 5.5.0 Error: line too long\r\n250 mail.example.com\r\n");
  EXPECT_EQ(d.send("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\nDATA\r\n0123456789abcdef\r\n.\r\n"),
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n452 4.5.3 Error: too many recipients\r\n"
            "354 End data with <CR><LF>.<CR><LF>\r\n552 5.3.4 Error: message file too big\r\n");
  auto ev = d.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(text(ev[0].artifact), "0123456789");
  EXPECT_NE(ev[0].json.find(R"("msg_bytes":18,"truncated":true)"), std::string::npos) << ev[0].json;
  // The second message reaches max_messages: answered, then 421 and close.
  EXPECT_EQ(d.send("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nx\n.\n"),
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 70002\r\n"
            "421 4.7.0 mail.example.com Error: too many messages\r\n");
  EXPECT_TRUE(d.s->wants_close());
  EXPECT_EQ(d.send("HELO again\r\n"), "");
}

TEST(SmtpService, MessageCutByCloseIsKept) {
  const SmtpConfig config;
  Driver d{make_smtp_session(config, guest_info(25))};
  d.open();
  d.send("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: cut\r\n\r\npartial");
  d.s->on_closed(d.now);
  auto ev = d.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(text(ev[0].artifact), "Subject: cut\r\n\r\npartial");
  EXPECT_NE(ev[0].json.find(R"("subject":"cut")"), std::string::npos);
  EXPECT_NE(ev[0].json.find(R"("complete":false)"), std::string::npos);
}

// STARTTLS with the sinkhole's CA: offered in EHLO, "220", and plaintext the
// client pipelined behind the command is not read as SMTP (RFC 2920 section
// 3.1, CVE-2011-0411) but logged with the upgrade. What follows is TLS; here
// it is not, and the TLS session logs the failed handshake.
TEST(SmtpService, StartTlsOfferedAndPipelinedPlaintextDropped) {
  const auto dir = std::filesystem::temp_directory_path() / ("trawl_smtp_starttls_" + std::to_string(::getpid()));
  std::string error;
  auto ca = TlsAuthority::open((dir / "ca").string(), error);
  ASSERT_TRUE(ca) << error;
  const SmtpConfig config;
  Driver d{make_smtp_session(config, guest_info(25), true, ca.get())};
  d.open();
  EXPECT_EQ(d.send("EHLO bot\r\n", 100),
            "250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-STARTTLS\r\n"
            "250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n");
  EXPECT_EQ(d.send("STARTTLS now\r\n", 100), "501 5.5.4 Syntax: STARTTLS\r\n");
  // No "250" for the MAIL FROM behind it: only the 220.
  EXPECT_EQ(d.send("STARTTLS\r\nMAIL FROM:<x@example.com>\r\n", 100), "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_EQ(d.send("NOOP\r\n", 100), "");  // not a TLS record: the handshake fails, no SMTP reply
  d.s->on_closed(d.now);
  auto ev = d.events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].json, R"({"event":"starttls","helo":"bot","pipelined_bytes":27,)"
                        R"("pipelined_hex":"4d41494c2046524f4d3a3c78406578616d706c652e636f6d3e0d0a",)"
                        R"("pipelined_text":"MAIL FROM:<x@example.com>.."})");
  EXPECT_EQ(ev[1].log, "sinkhole_tls");
  EXPECT_NE(ev[1].json.find(R"("established":false)"), std::string::npos) << ev[1].json;
  EXPECT_NE(ev[1].json.find(R"("failure_reason":)"), std::string::npos) << ev[1].json;
  std::filesystem::remove_all(dir);

  // Without a CA, or with starttls = false, it is neither offered nor done.
  SmtpConfig off;
  off.starttls = false;
  struct Case {
    const SmtpConfig* config;
    TlsAuthority* ca;
  };
  for (const Case& k : {Case{&config, nullptr}, Case{&off, ca.get()}}) {
    Driver p{make_smtp_session(*k.config, guest_info(25), false, k.ca)};
    EXPECT_EQ(p.send("EHLO bot\r\nSTARTTLS\r\nNOOP\r\n", 100),
              "250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n"
              "250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
              "454 4.7.0 TLS not available due to local problem\r\n250 2.0.0 Ok\r\n");
  }
  // Inside TLS already (port 465): not offered again.
  Driver t{make_smtp_session(config, guest_info(465), false, nullptr, true)};
  EXPECT_EQ(t.send("STARTTLS\r\n", 100), "554 5.5.1 Error: TLS already active\r\n");
}

// --- POP3 ------------------------------------------------------------------

TEST(Pop3Service, Dialogue) {
  const Pop3Config config;
  const std::string& msg = pop3_fake_message();
  const std::string n = std::to_string(msg.size());
  for (size_t chunk : {size_t{1}, size_t{1000}}) {
    Driver d{make_pop3_session(config, guest_info(110))};
    EXPECT_STREQ(d.s->name(), "pop3");
    EXPECT_EQ(d.open(), "+OK Dovecot ready. <7.1700000000@mail.example.com>\r\n");
    EXPECT_EQ(d.send("CAPA\r\nUSER bob\r\nPASS hunter2\r\nSTAT\r\nLIST\r\nLIST 2\r\nUIDL 1\r\nRETR 1\r\nDELE 1\r\nXYZ\r\nQUIT\r\n",
                     chunk),
              "+OK\r\nUSER\r\nUIDL\r\nTOP\r\n.\r\n+OK\r\n+OK Logged in.\r\n+OK 1 " + n + "\r\n+OK 1 messages\r\n1 " + n +
                  "\r\n.\r\n-ERR There's no message 2.\r\n+OK 1 fa1e0001\r\n+OK " + n + " octets\r\n" + msg +
                  ".\r\n+OK Marked to be deleted.\r\n-ERR Unknown command.\r\n+OK Logging out.\r\n");
    EXPECT_TRUE(d.s->wants_close());
    auto ev = d.events();
    ASSERT_EQ(ev.size(), 3u);
    EXPECT_EQ(ev[0].log, "sinkhole_pop3");
    EXPECT_EQ(ev[0].json, R"({"command":"PASS","user":"bob","password":"hunter2"})");
    EXPECT_EQ(ev[1].json, R"({"command":"RETR","arg":"1","user":"bob"})");
    EXPECT_EQ(ev[2].json, R"({"command":"DELE","arg":"1","user":"bob"})");
  }
}

TEST(Pop3Service, Top) {
  const Pop3Config config;
  const std::string& msg = pop3_fake_message();
  const std::string head = msg.substr(0, msg.find("\r\n\r\n") + 4);
  Driver d{make_pop3_session(config, guest_info(110))};
  d.open();
  const std::string ok = "+OK " + std::to_string(msg.size()) + " octets\r\n";
  EXPECT_EQ(d.send("TOP 1 0\r\n"), ok + head + ".\r\n");
  EXPECT_EQ(d.send("TOP 1 5\r\n"), ok + msg + ".\r\n");  // more lines than the body has
  EXPECT_EQ(d.send("TOP 2 1\r\n"), "-ERR There's no message.\r\n");
}

TEST(Pop3Service, ApopAndLongLine) {
  Pop3Config config;
  config.max_line = 20;
  Driver d{make_pop3_session(config, guest_info(110))};
  d.open();
  EXPECT_EQ(d.send("APOP eve c4c9334bac560ecc979e58001b3e22fb\r\n"), "-ERR Line too long.\r\n");
  EXPECT_EQ(d.send("STAT\r\n"), "+OK 1 " + std::to_string(pop3_fake_message().size()) + "\r\n");
  EXPECT_TRUE(d.events().empty());
  const Pop3Config defaults;
  d.s = make_pop3_session(defaults, guest_info(110));
  EXPECT_EQ(d.send("APOP eve c4c9334bac560ecc979e58001b3e22fb\r\n"), "+OK Logged in.\r\n");
  auto ev = d.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].json, R"({"command":"APOP","user":"eve","digest":"c4c9334bac560ecc979e58001b3e22fb"})");
}

// --- FTP control (the data connections are in router_test) -----------------

TEST(FtpService, ControlDialogue) {
  const FtpConfig config;
  FtpDataBroker broker(config);
  const std::string exe_size = std::to_string(fake_file_for_extension("exe").body.size());
  for (size_t chunk : {size_t{1}, size_t{500}}) {
    Driver d{make_ftp_session(config, guest_info(21), broker)};
    EXPECT_STREQ(d.s->name(), "ftp");
    EXPECT_EQ(d.open(), "220 (vsFTPd 3.0.3)\r\n");
    EXPECT_EQ(d.send("USER anonymous\r\nPASS guest@\r\nSYST\r\nPWD\r\nCWD pub\r\nPWD\r\nTYPE I\r\nSIZE a.exe\r\n"
                     "PASV\r\nEPSV\r\nLIST\r\nRETR x\r\nFOO\r\nQUIT\r\n",
                     chunk),
              "331 Please specify the password.\r\n230 Login successful.\r\n215 UNIX Type: L8\r\n"
              "257 \"/\" is the current directory\r\n250 Directory successfully changed.\r\n"
              "257 \"/pub\" is the current directory\r\n200 Switching to Binary mode.\r\n213 " + exe_size + "\r\n" +
                  (chunk == 1 ? "227 Entering Passive Mode (198,51,100,21,195,80).\r\n"
                                "229 Entering Extended Passive Mode (|||50001|)\r\n"
                              : "227 Entering Passive Mode (198,51,100,21,195,82).\r\n"
                                "229 Entering Extended Passive Mode (|||50003|)\r\n") +
                  "150 Here comes the directory listing.\r\n425 Use PORT or PASV first.\r\n500 Unknown command.\r\n"
                  "221 Goodbye.\r\n");
    auto ev = d.events();
    ASSERT_EQ(ev.size(), 14u);
    EXPECT_EQ(ev[0].log, "sinkhole_ftp");
    EXPECT_EQ(ev[0].json, R"({"user":"anonymous","command":"USER","arg":"anonymous","reply_code":331,)"
                          R"("reply_msg":"Please specify the password."})");
    EXPECT_EQ(ev[1].json, R"({"user":"anonymous","password":"guest@","command":"PASS","arg":"","reply_code":230,)"
                          R"("reply_msg":"Login successful."})");
    EXPECT_EQ(ev[8].json.substr(ev[8].json.find("\"data_channel")),
              std::string(R"("data_channel.passive":true,"data_channel.orig_h":"10.0.0.5",)") +
                  R"("data_channel.resp_h":"198.51.100.21","data_channel.resp_p":)" + (chunk == 1 ? "50000" : "50002") +
                  "}");
  }
  // Both control sessions are gone: their channels no longer wait.
  EXPECT_EQ(broker.pending(), 0u);
}

TEST(FtpService, TransferWithoutDataConnectionTimesOut) {
  FtpConfig config;
  FtpDataBroker broker(config);
  Driver d{make_ftp_session(config, guest_info(21), broker)};
  d.open();
  d.send("PASV\r\n");
  EXPECT_EQ(broker.pending(), 1u);
  EXPECT_EQ(d.send("RETR a.pdf\r\n"), "150 Opening BINARY mode data connection for a.pdf (" +
                                          std::to_string(fake_file_for_extension("pdf").body.size()) + " bytes).\r\n");
  EXPECT_LT(d.s->next_deadline(), kT0 + config.data_wait_ns);
  EXPECT_EQ(d.timer(kT0 + (config.data_wait_ns - 1)), "");
  EXPECT_EQ(d.timer(kT0 + config.data_wait_ns), "425 Failed to establish connection.\r\n");
  EXPECT_EQ(d.s->next_deadline(), core::Timestamp{INT64_MAX});
  // Active mode cannot work: we never connect out.
  EXPECT_EQ(d.send("PORT 10,0,0,5,4,1\r\nLIST\r\n"),
            "200 PORT command successful. Consider using PASV.\r\n425 Failed to establish connection.\r\n");
}

// --- IRC -------------------------------------------------------------------

TEST(IrcService, RegistrationJoinPingPrivmsg) {
  const IrcConfig config;
  for (size_t chunk : {size_t{1}, size_t{300}}) {
    Driver d{make_irc_session(config, guest_info(6667))};
    EXPECT_STREQ(d.s->name(), "irc");
    EXPECT_EQ(d.open(), "");
    EXPECT_EQ(d.send("CAP LS 302\r\nNICK bot1\r\nUSER b 0 * :Real Name\r\n", chunk),
              ":irc.example.net CAP * LS :\r\n"
              ":irc.example.net 001 bot1 :Welcome to the ExampleNet IRC Network bot1!b@10.0.0.5\r\n"
              ":irc.example.net 002 bot1 :Your host is irc.example.net, running version ircd-2.11\r\n"
              ":irc.example.net 003 bot1 :This server was created Mon Jan 1 2024\r\n"
              ":irc.example.net 004 bot1 irc.example.net ircd-2.11 iowx lmnopstv\r\n"
              ":irc.example.net 375 bot1 :- irc.example.net Message of the Day -\r\n"
              ":irc.example.net 372 bot1 :- Welcome to ExampleNet.\r\n"
              ":irc.example.net 376 bot1 :End of /MOTD command.\r\n");
    EXPECT_EQ(d.send("JOIN #c2,#x\r\nPING :12345\r\nPRIVMSG #c2 :!ddos 203.0.113.9\r\nWHOIS x\r\nQUIT :bye\r\n", chunk),
              ":bot1!b@10.0.0.5 JOIN :#c2\r\n:irc.example.net 331 bot1 #c2 :No topic is set\r\n"
              ":irc.example.net 353 bot1 = #c2 :@bot1\r\n:irc.example.net 366 bot1 #c2 :End of /NAMES list.\r\n"
              ":bot1!b@10.0.0.5 JOIN :#x\r\n:irc.example.net 331 bot1 #x :No topic is set\r\n"
              ":irc.example.net 353 bot1 = #x :@bot1\r\n:irc.example.net 366 bot1 #x :End of /NAMES list.\r\n"
              ":irc.example.net PONG irc.example.net :12345\r\n"
              ":irc.example.net 421 bot1 WHOIS :Unknown command\r\n"
              "ERROR :Closing Link: 10.0.0.5 (Quit: bye)\r\n");
    EXPECT_TRUE(d.s->wants_close());
    auto ev = d.events();
    ASSERT_EQ(ev.size(), 6u);
    EXPECT_EQ(ev[0].log, "sinkhole_irc");
    EXPECT_EQ(ev[0].json, R"({"command":"NICK","nick":"bot1"})");
    EXPECT_EQ(ev[1].json, R"({"command":"USER","nick":"bot1","user":"b","realname":"Real Name"})");
    EXPECT_EQ(ev[2].json, R"({"command":"JOIN","nick":"bot1","channel":"#c2"})");
    EXPECT_EQ(ev[3].json, R"({"command":"JOIN","nick":"bot1","channel":"#x"})");
    EXPECT_EQ(ev[4].json, R"({"command":"PRIVMSG","nick":"bot1","target":"#c2","text":"!ddos 203.0.113.9"})");
    EXPECT_EQ(ev[5].json, R"({"command":"QUIT","nick":"bot1","text":"bye"})");
  }
}

TEST(IrcService, LongLineAndBadCommands) {
  IrcConfig config;
  config.max_line = 32;
  Driver d{make_irc_session(config, guest_info(6667))};
  EXPECT_EQ(d.send(std::string(100, 'A') + "\r\nNICK\r\nPRIVMSG x\r\n:pfx NICK z\r\n"),
            ":irc.example.net 417 * :Input line was too long\r\n:irc.example.net 431 * :No nickname given\r\n"
            ":irc.example.net 412 * :No text to send\r\n");
  auto ev = d.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].json, R"({"command":"NICK","nick":"z"})");
}

// --- catch-all -------------------------------------------------------------

TEST(CatchallService, BannerAfterSilenceOnly) {
  const CatchallConfig config;
  const int64_t wait = 2 * core::kNsPerSec;
  Driver d{make_catchall_session(config, guest_info(4444), wait)};
  EXPECT_EQ(d.open(), "");
  EXPECT_EQ(d.s->next_deadline(), kT0 + wait);
  EXPECT_EQ(d.timer(kT0 + (wait - 1)), "");
  EXPECT_EQ(d.timer(kT0 + wait), "220 Service ready\r\n");
  EXPECT_EQ(d.s->next_deadline(), core::Timestamp{INT64_MAX});
  EXPECT_EQ(d.send("SSH-2.0-x\r\n\x01"), "");  // no echo
  d.s->on_closed(d.now);
  auto ev = d.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].log, "sinkhole_catchall");
  EXPECT_EQ(ev[0].json, R"({"service":"catchall","bytes_received":12,"first_bytes_len":12,)"
                        R"("first_bytes_hex":"5353482d322e302d780d0a01","first_bytes_text":"SSH-2.0-x...",)"
                        R"("banner_sent":true,"peer_closed":false})");
  d.s->on_closed(d.now);
  EXPECT_TRUE(d.events().empty());
}

TEST(CatchallService, GuestFirstGetsNoBannerAndLoggingIsBounded) {
  const CatchallConfig config;
  Driver d{make_catchall_session(config, guest_info(4444), 2 * core::kNsPerSec)};
  d.open();
  EXPECT_EQ(d.send(std::string(5000, 'z'), 1000), "");
  EXPECT_EQ(d.s->next_deadline(), core::Timestamp{INT64_MAX});
  EXPECT_EQ(d.timer(kT0 + 10 * core::kNsPerSec), "");
  std::vector<uint8_t> out;
  d.s->on_peer_closed(d.now, out);
  d.s->on_closed(d.now);
  auto ev = d.events();
  ASSERT_EQ(ev.size(), 1u);
  std::string hex;
  for (int i = 0; i < 4096; ++i) hex += "7a";
  EXPECT_EQ(ev[0].json, R"({"service":"catchall","bytes_received":5000,"first_bytes_len":4096,"first_bytes_hex":")" +
                            hex + R"(","first_bytes_text":")" + std::string(4096, 'z') +
                            R"(","banner_sent":false,"peer_closed":true})");
}

// --- HTTP ------------------------------------------------------------------

TEST(HttpService, EventsIocsAndBodyArtifact) {
  const HttpResponder responder;
  SessionInfo info = guest_info(8080);
  const std::string req =
      "POST /gate.php?id=1 HTTP/1.1\r\nHost: C2.Example.com\r\nUser-Agent: bot/1.0\r\n"
      "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\nk=v&x=123";
  for (size_t chunk : {size_t{1}, req.size()}) {
    Driver d{make_http_session(responder, info)};
    EXPECT_STREQ(d.s->name(), "http");
    EXPECT_EQ(d.open(), "");
    const std::string resp = d.send(req, chunk);
    EXPECT_TRUE(resp.starts_with("HTTP/1.1 200 OK\r\n")) << resp;
    auto ev = d.events();
    ASSERT_EQ(ev.size(), 1u);
    const auto& html = fake_file_for_extension("php");
    EXPECT_EQ(ev[0].log, "sinkhole_http");
    EXPECT_EQ(ev[0].json, R"({"method":"POST","host":"c2.example.com","uri":"/gate.php?id=1","version":"1.1",)"
                          R"("user_agent":"bot/1.0","status_code":200,"served":"fake:html","request_body_len":9,)"
                          R"("response_body_len":)" + std::to_string(html.body.size()) +
                              R"(,"resp_mime_type":"text/html; charset=utf-8",)"
                              R"("orig_mime_type":"application/x-www-form-urlencoded","body_head":"k=v&x=123",)"
                              R"("complete":true,"url":"http://c2.example.com:8080/gate.php?id=1"})");
    EXPECT_EQ(ev[0].artifact_kind, "http_body");
    EXPECT_EQ(text(ev[0].artifact), "k=v&x=123");
    ASSERT_EQ(ev[0].iocs.size(), 3u);
    EXPECT_EQ(ev[0].iocs[0].kind, Ioc::Kind::kUrl);
    EXPECT_EQ(ev[0].iocs[1].kind, Ioc::Kind::kUserAgent);
    EXPECT_EQ(ev[0].iocs[1].value, "bot/1.0");
    EXPECT_EQ(ev[0].iocs[2].kind, Ioc::Kind::kDomain);
    EXPECT_EQ(ev[0].iocs[2].value, "c2.example.com");
  }
}

TEST(HttpService, NoHostUsesServerAddressAndGetHasNoArtifact) {
  const HttpResponder responder;
  SessionInfo info = guest_info(80);
  info.server_ip = *core::IpAddress::parse("2001:db8::7");
  Driver d{make_http_session(responder, info)};
  d.send("GET /a/b.exe HTTP/1.0\r\n\r\n");
  EXPECT_TRUE(d.s->wants_close());
  auto ev = d.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(ev[0].artifact_kind.empty());
  ASSERT_EQ(ev[0].iocs.size(), 1u);
  EXPECT_EQ(ev[0].iocs[0].value, "http://[2001:db8::7]/a/b.exe");
  EXPECT_NE(ev[0].json.find(R"("host":"2001:db8::7")"), std::string::npos);
  HttpExchange ex;
  ex.method = "GET";
  ex.target = "/x";
  ex.host = "a.example";
  info.server_port = 443;
  EXPECT_EQ(http_exchange_url(ex, info, true), "https://a.example/x");
  ex.target = "http://b.example/y";
  EXPECT_EQ(http_exchange_url(ex, info, false), "http://b.example/y");
}

TEST(HttpService, RequestCutOffIsLoggedOnClose) {
  const HttpResponder responder;
  Driver d{make_http_session(responder, guest_info(80))};
  d.send("POST /up HTTP/1.1\r\nHost: h.example\r\nContent-Length: 100\r\n\r\nabc");
  EXPECT_TRUE(d.events().empty());
  d.s->on_closed(d.now);
  auto ev = d.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_NE(ev[0].json.find(R"("complete":false)"), std::string::npos) << ev[0].json;
  EXPECT_EQ(text(ev[0].artifact), "abc");
}

}  // namespace
}  // namespace trawl::sinkhole
