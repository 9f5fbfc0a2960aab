// OTX client against tests/tools/otx_fake_server.py on loopback: answers,
// cache, retries, timeouts, offline mode and key hygiene; plus the pure
// parser and the may-send rules.
#include "intel/otx.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace trawl::intel {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Status = OtxVerdict::Status;
using Clock = std::chrono::steady_clock;

constexpr const char* kKey = "k3y-SECRET-0123456789abcdef";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The fixture the fake server answers from; each test uses its own values so
// request counts in the log belong to one test.
Json fixture() {
  Json f;
  f["c2.example.com"] = {
      {"count", 3},
      {"kind", "domain"},
      {"pulses",
       {{{"id", "65a1b2c3d4e5f60718293a4b"},
         {"name", "Emotet C2 infrastructure"},
         {"tags", {"emotet", "c2", "botnet"}},
         {"created", "2024-01-10T08:00:00.000000"},
         {"modified", "2024-02-01T09:30:00.000000"},
         {"adversary", "TA542"},
         {"malware_families", {"Emotet", {{"id", "TrickBot"}, {"display_name", "TrickBot"}, {"target", nullptr}}}}},
        {{"id", "65a1b2c3d4e5f60718293a4c"}, {"name", "Spam loaders"}, {"tags", {"spam"}}}}}};
  f["gone.example.com"] = {{"status", 404}};
  f["bad.example.com"] = {{"status", 400}};
  f["cached.example.com"] = {{"pulses", {{{"name", "cached pulse"}, {"tags", {"t1"}}}}}};
  f["ttl.example.com"] = {{"pulses", {{{"name", "ttl pulse"}}}}};
  f["corrupt.example.com"] = {{"pulses", {{{"name", "corrupt pulse"}}}}};
  f["offline.example.com"] = {{"pulses", {{{"name", "offline pulse"}}}}};
  f["throttled.example.com"] = {{"fail", {{"status", 429}, {"times", 2}, {"retry_after", 0}}},
                                {"pulses", {{{"name", "after 429"}}}}};
  f["retry-after.example.com"] = {{"fail", {{"status", 429}, {"times", 1}, {"retry_after", 1}}},
                                  {"pulses", {{{"name", "after Retry-After"}}}}};
  f["always429.example.com"] = {{"fail", {{"status", 429}, {"times", 100}, {"retry_after", 0}}}};
  f["flaky.example.com"] = {{"fail", {{"status", 500}, {"times", 2}}}, {"pulses", {{{"name", "after 500"}}}}};
  f["slow.example.com"] = {{"delay", 3.0}};
  f["garbage.example.com"] = {{"body", "<html>Bad gateway</html>"}};
  f["big.example.com"] = {{"pulses", Json::array()}};
  for (int i = 0; i < 40; ++i) f["big.example.com"]["pulses"].push_back({{"name", std::string(100, 'x')}});
  for (int i = 0; i < 12; ++i) {
    f["par" + std::to_string(i) + ".example.com"] = {{"delay", 0.3}, {"group", "par"}, {"pulses", {{{"name", "p" + std::to_string(i)}}}}};
  }
  f["http://dl.example.com/get?a=1&b=two/three x"] = {{"kind", "url"}, {"pulses", {{{"name", "url pulse"}}}}};
  f["key.example.com"] = {{"pulses", {{{"name", "key pulse"}}}}};
  f["dup.example.com"] = {{"pulses", {{{"name", "dup pulse"}}}}};
  return f;
}

class OtxServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string tmpl = (fs::temp_directory_path() / "trawl-otx-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    {
      std::ofstream(dir_ / "fixture.json") << fixture().dump();
    }
    std::string script = TRAWL_TEST_DATA "/../tools/otx_fake_server.py";
    std::string data = (dir_ / "fixture.json").string();
    std::string port_file = (dir_ / "port").string();
    std::string log = (dir_ / "requests.log").string();
    std::string err = (dir_ / "server.err").string();
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      // The server dies with the test binary, even if teardown never runs.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (std::freopen(err.c_str(), "w", stderr) == nullptr || std::freopen("/dev/null", "w", stdout) == nullptr) {
        _exit(126);
      }
      execl("/usr/bin/python3", "python3", script.c_str(), "--data", data.c_str(), "--key", kKey, "--port-file",
            port_file.c_str(), "--log", log.c_str(), "--max-seconds", "120", static_cast<char*>(nullptr));
      _exit(127);
    }
    auto t0 = Clock::now();
    while (seconds_since(t0) < 10) {
      std::ifstream in(port_file);
      int port = 0;
      if (in >> port && port > 0) {
        base_url_ = "http://127.0.0.1:" + std::to_string(port);
        break;
      }
      int st = 0;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_FALSE(base_url_.empty()) << "fake OTX server did not start: " << read_file(dir_ / "server.err");
  }

  static void TearDownTestSuite() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int st = 0;
      bool gone = false;
      for (int i = 0; i < 100 && !gone; ++i) {
        gone = waitpid(pid_, &st, WNOHANG) == pid_;
        if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (!gone) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &st, 0);
      }
      pid_ = -1;
    }
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  void SetUp() override {
    if (base_url_.empty()) GTEST_SKIP() << "no fake server";
  }

  // Fast settings: small timeouts and backoff so the whole binary stays quick.
  static OtxOptions options(const std::string& cache_sub = "") {
    OtxOptions o;
    o.key = kKey;
    o.base_url = base_url_;
    o.timeout_s = 2;
    o.max_retries = 3;
    o.backoff_s = 0.05;
    if (!cache_sub.empty()) o.cache_dir = (dir_ / cache_sub).string();
    return o;
  }

  static std::vector<Json> log_entries() {
    std::vector<Json> out;
    std::ifstream in(dir_ / "requests.log");
    std::string line;
    while (std::getline(in, line)) {
      Json j = Json::parse(line, nullptr, false);
      if (!j.is_discarded()) out.push_back(j);
    }
    return out;
  }

  static int requests_for(const std::string& value) {
    int n = 0;
    for (const auto& e : log_entries()) {
      if (e.value("value", "") == value) ++n;
    }
    return n;
  }

  static std::vector<OtxVerdict> one(OtxClient& c, OtxKind k, const std::string& v) {
    return c.lookup({OtxQuery{k, v}});
  }

  static inline fs::path dir_;
  static inline pid_t pid_ = -1;
  static inline std::string base_url_;
};

TEST_F(OtxServerTest, FoundIndicatorHasPulsesTagsAndFamilies) {
  OtxClient c(options());
  auto v = one(c, OtxKind::kDomain, "c2.example.com");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].status, Status::kOk) << v[0].error;
  EXPECT_FALSE(v[0].from_cache);
  EXPECT_EQ(v[0].query.value, "c2.example.com");
  EXPECT_EQ(v[0].pulse_count, 3u);
  ASSERT_EQ(v[0].pulses.size(), 2u);
  const OtxPulse& p = v[0].pulses[0];
  EXPECT_EQ(p.id, "65a1b2c3d4e5f60718293a4b");
  EXPECT_EQ(p.name, "Emotet C2 infrastructure");
  EXPECT_EQ(p.tags, (std::vector<std::string>{"emotet", "c2", "botnet"}));
  EXPECT_EQ(p.created, "2024-01-10T08:00:00.000000");
  EXPECT_EQ(p.modified, "2024-02-01T09:30:00.000000");
  EXPECT_EQ(p.adversary, "TA542");
  EXPECT_EQ(p.malware_families, (std::vector<std::string>{"Emotet", "TrickBot"}));
  EXPECT_EQ(v[0].pulses[1].name, "Spam loaders");
  EXPECT_EQ(c.counters().requests, 1u);
  EXPECT_EQ(c.counters().retries, 0u);
  EXPECT_EQ(requests_for("c2.example.com"), 1);
}

TEST_F(OtxServerTest, UnknownIndicatorIsOkWithNoPulses) {
  // OTX answers 200 with an empty pulse_info for a valid indicator it has no pulses for.
  OtxClient c(options());
  auto v = one(c, OtxKind::kHostname, "www.unlisted.example.org");
  EXPECT_EQ(v[0].status, Status::kOk) << v[0].error;
  EXPECT_EQ(v[0].pulse_count, 0u);
  EXPECT_TRUE(v[0].pulses.empty());
  EXPECT_EQ(requests_for("www.unlisted.example.org"), 1);
}

TEST_F(OtxServerTest, NotFoundAndInvalidAreNotRetried) {
  OtxClient c(options());
  auto v = c.lookup({{OtxKind::kDomain, "gone.example.com"}, {OtxKind::kDomain, "bad.example.com"}});
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].status, Status::kNotFound);
  EXPECT_EQ(v[0].pulse_count, 0u);
  EXPECT_EQ(v[1].status, Status::kError);
  EXPECT_EQ(v[1].error, "OTX refused the indicator as invalid (HTTP 400)");
  EXPECT_EQ(c.counters().requests, 2u);
  EXPECT_EQ(c.counters().retries, 0u);
  EXPECT_EQ(c.counters().errors, 1u);
  EXPECT_EQ(requests_for("gone.example.com"), 1);
  EXPECT_EQ(requests_for("bad.example.com"), 1);
}

