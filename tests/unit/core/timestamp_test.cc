#include "core/timestamp.h"

#include <gtest/gtest.h>

namespace trawl::core {

TEST(Timestamp, FormatsSixDecimalsRounded) {
  EXPECT_EQ(format_epoch_micros(Timestamp::from_sec_nsec(1320279566, 452687000)), "1320279566.452687");
  EXPECT_EQ(format_epoch_micros(Timestamp::from_sec_nsec(1, 999999600)), "2.000000");
  EXPECT_EQ(format_epoch_micros(Timestamp{0}), "0.000000");
  EXPECT_EQ(format_duration_micros(1500), "0.000002");
  EXPECT_EQ(format_duration_micros(-1000), "-0.000001");
}

TEST(Timestamp, WritesMicrosAtTheEndsOfTheRange) {
  auto text = [](int64_t ns) {
    char buf[kMicrosTextMax];
    return std::string(buf, write_micros(buf, ns));
  };
  EXPECT_EQ(text(INT64_MIN), "-9223372036.854776");
  EXPECT_EQ(text(INT64_MAX), "9223372036.854776");
  EXPECT_EQ(text(-1), "-0.000000");  // rounds to zero, keeps its sign (as before)
  EXPECT_EQ(text(-499), "-0.000000");
  EXPECT_EQ(text(-500), "-0.000001");
  EXPECT_EQ(text(499), "0.000000");
  EXPECT_EQ(text(500), "0.000001");
  EXPECT_EQ(text(999999999500), "1000.000000");
  EXPECT_EQ(text(-1320279566452687000), "-1320279566.452687");
  EXPECT_EQ(text(9999999999999999), "10000000.000000");
  EXPECT_EQ(text(99999999999999499), "99999999.999999");
  EXPECT_EQ(text(99999999999999500), "100000000.000000");  // rounds up a digit
  EXPECT_EQ(text(100000000000000000), "100000000.000000");
  EXPECT_EQ(text(1000000000000000000), "1000000000.000000");
  EXPECT_EQ(text(1710234015766814000), "1710234015.766814");
  EXPECT_EQ(text(1000000000000001000), "1000000000.000001");
  EXPECT_EQ(text(-1000000000000001000), "-1000000000.000001");
  // Every digit count of the whole seconds, both signs.
  int64_t sec = 1;
  for (int digits = 1; digits <= 10; ++digits, sec *= 10) {
    for (int64_t s : {sec, sec * 10 - 1, sec + sec / 3}) {
      if (s > 9223372035) continue;
      int64_t ns = s * 1000000000 + 123456000;
      std::string want = std::to_string(s) + ".123456";
      EXPECT_EQ(text(ns), want);
      EXPECT_EQ(text(-ns), "-" + want);
    }
  }
  EXPECT_EQ(format_epoch_micros(Timestamp{INT64_MIN}), "-9223372036.854776");
  EXPECT_EQ(format_duration_micros(INT64_MAX), "9223372036.854776");
}

TEST(Timestamp, OrdersAndSubtracts) {
  Timestamp a = Timestamp::from_sec_nsec(10, 5);
  Timestamp b = a + 1000;
  EXPECT_LT(a, b);
  EXPECT_EQ(b - a, 1000);
  EXPECT_EQ(a.sec(), 10);
}

}  // namespace trawl::core
