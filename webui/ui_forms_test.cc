#include "webui/ui_forms.h"

#include <gtest/gtest.h>

namespace tp::webui {
namespace {

TEST(DecodeEngageForm, ReadsEveryFieldAndKeepsWordsWhole) {
  Decoded<EngageForm> decoded = DecodeEngageForm(R"({"context":"c1","workload":"echo",
      "mode":"intercept","ports":["8080:9090"],"image":"my-echo:dev",
      "docker_args":["-e","GREETING=hello world; rm -rf /"],"args":["--verbose"]})");
  ASSERT_TRUE(decoded.form) << decoded.error;
  const EngageForm& form = *decoded.form;
  EXPECT_EQ(form.context, "c1");
  EXPECT_EQ(form.workload, "echo");
  EXPECT_EQ(form.mode, "intercept");
  EXPECT_EQ(form.ports, std::vector<std::string>{"8080:9090"});
  EXPECT_EQ(form.image, "my-echo:dev");
  EXPECT_EQ(form.docker_args, (std::vector<std::string>{"-e", "GREETING=hello world; rm -rf /"}));
  EXPECT_EQ(form.args, std::vector<std::string>{"--verbose"});
}

TEST(DecodeEngageForm, TheContextDefaults) {
  Decoded<EngageForm> decoded =
      DecodeEngageForm(R"({"workload":"echo","mode":"replace","image":"x"})");
  ASSERT_TRUE(decoded.form) << decoded.error;
  EXPECT_EQ(decoded.form->context, "default");
}

TEST(DecodeEngageForm, SaysWhichFieldIsWrong) {
  struct Case {
    const char* body;
    const char* error;
  };
  for (const Case& c : {
           Case{"[]", "the body must be a JSON object"},
           Case{"{not json", "the body must be a JSON object"},
           Case{R"({"mode":"replace","image":"x"})", "\"workload\" is missing"},
           Case{R"({"workload":"echo","mode":"steal","image":"x"})",
                "\"mode\" must be replace, intercept, ingest or wiretap"},
           Case{R"({"workload":"echo","mode":"replace"})",
                "give either \"image\" or \"build_folder\", not both or neither"},
           Case{R"({"workload":"echo","mode":"replace","image":"x","build_folder":"/d"})",
                "give either \"image\" or \"build_folder\", not both or neither"},
           Case{R"({"workload":"echo","mode":"replace","image":"x","docker_args":"-e X=1"})",
                "\"docker_args\" must be an array of strings"},
           Case{R"({"workload":"echo","mode":"replace","image":"x","args":[1]})",
                "\"args\" must be an array of strings"},
           Case{R"({"workload":"echo","mode":"replace","image":"x\u0000y"})",
                "\"image\" must be a string"},
           Case{R"({"workload":7,"mode":"replace","image":"x"})", "\"workload\" must be a string"},
       }) {
    Decoded<EngageForm> decoded = DecodeEngageForm(c.body);
    EXPECT_FALSE(decoded.form) << c.body;
    EXPECT_EQ(decoded.error, c.error) << c.body;
  }
}

TEST(DecodeEngageForm, CapsTheNumberOfWords) {
  nlohmann::json body = {{"workload", "echo"}, {"mode", "replace"}, {"image", "x"}};
  body["docker_args"] = std::vector<std::string>(257, "-q");
  Decoded<EngageForm> decoded = DecodeEngageForm(body.dump());
  EXPECT_FALSE(decoded.form);
  EXPECT_EQ(decoded.error, "\"docker_args\" has more than 256 words");
}

TEST(DecodeContextForm, AnEmptyBodyMeansTheDefaultContext) {
  Decoded<ContextForm> decoded = DecodeContextForm("");
  ASSERT_TRUE(decoded.form);
  EXPECT_EQ(decoded.form->context, "default");
  EXPECT_FALSE(DecodeContextForm(R"({"context":["a"]})").form);
}

TEST(DecodeDockerRunForm, NeedsAnImage) {
  EXPECT_EQ(DecodeDockerRunForm("{}").error, "\"image\" is missing");
  Decoded<DockerRunForm> decoded =
      DecodeDockerRunForm(R"({"image":"tp-busybox","args":["sh","-c","echo $HOME"]})");
  ASSERT_TRUE(decoded.form);
  EXPECT_EQ(decoded.form->args, (std::vector<std::string>{"sh", "-c", "echo $HOME"}));
}

}  // namespace
}  // namespace tp::webui
