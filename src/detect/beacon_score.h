// Beacon scoring as RITA v5 does it (activecm/rita, analysis/beacons.go):
// pure functions over a connection series' start times (whole seconds) and
// per-connection sizes, so each sub-score can be tested on its own. The
// formulas are written out in docs/findings/beacon.md.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "detect/finding.h"

namespace trawl::detect::beacon {

// RITA v5's default scoring settings (config.go defaultConfig).
struct Params {
  double ts_weight = 0.25;
  double ds_weight = 0.25;
  double dur_weight = 0.25;
  double hist_weight = 0.25;
  int dur_min_hours = 6;              // histogram bars needed before the duration score counts
  int dur_ideal_hours = 12;           // consecutive bars that give a full consistency score
  double hist_mode_sensitivity = 0.05;  // bar-height bin width, as a fraction of the tallest bar
  int hist_bimodal_outlier_removal = 1;
  int hist_bimodal_min_hours = 11;
  int hist_bins = 24;                 // RITA: one bar per hour of a 24 h window
};

// Rounds to three decimals, half away from zero (Go's math.Round).
double round3(double v);

// Median of ascending values (mean of the two middle ones for an even count).
double median_sorted(const std::vector<double>& sorted);

struct Quartiles {
  double q1 = 0, q2 = 0, q3 = 0;
};
// Tukey hinges: Q2 the median, Q1/Q3 the medians of the lower and upper
// halves (the middle value excluded for an odd count). Needs 2 values.
std::optional<Quartiles> quartiles(const std::vector<double>& sorted);

struct StatScore {
  double score = 0;       // (skew_score + mad_score) / 2, rounded
  double skew = 0;        // Bowley skewness (0 when the spread is under 10)
  double skew_score = 0;  // 1 - |skew|
  double median = 0;
  double mad = 0;         // median absolute deviation about the median
  double mad_score = 0;   // (median - mad) / median, or the default when median < 1
};
// Bowley skewness and MAD of ascending values (at least 3).
std::optional<StatScore> statistical_score(const std::vector<double>& sorted, double default_mad_score);

// Timestamp score: the intervals between consecutive start times (seconds);
// zero intervals are dropped before scoring. Needs 4 times and 3 non-zero
// intervals. `times` need not be sorted.
std::optional<StatScore> timestamp_score(std::vector<int64_t> times);

// Data-size score over per-connection sizes (at least 3).
std::optional<StatScore> data_size_score(std::vector<double> sizes);

struct HistogramScore {
  std::vector<int64_t> bars;  // connections per bin
  int total_bars = 0;         // non-empty bins
  int longest_run = 0;        // longest run of non-empty bins, wrapping around
  double cv_score = 0;        // 1 - coefficient of variation of the bars (0 if cv > 1)
  double bimodal_score = 0;   // share of bars in the two commonest height bins
  double score = 0;           // max of the two
};
// Bins [dataset_min, dataset_max] into p.hist_bins equal bins.
std::optional<HistogramScore> histogram_score(int64_t dataset_min, int64_t dataset_max, std::vector<int64_t> times,
                                              const Params& p);

struct DurationScore {
  double coverage = 0;     // (last - first) / dataset span, ceil to 3 decimals, at most 1
  double consistency = 0;  // longest_run / ideal hours, at most 1
  double score = 0;        // max of the two, 0 unless total_bars >= dur_min_hours
};
std::optional<DurationScore> duration_score(int64_t dataset_min, int64_t dataset_max, int64_t first, int64_t last,
                                            int total_bars, int longest_run, const Params& p);

// The weighted sum, rounded; nullopt when a score or weight is outside [0, 1]
// or the weights do not sum to 1.
std::optional<double> combined_score(double ts, double ds, double dur, double hist, const Params& p);

// RITA's interpolation of a value into its threat buckets (thresholds 50, 75,
// 90, 100 for beacons, on score * 100): 0 below base, 0.2-0.4 up to low,
// 0.4-0.6 up to medium, 0.6-0.8 up to high.
struct Buckets {
  double base = 50, low = 75, medium = 90, high = 100;
};
double bucketed_score(double value, const Buckets& b);
// RITA's impact category of a bucketed score: > 0.6 high, > 0.4 medium,
// > 0.2 low, otherwise none (here: info).
Severity severity_of_bucketed(double bucketed);

struct Result {
  StatScore ts;
  StatScore ds;
  HistogramScore hist;
  DurationScore dur;
  double score = 0;
};
// The whole RITA computation for one series: start times in whole seconds,
// sizes per connection, and the dataset's first and last second.
std::optional<Result> score_series(const std::vector<int64_t>& times, const std::vector<double>& sizes,
                                   int64_t dataset_min, int64_t dataset_max, const Params& p);

}  // namespace trawl::detect::beacon
