#include "detect/beacon_score.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace trawl::detect::beacon {

double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

double median_sorted(const std::vector<double>& sorted) {
  size_t n = sorted.size();
  if (n == 0) return 0;
  if (n % 2 == 1) return sorted[n / 2];
  return (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
}

std::optional<Quartiles> quartiles(const std::vector<double>& sorted) {
  size_t n = sorted.size();
  if (n < 2) return std::nullopt;
  size_t c1 = n / 2;                       // lower half: [0, c1)
  size_t c2 = n % 2 == 0 ? n / 2 : c1 + 1;  // upper half: [c2, n)
  std::vector<double> lower(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(c1));
  std::vector<double> upper(sorted.begin() + static_cast<std::ptrdiff_t>(c2), sorted.end());
  return Quartiles{median_sorted(lower), median_sorted(sorted), median_sorted(upper)};
}

std::optional<StatScore> statistical_score(const std::vector<double>& sorted, double default_mad_score) {
  if (sorted.size() < 3) return std::nullopt;
  StatScore s;
  auto q = quartiles(sorted);
  if (!q) return std::nullopt;
  double num = q->q1 + q->q3 - 2 * q->q2;
  double den = q->q3 - q->q1;
  // RITA: a spread under 10 (seconds or bytes), or a median on a quartile,
  // counts as no skew at all.
  if (den >= 10 && q->q2 != q->q1 && q->q2 != q->q3) s.skew = num / den;
  s.skew_score = 1.0 - std::fabs(s.skew);

  s.median = median_sorted(sorted);
  std::vector<double> dev;
  dev.reserve(sorted.size());
  for (double v : sorted) dev.push_back(std::fabs(v - s.median));
  std::sort(dev.begin(), dev.end());
  s.mad = median_sorted(dev);
  double mad_score = default_mad_score;
  if (s.median >= 1) mad_score = (s.median - s.mad) / s.median;
  if (mad_score < 0 || std::isnan(mad_score)) mad_score = 0;
  s.mad_score = mad_score;
  s.score = round3((s.skew_score + s.mad_score) / 2.0);
  return s;
}

std::optional<StatScore> timestamp_score(std::vector<int64_t> times) {
  if (times.size() < 4) return std::nullopt;
  std::sort(times.begin(), times.end());
  std::vector<double> deltas;
  deltas.reserve(times.size() - 1);
  for (size_t i = 0; i + 1 < times.size(); ++i) {
    int64_t d = times[i + 1] - times[i];
    if (d > 0) deltas.push_back(static_cast<double>(d));
  }
  if (deltas.size() < 3) return std::nullopt;
  std::sort(deltas.begin(), deltas.end());
  return statistical_score(deltas, 1.0);
}

std::optional<StatScore> data_size_score(std::vector<double> sizes) {
  if (sizes.size() < 3) return std::nullopt;
  std::sort(sizes.begin(), sizes.end());
  return statistical_score(sizes, 0.0);
}

namespace {

double cv_score(const std::vector<int64_t>& bars) {
  double total = 0;
  for (int64_t b : bars) total += static_cast<double>(b);
  if (bars.empty() || total <= 0) return 0;
  double n = static_cast<double>(bars.size());
  double mean = total / n;
  double var = 0;
  for (int64_t b : bars) var += (static_cast<double>(b) - mean) * (static_cast<double>(b) - mean);
  double cv = std::sqrt(var / n) / mean;
  if (cv > 1.0) return 0;
  return std::min(1.0, round3(1.0 - cv));
}

}  // namespace

std::optional<HistogramScore> histogram_score(int64_t dataset_min, int64_t dataset_max, std::vector<int64_t> times,
                                              const Params& p) {
  if (times.empty() || dataset_max <= dataset_min || p.hist_bins <= 0) return std::nullopt;
  std::sort(times.begin(), times.end());
  size_t nbins = static_cast<size_t>(p.hist_bins);
  std::vector<double> edges(nbins + 1);
  double step = static_cast<double>(dataset_max - dataset_min) / static_cast<double>(nbins);
  edges[0] = static_cast<double>(dataset_min);
  for (size_t i = 1; i < nbins; ++i) edges[i] = static_cast<double>(dataset_min) + static_cast<double>(i) * step;
  edges[nbins] = static_cast<double>(dataset_max);

  HistogramScore h;
  h.bars.assign(nbins, 0);
  // As RITA: times before the first edge land in the first bin, times at or
  // past the last edge in the last bin.
  size_t bin = 0;
  for (int64_t t : times) {
    double x = static_cast<double>(t);
    while (bin + 1 < nbins && x >= edges[bin + 1]) ++bin;
    ++h.bars[bin];
  }

  int64_t largest = 0;
  for (int64_t b : h.bars) {
    if (b > 0) ++h.total_bars;
    largest = std::max(largest, b);
  }
  // Bars of similar height (within the mode sensitivity of the tallest bar)
  // share a height bin.
  double bin_size = std::ceil(static_cast<double>(largest) * p.hist_mode_sensitivity);
  if (bin_size < 1) bin_size = 1;
  std::map<int64_t, int64_t> freq;
  int run = 0;
  for (size_t i = 0; i < nbins * 2; ++i) {
    int64_t f = h.bars[i % nbins];
    if (f > 0) {
      ++run;
    } else {
      h.longest_run = std::max(h.longest_run, run);
      run = 0;
    }
    if (i < nbins && f > 0) {
      auto key = static_cast<int64_t>(std::floor(static_cast<double>(f) / bin_size) * bin_size);
      ++freq[key];
    }
  }
  h.longest_run = std::min(std::max(h.longest_run, run), static_cast<int>(nbins));

  h.cv_score = cv_score(h.bars);

  int min_hours = p.hist_bimodal_min_hours < 6 ? 11 : p.hist_bimodal_min_hours;
  double fit = 0;
  if (h.total_bars >= min_hours) {
    int64_t first = 0, second = 0;
    for (const auto& [height, count] : freq) {
      if (count > first) {
        second = first;
        first = count;
      } else if (count > second) {
        second = count;
      }
    }
    double adjusted = std::max(static_cast<double>(h.total_bars - p.hist_bimodal_outlier_removal), 1.0);
    fit = static_cast<double>(first + second) / adjusted;
  }
  h.bimodal_score = std::min(1.0, round3(fit));
  h.score = std::max(h.cv_score, h.bimodal_score);
  return h;
}

std::optional<DurationScore> duration_score(int64_t dataset_min, int64_t dataset_max, int64_t first, int64_t last,
                                            int total_bars, int longest_run, const Params& p) {
  if (p.dur_min_hours < 1 || p.dur_ideal_hours < 1 || dataset_max <= dataset_min || last <= first) return std::nullopt;
  DurationScore d;
  if (total_bars >= p.dur_min_hours) {
    d.coverage = std::min(
        1.0, std::ceil(static_cast<double>(last - first) / static_cast<double>(dataset_max - dataset_min) * 1000) / 1000);
    d.consistency =
        std::min(1.0, std::ceil(static_cast<double>(longest_run) / static_cast<double>(p.dur_ideal_hours) * 1000) / 1000);
    d.score = std::max(d.coverage, d.consistency);
  }
  return d;
}

std::optional<double> combined_score(double ts, double ds, double dur, double hist, const Params& p) {
  for (double s : {ts, ds, dur, hist}) {
    if (!(s >= 0 && s <= 1)) return std::nullopt;
  }
  double sum = 0;
  for (double w : {p.ts_weight, p.ds_weight, p.dur_weight, p.hist_weight}) {
    if (!(w >= 0 && w <= 1)) return std::nullopt;
    sum += w;
  }
  // RITA demands an exact 1; --set values such as 0.1/0.2/0.3/0.4 do not add
  // up exactly in binary, so allow rounding error.
  if (std::fabs(sum - 1.0) > 1e-9) return std::nullopt;
  return round3(ts * p.ts_weight + ds * p.ds_weight + dur * p.dur_weight + hist * p.hist_weight);
}

double bucketed_score(double value, const Buckets& b) {
  constexpr double kNone = 20, kLow = 40, kMedium = 60, kHigh = 80;
  double s = 0;
  if (value < b.base) return 0;
  if (value < b.low) {
    s = kNone + (value - b.base) / (b.low - b.base) * (kLow - kNone);
  } else if (value < b.medium) {
    s = kLow + (value - b.low) / (b.medium - b.low) * (kMedium - kLow);
  } else {
    double v = std::min(value, b.high);
    s = b.high > b.medium ? kMedium + (v - b.medium) / (b.high - b.medium) * (kHigh - kMedium) : kHigh;
  }
  return s / 100.0;
}

Severity severity_of_bucketed(double bucketed) {
  if (bucketed > 0.6) return Severity::kHigh;
  if (bucketed > 0.4) return Severity::kMedium;
  if (bucketed > 0.2) return Severity::kLow;
  return Severity::kInfo;
}

std::optional<Result> score_series(const std::vector<int64_t>& times, const std::vector<double>& sizes,
                                   int64_t dataset_min, int64_t dataset_max, const Params& p) {
  if (times.empty() || dataset_max <= dataset_min) return std::nullopt;
  Result r;
  auto ts = timestamp_score(times);
  if (!ts) return std::nullopt;
  auto ds = data_size_score(sizes);
  if (!ds) return std::nullopt;
  auto hist = histogram_score(dataset_min, dataset_max, times, p);
  if (!hist) return std::nullopt;
  auto [mn, mx] = std::minmax_element(times.begin(), times.end());
  auto dur = duration_score(dataset_min, dataset_max, *mn, *mx, hist->total_bars, hist->longest_run, p);
  if (!dur) return std::nullopt;
  auto total = combined_score(ts->score, ds->score, dur->score, hist->score, p);
  if (!total) return std::nullopt;
  r.ts = *ts;
  r.ds = *ds;
  r.hist = std::move(*hist);
  r.dur = *dur;
  r.score = *total;
  return r;
}

}  // namespace trawl::detect::beacon
