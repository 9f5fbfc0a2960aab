// A RecordSource over a case folder's JSONL files (conn.jsonl, dns.jsonl ...,
// findings.jsonl, stats.json), for cases written without case.db.
#pragma once

#include <memory>
#include <string>

#include "store/sink.h"

namespace trawl::store {

// nullptr with a message when `dir` holds no conn.jsonl.
std::unique_ptr<RecordSource> open_jsonl_source(const std::string& dir, std::string& error);

// The key the JSONL source merges the logs by: when the engine emitted the
// record, as far as the line tells (a connection when it ended, others at
// their ts); rank orders equal times as the engine's flush groups do (ARP,
// then analyzer records, then connections). False if the line has no ts.
struct ReplayKey {
  int64_t ns = 0;
  int rank = 0;
  friend auto operator<=>(const ReplayKey&, const ReplayKey&) = default;
};
bool replay_key(std::string_view log, std::string_view line, ReplayKey& out);

}  // namespace trawl::store
