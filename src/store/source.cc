// open_source: where `--from` of hunt, query, extract and report points.
#include <filesystem>

#include "store/jsonl_source.h"
#include "store/sink.h"

namespace trawl::store {

std::unique_ptr<RecordSource> open_source(const std::string& from, std::string& error) {
  if (from.rfind("clickhouse://", 0) == 0) return open_clickhouse_source(from, error);
  std::filesystem::path p(from);
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) {
    // A case folder: its case.db; a case written with --no-case-db (or by an
    // older trawl) is read from its JSONL files.
    auto db = p / "case.db";
    if (std::filesystem::exists(db, ec)) return open_sqlite_source(db.string(), error);
    return open_jsonl_source(from, error);
  }
  if (!std::filesystem::exists(p, ec)) {
    error = from + ": no such case folder or case.db";
    return nullptr;
  }
  return open_sqlite_source(from, error);
}

}  // namespace trawl::store
