// The write generation's pure logic: a fill that began before a change of what it would store is
// refused; one that began after is kept; unrelated changes do not refuse it.
#include "telemount/fs/metadata_cache.h"

#include <gtest/gtest.h>

#include "telemount/fs/write_generations.h"

namespace tp::telemount {
namespace {

using namespace std::chrono_literals;

sftp::FileAttributes SizeAttributes(uint64_t size) {
  sftp::FileAttributes attributes;
  attributes.flags = sftp::FileAttributes::kSize | sftp::FileAttributes::kPermissions;
  attributes.size = size;
  attributes.permissions = 0100644;
  return attributes;
}

sftp::NameEntry Entry(const std::string& name, uint64_t size) {
  sftp::NameEntry entry;
  entry.filename = name;
  entry.attributes = SizeAttributes(size);
  return entry;
}

TEST(IsInTree, AFolderHoldsItselfAndWhatIsBelowItOnly) {
  EXPECT_TRUE(IsInTree("/a", "/a"));
  EXPECT_TRUE(IsInTree("/a/b/c", "/a"));
  EXPECT_FALSE(IsInTree("/ab", "/a"));
  EXPECT_FALSE(IsInTree("/", "/a"));
  EXPECT_TRUE(IsInTree("/anything", "/"));
}

TEST(WriteGenerations, AFillStartedBeforeAChangeIsRefused) {
  WriteGenerations generations;
  const auto before = generations.Now();
  generations.Changed("/f");
  EXPECT_FALSE(generations.UnchangedSince("/f", before));
  EXPECT_TRUE(generations.UnchangedSince("/g", before)) << "another path was not changed";
  EXPECT_TRUE(generations.UnchangedSince("/f", generations.Now()));
}

TEST(WriteGenerations, ATreeChangeRefusesFillsBelowIt) {
  WriteGenerations generations;
  const auto before = generations.Now();
  generations.ChangedTree("/d");
  EXPECT_FALSE(generations.UnchangedSince("/d", before));
  EXPECT_FALSE(generations.UnchangedSince("/d/x/y", before));
  EXPECT_TRUE(generations.UnchangedSince("/dx", before));
  EXPECT_TRUE(generations.UnchangedSince("/d/x", generations.Now()));
}

TEST(WriteGenerations, ForgettingStampsRefusesEveryOlderFillNeverKeepsOne) {
  WriteGenerations generations;
  const auto before = generations.Now();
  generations.Changed("/victim");
  for (size_t i = 0; i < WriteGenerations::kMaxKeys + 1; ++i) {
    generations.Changed("/other" + std::to_string(i));
  }
  EXPECT_FALSE(generations.UnchangedSince("/victim", before));
  EXPECT_FALSE(generations.UnchangedSince("/untouched", before));  // cannot tell: refused
  EXPECT_TRUE(generations.UnchangedSince("/victim", generations.Now()));
  const auto before_trees = generations.Now();
  for (size_t i = 0; i < WriteGenerations::kMaxTrees + 1; ++i) {
    generations.ChangedTree("/tree" + std::to_string(i));
  }
  EXPECT_FALSE(generations.UnchangedSince("/tree0/x", before_trees));
}

TEST(MetadataCache, AnAttributeFillStartedBeforeAWriteIsRefused) {
  MetadataCache cache(10s);
  const auto ticket = cache.StartFill();  // a stat's request goes out...
  cache.Changed("/f");                    // ...a write goes out after it...
  EXPECT_FALSE(cache.PutAttributes("/f", SizeAttributes(1), ticket));  // ...its old answer
  EXPECT_FALSE(cache.Attributes("/f").has_value());
  EXPECT_TRUE(cache.PutAttributes("/f", SizeAttributes(2), cache.StartFill()));
  EXPECT_EQ(cache.Attributes("/f")->size, 2u);
}

TEST(MetadataCache, AChangeAfterAFillDropsWhatItStored) {
  MetadataCache cache(10s);
  ASSERT_TRUE(cache.PutAttributes("/f", SizeAttributes(1), cache.StartFill()));
  cache.Changed("/f");
  EXPECT_FALSE(cache.Attributes("/f").has_value());
}

TEST(MetadataCache, AListingStartedBeforeAnUnlinkStoresNeitherTheNameNorItsAttributes) {
  MetadataCache cache(10s);
  const auto ticket = cache.StartFill();
  cache.Removed("/d/gone");
  cache.PutListing("/d", {Entry("gone", 5), Entry("kept", 6)}, ticket);
  EXPECT_FALSE(cache.Attributes("/d/gone").has_value());
  EXPECT_EQ(cache.Attributes("/d/kept")->size, 6u) << "an entry nobody changed is kept";
  EXPECT_FALSE(cache.KnownAbsent("/d/other")) << "the stale list of /d was refused";
}

TEST(MetadataCache, AListingStartedBeforeACreateCannotHideTheNewName) {
  MetadataCache cache(10s);
  const auto ticket = cache.StartFill();
  cache.Added("/d/new");
  cache.PutListing("/d", {Entry("old", 1)}, ticket);
  EXPECT_FALSE(cache.KnownAbsent("/d/new"));
}

TEST(MetadataCache, OwnChangesKeepAFreshListingCurrent) {
  MetadataCache cache(10s);
  cache.PutListing("/d", {Entry("a", 1)}, cache.StartFill());
  EXPECT_TRUE(cache.KnownAbsent("/d/b"));
  cache.Added("/d/b");
  EXPECT_FALSE(cache.KnownAbsent("/d/b"));
  cache.Removed("/d/a");
  EXPECT_TRUE(cache.KnownAbsent("/d/a"));
}

TEST(MetadataCache, ACreateKeepsTheAttributesItAskedForAfterItsRequestWentOut) {
  MetadataCache cache(10s);
  cache.Changed("/d/new");  // the OPEN went out
  cache.Changed("/d");
  const auto ticket = cache.StartFill();  // then the LSTATs riding along
  cache.NameAdded("/d/new");              // the OPEN's answer
  EXPECT_TRUE(cache.PutAttributes("/d/new", SizeAttributes(0), ticket));
  EXPECT_TRUE(cache.PutAttributes("/d", SizeAttributes(4096), ticket));
}

TEST(MetadataCache, ARenamedFolderForgetsAndRefusesEverythingBelowIt) {
  MetadataCache cache(10s);
  const auto ticket = cache.StartFill();
  ASSERT_TRUE(cache.PutAttributes("/d/sub/x", SizeAttributes(1), cache.StartFill()));
  cache.ChangedTree("/d/sub");
  EXPECT_FALSE(cache.Attributes("/d/sub/x").has_value());
  EXPECT_FALSE(cache.PutAttributes("/d/sub/y", SizeAttributes(1), ticket));
  cache.PutListing("/d/sub", {Entry("y", 1)}, ticket);
  EXPECT_FALSE(cache.KnownAbsent("/d/sub/z"));
}

TEST(MetadataCache, AFailedChangeForgetsTheFolderList) {
  MetadataCache cache(10s);
  cache.PutListing("/d", {Entry("a", 1)}, cache.StartFill());
  cache.Uncertain("/d/b");
  EXPECT_FALSE(cache.KnownAbsent("/d/b"));
}

}  // namespace
}  // namespace tp::telemount
