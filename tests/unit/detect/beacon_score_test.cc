// RITA v5 beacon scoring, function by function (detect/beacon_score.h).
#include "detect/beacon_score.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace trawl::detect::beacon {
namespace {

// Deterministic uniform numbers in [0, 1) (a 64-bit LCG), so no test depends
// on a library's random engine.
struct Lcg {
  uint64_t s;
  double next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) / 9007199254740992.0;
  }
};

TEST(BeaconScore, RoundingMedianAndQuartiles) {
  EXPECT_DOUBLE_EQ(round3(0.12345), 0.123);
  EXPECT_DOUBLE_EQ(round3(0.9995), 1.0);
  EXPECT_DOUBLE_EQ(median_sorted({1, 2, 3}), 2);
  EXPECT_DOUBLE_EQ(median_sorted({1, 2, 3, 10}), 2.5);
  // Odd count: the middle value belongs to neither half.
  auto q = quartiles({1, 2, 3, 4, 5, 6, 7});
  ASSERT_TRUE(q);
  EXPECT_DOUBLE_EQ(q->q1, 2);
  EXPECT_DOUBLE_EQ(q->q2, 4);
  EXPECT_DOUBLE_EQ(q->q3, 6);
  q = quartiles({1, 2, 3, 4, 5, 6, 7, 8});
  ASSERT_TRUE(q);
  EXPECT_DOUBLE_EQ(q->q1, 2.5);
  EXPECT_DOUBLE_EQ(q->q2, 4.5);
  EXPECT_DOUBLE_EQ(q->q3, 6.5);
  EXPECT_FALSE(quartiles({1}));
}

TEST(BeaconScore, BowleySkewIgnoresSpreadsUnderTenAndMadScoreNormalisesByMedian) {
  // Spread (Q3 - Q1) of 4 < 10: no skew, whatever the shape.
  auto s = statistical_score({10, 10, 11, 12, 20}, 1);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->skew, 0);
  EXPECT_EQ(s->skew_score, 1);
  // Q1 = 10, Q2 = 20, Q3 = 100: skew = (10 + 100 - 40) / 90 = 0.778.
  s = statistical_score({5, 10, 15, 20, 60, 100, 140}, 1);
  ASSERT_TRUE(s);
  EXPECT_NEAR(s->skew, 70.0 / 90.0, 1e-9);
  EXPECT_NEAR(s->skew_score, 1 - 70.0 / 90.0, 1e-9);
  // MAD about the median 20: deviations 15 10 5 0 40 80 120 -> 15.
  EXPECT_DOUBLE_EQ(s->median, 20);
  EXPECT_DOUBLE_EQ(s->mad, 15);
  EXPECT_NEAR(s->mad_score, 0.25, 1e-9);
  EXPECT_DOUBLE_EQ(s->score, round3((s->skew_score + 0.25) / 2));
  // A median under 1 gives the default MAD score (1 for times, 0 for sizes).
  EXPECT_EQ(statistical_score({0, 0, 0.5}, 1)->mad_score, 1);
  EXPECT_EQ(statistical_score({0, 0, 0.5}, 0)->mad_score, 0);
  EXPECT_FALSE(statistical_score({1, 2}, 1));
}

TEST(BeaconScore, TimestampScoreNeedsFourTimesAndThreeNonZeroIntervals) {
  EXPECT_FALSE(timestamp_score({0, 10, 20}));
  EXPECT_FALSE(timestamp_score({0, 0, 0, 10, 20}));  // two non-zero intervals
  auto s = timestamp_score({30, 0, 10, 20});         // order does not matter
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->score, 1.0);
  EXPECT_DOUBLE_EQ(s->median, 10);
  // Zero intervals (two connections in one second) are left out.
  s = timestamp_score({0, 0, 10, 10, 20, 30});
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->score, 1.0);
}

TEST(BeaconScore, PeriodicTimesScoreHighPoissonTimesLow) {
  Lcg r{42};
  std::vector<int64_t> periodic, poisson;
  double t = 0;
  for (int i = 0; i < 150; ++i) {
    periodic.push_back(static_cast<int64_t>(std::floor(1000 + 24.0 * i + (r.next() - 0.5) * 0.6)));
    t += -24.0 * std::log(1.0 - r.next());
    poisson.push_back(static_cast<int64_t>(std::floor(1000 + t)));
  }
  auto p = timestamp_score(periodic);
  auto q = timestamp_score(poisson);
  ASSERT_TRUE(p && q);
  EXPECT_GE(p->score, 0.95);
  EXPECT_LT(q->score, 0.7);  // exponential intervals: skew ~0.26, MAD ~0.6 of the median
}

TEST(BeaconScore, DataSizeScore) {
  EXPECT_FALSE(data_size_score({60, 60}));
  EXPECT_DOUBLE_EQ(data_size_score({60, 60, 60, 60})->score, 1.0);
  // Sizes of zero: median under 1 gives a MAD score of 0, skew score 1.
  EXPECT_DOUBLE_EQ(data_size_score({0, 0, 0})->score, 0.5);
  Lcg r{7};
  std::vector<double> sizes;
  for (int i = 0; i < 100; ++i) sizes.push_back(std::floor(r.next() * 20000));
  EXPECT_LT(data_size_score(sizes)->score, 0.75);
}