TEST_F(OtxServerTest, SecondLookupIsACacheHit) {
  {
    OtxClient c(options("cache-hit"));
    auto v = one(c, OtxKind::kDomain, "cached.example.com");
    ASSERT_EQ(v[0].status, Status::kOk) << v[0].error;
    EXPECT_FALSE(v[0].from_cache);
  }
  OtxClient c(options("cache-hit"));
  auto v = c.lookup({{OtxKind::kDomain, "cached.example.com"}, {OtxKind::kDomain, "cached.example.com"}});
  for (const auto& x : v) {
    EXPECT_EQ(x.status, Status::kOk);
    EXPECT_TRUE(x.from_cache);
    EXPECT_EQ(x.pulse_count, 1u);
    ASSERT_EQ(x.pulses.size(), 1u);
    EXPECT_EQ(x.pulses[0].name, "cached pulse");
    EXPECT_EQ(x.pulses[0].tags, std::vector<std::string>{"t1"});
  }
  EXPECT_EQ(c.counters().cache_hits, 2u);
  EXPECT_EQ(c.counters().requests, 0u);
  EXPECT_EQ(requests_for("cached.example.com"), 1);
  // One file per indicator, named by a hash (not the value), no leftovers.
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir_ / "cache-hit")) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].extension(), ".json");
  EXPECT_EQ(files[0].stem().string().size(), 64u);
}

TEST_F(OtxServerTest, NotFoundIsCachedToo) {
  OtxClient a(options("cache-404"));
  EXPECT_EQ(one(a, OtxKind::kDomain, "gone.example.com")[0].status, Status::kNotFound);
  int before = requests_for("gone.example.com");
  OtxClient b(options("cache-404"));
  auto v = one(b, OtxKind::kDomain, "gone.example.com");
  EXPECT_EQ(v[0].status, Status::kNotFound);
  EXPECT_TRUE(v[0].from_cache);
  EXPECT_EQ(requests_for("gone.example.com"), before);
}

TEST_F(OtxServerTest, ExpiredCacheIsRefetched) {
  OtxOptions o = options("cache-ttl");
  o.cache_ttl_s = 0;
  OtxClient a(o);
  EXPECT_EQ(one(a, OtxKind::kDomain, "ttl.example.com")[0].status, Status::kOk);
  OtxClient b(o);
  auto v = one(b, OtxKind::kDomain, "ttl.example.com");
  EXPECT_EQ(v[0].status, Status::kOk);
  EXPECT_FALSE(v[0].from_cache);
  EXPECT_EQ(b.counters().cache_hits, 0u);
  EXPECT_EQ(requests_for("ttl.example.com"), 2);
  // The same file is valid under a longer time to live.
  o.cache_ttl_s = 3600;
  OtxClient c(o);
  EXPECT_TRUE(one(c, OtxKind::kDomain, "ttl.example.com")[0].from_cache);
  EXPECT_EQ(requests_for("ttl.example.com"), 2);
}

TEST_F(OtxServerTest, CorruptCacheFileIsAMiss) {
  OtxClient a(options("cache-corrupt"));
  ASSERT_EQ(one(a, OtxKind::kDomain, "corrupt.example.com")[0].status, Status::kOk);
  fs::path file = fs::directory_iterator(dir_ / "cache-corrupt")->path();
  for (const char* junk : {"{\"format\":1,\"fetched_at\":", "not json at all", "[[[[[[[[", ""}) {
    std::ofstream(file, std::ios::trunc) << junk;
    OtxClient b(options("cache-corrupt"));
    auto v = one(b, OtxKind::kDomain, "corrupt.example.com");
    EXPECT_EQ(v[0].status, Status::kOk);
    EXPECT_FALSE(v[0].from_cache) << junk;
  }
  EXPECT_EQ(requests_for("corrupt.example.com"), 5);
  // The last fetch rewrote a good file.
  OtxClient c(options("cache-corrupt"));
  EXPECT_TRUE(one(c, OtxKind::kDomain, "corrupt.example.com")[0].from_cache);
}

TEST_F(OtxServerTest, RetriesAfter429ThenSucceeds) {
  OtxClient c(options());
  auto t0 = Clock::now();
  auto v = one(c, OtxKind::kDomain, "throttled.example.com");
  EXPECT_EQ(v[0].status, Status::kOk) << v[0].error;
  ASSERT_EQ(v[0].pulses.size(), 1u);
  EXPECT_EQ(v[0].pulses[0].name, "after 429");
  EXPECT_EQ(c.counters().retries, 2u);
  EXPECT_EQ(c.counters().requests, 3u);
  EXPECT_EQ(requests_for("throttled.example.com"), 3);
  EXPECT_LT(seconds_since(t0), 2.0);
}

TEST_F(OtxServerTest, RetryAfterWinsOverShortBackoff) {
  OtxOptions o = options();
  o.backoff_s = 0.01;
  OtxClient c(o);
  auto t0 = Clock::now();
  auto v = one(c, OtxKind::kDomain, "retry-after.example.com");
  double took = seconds_since(t0);
  EXPECT_EQ(v[0].status, Status::kOk) << v[0].error;
  EXPECT_EQ(c.counters().retries, 1u);
  EXPECT_GE(took, 0.95);  // the server said Retry-After: 1
  EXPECT_LT(took, 3.0);
}

