// HandlePredictor on scripted conversations: the replies are those OpenSSH's sftp-server gives
// (sftp_session_test checks the predictions against the real server).
#include "sftp/handle_predictor.h"

#include <gtest/gtest.h>

#include <vector>

#include "sftp/sftp_protocol.h"

namespace tp::sftp {
namespace {

std::vector<uint8_t> Bytes(const std::string& text) { return {text.begin(), text.end()}; }

std::vector<uint8_t> HandleReply(uint32_t id, uint32_t index) {
  PacketWriter writer(PacketType::kHandle);
  writer.U32(id).String(HandlePredictor::Encode(index));
  std::vector<uint8_t> packet = std::move(writer).Finish();
  return {packet.begin() + 4, packet.end()};  // after the length field
}

std::vector<uint8_t> StatusReply(uint32_t id, StatusCode status) {
  PacketWriter writer(PacketType::kStatus);
  writer.U32(id).U32(static_cast<uint32_t>(status)).String("").String("");
  std::vector<uint8_t> packet = std::move(writer).Finish();
  return {packet.begin() + 4, packet.end()};
}

class HandlePredictorTest : public ::testing::Test {
 protected:
  // The first open is not predicted; its answer confirms the model. It keeps handle 0.
  void SetUp() override {
    EXPECT_EQ(Open(100), "none");
    Opened(100, 0);
  }
  std::string Open(uint32_t id) { return predictor_.OpenSent(id).value_or("none"); }
  void Close(uint32_t id, uint32_t index) {
    predictor_.CloseSent(id, Bytes(HandlePredictor::Encode(index)));
  }
  void Opened(uint32_t id, uint32_t index) { predictor_.ReplyReceived(id, HandleReply(id, index)); }
  void Answered(uint32_t id, StatusCode status) {
    predictor_.ReplyReceived(id, StatusReply(id, status));
  }

  HandlePredictor predictor_;
};

std::string H(uint32_t index) { return HandlePredictor::Encode(index); }

TEST_F(HandlePredictorTest, HandlesAreNumberedUpFromTheFirst) {
  EXPECT_EQ(Open(1), H(1));
  EXPECT_EQ(Open(2), H(2));
  Opened(1, 1);
  Opened(2, 2);
  EXPECT_EQ(Open(3), H(3));
  EXPECT_TRUE(predictor_.enabled());
}

TEST_F(HandlePredictorTest, AnOpenTakesTheHandleClosedLast) {
  EXPECT_EQ(Open(1), H(1));
  EXPECT_EQ(Open(2), H(2));
  EXPECT_EQ(Open(3), H(3));
  Close(4, 1);
  Close(5, 3);
  // Closes still in flight count: the server gets them before the next open.
  EXPECT_EQ(Open(6), H(3));
  EXPECT_EQ(Open(7), H(1));
  EXPECT_EQ(Open(8), H(4));
  Opened(1, 1);
  Opened(2, 2);
  Opened(3, 3);
  Answered(4, StatusCode::kOk);
  Answered(5, StatusCode::kOk);
  Opened(6, 3);
  Opened(7, 1);
  Opened(8, 4);
  EXPECT_EQ(predictor_.in_flight(), 0u);
  EXPECT_TRUE(predictor_.enabled());
}

TEST_F(HandlePredictorTest, AFailedOpenMakesLaterPredictionsWrongOnlyUntilItsAnswer) {
  EXPECT_EQ(Open(1), H(1));  // will fail: no such file
  EXPECT_EQ(Open(2), H(2));  // the server gives it 1: this prediction was wrong
  Answered(1, StatusCode::kNoSuchFile);
  // Known now: the open in flight takes 1, so the next takes 2.
  EXPECT_EQ(Open(3), H(2));
  Opened(2, 1);
  Opened(3, 2);
  EXPECT_EQ(Open(4), H(3));
  EXPECT_TRUE(predictor_.enabled());
}

TEST_F(HandlePredictorTest, RepliesToOtherRequestsAreIgnored) {
  EXPECT_EQ(Open(1), H(1));
  predictor_.ReplyReceived(7, StatusReply(7, StatusCode::kOk));  // say, a SETSTAT not followed
  Opened(1, 1);
  EXPECT_EQ(Open(2), H(2));
  EXPECT_TRUE(predictor_.enabled());
}

TEST_F(HandlePredictorTest, AServerThatNumbersOtherwiseTurnsPredictionOff) {
  EXPECT_EQ(Open(1), H(1));
  Opened(1, 6);
  EXPECT_FALSE(predictor_.enabled());
  EXPECT_EQ(Open(2), "none");
}

TEST_F(HandlePredictorTest, LongHandlesTurnPredictionOff) {
  Open(1);
  PacketWriter writer(PacketType::kHandle);
  writer.U32(1).String("a-handle-of-another-server");
  std::vector<uint8_t> packet = std::move(writer).Finish();
  predictor_.ReplyReceived(1, {packet.begin() + 4, packet.end()});
  EXPECT_FALSE(predictor_.enabled());
}

TEST_F(HandlePredictorTest, AFailedCloseTurnsPredictionOff) {
  Open(1);
  Opened(1, 1);
  Close(2, 1);
  Answered(2, StatusCode::kFailure);
  EXPECT_FALSE(predictor_.enabled());
  EXPECT_EQ(Open(3), "none");
}

TEST_F(HandlePredictorTest, AReplyThatOvertakesAFollowedRequestTurnsPredictionOff) {
  Open(1);
  Open(2);
  Opened(2, 2);
  EXPECT_FALSE(predictor_.enabled());
}

TEST(HandlePredictor, NothingIsPredictedBeforeAnAnswerConfirmsTheModel) {
  HandlePredictor predictor;
  EXPECT_FALSE(predictor.OpenSent(1).has_value());
  EXPECT_FALSE(predictor.OpenSent(2).has_value()) << "still unconfirmed";
  predictor.ReplyReceived(1, HandleReply(1, 0));
  EXPECT_EQ(predictor.OpenSent(3), HandlePredictor::Encode(2));
}

TEST_F(HandlePredictorTest, HandlesAreFourBigEndianBytes) {
  EXPECT_EQ(HandlePredictor::Encode(0x01020304), std::string("\x01\x02\x03\x04", 4));
}

}  // namespace
}  // namespace tp::sftp
