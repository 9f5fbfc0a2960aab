// SMB vulnerability scans (smb.ms08_067, smb.cve_2009_3103, smb.ms06_025,
// smb.ms07_029, smb.ms17_010) from smb.jsonl records: the probes nmap's
// smb-check-vulns / smb-vuln-* scripts and the Metasploit MS17-010 scanner
// send. One finding per scanner and check, with the hosts probed and whether
// their answers looked vulnerable. docs/findings/mail_smb_http.md.
#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "analyzers/smb/smb_record.h"
#include "detect/detector.h"
#include "detect/text.h"
#include "detect/evidence.h"
#include "output/json_line.h"

namespace trawl::detect {
namespace {

using analyzers::smb::SmbAction;
using analyzers::smb::SmbRecord;

constexpr std::string_view kSrvsvcUuid = "4b324fc8-1670-01d3-1278-5a47bf6ee188";
constexpr std::string_view kRasrpcUuid = "20610036-fa22-11cf-9823-00a0c911e5df";
constexpr std::string_view kDnsserverUuid = "50abc2a4-574d-40b3-9d66-ee4fd5fba076";
constexpr uint32_t kSubPeekNamedPipe = 0x23;
constexpr uint32_t kSubTrans2SessionSetup = 0x000e;
constexpr uint32_t kStatusInsuffServerResources = 0xc0000205;
constexpr uint32_t kStatusAccessDenied = 0xc0000022;
constexpr uint32_t kStatusInvalidHandle = 0xc0000008;
constexpr uint16_t kCve20093103PidHigh = 0x0026;

// Bounds on what one capture can make us keep.
constexpr size_t kMaxStates = 8192;    // scanner x check pairs
constexpr size_t kMaxVictims = 4096;   // per pair (count continues past it)
constexpr size_t kSampleVictims = 20;  // victims listed in a finding

enum class Check : uint8_t { kMs08067, kCve20093103, kMs06025, kMs07029, kMs17010 };
constexpr size_t kChecks = 5;

struct CheckInfo {
  std::string_view id;
  std::string_view what;      // for the summary
  std::string_view nmap_name; // the nmap script that runs it
};

constexpr std::array<CheckInfo, kChecks> kInfo{{
    {"smb.ms08_067", "MS08-067 (NetprPathCompare/Canonicalize path traversal on srvsvc)", "smb-vuln-ms08-067"},
    {"smb.cve_2009_3103", "CVE-2009-3103 (SMB2 negotiate with Process ID High 0x0026)", "smb-vuln-cve2009-3103"},
    {"smb.ms06_025", "MS06-025 (RASRPC bind on \\router or \\srvsvc)", "smb-vuln-ms06-025"},
    {"smb.ms07_029", "MS07-029 (DNSSERVER RPC bind on \\DNSSERVER)", "smb-vuln-ms07-029"},
    {"smb.ms17_010", "MS17-010 (EternalBlue probe)", "smb-vuln-ms17-010"},
}};

struct State {
  Span span;
  DistinctSet<core::IpAddress> victims{kMaxVictims};
  DistinctSet<core::IpAddress> vulnerable{kMaxVictims};      // answered as vulnerable
  DistinctSet<core::IpAddress> not_vulnerable{kMaxVictims};  // answered as patched
  DistinctSet<core::IpAddress> implant{kMaxVictims};         // DoublePulsar answered
  DistinctSet<uint16_t> ports{64};
  Evidence evidence{20};
  std::string last_uid;  // a connection's records in a row count once as evidence
  uint64_t probes = 0;
  uint64_t answered = 0;
  uint64_t unanswered = 0;
  uint64_t faults = 0;
  uint64_t binds = 0;
  uint64_t requests = 0;
  uint64_t peek_probes = 0;
  uint64_t doublepulsar_probes = 0;
  uint64_t doublepulsar_replies = 0;
};

// "1 probe", "2 probes".
std::string count_of(uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}


class SmbVulnDetector final : public Detector {
 public:
  explicit SmbVulnDetector(Config& c)
      : min_victims_(c.get("smb_vuln.min_victims", 1,
                           "hosts a scanner must probe with one check before smb.* vulnerability-scan findings")),
        nmap_min_checks_(c.get("smb_vuln.nmap_min_checks", 3,
                               "of the 4 nmap smb-check-vulns checks (ms08-067, cve-2009-3103, ms06-025, ms07-029) a "
                               "scanner must run to be named as nmap smb-check-vulns")) {}

