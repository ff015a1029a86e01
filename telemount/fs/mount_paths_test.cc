// The pure path helpers of SftpFileSystem: which remote path a mount path names, including the
// volume roots under the hidden folder.
#include "telemount/fs/mount_paths.h"

#include <gtest/gtest.h>

namespace tp::telemount {
namespace {

TEST(PlaceOf, TellsTheHiddenFolderItsVolumeRootsAndWhatIsInside) {
  EXPECT_EQ(PlaceOf("/a/b"), Place::kOrdinary);
  EXPECT_EQ(PlaceOf("/.telemount-volumesX"), Place::kOrdinary);
  EXPECT_EQ(PlaceOf("/.telemount-volumes"), Place::kVolumesFolder);
  EXPECT_EQ(PlaceOf("/.telemount-volumes/"), Place::kVolumesFolder);
  EXPECT_EQ(PlaceOf("/.telemount-volumes/%2Fsrv"), Place::kVolumeRoot);
  EXPECT_EQ(PlaceOf("/.telemount-volumes/%2Fsrv/x"), Place::kInsideVolume);
  EXPECT_TRUE(IsFixed("/.telemount-volumes/%2Fsrv"));
  EXPECT_FALSE(IsFixed("/.telemount-volumes/%2Fsrv/x"));
}

TEST(RemotePathOf, MapsMountPathsUnderTheRemoteRoot) {
  EXPECT_EQ(RemotePathOf("", "/"), "/");
  EXPECT_EQ(RemotePathOf("", "/a/b"), "/a/b");
  EXPECT_EQ(RemotePathOf("/srv", "/"), "/srv");
  EXPECT_EQ(RemotePathOf("/srv", "/a"), "/srv/a");
}

TEST(RemotePathOf, AVolumeRootNamesItsDecodedFolder) {
  EXPECT_EQ(RemotePathOf("", "/.telemount-volumes/%2Fdata%2Fx"), "/data/x");
  EXPECT_EQ(RemotePathOf("", "/.telemount-volumes/%2Fdata/f"), "/data/f");
  EXPECT_EQ(RemotePathOf("/srv", "/.telemount-volumes/%2Fdata"), "/srv/data");
  EXPECT_EQ(RemotePathOf("/srv", "/.telemount-volumes/%2F"), "/srv");
  EXPECT_EQ(RemotePathOf("", "/.telemount-volumes/a%25b"), "/a%b");
}

TEST(ParentOf, IsTheFolderOfAPath) {
  EXPECT_EQ(ParentOf("/a/b"), "/a");
  EXPECT_EQ(ParentOf("/a"), "/");
}

}  // namespace
}  // namespace tp::telemount
