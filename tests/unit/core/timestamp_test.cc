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

TEST(Timestamp, OrdersAndSubtracts) {
  Timestamp a = Timestamp::from_sec_nsec(10, 5);
  Timestamp b = a + 1000;
  EXPECT_LT(a, b);
  EXPECT_EQ(b - a, 1000);
  EXPECT_EQ(a.sec(), 10);
}

}  // namespace trawl::core
