#include "telemount/fs/folder_listing_cache.h"

#include <gtest/gtest.h>

#include <thread>

namespace tp::telemount {
namespace {

using namespace std::chrono_literals;

TEST(SplitPath, FolderAndName) {
  EXPECT_EQ(SplitPath("/a/b"), (std::pair<std::string, std::string>{"/a", "b"}));
  EXPECT_EQ(SplitPath("/a"), (std::pair<std::string, std::string>{"/", "a"}));
  EXPECT_EQ(SplitPath("/"), (std::pair<std::string, std::string>{"", ""}));
}

TEST(FolderListingCache, NamesOutsideAFreshListingAreKnownAbsent) {
  FolderListingCache cache(10s);
  EXPECT_FALSE(cache.KnownAbsent("/d/x"));  // nothing known yet
  cache.PutListing("/d", {"a", "b"});
  EXPECT_TRUE(cache.KnownAbsent("/d/x"));
  EXPECT_FALSE(cache.KnownAbsent("/d/a"));
  EXPECT_FALSE(cache.KnownAbsent("/other/x"));
}

TEST(FolderListingCache, OwnChangesKeepTheListingCurrent) {
  FolderListingCache cache(10s);
  cache.PutListing("/d", {"a"});
  cache.Added("/d/new");
  EXPECT_FALSE(cache.KnownAbsent("/d/new"));
  cache.Removed("/d/a");
  EXPECT_TRUE(cache.KnownAbsent("/d/a"));
  cache.PutListing("/d/sub", {});
  cache.ForgetTree("/d");
  EXPECT_FALSE(cache.KnownAbsent("/d/a"));
  EXPECT_FALSE(cache.KnownAbsent("/d/sub/x"));
}

TEST(FolderListingCache, ListingsExpire) {
  FolderListingCache cache(50ms);
  cache.PutListing("/d", {});
  EXPECT_TRUE(cache.KnownAbsent("/d/x"));
  std::this_thread::sleep_for(80ms);
  EXPECT_FALSE(cache.KnownAbsent("/d/x"));
}

TEST(FolderListingCache, SecondMissInAFolderAsksForItsListing) {
  FolderListingCache cache(10s);
  EXPECT_FALSE(cache.RecordMiss("/d/x"));
  EXPECT_TRUE(cache.RecordMiss("/d/y"));
  EXPECT_FALSE(cache.RecordMiss("/d/z"));
  EXPECT_FALSE(cache.RecordMiss("/e/x"));
}

TEST(FolderListingCache, DisabledWithZeroLifetime) {
  FolderListingCache cache(0ms);
  cache.PutListing("/d", {});
  EXPECT_FALSE(cache.KnownAbsent("/d/x"));
  EXPECT_FALSE(cache.RecordMiss("/d/x"));
  EXPECT_FALSE(cache.RecordMiss("/d/y"));
}

}  // namespace
}  // namespace tp::telemount
