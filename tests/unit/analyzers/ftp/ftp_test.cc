// FTP: the pure parser (replies, multi-line replies, PORT/EPRT/PASV/EPSV,
// sizes, paths) and the analyzer driven through a Dispatcher from transcripts
// in the style of vsftpd and ProFTPD sessions: logins good and bad,
// pipelining, data channels, AUTH TLS, limits, gaps and garbage.
#include <gtest/gtest.h>

#include <string>

#include "analyzers/ftp/ftp_analyzer.h"
#include "analyzers/ftp/ftp_parser.h"
#include "analyzers/ftp/ftp_record.h"
#include "analyzers/ftp/mail_session.h"

namespace trawl::analyzers::ftp {
namespace {

using testing::MailSession;

TEST(FtpParser, Commands) {
  auto c = parse_command("USER anonymous");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->verb, "USER");
  EXPECT_EQ(c->arg, "anonymous");
  c = parse_command("pasv");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->verb, "pasv");
  EXPECT_EQ(c->arg, "");
  c = parse_command("STOR my file.txt");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->arg, "my file.txt");
  // ABOR after Telnet "IAC IP IAC DM".
  c = parse_command("\xff\xf4\xff\xf2" "ABOR");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->verb, "ABOR");
  EXPECT_FALSE(parse_command(""));
  EXPECT_FALSE(parse_command("220 hello"));
  EXPECT_FALSE(parse_command("\x16\x03\x01\x02"));
  EXPECT_FALSE(parse_command("TOOLONGVERB x"));
}

TEST(FtpParser, ReplyLines) {
  auto r = parse_reply_line("230 Login successful.");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 230);
  EXPECT_FALSE(r->more);
  EXPECT_EQ(r->text, "Login successful.");
  r = parse_reply_line("230-Welcome");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->more);
  r = parse_reply_line("221");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 221);
  EXPECT_FALSE(parse_reply_line("23"));
  EXPECT_FALSE(parse_reply_line("2300 x"));
  EXPECT_FALSE(parse_reply_line("630 x"));
  EXPECT_FALSE(parse_reply_line("abc def"));
}

TEST(FtpParser, MultiLineReply) {
  ReplyAssembler a;
  EXPECT_EQ(a.feed("230-Welcome to the server."), ReplyAssembler::Step::kMore);
  EXPECT_EQ(a.feed("   Local time is 10:00."), ReplyAssembler::Step::kMore);
  // Another code inside the text does not end it, nor does "230-".
  EXPECT_EQ(a.feed("150 this is text"), ReplyAssembler::Step::kMore);
  EXPECT_EQ(a.feed("230-still going"), ReplyAssembler::Step::kMore);
  EXPECT_EQ(a.feed("230 Login successful."), ReplyAssembler::Step::kDone);
  EXPECT_EQ(a.code(), 230);
  EXPECT_EQ(a.text(), "Login successful.");
  EXPECT_EQ(a.lines(), 5u);
  EXPECT_EQ(a.feed("not a reply"), ReplyAssembler::Step::kNotReply);
  EXPECT_EQ(a.feed("200 ok"), ReplyAssembler::Step::kDone);
}