TEST_F(OtxServerTest, PersistentRateLimitGivesUpAfterMaxRetries) {
  OtxOptions o = options();
  o.max_retries = 2;
  OtxClient c(o);
  auto v = one(c, OtxKind::kDomain, "always429.example.com");
  EXPECT_EQ(v[0].status, Status::kError);
  EXPECT_EQ(v[0].error, "OTX rate limit (HTTP 429) after 3 attempts");
  EXPECT_EQ(c.counters().requests, 3u);
  EXPECT_EQ(c.counters().retries, 2u);
  EXPECT_EQ(c.counters().errors, 1u);
  EXPECT_EQ(requests_for("always429.example.com"), 3);
}

TEST_F(OtxServerTest, ServerErrorThenSuccessWithExponentialBackoff) {
  OtxOptions o = options();
  o.backoff_s = 0.2;  // waits 0.2 s then 0.4 s
  OtxClient c(o);
  auto t0 = Clock::now();
  auto v = one(c, OtxKind::kDomain, "flaky.example.com");
  double took = seconds_since(t0);
  EXPECT_EQ(v[0].status, Status::kOk) << v[0].error;
  EXPECT_EQ(v[0].pulses.at(0).name, "after 500");
  EXPECT_EQ(c.counters().retries, 2u);
  EXPECT_EQ(requests_for("flaky.example.com"), 3);
  EXPECT_GE(took, 0.58);
  EXPECT_LT(took, 2.5);
}

TEST_F(OtxServerTest, TimeoutIsAnErrorAfterRetriesInBoundedTime) {
  OtxOptions o = options();
  o.timeout_s = 0.3;
  o.max_retries = 1;
  OtxClient c(o);
  auto t0 = Clock::now();
  auto v = one(c, OtxKind::kDomain, "slow.example.com");
  double took = seconds_since(t0);
  EXPECT_EQ(v[0].status, Status::kError);
  EXPECT_NE(v[0].error.find("OTX request failed: "), std::string::npos) << v[0].error;
  EXPECT_NE(v[0].error.find("after 2 attempts"), std::string::npos) << v[0].error;
  EXPECT_NE(v[0].error.find("imed out"), std::string::npos) << v[0].error;
  EXPECT_EQ(c.counters().requests, 2u);
  EXPECT_EQ(c.counters().retries, 1u);
  EXPECT_GE(took, 0.6);
  EXPECT_LT(took, 2.0);  // two 0.3 s timeouts and a 0.05 s backoff, not the 3 s delay
}

TEST_F(OtxServerTest, GarbageAnswerIsAnErrorWithoutRetry) {
  OtxClient c(options("cache-garbage"));
  auto v = one(c, OtxKind::kDomain, "garbage.example.com");
  EXPECT_EQ(v[0].status, Status::kError);
  EXPECT_EQ(v[0].error, "OTX answer is not JSON");
  EXPECT_EQ(requests_for("garbage.example.com"), 1);
  // Errors are not cached.
  EXPECT_FALSE(fs::exists(dir_ / "cache-garbage") && !fs::is_empty(dir_ / "cache-garbage"));
}

TEST_F(OtxServerTest, OversizeAnswerIsCutOff) {
  OtxOptions o = options();
  o.max_response_bytes = 2000;
  OtxClient c(o);
  auto v = one(c, OtxKind::kDomain, "big.example.com");
  EXPECT_EQ(v[0].status, Status::kError);
  EXPECT_EQ(v[0].error, "OTX answer larger than 2000 bytes");
  EXPECT_EQ(c.counters().retries, 0u);
  // Under the default cap the same answer is fine; only 20 pulses are kept.
  OtxClient d(options());
  auto w = one(d, OtxKind::kDomain, "big.example.com");
  EXPECT_EQ(w[0].status, Status::kOk);
  EXPECT_EQ(w[0].pulse_count, 40u);
  EXPECT_EQ(w[0].pulses.size(), 20u);
}

TEST_F(OtxServerTest, OfflineAnswersFromCacheOnly) {
  {
    OtxClient warm(options("cache-offline"));
    ASSERT_EQ(one(warm, OtxKind::kDomain, "offline.example.com")[0].status, Status::kOk);
  }
  size_t before = log_entries().size();
  OtxOptions o = options("cache-offline");
  o.offline = true;
  o.base_url = "http://127.0.0.1:1";  // would fail loudly if used
  OtxClient c(o);
  auto v = c.lookup({{OtxKind::kDomain, "offline.example.com"}, {OtxKind::kDomain, "unseen.example.com"}});
  EXPECT_EQ(v[0].status, Status::kOk);
  EXPECT_TRUE(v[0].from_cache);
  EXPECT_EQ(v[0].pulses.at(0).name, "offline pulse");
  EXPECT_EQ(v[1].status, Status::kOffline);
  EXPECT_EQ(c.counters().requests, 0u);
  EXPECT_EQ(c.counters().cache_hits, 1u);
  EXPECT_EQ(log_entries().size(), before);
  // Offline works without a key and without a cache.
  o.key.clear();
  o.cache_dir.clear();
  OtxClient d(o);
  EXPECT_EQ(one(d, OtxKind::kDomain, "offline.example.com")[0].status, Status::kOffline);
}