  void on_record(const analyzers::Record& r) override {
    if (r.log() != "smb") return;
    const auto& s = static_cast<const SmbRecord&>(r);
    switch (s.action) {
      case SmbAction::kNegotiate:
        if (s.has_pid_high && s.pid_high == kCve20093103PidHigh && !s.unmatched_response &&
            std::find(s.dialects.begin(), s.dialects.end(), "SMB 2.002") != s.dialects.end()) {
          State* st = probe(s, Check::kCve20093103);
          if (st) answer(*st, s.answered);
        }
        break;
      case SmbAction::kDceRpcBind: {
        const std::string pipe = analyzers::smb::normalized_pipe_name(s.named_pipe);
        if (s.uuid == kRasrpcUuid && (pipe == "router" || pipe == "srvsvc")) {
          bind(s, Check::kMs06025);
        } else if (s.uuid == kDnsserverUuid && pipe == "dnsserver") {
          bind(s, Check::kMs07029);
        }
        break;
      }
      case SmbAction::kDceRpcRequest: {
        const std::string pipe = analyzers::smb::normalized_pipe_name(s.named_pipe);
        if (s.uuid == kSrvsvcUuid && s.has_opnum && (s.opnum == 31 || s.opnum == 32) && s.path_traversal &&
            (pipe == "browser" || pipe == "srvsvc")) {
          request(s, Check::kMs08067);
        } else if (s.uuid == kRasrpcUuid && (pipe == "router" || pipe == "srvsvc")) {
          request(s, Check::kMs06025);
        } else if (s.uuid == kDnsserverUuid && pipe == "dnsserver") {
          request(s, Check::kMs07029);
        }
        break;
      }
      case SmbAction::kTransaction:
        if (s.has_sub_command && s.sub_command == kSubPeekNamedPipe && s.has_fid && s.fid == 0 &&
            !s.unmatched_response) {
          State* st = probe(s, Check::kMs17010);
          if (!st) break;
          ++st->peek_probes;
          answer(*st, s.answered);
          if (s.answered && !s.dos_error) {
            if (s.status == kStatusInsuffServerResources) {
              st->vulnerable.add(s.resp_h);
            } else if (s.status == kStatusAccessDenied || s.status == kStatusInvalidHandle) {
              st->not_vulnerable.add(s.resp_h);
            }
          }
        }
        break;
      case SmbAction::kTransaction2:
        if (s.unmatched_response) {
          // DoublePulsar answers its Trans2 SESSION_SETUP ping with MID + 16,
          // so the reply matches no request.
          auto it = states_.find({s.orig_h, static_cast<uint8_t>(Check::kMs17010)});
          if (it != states_.end() && it->second.doublepulsar_probes > 0 && it->second.victims.contains(s.resp_h)) {
            ++it->second.doublepulsar_replies;
            it->second.implant.add(s.resp_h);
            add_evidence(it->second, s.uid);
          }
        } else if (s.has_sub_command && s.sub_command == kSubTrans2SessionSetup) {
          State* st = probe(s, Check::kMs17010);
          if (!st) break;
          ++st->doublepulsar_probes;
          answer(*st, s.answered);
        }
        break;
      default:
        break;
    }
  }

  void finish(std::vector<Finding>& out) override {
    // Which checks each scanner ran, to name nmap smb-check-vulns.
    std::map<core::IpAddress, std::vector<Check>> by_scanner;
    for (const auto& [key, st] : states_) {
      if (static_cast<double>(st.victims.count()) >= min_victims_) {
        by_scanner[key.first].push_back(static_cast<Check>(key.second));
      }
    }
    for (const auto& [key, st] : states_) {
      if (static_cast<double>(st.victims.count()) < min_victims_) continue;
      const auto check = static_cast<Check>(key.second);
      const auto& checks = by_scanner[key.first];
      size_t nmap_checks = 0;
      for (Check c : checks) nmap_checks += c != Check::kMs17010 ? 1 : 0;
      const bool nmap = static_cast<double>(nmap_checks) >= nmap_min_checks_ && check != Check::kMs17010;
      out.push_back(make_finding(key.first, check, st, checks, nmap));
    }
  }

 private:
  using Key = std::pair<core::IpAddress, uint8_t>;

  State* probe(const SmbRecord& s, Check c) {
    const Key key{s.orig_h, static_cast<uint8_t>(c)};
    auto it = states_.find(key);
    if (it == states_.end()) {
      if (states_.size() >= kMaxStates) return nullptr;
      it = states_.emplace(key, State{}).first;
    }
    State& st = it->second;
    st.span.add(s.ts);
    st.victims.add(s.resp_h);
    st.ports.add(s.resp_p);
    add_evidence(st, s.uid);
    ++st.probes;
    return &st;
  }

  static void add_evidence(State& st, const std::string& uid) {
    if (uid == st.last_uid) return;
    st.last_uid = uid;
    st.evidence.add(uid);
  }