TEST(FtpParser, DataChannelAddresses) {
  auto p = parse_port_arg("192,168,1,2,7,138");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->host.to_string(), "192.168.1.2");
  EXPECT_EQ(p->port, 7 * 256 + 138);
  EXPECT_FALSE(parse_port_arg("192,168,1,2,7"));
  EXPECT_FALSE(parse_port_arg("192,168,1,256,7,138"));
  EXPECT_FALSE(parse_port_arg("a,b,c,d,e,f"));

  auto e = parse_eprt_arg("|1|132.235.1.2|6275|");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host.to_string(), "132.235.1.2");
  EXPECT_EQ(e->port, 6275);
  e = parse_eprt_arg("|2|1080::8:800:200C:417A|5282|");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host.to_string(), "1080::8:800:200c:417a");
  EXPECT_EQ(e->port, 5282);
  EXPECT_FALSE(parse_eprt_arg("|1|::1|5282|"));  // family and address disagree
  EXPECT_FALSE(parse_eprt_arg("|3|1.2.3.4|5282|"));
  EXPECT_FALSE(parse_eprt_arg("|1|1.2.3.4|99999|"));
  EXPECT_FALSE(parse_eprt_arg("|1|1.2.3.4"));

  auto v = parse_pasv_reply("Entering Passive Mode (192,168,56,101,195,80).");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->host.to_string(), "192.168.56.101");
  EXPECT_EQ(v->port, 195 * 256 + 80);
  v = parse_pasv_reply("Entering Passive Mode 10,0,0,1,4,1");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->port, 1025);
  EXPECT_FALSE(parse_pasv_reply("Entering Passive Mode (10,0,0,1,4)."));

  auto port = parse_epsv_reply("Entering Extended Passive Mode (|||6446|)");
  ASSERT_TRUE(port);
  EXPECT_EQ(*port, 6446);
  port = parse_epsv_reply("Entering Extended Passive Mode (!!!40000!)");
  ASSERT_TRUE(port);
  EXPECT_EQ(*port, 40000);
  EXPECT_FALSE(parse_epsv_reply("Entering Extended Passive Mode (|||0|)"));
  EXPECT_FALSE(parse_epsv_reply("Entering Extended Passive Mode (||6446|)"));
  EXPECT_FALSE(parse_epsv_reply("Entering Extended Passive Mode"));
}

TEST(FtpParser, Sizes) {
  EXPECT_EQ(parse_size_reply("1048576"), 1048576u);
  EXPECT_FALSE(parse_size_reply("unknown"));
  EXPECT_EQ(parse_150_size("Opening BINARY mode data connection for a.bin (5242880 bytes)."), 5242880u);
  EXPECT_FALSE(parse_150_size("Opening BINARY mode data connection for a.bin."));
  EXPECT_FALSE(parse_150_size("Here comes the directory listing (3 entries)."));
  // Saturates rather than wrapping.
  EXPECT_EQ(parse_size_reply("99999999999999999999"), UINT64_MAX);
}

TEST(FtpParser, Paths) {
  EXPECT_EQ(build_path_compressed(".", "file.txt"), "./file.txt");
  EXPECT_EQ(build_path_compressed("/pub", "file.txt"), "/pub/file.txt");
  EXPECT_EQ(build_path_compressed("/pub", "/etc/passwd"), "/etc/passwd");
  EXPECT_EQ(build_path_compressed("/pub/a", "../b//c/./d"), "/pub/b/c/d");
  EXPECT_EQ(build_path_compressed("/", ".."), "/");
  EXPECT_EQ(build_path_compressed("..", ".."), "../..");
  EXPECT_EQ(build_ftp_url(*core::IpAddress::parse("10.1.2.3"), "./f"), "ftp://10.1.2.3/./f");
  EXPECT_EQ(build_ftp_url(*core::IpAddress::parse("2001:db8::1"), "/f"), "ftp://[2001:db8::1]/f");
}

// The failed login of every connection in Zeek's ftp/bruteforce.pcap.
void bruteforce_attempt(MailSession& s, const std::string& pass) {
  s.s("220 redmint FTP server (Version 6.4/OpenBSD/Linux-ftpd-0.17) ready.\r\n")
      .c("USER bro\r\n")
      .s("331 Password required for bro.\r\n")
      .c("PASS " + pass + "\r\n")
      .s("530 Login incorrect.\r\n")
      .c("QUIT\r\n")
      .s("221 Goodbye.\r\n");
  s.end();
}