TEST_F(OtxServerTest, WrongKeyIsReportedOnceWithoutTheKey) {
  OtxOptions o = options("cache-wrongkey");
  o.key = "WRONG-key-value-987654321";
  o.concurrency = 1;
  OtxClient c(o);
  auto v = c.lookup({{OtxKind::kDomain, "key.example.com"},
                     {OtxKind::kDomain, "c2.example.com"},
                     {OtxKind::kHostname, "www.key.example.com"}});
  ASSERT_EQ(v.size(), 3u);
  for (const auto& x : v) {
    EXPECT_EQ(x.status, Status::kError);
    EXPECT_EQ(x.error, "OTX rejected the API key (HTTP 403)");
    EXPECT_EQ(x.error.find("WRONG"), std::string::npos);
  }
  // The first 403 stops the rest; a 403 is never retried.
  EXPECT_EQ(c.counters().requests, 1u);
  EXPECT_EQ(c.counters().retries, 0u);
  EXPECT_EQ(c.counters().errors, 3u);
  EXPECT_FALSE(fs::exists(dir_ / "cache-wrongkey") && !fs::is_empty(dir_ / "cache-wrongkey"));
  for (const auto& e : log_entries()) EXPECT_EQ(e.dump().find("WRONG"), std::string::npos);
  for (const auto& e : log_entries()) EXPECT_EQ(e.dump().find(kKey), std::string::npos);
}

TEST_F(OtxServerTest, PrivateAndDocumentationIndicatorsAreNeverSent) {
  size_t before = log_entries().size();
  OtxClient c(options());
  auto v = c.lookup({{OtxKind::kIPv4, "10.1.2.3"},
                     {OtxKind::kIPv4, "192.0.2.7"},
                     {OtxKind::kIPv4, "203.0.113.9"},
                     {OtxKind::kIPv6, "2001:db8::5"},
                     {OtxKind::kIPv6, "fe80::1"},
                     {OtxKind::kHostname, "printer.local"},
                     {OtxKind::kDomain, "corp.internal"},
                     {OtxKind::kUrl, "http://192.168.1.1/admin"},
                     {OtxKind::kUrl, "https://user:pw@dl.example.com/x"}});
  for (const auto& x : v) {
    EXPECT_EQ(x.status, Status::kSkipped) << x.query.value;
    EXPECT_EQ(x.error, "not sent to OTX (private, reserved or documentation indicator)");
  }
  EXPECT_EQ(c.counters().skipped, 9u);
  EXPECT_EQ(c.counters().requests, 0u);
  EXPECT_EQ(log_entries().size(), before);
}

TEST_F(OtxServerTest, NoKeyMeansSkipped) {
  size_t before = log_entries().size();
  OtxOptions o = options();
  o.key.clear();
  OtxClient c(o);
  auto v = one(c, OtxKind::kDomain, "c2.example.com");
  EXPECT_EQ(v[0].status, Status::kSkipped);
  EXPECT_EQ(v[0].error, "no OTX API key");
  EXPECT_EQ(log_entries().size(), before);
}

TEST_F(OtxServerTest, ConcurrencyIsBounded) {
  OtxOptions o = options();
  o.concurrency = 4;
  OtxClient c(o);
  std::vector<OtxQuery> qs;
  for (int i = 0; i < 12; ++i) qs.push_back({OtxKind::kDomain, "par" + std::to_string(i) + ".example.com"});
  auto t0 = Clock::now();
  auto v = c.lookup(qs);
  double took = seconds_since(t0);
  ASSERT_EQ(v.size(), 12u);
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(v[i].status, Status::kOk) << v[i].error;
    EXPECT_EQ(v[i].query.value, qs[i].value);  // same order as asked
    EXPECT_EQ(v[i].pulses.at(0).name, "p" + std::to_string(i));
  }
  int seen = 0, max_parallel = 0;
  for (const auto& e : log_entries()) {
    if (e.value("value", "").rfind("par", 0) == 0) {
      ++seen;
      max_parallel = std::max(max_parallel, e.value("concurrent", 0));
    }
  }
  EXPECT_EQ(seen, 12);
  EXPECT_EQ(c.counters().requests, 12u);
  EXPECT_EQ(max_parallel, 4);
  // Three waves of 0.3 s, not twelve.
  EXPECT_GE(took, 0.85);
  EXPECT_LT(took, 2.5);
}

