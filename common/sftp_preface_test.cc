#include "common/sftp_preface.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "common/secret.h"
#include "net/unique_fd.h"

namespace tp {
namespace {

using std::chrono::milliseconds;

struct SocketPair {
  UniqueFd client;
  UniqueFd server;
};

SocketPair Connected() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void Send(int fd, const std::string& bytes) {
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

std::string Token() {
  std::string error;
  const auto token = NewSecretToken(error);
  EXPECT_TRUE(token) << error;
  return token.value_or("");
}

TEST(SecretTokenTest, FreshTokensHaveTheShapeAndDiffer) {
  const std::string first = Token();
  const std::string second = Token();
  EXPECT_TRUE(IsSecretToken(first)) << first;
  EXPECT_EQ(first.size(), kSecretTokenLength);
  EXPECT_NE(first, second);
}

TEST(SecretTokenTest, ShapeIsCheckedExactly) {
  EXPECT_FALSE(IsSecretToken(""));
  EXPECT_FALSE(IsSecretToken(std::string(kSecretTokenLength - 1, 'a')));
  EXPECT_FALSE(IsSecretToken(std::string(kSecretTokenLength, 'A')));
  EXPECT_FALSE(IsSecretToken(std::string(kSecretTokenLength - 1, 'a') + "\n"));
  EXPECT_TRUE(IsSecretToken(std::string(kSecretTokenLength, '0')));
}

TEST(SecretTokenTest, SameSecretComparesWholeTexts) {
  EXPECT_TRUE(SameSecret("abc", "abc"));
  EXPECT_FALSE(SameSecret("abd", "abc"));
  EXPECT_FALSE(SameSecret("ab", "abc"));
  EXPECT_FALSE(SameSecret("abcd", "abc"));
  EXPECT_FALSE(SameSecret("", "abc"));
  EXPECT_TRUE(SameSecret("secret", "secret"));
  EXPECT_FALSE(SameSecret("secret", "secreT"));
  EXPECT_FALSE(SameSecret("secret", "secret2"));
  EXPECT_FALSE(SameSecret("", "x"));
  EXPECT_TRUE(SameSecret("", ""));
}

TEST(SftpPrefaceTest, TheRightPrefaceIsTakenAndNothingAfterIt) {
  const std::string token = Token();
  SocketPair pair = Connected();
  const std::string init("\0\0\0\5\1\0\0\0\3", 9);
  Send(pair.client.Get(), SftpPreface(token) + init);
  EXPECT_EQ(ExpectSftpPreface(pair.server.Get(), token), "");
  char rest[32];
  ASSERT_EQ(::read(pair.server.Get(), rest, sizeof rest), 9);
  EXPECT_EQ(std::string(rest, 9), init);
}

TEST(SftpPrefaceTest, APrefaceInSmallPiecesIsTaken) {
  const std::string token = Token();
  SocketPair pair = Connected();
  const std::string preface = SftpPreface(token);
  ASSERT_EQ(preface.size(), kSftpPrefaceSize);
  Send(pair.client.Get(), preface.substr(0, 5));
  Send(pair.client.Get(), preface.substr(5));
  EXPECT_EQ(ExpectSftpPreface(pair.server.Get(), token), "");
}

TEST(SftpPrefaceTest, AWrongTokenIsRefused) {
  SocketPair pair = Connected();
  Send(pair.client.Get(), SftpPreface(Token()));
  EXPECT_EQ(ExpectSftpPreface(pair.server.Get(), Token()), "a wrong token in its preface");
}

TEST(SftpPrefaceTest, SftpWithoutPrefaceIsRefused) {
  SocketPair pair = Connected();
  // A plain SFTP client's INIT, padded to the preface's length by a long first packet.
  Send(pair.client.Get(), std::string("\0\0\0\5\1\0\0\0\3", 9) + std::string(40, 'x'));
  EXPECT_EQ(ExpectSftpPreface(pair.server.Get(), Token()), "a wrong token in its preface");
}

TEST(SftpPrefaceTest, ASilentClientIsRefusedAtTheDeadline) {
  SocketPair pair = Connected();
  Send(pair.client.Get(), "tp-sftp ");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(ExpectSftpPreface(pair.server.Get(), Token(), milliseconds(200)),
            "no preface within 200 ms");
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, milliseconds(190));
  EXPECT_LT(waited, milliseconds(2000));
}

TEST(SftpPrefaceTest, AClientThatLeavesEarlyIsRefused) {
  SocketPair pair = Connected();
  Send(pair.client.Get(), "tp-sftp 0123");
  pair.client.Reset();
  EXPECT_EQ(ExpectSftpPreface(pair.server.Get(), Token()),
            "the connection ended before its preface");
}

}  // namespace
}  // namespace tp
