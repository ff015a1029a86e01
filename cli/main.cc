// The `telepresence` command. All logic lives in app.cc; main only hands over the process's
// arguments, streams and environment.
#include <iostream>
#include <string>
#include <vector>

#include "cli/app.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  tp::cli::CliIo io{std::cout, std::cerr, tp::cli::ProcessEnvironment};
  return tp::cli::RunTelepresence(args, io);
}