TEST_F(OtxServerTest, DuplicateQueriesAreFetchedOnce) {
  OtxClient c(options());
  auto v = c.lookup({{OtxKind::kDomain, "dup.example.com"}, {OtxKind::kDomain, "dup.example.com"}});
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].status, Status::kOk);
  EXPECT_EQ(v[1].status, Status::kOk);
  EXPECT_EQ(v[1].pulses.at(0).name, "dup pulse");
  EXPECT_EQ(requests_for("dup.example.com"), 1);
}

TEST_F(OtxServerTest, UrlValueIsPercentEncoded) {
  const std::string url = "http://dl.example.com/get?a=1&b=two/three x";
  OtxClient c(options());
  auto v = one(c, OtxKind::kUrl, url);
  EXPECT_EQ(v[0].status, Status::kOk) << v[0].error;
  EXPECT_EQ(v[0].pulses.at(0).name, "url pulse");
  bool found = false;
  for (const auto& e : log_entries()) {
    if (e.value("value", "") != url) continue;
    found = true;
    EXPECT_EQ(e.value("kind", ""), "url");
    EXPECT_EQ(e.value("path", ""),
              "/api/v1/indicators/url/http%3A%2F%2Fdl.example.com%2Fget%3Fa%3D1%26b%3Dtwo%2Fthree%20x/general");
  }
  EXPECT_TRUE(found);
}

TEST_F(OtxServerTest, CacheFilesNeverContainTheKey) {
  OtxClient c(options("cache-key"));
  auto v = c.lookup({{OtxKind::kDomain, "key.example.com"}, {OtxKind::kDomain, "gone.example.com"}});
  EXPECT_EQ(v[0].status, Status::kOk);
  EXPECT_EQ(v[1].status, Status::kNotFound);
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "cache-key")) {
    ++files;
    std::string text = read_file(e.path());
    EXPECT_EQ(text.find(kKey), std::string::npos);
    EXPECT_EQ(text.find("SECRET"), std::string::npos);
    EXPECT_EQ(fs::status(e.path()).permissions() & fs::perms::others_read, fs::perms::none);
  }
  EXPECT_EQ(files, 2);
}

TEST_F(OtxServerTest, UnreachableServerIsAnErrorNotAHang) {
  OtxOptions o = options();
  o.base_url = "http://127.0.0.1:1";
  o.max_retries = 1;
  o.backoff_s = 0.01;
  OtxClient c(o);
  auto t0 = Clock::now();
  auto v = one(c, OtxKind::kDomain, "c2.example.com");
  EXPECT_EQ(v[0].status, Status::kError);
  EXPECT_EQ(v[0].error.rfind("OTX request failed: ", 0), 0u) << v[0].error;
  EXPECT_EQ(c.counters().requests, 2u);
  EXPECT_LT(seconds_since(t0), 2.0);
}

// ---- pure functions ----

// A /general answer shaped like OTX's, with the fields we ignore.
constexpr const char* kRealShaped = R"({
  "whois": "http://whois.domaintools.com/198.51.100.23", "reputation": 0,
  "indicator": "198.51.100.23", "type": "IPv4", "type_title": "IPv4",
  "base_indicator": {"id": 2803375591, "indicator": "198.51.100.23", "type": "IPv4", "access_type": "public"},
  "pulse_info": {
    "count": 57,
    "pulses": [
      {"id": "5e6a3e1f0b4a1b2c3d4e5f60", "name": "Feodo Tracker C2s", "description": "",
       "modified": "2024-03-01T10:00:00.123000", "created": "2023-12-24T06:00:00.000000",
       "tags": ["feodo", "heodo", "c2"], "references": ["https://feodotracker.abuse.ch/"], "public": 1,
       "adversary": "", "targeted_countries": [], "malware_families": [
         {"id": "Heodo", "display_name": "Heodo", "target": null}, "Emotet", 7, {"target": null}],
       "attack_ids": [{"id": "T1071", "name": "Application Layer Protocol", "display_name": "T1071 - Application Layer Protocol"}],
       "industries": [], "TLP": "white", "author": {"username": "abuse_ch", "id": "12"},
       "indicator_count": 812, "related_indicator_type": "IPv4"},
      {"name": "no id, tags not a list", "tags": "c2"},
      "not a pulse",
      {}
    ],
    "references": [], "related": {"alienvault": {"adversary": [], "malware_families": [], "industries": []}}
  },
  "false_positive": [], "validation": [], "asn": "AS64496 example", "country_code": "ZZ",
  "sections": ["general", "geo", "reputation"]
})";