TEST(FtpAnalyzer, FailedLogin) {
  MailSession s(21);
  bruteforce_attempt(s, "secret1");
  EXPECT_EQ(s.service(), "ftp");
  auto recs = s.records<FtpRecord>();
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0]->command, "USER");
  EXPECT_EQ(recs[0]->arg, "bro");
  EXPECT_EQ(recs[0]->user, "bro");
  EXPECT_EQ(recs[0]->reply_code, 331);
  EXPECT_EQ(recs[1]->command, "PASS");
  EXPECT_EQ(recs[1]->arg, "<hidden>");
  ASSERT_TRUE(recs[1]->password);
  EXPECT_EQ(*recs[1]->password, "<hidden>");
  EXPECT_EQ(recs[1]->reply_code, 530);
  EXPECT_EQ(recs[1]->reply_msg, "Login incorrect.");
  EXPECT_EQ(recs[2]->command, "QUIT");
  EXPECT_EQ(recs[2]->reply_code, 221);
  auto auth = s.auth();
  ASSERT_EQ(auth.size(), 1u);
  EXPECT_EQ(auth[0]->proto, "ftp");
  EXPECT_EQ(auth[0]->method, "USER/PASS");
  EXPECT_EQ(auth[0]->user, "bro");
  EXPECT_EQ(auth[0]->outcome, AuthOutcome::kFailure);
  EXPECT_EQ(auth[0]->reply, "530 Login incorrect.");
  EXPECT_FALSE(auth[0]->has_password);
  // The password is in no record.
  EXPECT_EQ(s.json("ftp").find("secret1"), std::string::npos);
  EXPECT_EQ(s.json("auth").find("secret1"), std::string::npos);
  EXPECT_EQ(s.anomalies_total(), 0u);
}

TEST(FtpAnalyzer, RevealCredentials) {
  MailSession s(21, /*reveal=*/true);
  bruteforce_attempt(s, "secret1");
  auto auth = s.auth();
  ASSERT_EQ(auth.size(), 1u);
  EXPECT_TRUE(auth[0]->has_password);
  EXPECT_EQ(auth[0]->password, "secret1");
  auto recs = s.records<FtpRecord>();
  EXPECT_EQ(recs[1]->arg, "secret1");
  EXPECT_EQ(*recs[1]->password, "secret1");
}

