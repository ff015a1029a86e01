#include "common/shutdown_signal.h"

#include <pthread.h>
#include <unistd.h>

namespace tp {

ShutdownSignal::ShutdownSignal() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
  // A write to a peer that went away must be an error, never a process kill.
  std::signal(SIGPIPE, SIG_IGN);
}

ShutdownSignal::~ShutdownSignal() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

int ShutdownSignal::Wait() {
  int number = 0;
  while (sigwait(&signals_, &number) != 0) {
  }
  return number;
}

void ShutdownSignal::Trigger() { ::kill(::getpid(), SIGTERM); }

}  // namespace tp