TEST(BeaconScore, HistogramFlatIsOneAndRunsWrapAround) {
  Params p;
  std::vector<int64_t> t;
  for (int i = 0; i < 240; ++i) t.push_back(i * 10);  // 10 per bin over [0, 2400]
  auto h = histogram_score(0, 2400, t, p);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->total_bars, 24);
  EXPECT_EQ(h->longest_run, 24);
  EXPECT_DOUBLE_EQ(h->cv_score, 1.0);
  EXPECT_DOUBLE_EQ(h->bimodal_score, 1.0);
  EXPECT_DOUBLE_EQ(h->score, 1.0);

  // Activity in the first 3 and last 4 bins: one run of 7 across the wrap.
  std::vector<int64_t> w;
  for (int b : {0, 1, 2, 20, 21, 22, 23}) {
    for (int k = 0; k < 5; ++k) w.push_back(b * 100 + k);
  }
  h = histogram_score(0, 2400, w, p);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->total_bars, 7);
  EXPECT_EQ(h->longest_run, 7);
  EXPECT_DOUBLE_EQ(h->bimodal_score, 0);  // fewer than 11 bars
  // cv: 7 bars of 5, 17 of 0 -> mean 35/24, sd/mean > 1 -> 0.
  EXPECT_DOUBLE_EQ(h->cv_score, 0);

  // Two heights (bimodal): 12 bars of 10 and 12 of 2 -> fit 24 / 23 -> 1.
  std::vector<int64_t> b;
  for (int bin = 0; bin < 24; ++bin) {
    int n = bin % 2 == 0 ? 10 : 2;
    for (int k = 0; k < n; ++k) b.push_back(bin * 100 + k);
  }
  h = histogram_score(0, 2400, b, p);
  ASSERT_TRUE(h);
  EXPECT_DOUBLE_EQ(h->bimodal_score, 1.0);
  EXPECT_LT(h->cv_score, 1.0);
  EXPECT_FALSE(histogram_score(10, 10, b, p));
}

TEST(BeaconScore, DurationCoverageAndConsistency) {
  Params p;
  auto d = duration_score(0, 1000, 0, 500, 12, 6, p);
  ASSERT_TRUE(d);
  EXPECT_DOUBLE_EQ(d->coverage, 0.5);
  EXPECT_DOUBLE_EQ(d->consistency, 0.5);
  EXPECT_DOUBLE_EQ(d->score, 0.5);
  d = duration_score(0, 1000, 0, 1000, 5, 5, p);  // under 6 bars: 0
  ASSERT_TRUE(d);
  EXPECT_DOUBLE_EQ(d->score, 0);
  d = duration_score(0, 1000, 100, 200, 14, 13, p);
  EXPECT_DOUBLE_EQ(d->consistency, 1.0);
  EXPECT_DOUBLE_EQ(d->score, 1.0);
  EXPECT_FALSE(duration_score(0, 1000, 5, 5, 10, 10, p));
}

TEST(BeaconScore, CombinedScoreAndBuckets) {
  Params p;
  EXPECT_DOUBLE_EQ(*combined_score(1, 1, 1, 1, p), 1.0);
  EXPECT_DOUBLE_EQ(*combined_score(0.8, 0.6, 1, 0.4, p), 0.7);
  EXPECT_FALSE(combined_score(1.2, 1, 1, 1, p));
  p.ts_weight = 0.5;
  EXPECT_FALSE(combined_score(1, 1, 1, 1, p));  // weights sum to 1.25

  Buckets b;
  EXPECT_DOUBLE_EQ(bucketed_score(49.9, b), 0);
  EXPECT_DOUBLE_EQ(bucketed_score(50, b), 0.2);
  EXPECT_DOUBLE_EQ(bucketed_score(75, b), 0.4);
  EXPECT_DOUBLE_EQ(bucketed_score(90, b), 0.6);
  EXPECT_DOUBLE_EQ(bucketed_score(100, b), 0.8);
  EXPECT_NEAR(bucketed_score(95, b), 0.7, 1e-12);
  EXPECT_EQ(severity_of_bucketed(0.2), Severity::kInfo);
  EXPECT_EQ(severity_of_bucketed(0.21), Severity::kLow);
  EXPECT_EQ(severity_of_bucketed(0.4), Severity::kLow);
  EXPECT_EQ(severity_of_bucketed(0.41), Severity::kMedium);
  EXPECT_EQ(severity_of_bucketed(0.6), Severity::kMedium);
  EXPECT_EQ(severity_of_bucketed(0.61), Severity::kHigh);
}

TEST(BeaconScore, WholeSeriesPeriodicVersusRandom) {
  Params p;
  Lcg r{1};
  std::vector<int64_t> times, rtimes;
  std::vector<double> sizes, rsizes;
  double t = 0;
  for (int i = 0; i < 150; ++i) {
    times.push_back(static_cast<int64_t>(std::floor(24.0 * i + r.next() * 0.3)));
    sizes.push_back(120);
    t += -24.0 * std::log(1.0 - r.next());
    rtimes.push_back(static_cast<int64_t>(std::floor(t)));
    rsizes.push_back(std::floor(r.next() * 5000));
  }
  auto a = score_series(times, sizes, 0, times.back(), p);
  ASSERT_TRUE(a);
  EXPECT_GE(a->score, 0.95);
  auto b = score_series(rtimes, rsizes, 0, rtimes.back(), p);
  ASSERT_TRUE(b);
  EXPECT_LT(b->score, 0.75);
  EXPECT_FALSE(score_series(times, sizes, 5, 5, p));
}

}  // namespace
}  // namespace trawl::detect::beacon
