#include "dns/dns_message.h"

#include <gtest/gtest.h>

#include <random>

namespace tp::dns {
namespace {

DnsName Name(std::string_view text) { return *DnsName::FromText(text); }

std::vector<uint8_t> Header(uint16_t id, uint16_t flags, uint16_t questions, uint16_t answers) {
  return {static_cast<uint8_t>(id >> 8),
          static_cast<uint8_t>(id),
          static_cast<uint8_t>(flags >> 8),
          static_cast<uint8_t>(flags),
          0,
          static_cast<uint8_t>(questions),
          0,
          static_cast<uint8_t>(answers),
          0,
          0,
          0,
          0};
}

void Append(std::vector<uint8_t>& out, std::initializer_list<uint8_t> bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

TEST(DnsName, TextRoundTripAndComparisons) {
  EXPECT_EQ(Name("echo.default").ToText(), "echo.default.");
  EXPECT_EQ(Name("echo.default."), Name("echo.default"));
  EXPECT_TRUE(Name(".").labels.empty());
  EXPECT_EQ(Name("").ToText(), ".");
  EXPECT_FALSE(DnsName::FromText("a..b"));
  EXPECT_FALSE(DnsName::FromText(".a"));
  EXPECT_FALSE(DnsName::FromText("a.."));
  EXPECT_FALSE(DnsName::FromText(std::string(64, 'x')));
  std::string long_name;
  for (int index = 0; index < 64; ++index) long_name += "abc.";
  EXPECT_FALSE(DnsName::FromText(long_name));  // 257 bytes on the wire
  EXPECT_TRUE(Name("Echo.Default.SVC.cluster.local").EndsWith(Name("cluster.LOCAL")));
  EXPECT_FALSE(Name("echo.notcluster.local").EndsWith(Name("xcluster.local")));
  EXPECT_FALSE(Name("local").EndsWith(Name("cluster.local")));
  EXPECT_TRUE(Name("a.b").EndsWith(Name(".")));
  EXPECT_TRUE(Name("ECHO.default").SameAs(Name("echo.DEFAULT")));
  EXPECT_FALSE(Name("echo").SameAs(Name("echo.default")));
  EXPECT_EQ(Name("echo").Append(Name("default.svc")).ToText(), "echo.default.svc.");
}

TEST(DnsMessage, ParsesAQueryAsDigSendsIt) {
  std::vector<uint8_t> bytes = Header(0x1234, 0x0120, 1, 0);
  bytes[11] = 1;  // one additional: EDNS
  Append(bytes, {4, 'e', 'c', 'h', 'o', 7, 'd', 'e', 'f', 'a', 'u', 'l', 't', 0, 0, 1, 0, 1});
  Append(bytes, {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0});  // OPT, 4096 bytes
  const ParsedMessage parsed = ParseMessage(bytes);
  ASSERT_TRUE(parsed.message) << ParseErrorName(parsed.error);
  const Message& message = *parsed.message;
  EXPECT_EQ(message.header.id, 0x1234);
  EXPECT_FALSE(message.header.IsResponse());
  EXPECT_EQ(message.header.Opcode(), 0);
  ASSERT_EQ(message.questions.size(), 1u);
  EXPECT_EQ(message.questions[0].name, Name("echo.default"));
  EXPECT_EQ(message.questions[0].type, kTypeA);
  ASSERT_EQ(message.additionals.size(), 1u);
  EXPECT_EQ(MaxUdpReplySize(message), 4096u);
  EXPECT_EQ(EncodeMessage(message), bytes);
}

TEST(DnsMessage, FollowsCompressionPointersInNamesAndRecordData) {
  // Reply: question echo.default; answer owner = pointer to the question name, CNAME whose
  // target is "x" + pointer to "default"; then an A record owned by that compressed name.
  std::vector<uint8_t> bytes = Header(7, 0x8180, 1, 2);
  Append(bytes, {4, 'e', 'c', 'h', 'o', 7, 'd', 'e', 'f', 'a', 'u', 'l', 't', 0, 0, 5, 0, 1});
  const size_t cname_data = bytes.size() + 12;
  Append(bytes, {0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 30, 0, 4, 1, 'x', 0xc0, 17});
  Append(bytes,
         {0xc0, static_cast<uint8_t>(cname_data), 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 0, 0, 5});
  const ParsedMessage parsed = ParseMessage(bytes);
  ASSERT_TRUE(parsed.message) << ParseErrorName(parsed.error);
  ASSERT_EQ(parsed.message->answers.size(), 2u);
  const Record& cname = parsed.message->answers[0];
  EXPECT_EQ(cname.name, Name("echo.default"));
  EXPECT_EQ(cname.data, (std::vector<uint8_t>{1, 'x', 7, 'd', 'e', 'f', 'a', 'u', 'l', 't', 0}));
  const Record& address = parsed.message->answers[1];
  EXPECT_EQ(address.name, Name("x.default"));
  EXPECT_EQ(address.data, (std::vector<uint8_t>{10, 0, 0, 5}));
  // Encoded uncompressed, it parses back to the same message.
  const ParsedMessage again = ParseMessage(EncodeMessage(*parsed.message));
  ASSERT_TRUE(again.message);
  EXPECT_EQ(*again.message, *parsed.message);
}

TEST(DnsMessage, RejectsPointerLoopsAndForwardPointers) {
  std::vector<uint8_t> self = Header(1, 0, 1, 0);
  Append(self, {0xc0, 12, 0, 1, 0, 1});  // points at itself
  EXPECT_EQ(ParseMessage(self).error, ParseError::kBadPointer);

  std::vector<uint8_t> forward = Header(1, 0, 1, 0);
  Append(forward, {0xc0, 14, 1, 'a', 0, 0, 1, 0, 1});
  EXPECT_EQ(ParseMessage(forward).error, ParseError::kBadPointer);

  // A label then a pointer back to that label: a loop each step of which points backwards
  // from where it stands, but not before the segment it started: refused.
  std::vector<uint8_t> loop = Header(1, 0, 1, 0);
  Append(loop, {1, 'a', 0xc0, 12, 0, 1, 0, 1});
  EXPECT_EQ(ParseMessage(loop).error, ParseError::kBadPointer);
}

TEST(DnsMessage, RejectsMalformedInput) {
  EXPECT_EQ(ParseMessage(std::vector<uint8_t>{1, 2, 3}).error, ParseError::kTruncated);
  EXPECT_FALSE(ParseHeader(std::vector<uint8_t>(11)));

  std::vector<uint8_t> cut = Header(1, 0, 1, 0);
  Append(cut, {4, 'e', 'c', 'h', 'o', 9, 'd'});
  EXPECT_EQ(ParseMessage(cut).error, ParseError::kTruncated);

  std::vector<uint8_t> bad_label = Header(1, 0, 1, 0);
  Append(bad_label, {0x40, 'a', 0, 0, 1, 0, 1});
  EXPECT_EQ(ParseMessage(bad_label).error, ParseError::kBadLabel);

  std::vector<uint8_t> too_long = Header(1, 0, 1, 0);
  for (int index = 0; index < 5; ++index) {
    too_long.push_back(63);
    too_long.insert(too_long.end(), 63, 'x');
  }
  Append(too_long, {0, 0, 1, 0, 1});
  EXPECT_EQ(ParseMessage(too_long).error, ParseError::kNameTooLong);

  std::vector<uint8_t> many = Header(1, 0, 0xff, 0);  // 255 questions in 6 bytes
  Append(many, {0, 0, 1, 0, 1, 0});
  EXPECT_EQ(ParseMessage(many).error, ParseError::kTooManyEntries);

  std::vector<uint8_t> bad_cname = Header(1, 0x8000, 0, 1);  // CNAME data longer than its name
  Append(bad_cname, {0, 0, 5, 0, 1, 0, 0, 0, 1, 0, 3, 0, 0, 0});
  EXPECT_EQ(ParseMessage(bad_cname).error, ParseError::kBadRecordData);

  std::vector<uint8_t> short_a = Header(1, 0x8000, 0, 1);  // RDATA length past the end
  Append(short_a, {0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 10, 0});
  EXPECT_EQ(ParseMessage(short_a).error, ParseError::kTruncated);
}

TEST(DnsMessage, RepliesEchoTheQuestion) {
  Message query = MakeQuery(0xabcd, Name("nowhere.svc.cluster.local"), kTypeAaaa);
  const ParsedMessage reply = ParseMessage(EncodeMessage(MakeReply(query, Rcode::kNxDomain)));
  ASSERT_TRUE(reply.message);
  EXPECT_EQ(reply.message->header.id, 0xabcd);
  EXPECT_TRUE(reply.message->header.IsResponse());
  EXPECT_EQ(reply.message->header.rcode(), Rcode::kNxDomain);
  EXPECT_TRUE(reply.message->header.flags & Header::kRecursionDesiredBit);
  EXPECT_EQ(reply.message->questions, query.questions);

  const std::vector<uint8_t> formerr = MakeHeaderOnlyReply(query.header, Rcode::kFormErr);
  ASSERT_EQ(formerr.size(), kHeaderSize);
  EXPECT_EQ(ParseHeader(formerr)->rcode(), Rcode::kFormErr);
  EXPECT_EQ(ParseHeader(formerr)->question_count, 0);

  Message big = MakeReply(query, Rcode::kNoError);
  for (int index = 0; index < 40; ++index) {
    big.answers.push_back(MakeAddressRecord(query.questions[0].name, {10, 0, 0, 1}, 5));
  }
  EXPECT_GT(EncodeMessage(big).size(), kClassicUdpPayload);
  const ParsedMessage truncated = ParseMessage(MakeTruncatedReply(big));
  ASSERT_TRUE(truncated.message);
  EXPECT_TRUE(truncated.message->header.flags & Header::kTruncatedBit);
  EXPECT_TRUE(truncated.message->answers.empty());
  EXPECT_EQ(truncated.message->questions, query.questions);
}

// Whatever the bytes, parsing ends without reading out of bounds (ASan watches), and what
// parses re-encodes to something that parses to the same message.
TEST(DnsMessage, FuzzedInputNeverBreaksTheParser) {
  std::mt19937 random(20261123);
  Message seed =
      MakeReply(MakeQuery(9, Name("echo.default.svc.cluster.local"), kTypeA), Rcode::kNoError);
  seed.answers.push_back(
      MakeAddressRecord(Name("echo.default.svc.cluster.local"), {1, 2, 3, 4}, 9));
  seed.answers.push_back(Record{Name("x.cluster.local"),
                                kTypeCname,
                                kClassIn,
                                5,
                                {1, 'y', 0xc0, 12}});  // a compressed CNAME target
  const std::vector<uint8_t> valid = EncodeMessage(seed);
  int parsed_count = 0;
  for (int round = 0; round < 20000; ++round) {
    std::vector<uint8_t> bytes;
    if (round % 2 == 0) {
      bytes = valid;
      const int flips = 1 + static_cast<int>(random() % 6);
      for (int flip = 0; flip < flips; ++flip) {
        bytes[random() % bytes.size()] = static_cast<uint8_t>(random());
      }
      if (random() % 4 == 0) bytes.resize(random() % bytes.size());
    } else {
      bytes.resize(random() % 120);
      for (uint8_t& byte : bytes) byte = static_cast<uint8_t>(random() % 4 == 0 ? 0xc0 : random());
    }
    const ParsedMessage parsed = ParseMessage(bytes);
    if (!parsed.message) continue;
    ++parsed_count;
    const std::vector<uint8_t> encoded = EncodeMessage(*parsed.message);
    ASSERT_FALSE(encoded.empty());
    const ParsedMessage again = ParseMessage(encoded);
    ASSERT_TRUE(again.message) << ParseErrorName(again.error);
    EXPECT_EQ(*again.message, *parsed.message);
  }
  EXPECT_GT(parsed_count, 100);
}

}  // namespace
}  // namespace tp::dns