// A vsftpd session: multi-line 230, PASV and EPSV listings, a download with
// SIZE and the 150 "(N bytes)" reply, CWD into a folder, PORT and EPRT.
TEST(FtpAnalyzer, SessionWithDataChannels) {
  for (size_t chunk : {size_t{0}, size_t{1}, size_t{7}}) {
    SCOPED_TRACE(chunk);
    MailSession s(21, false, chunk);
    s.s("220 (vsFTPd 3.0.3)\r\n")
        .c("USER alice\r\n")
        .s("331 Please specify the password.\r\n")
        .c("PASS wonderland\r\n")
        .s("230-Welcome, alice.\r\n230-Mind the rabbit hole.\r\n230 Login successful.\r\n")
        .c("SYST\r\n")
        .s("215 UNIX Type: L8\r\n")
        .c("CWD pub\r\n")
        .s("250 Directory successfully changed.\r\n")
        .c("TYPE I\r\n")
        .s("200 Switching to Binary mode.\r\n")
        .c("SIZE report.pdf\r\n")
        .s("213 48213\r\n")
        .c("PASV\r\n")
        .s("227 Entering Passive Mode (192,0,2,10,156,64).\r\n")
        .c("RETR report.pdf\r\n")
        .s("150 Opening BINARY mode data connection for report.pdf (48213 bytes).\r\n")
        .s("226 Transfer complete.\r\n")
        .c("EPSV\r\n")
        .s("229 Entering Extended Passive Mode (|||40001|)\r\n")
        .c("LIST\r\n")
        .s("150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
        .c("PORT 192,0,2,20,200,10\r\n")
        .s("200 PORT command successful. Consider using PASV.\r\n")
        .c("EPRT |2|2001:db8::20|50000|\r\n")
        .s("200 EPRT command successful. Consider using EPSV.\r\n")
        .c("STOR ../upload/notes.txt\r\n")
        .s("150 Ok to send data.\r\n226 Transfer complete.\r\n")
        .c("QUIT\r\n")
        .s("221 Goodbye.\r\n");
    s.end();
    auto r = s.records<FtpRecord>();
    ASSERT_EQ(r.size(), 14u);
    EXPECT_EQ(r[1]->command, "PASS");
    EXPECT_EQ(r[1]->reply_code, 230);
    EXPECT_EQ(r[1]->reply_msg, "Login successful.");
    EXPECT_EQ(r[3]->command, "CWD");
    EXPECT_EQ(r[3]->arg, "pub");
    EXPECT_EQ(r[5]->command, "SIZE");
    EXPECT_EQ(r[5]->file_size, 48213u);
    ASSERT_TRUE(r[6]->data_channel);
    EXPECT_TRUE(r[6]->data_channel->passive);
    EXPECT_EQ(r[6]->data_channel->orig_h.to_string(), "192.0.2.20");
    EXPECT_EQ(r[6]->data_channel->resp_h.to_string(), "192.0.2.10");
    EXPECT_EQ(r[6]->data_channel->resp_p, 156 * 256 + 64);
    EXPECT_EQ(r[7]->command, "RETR");
    EXPECT_EQ(r[7]->arg, "ftp://192.0.2.10/./pub/report.pdf");
    EXPECT_EQ(r[7]->file_size, 48213u);
    EXPECT_EQ(r[7]->reply_code, 226);
    ASSERT_TRUE(r[8]->data_channel);
    EXPECT_EQ(r[8]->data_channel->resp_h.to_string(), "192.0.2.10");
    EXPECT_EQ(r[8]->data_channel->resp_p, 40001);
    EXPECT_EQ(r[9]->command, "LIST");
    EXPECT_EQ(r[9]->reply_code, 226);
    ASSERT_TRUE(r[10]->data_channel);
    EXPECT_FALSE(r[10]->data_channel->passive);
    EXPECT_EQ(r[10]->data_channel->orig_h.to_string(), "192.0.2.10");
    EXPECT_EQ(r[10]->data_channel->resp_h.to_string(), "192.0.2.20");
    EXPECT_EQ(r[10]->data_channel->resp_p, 200 * 256 + 10);
    ASSERT_TRUE(r[11]->data_channel);
    EXPECT_EQ(r[11]->data_channel->resp_h.to_string(), "2001:db8::20");
    EXPECT_EQ(r[11]->data_channel->resp_p, 50000);
    EXPECT_EQ(r[12]->arg, "ftp://192.0.2.10/./upload/notes.txt");
    for (const FtpRecord* x : r) EXPECT_EQ(x->user, "alice");
    auto auth = s.auth();
    ASSERT_EQ(auth.size(), 1u);
    EXPECT_EQ(auth[0]->outcome, AuthOutcome::kSuccess);
    EXPECT_EQ(auth[0]->reply, "230 Login successful.");
    EXPECT_EQ(s.anomalies_total(), 0u);
    // The JSON has Zeek's dotted data_channel names.
    const std::string j = s.json("ftp");
    EXPECT_NE(j.find("\"data_channel.passive\":true,\"data_channel.orig_h\":\"192.0.2.20\","
                     "\"data_channel.resp_h\":\"192.0.2.10\",\"data_channel.resp_p\":40001"),
              std::string::npos);
    EXPECT_NE(j.find("\"command\":\"RETR\",\"arg\":\"ftp://192.0.2.10/./pub/report.pdf\",\"file_size\":48213,"
                     "\"reply_code\":226,\"reply_msg\":\"Transfer complete.\""),
              std::string::npos);
  }
}

// Whole turns and byte-at-a-time delivery give identical output.
TEST(FtpAnalyzer, SegmentationDoesNotMatter) {
  std::string outputs[2];
  for (size_t i = 0; i < 2; ++i) {
    MailSession s(21, false, i == 0 ? 0 : 1);
    bruteforce_attempt(s, "x");
    outputs[i] = s.json("ftp") + s.json("auth");
  }
  EXPECT_FALSE(outputs[0].empty());
  EXPECT_EQ(outputs[0], outputs[1]);
}

TEST(FtpAnalyzer, AnonymousPasswordIsLoggedAsZeekDoes) {
  MailSession s(21);
  s.s("220 ProFTPD Server (Debian) [192.0.2.10]\r\n")
      .c("USER anonymous\r\n")
      .s("331 Anonymous login ok, send your complete email address as your password\r\n")
      .c("PASS IEUser@\r\n")
      .s("230 Anonymous access granted, restrictions apply\r\n");
  s.end();
  auto r = s.records<FtpRecord>();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1]->arg, "IEUser@");
  EXPECT_EQ(*r[1]->password, "IEUser@");
  auto auth = s.auth();
  ASSERT_EQ(auth.size(), 1u);
  EXPECT_EQ(auth[0]->outcome, AuthOutcome::kSuccess);
  EXPECT_FALSE(auth[0]->has_password);  // auth.jsonl: only with --reveal-credentials
}