TEST(ParseOtxGeneral, RealShapedAnswer) {
  OtxVerdict v;
  ASSERT_TRUE(parse_otx_general(kRealShaped, v)) << v.error;
  EXPECT_EQ(v.pulse_count, 57u);
  ASSERT_EQ(v.pulses.size(), 3u);  // the string entry is not a pulse
  EXPECT_EQ(v.pulses[0].id, "5e6a3e1f0b4a1b2c3d4e5f60");
  EXPECT_EQ(v.pulses[0].name, "Feodo Tracker C2s");
  EXPECT_EQ(v.pulses[0].tags, (std::vector<std::string>{"feodo", "heodo", "c2"}));
  EXPECT_EQ(v.pulses[0].created, "2023-12-24T06:00:00.000000");
  EXPECT_EQ(v.pulses[0].modified, "2024-03-01T10:00:00.123000");
  EXPECT_EQ(v.pulses[0].malware_families, (std::vector<std::string>{"Heodo", "Emotet"}));
  EXPECT_EQ(v.pulses[1].name, "no id, tags not a list");
  EXPECT_TRUE(v.pulses[1].tags.empty());
  EXPECT_TRUE(v.pulses[1].id.empty());
  EXPECT_TRUE(v.pulses[2].name.empty());
}

TEST(ParseOtxGeneral, CountAndPulsesMayBeMissing) {
  OtxVerdict v;
  ASSERT_TRUE(parse_otx_general(R"({"pulse_info": {}})", v));
  EXPECT_EQ(v.pulse_count, 0u);
  ASSERT_TRUE(parse_otx_general(R"({"pulse_info": {"count": 0, "pulses": []}, "sections": []})", v));
  EXPECT_EQ(v.pulse_count, 0u);
  // Without count, the pulses listed are the count; a bogus count is ignored.
  ASSERT_TRUE(parse_otx_general(R"({"pulse_info": {"pulses": [{"name": "a"}, {"name": "b"}]}})", v));
  EXPECT_EQ(v.pulse_count, 2u);
  ASSERT_TRUE(parse_otx_general(R"({"pulse_info": {"count": -4, "pulses": [{"name": "a"}]}})", v));
  EXPECT_EQ(v.pulse_count, 1u);
  ASSERT_TRUE(parse_otx_general(R"({"pulse_info": {"count": "9", "pulses": []}})", v));
  EXPECT_EQ(v.pulse_count, 0u);
  EXPECT_TRUE(v.pulses.empty());
}

TEST(ParseOtxGeneral, KeepsTwentyPulsesButCountsAll) {
  Json j;
  j["pulse_info"]["pulses"] = Json::array();
  for (int i = 0; i < 50; ++i) j["pulse_info"]["pulses"].push_back({{"name", "p" + std::to_string(i)}});
  OtxVerdict v;
  ASSERT_TRUE(parse_otx_general(j.dump(), v));
  EXPECT_EQ(v.pulse_count, 50u);
  ASSERT_EQ(v.pulses.size(), 20u);
  EXPECT_EQ(v.pulses[19].name, "p19");
}

TEST(ParseOtxGeneral, LongStringsAndListsAreClipped) {
  Json p{{"name", std::string(5000, 'n')}, {"tags", Json::array()}};
  for (int i = 0; i < 100; ++i) p["tags"].push_back("t");
  Json j;
  j["pulse_info"]["pulses"] = Json::array({p});
  OtxVerdict v;
  ASSERT_TRUE(parse_otx_general(j.dump(), v));
  EXPECT_EQ(v.pulses.at(0).name.size(), 512u);
  EXPECT_EQ(v.pulses.at(0).tags.size(), 32u);
}

TEST(ParseOtxGeneral, RejectsWhatIsNotAGeneralAnswer) {
  struct Case {
    const char* body;
    const char* error;
  };
  for (const Case& c : {Case{"", "OTX answer is not JSON"},
                        Case{"<html>502</html>", "OTX answer is not JSON"},
                        Case{R"({"pulse_info": {"count": 1)", "OTX answer is not JSON"},
                        Case{"[1,2]", "OTX answer is not a JSON object"},
                        Case{"\"text\"", "OTX answer is not a JSON object"},
                        Case{R"({"detail": "Not found."})", "OTX answer has no pulse_info object"},
                        Case{R"({"pulse_info": []})", "OTX answer has no pulse_info object"}}) {
    OtxVerdict v;
    v.pulse_count = 7;
    EXPECT_FALSE(parse_otx_general(c.body, v)) << c.body;
    EXPECT_EQ(v.error, c.error) << c.body;
    EXPECT_EQ(v.pulse_count, 0u);
  }
  OtxVerdict v;
  std::string deep = R"({"pulse_info": {"pulses": [)" + std::string(100000, '[') + std::string(100000, ']') + "]}}";
  EXPECT_FALSE(parse_otx_general(deep, v));
  EXPECT_EQ(v.error, "OTX answer nested too deeply");
  // Brackets inside strings do not count as nesting.
  std::string in_string = R"({"pulse_info": {"pulses": [{"name": ")" + std::string(1000, '[') + R"("}]}})";
  EXPECT_TRUE(parse_otx_general(in_string, v));
  EXPECT_EQ(v.pulses.at(0).name.size(), 512u);
}

