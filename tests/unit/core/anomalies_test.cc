#include "core/anomalies.h"

#include <gtest/gtest.h>

namespace trawl::core {

TEST(Anomalies, CountsByNameAndMerges) {
  static const AnomalyId kA{"test.alpha"};
  static const AnomalyId kB{"test.beta"};
  static const AnomalyId kA2{"test.alpha"};
  EXPECT_EQ(kA.index(), kA2.index());
  EXPECT_NE(kA.index(), kB.index());
  EXPECT_EQ(kB.name(), "test.beta");
  Anomalies x, y;
  x.add(kA);
  x.add(kA, 4);
  y.add(kB, 2);
  x.merge(y);
  EXPECT_EQ(x.count(kA), 5u);
  EXPECT_EQ(x.count(kB), 2u);
  EXPECT_EQ(x.total(), 7u);
  auto names = x.by_name();
  EXPECT_EQ(names.at("test.alpha"), 5u);
  EXPECT_EQ(names.at("test.beta"), 2u);
  EXPECT_NE(find_anomaly("test.beta"), nullptr);
  EXPECT_EQ(find_anomaly("test.never-registered"), nullptr);
}

}  // namespace trawl::core