// A client that sends its commands without waiting (pipelining), answered in
// one segment; and a USER refused outright.
TEST(FtpAnalyzer, Pipelining) {
  MailSession s(21);
  s.s("220 FTP ready\r\n")
      .c("USER root\r\nPASS toor\r\nUSER admin\r\nPASS admin\r\nUSER ftp\r\n")
      .s("331 Password required\r\n530 Login incorrect.\r\n331 Password required\r\n"
         "530 Login incorrect.\r\n530 This FTP server is anonymous only.\r\n");
  s.end();
  auto r = s.records<FtpRecord>();
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[1]->user, "root");
  EXPECT_EQ(r[1]->reply_code, 530);
  EXPECT_EQ(r[3]->user, "admin");
  EXPECT_EQ(r[4]->reply_code, 530);
  auto auth = s.auth();
  ASSERT_EQ(auth.size(), 3u);
  EXPECT_EQ(auth[0]->user, "root");
  EXPECT_EQ(auth[1]->user, "admin");
  EXPECT_EQ(auth[2]->user, "ftp");
  for (auto* a : auth) EXPECT_EQ(a->outcome, AuthOutcome::kFailure);
  EXPECT_EQ(auth[2]->reply, "530 This FTP server is anonymous only.");
}

TEST(FtpAnalyzer, UnansweredPasswordIsUnknown) {
  MailSession s(21);
  s.s("220 FTP ready\r\n").c("USER bob\r\n").s("331 Password required\r\n").c("PASS hunter2\r\n");
  s.end();
  auto r = s.records<FtpRecord>();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1]->reply_code, 0);
  EXPECT_EQ(s.json("ftp").find("reply_code", s.json("ftp").find("PASS")), std::string::npos);
  auto auth = s.auth();
  ASSERT_EQ(auth.size(), 1u);
  EXPECT_EQ(auth[0]->outcome, AuthOutcome::kUnknown);
  EXPECT_TRUE(auth[0]->reply.empty());
}

TEST(FtpAnalyzer, AuthTlsUpgrades) {
  MailSession s(21);
  s.s("220 FTP ready\r\n").c("AUTH TLS\r\n").s("234 AUTH TLS successful\r\n");
  // A TLS ClientHello follows: it must not be read as FTP.
  s.c(std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11));
  s.end();
  auto r = s.records<FtpRecord>();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->command, "AUTH");
  EXPECT_EQ(r[0]->reply_code, 234);
  EXPECT_EQ(s.anomaly(kAnomBadCommand), 0u);
  if (registry().find("ssl", 6) != nullptr) {
    EXPECT_EQ(s.service(), "ftp,ssl");
  } else {
    EXPECT_EQ(s.service(), "ftp");
  }
}

TEST(FtpAnalyzer, AuthTlsRefusedStaysFtp) {
  MailSession s(21);
  s.s("220 FTP ready\r\n").c("AUTH TLS\r\n").s("530 Please login with USER and PASS.\r\n").c("USER a\r\n");
  s.s("331 Password required\r\n");
  s.end();
  EXPECT_EQ(s.service(), "ftp");
  EXPECT_EQ(s.records<FtpRecord>().size(), 2u);
}