TEST(OtxMaySend, Addresses) {
  auto ip4 = [](const char* s) { return otx_may_send({OtxKind::kIPv4, s}); };
  auto ip6 = [](const char* s) { return otx_may_send({OtxKind::kIPv6, s}); };
  // Global unicast addresses outside every special range may go.
  EXPECT_TRUE(ip4("8.8.8.8"));
  EXPECT_TRUE(ip4("61.160.213.189"));
  EXPECT_TRUE(ip6("2a00:1450:4001:80b::200e"));
  for (const char* s : {"10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1", "127.0.0.1", "169.254.1.1",
                        "100.64.0.1", "0.0.0.0", "224.0.0.251", "239.255.255.250", "255.255.255.255",
                        "240.0.0.1", "192.0.2.1", "198.51.100.1", "203.0.113.1", "198.18.0.1", "192.0.0.8"}) {
    EXPECT_FALSE(ip4(s)) << s;
  }
  for (const char* s : {"::", "::1", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "2001:db8::1",
                        "3fff::1", "::ffff:10.0.0.1", "::ffff:192.0.2.1", "100::1"}) {
    EXPECT_FALSE(ip6(s)) << s;
  }
  EXPECT_TRUE(ip6("::ffff:8.8.8.8"));
  // The kind must match the address; garbage is never sent.
  EXPECT_FALSE(ip4("2a00:1450::1"));
  EXPECT_FALSE(ip6("8.8.8.8"));
  EXPECT_FALSE(ip4("8.8.8"));
  EXPECT_FALSE(ip4(""));
}

TEST(OtxMaySend, NamesAndUrls) {
  auto dom = [](const std::string& s) { return otx_may_send({OtxKind::kDomain, s}); };
  auto host = [](const std::string& s) { return otx_may_send({OtxKind::kHostname, s}); };
  auto url = [](const std::string& s) { return otx_may_send({OtxKind::kUrl, s}); };
  EXPECT_TRUE(dom("example.com"));
  EXPECT_TRUE(dom("Evil-C2.Example.NET."));
  EXPECT_TRUE(host("a.b_c.example.org"));
  for (const char* s : {"printer.local", "LOCAL", "db.corp.internal", "nas.lan", "tv.home.arpa", "www.example",
                        "x.test", "y.invalid", "localhost", "app.localhost", "1.0.168.192.in-addr.arpa", "wpad",
                        "", "bad name.com", "a..b.com", ".a.com", "10.0.0.1", "192.0.2.4"}) {
    EXPECT_FALSE(dom(s)) << s;
    EXPECT_FALSE(host(s)) << s;
  }
  EXPECT_FALSE(dom(std::string(250, 'a') + ".com"));
  EXPECT_TRUE(dom("localexample.com"));  // a suffix must be a whole label
  EXPECT_TRUE(dom("mytest.com"));
  EXPECT_TRUE(url("http://dl.example.com/a?b=1&c=2"));
  EXPECT_TRUE(url("https://8.8.8.8:8443/x"));
  EXPECT_TRUE(url("dl.example.com/path"));
  EXPECT_TRUE(url("http://[2a00:1450::1]/"));
  for (const char* s : {"http://10.0.0.5/a", "http://[fe80::1]/", "http://[2001:db8::1]:80/", "http://printer.local/",
                        "https://user:pw@dl.example.com/", "http:///nohost", "", "http://dl.example.com/\r\nX: y",
                        "http://localhost:8080/"}) {
    EXPECT_FALSE(url(s)) << s;
  }
  EXPECT_FALSE(url("http://dl.example.com/" + std::string(3000, 'a')));
}

TEST(OtxNames, KindsAndStatuses) {
  EXPECT_EQ(otx_kind_path(OtxKind::kIPv4), "IPv4");
  EXPECT_EQ(otx_kind_path(OtxKind::kIPv6), "IPv6");
  EXPECT_EQ(otx_kind_path(OtxKind::kDomain), "domain");
  EXPECT_EQ(otx_kind_path(OtxKind::kHostname), "hostname");
  EXPECT_EQ(otx_kind_path(OtxKind::kUrl), "url");
  EXPECT_EQ(otx_status_name(Status::kOk), "ok");
  EXPECT_EQ(otx_status_name(Status::kNotFound), "not_found");
  EXPECT_EQ(otx_status_name(Status::kSkipped), "skipped");
  EXPECT_EQ(otx_status_name(Status::kOffline), "offline");
  EXPECT_EQ(otx_status_name(Status::kError), "error");
}

}  // namespace
}  // namespace trawl::intel