  static void answer(State& st, bool answered) {
    if (answered) {
      ++st.answered;
    } else {
      ++st.unanswered;
    }
  }

  void bind(const SmbRecord& s, Check c) {
    State* st = probe(s, c);
    if (!st) return;
    ++st->binds;
    answer(*st, s.answered);
  }

  void request(const SmbRecord& s, Check c) {
    State* st = probe(s, c);
    if (!st) return;
    ++st->requests;
    answer(*st, s.answered);
    if (s.fault) ++st->faults;
  }

  static Finding make_finding(const core::IpAddress& src, Check check, const State& st,
                              const std::vector<Check>& checks, bool nmap) {
    const CheckInfo& info = kInfo[static_cast<size_t>(check)];
    Finding f;
    f.id = std::string(info.id);
    f.ts = st.span.first;
    f.last_ts = st.span.last;
    f.src = src.to_string();
    for (const auto& v : st.victims.sample(kSampleVictims)) f.dst.push_back(v.to_string());
    f.dst_count = st.victims.count();
    f.ports = st.ports.sample(16);
    f.service = "smb";
    f.attack = "T1210";
    f.evidence = st.evidence.uids();
    f.evidence_total = st.evidence.total();
    const uint64_t vulnerable = st.vulnerable.count();
    const uint64_t implants = st.implant.count();
    f.severity = vulnerable + implants > 0 ? Severity::kCritical : Severity::kHigh;
    f.confidence = vulnerable + implants > 0 ? 0.95 : 0.9;
    f.counts = {{"probes", st.probes}, {"answered", st.answered}, {"unanswered", st.unanswered}};
    if (check == Check::kMs17010) {
      f.counts.emplace_back("vulnerable", vulnerable);
      if (st.doublepulsar_probes) f.counts.emplace_back("doublepulsar_probes", st.doublepulsar_probes);
      if (implants) f.counts.emplace_back("doublepulsar_implants", implants);
    }
    if (st.faults) f.counts.emplace_back("faults", st.faults);

    const uint64_t n = st.victims.count();
    f.summary = f.src + " probed " + std::to_string(n) + (n == 1 ? " host (" + f.dst.front() + ")" : " hosts") +
                " for " + std::string(info.what) + " over SMB";
    if (check == Check::kMs17010) {
      if (vulnerable) {
        f.summary += "; " + std::to_string(vulnerable) +
                     " answered as unpatched (STATUS_INSUFF_SERVER_RESOURCES to PeekNamedPipe on FID 0)";
      } else if (st.not_vulnerable.count()) {
        f.summary += "; " + std::to_string(st.not_vulnerable.count()) + " answered as patched";
      }
      if (implants) f.summary += "; " + std::to_string(implants) + " answered the DoublePulsar ping (implant present)";
    } else if (check == Check::kCve20093103 || check == Check::kMs07029) {
      if (st.unanswered) f.summary += "; " + count_of(st.unanswered, "probe", "probes") + " got no answer (a crash?)";
    } else if (st.faults) {
      f.summary += "; " + count_of(st.faults, "call was", "calls were") + " refused with a fault";
    }
    if (nmap) f.summary += "; the set of checks matches nmap smb-check-vulns";

    f.details.clear();
    output::JsonLine j(f.details);
    j.str("check", info.id.substr(4));
    j.str("nmap_script", info.nmap_name);
    if (check == Check::kMs17010) {
      j.raw("vulnerable", text::json_strings(text::address_strings(st.vulnerable.sample(kSampleVictims))));
      j.raw("patched", text::json_strings(text::address_strings(st.not_vulnerable.sample(kSampleVictims))));
      j.raw("doublepulsar", text::json_strings(text::address_strings(st.implant.sample(kSampleVictims))));
      j.str("verdict", vulnerable + implants ? "vulnerable" : (st.not_vulnerable.count() ? "patched" : "unknown"));
    } else {
      // nmap decides these from the reply stub or from the service dying;
      // the records only say whether an answer came.
      j.str("verdict", st.unanswered ? "no_answer" : (st.faults ? "refused" : "answered"));
    }
    std::string others = "[";
    for (size_t i = 0; i < checks.size(); ++i) {
      if (i) others.push_back(',');
      output::append_json_string(others, kInfo[static_cast<size_t>(checks[i])].id);
    }
    others.push_back(']');
    j.raw("scanner_checks", others);
    if (nmap) j.str("tool", "nmap smb-check-vulns");
    j.end_object();
    return f;
  }

  double min_victims_;
  double nmap_min_checks_;
  std::map<Key, State> states_;
};

}  // namespace

void register_smb_vuln(Registry& r) {
  r.add("smb_vuln", [](Config& c) { return std::make_unique<SmbVulnDetector>(c); });
}

}  // namespace trawl::detect
