#include "detect/dga_model.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "core/hash.h"

#include "detect/dns_util.h"

namespace trawl::detect {
namespace {

using dga_data::kAlphabetSize;

// Interpolation weights; must match tests/tools/build_dga_model.py.
constexpr double kL3 = 0.6;
constexpr double kL2 = 0.3;
constexpr double kL1 = 0.1;

uint32_t index_of(char c) {
  if (c >= 'a' && c <= 'z') return 2 + static_cast<uint32_t>(c - 'a');
  if (c >= '0' && c <= '9') return 28 + static_cast<uint32_t>(c - '0');
  return 38;  // '-' and anything else
}

struct Tables {
  uint64_t total = 0;
  std::array<uint64_t, kAlphabetSize> bigram_context{};
  std::vector<uint32_t> trigram_context;  // indexed by a * 39 + b
  // kTrigrams spread out by key (39^3 counts, 232 KiB): one load per
  // character instead of a binary search.
  std::vector<uint32_t> trigram;
};

const Tables& tables() {
  static const Tables t = [] {
    Tables out;
    for (size_t c = 0; c < kAlphabetSize; ++c) out.total += dga_data::kUnigram[c];
    for (size_t b = 0; b < kAlphabetSize; ++b) {
      for (size_t c = 0; c < kAlphabetSize; ++c) out.bigram_context[b] += dga_data::kBigram[b * kAlphabetSize + c];
    }
    out.trigram_context.assign(kAlphabetSize * kAlphabetSize, 0);
    for (size_t i = 0; i < dga_data::kTrigramCount; ++i) {
      out.trigram_context[dga_data::kTrigrams[i].key / kAlphabetSize] += dga_data::kTrigrams[i].count;
    }
    out.trigram.assign(kAlphabetSize * kAlphabetSize * kAlphabetSize, 0);
    // Backwards, so that of equal keys the first wins, as with lower_bound.
    for (size_t i = dga_data::kTrigramCount; i-- > 0;) {
      if (dga_data::kTrigrams[i].key < out.trigram.size()) out.trigram[dga_data::kTrigrams[i].key] = dga_data::kTrigrams[i].count;
    }
    return out;
  }();
  return t;
}

double bits_per_char(std::string_view label) {
  const Tables& t = tables();
  uint32_t a = 0, b = 0;  // '^' '^'
  double total = 0;
  size_t steps = 0;
  auto step = [&](uint32_t c) {
    double p1 = (static_cast<double>(dga_data::kUnigram[c]) + 1) / static_cast<double>(t.total + kAlphabetSize);
    double p2 = t.bigram_context[b] ? static_cast<double>(dga_data::kBigram[b * kAlphabetSize + c]) /
                                          static_cast<double>(t.bigram_context[b])
                                    : 0.0;
    uint32_t ctx = t.trigram_context[a * kAlphabetSize + b];
    double p3 = ctx ? static_cast<double>(t.trigram[(a * kAlphabetSize + b) * kAlphabetSize + c]) / ctx : 0.0;
    total -= std::log2(kL3 * p3 + kL2 * p2 + kL1 * p1);
    ++steps;
    a = b;
    b = c;
  };
  for (char ch : label) step(index_of(ch));
  step(1);  // '$'
  return total / static_cast<double>(steps);
}

}  // namespace

double dga_threshold() { return dga_data::kThreshold; }

LabelScore score_label(std::string_view label) {
  LabelScore s;
  if (label.empty()) return s;
  size_t run = 0, digits = 0;
  for (char c : label) {
    bool letter = c >= 'a' && c <= 'z';
    bool vowel = c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
    if (letter && !vowel) {
      s.consonant_run = std::max(s.consonant_run, ++run);
    } else {
      run = 0;
    }
    if (c >= '0' && c <= '9') ++digits;
  }
  s.digit_ratio = static_cast<double>(digits) / static_cast<double>(label.size());
  s.bits = bits_per_char(label);
  s.score = s.bits + 0.25 * static_cast<double>(s.consonant_run > 4 ? s.consonant_run - 4 : 0);
  if (s.digit_ratio > 0 && s.digit_ratio < 1) s.score += 1.0 * s.digit_ratio;
  s.candidate = label.size() >= dga_data::kMinLength && !label.starts_with("xn--");
  s.generated = s.candidate && s.score >= dga_data::kThreshold;
  return s;
}

LabelScore score_name(std::string_view name, double threshold_delta) {
  // Many hosts resolve the same domains: remember scores by name in a
  // direct-mapped cache of kSlots names (a new name overwrites its slot;
  // names longer than kMaxCached are scored every time), so memory stays
  // bounded. The score is a function of the name alone.
  constexpr size_t kSlots = 4096;
  constexpr size_t kMaxCached = 127;
  struct Slot {
    std::string name;
    LabelScore score;
  };
  thread_local std::vector<Slot> cache(kSlots);
  LabelScore s;
  if (name.empty() || name.size() > kMaxCached) {
    s = score_label(dns::registrable_label(name));
  } else {
    Slot& slot = cache[core::hash_bytes(name.data(), name.size()) & (kSlots - 1)];
    if (slot.name != name) {
      slot.name.assign(name);
      slot.score = score_label(dns::registrable_label(name));
    }
    s = slot.score;
  }
  s.generated = s.candidate && s.score >= dga_data::kThreshold + threshold_delta;
  return s;
}

}  // namespace trawl::detect