TEST(FtpAnalyzer, GarbageGivesUp) {
  MailSession s(21);
  s.s("220 FTP ready\r\n").c("USER a\r\n");
  std::string junk;
  for (int i = 0; i < 40; ++i) junk += "\x01\x02\x03 binary junk\r\n";
  s.c(junk);
  EXPECT_FALSE(s.wants_data());
  s.end();
  EXPECT_EQ(s.anomaly(kAnomBadCommand), FtpLimits{}.max_bad_lines + 1);
  EXPECT_EQ(s.anomaly(kAnomNotFtp), 1u);
  EXPECT_EQ(s.records<FtpRecord>().size(), 1u);  // USER, unanswered
}

TEST(FtpAnalyzer, LongLineIsCutAndCounted) {
  MailSession s(21);
  s.s("220 FTP ready\r\n").c("CWD " + std::string(10000, 'a') + "\r\n").s("250 ok\r\n");
  s.end();
  auto r = s.records<FtpRecord>();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->arg.size(), FtpLimits{}.max_line - 4);
  EXPECT_EQ(s.anomaly(kAnomLineTooLong), 1u);
}

TEST(FtpAnalyzer, TooManyPendingCommands) {
  MailSession s(21);
  std::string many;
  for (int i = 0; i < 100; ++i) many += "NOOP\r\n";
  s.s("220 FTP ready\r\n").c(many);
  s.end();
  EXPECT_EQ(s.records<FtpRecord>().size(), 100u);
  EXPECT_EQ(s.anomaly(kAnomTooManyPending), 100 - FtpLimits{}.max_pending);
}

// A hole in the server's replies: the waiting commands are logged without a
// reply and later ones pair with later replies.
TEST(FtpAnalyzer, GapResynchronises) {
  MailSession s(21);
  s.s("220 FTP ready\r\n").c("USER a\r\n").s("331 Pass").gap(false, 20).s("word required\r\n");
  s.c("PASS b\r\n").s("530 Login incorrect.\r\n");
  s.end();
  auto r = s.records<FtpRecord>();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]->command, "USER");
  EXPECT_EQ(r[0]->reply_code, 0);
  EXPECT_EQ(r[1]->command, "PASS");
  EXPECT_EQ(r[1]->reply_code, 530);
  ASSERT_EQ(s.auth().size(), 1u);
  EXPECT_EQ(s.auth()[0]->outcome, AuthOutcome::kFailure);
}

TEST(FtpProbe, BannerAndClient) {
  {
    // Port 21: the banner alone is enough.
    MailSession s(21);
    s.s("220 Service ready\r\n");
    EXPECT_EQ(s.service(), "ftp");
  }
  {
    // Another port: "FTP" in the banner.
    MailSession s(2121);
    s.s("220 ProFTPD 1.3.5 Server (ProFTPD) [192.0.2.10]\r\n");
    EXPECT_EQ(s.service(), "ftp");
  }
  {
    // Another port, a neutral banner: the client's USER decides.
    MailSession s(2121);
    s.s("220 Service ready\r\n");
    EXPECT_EQ(s.service(), "");
    s.c("USER x\r\n");
    EXPECT_EQ(s.service(), "ftp");
  }
  {
    // An SMTP session on an odd port is not FTP.
    MailSession s(2525);
    s.s("220 mx.example.com ESMTP Postfix\r\n").c("EHLO client.example.com\r\n");
    s.end();
    EXPECT_EQ(s.service().find("ftp"), std::string::npos);
    EXPECT_TRUE(s.records<FtpRecord>().empty());
  }
  {
    // Mid-session capture: a command answered by a reply code.
    MailSession s(3021);
    s.c("PASV\r\n").s("227 Entering Passive Mode (192,0,2,10,4,1)\r\n");
    s.end();
    EXPECT_EQ(s.service(), "ftp");
    auto r = s.records<FtpRecord>();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0]->reply_code, 227);
    EXPECT_EQ(r[0]->data_channel->resp_p, 1025);
  }
  {
    // HTTP on port 21 is not FTP.
    MailSession s(21);
    s.c("GET / HTTP/1.1\r\nHost: x\r\n\r\n").s("HTTP/1.1 200 OK\r\n\r\n");
    s.end();
    EXPECT_EQ(s.service().find("ftp"), std::string::npos);
  }
}

}  // namespace
}  // namespace trawl::analyzers::ftp
