#include "cli/engagement_guard.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "cli/docker_engine_api.h"
#include "net/unique_fd.h"

namespace tp::cli {
namespace {

using std::chrono::milliseconds;

// How long a handler container that is still being created is waited for.
constexpr milliseconds kCreatedDeadline{30000};
// What the command writes to its guardian when it cleaned up itself.
constexpr char kReleased = 'R';

bool HandlerStillRuns(const std::optional<std::string>& state) {
  return state && (*state == "running" || *state == "restarting" || *state == "paused");
}

void RemoveVolumes(const std::vector<std::string>& volumes, DockerApi& docker, Clock& clock) {
  // A volume that does not go is left for `telepresence quit`, which removes what is left.
  for (const std::string& volume : volumes) RemoveVolumeWithin(docker, clock, volume);
}

class ForkedEngagementGuard : public EngagementGuard {
 public:
  explicit ForkedEngagementGuard(UniqueFd release) : release_(std::move(release)) {}
  ~ForkedEngagementGuard() override {
    const char released = kReleased;
    // Nothing to do on failure: the guardian then finds no handler and ends what is left.
    [[maybe_unused]] ssize_t written = ::write(release_.Get(), &released, 1);
  }

 private:
  UniqueFd release_;
};

// The guardian process: returns when the command released it or died.
bool CommandDied(int release_fd) {
  char byte = 0;
  while (true) {
    ssize_t got = ::read(release_fd, &byte, 1);
    if (got == 1) return byte != kReleased;
    if (got == 0) return true;
    if (errno != EINTR) return true;
  }
}

[[noreturn]] void RunGuardian(int release_fd, const GuardedEngagement& engagement) {
  // Quiet and detached: the terminal may be gone; the folder may be unmounted.
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    for (int fd : {0, 1, 2}) ::dup2(null, fd);
  }
  [[maybe_unused]] int changed = ::chdir("/");
  if (!CommandDied(release_fd)) ::_exit(0);
  std::unique_ptr<DockerEngineApi> docker = DockerEngineApi::FromEnvironment();
  HttpDaemonControl control(engagement.daemon);
  SystemClock clock;
  UndoAbandonedEngagement(engagement, *docker, control, clock);
  ::_exit(0);
}

}  // namespace

void UndoAbandonedEngagement(const GuardedEngagement& engagement, DockerApi& docker,
                             DaemonControl& control, Clock& clock) {
  const SteadyTime created_deadline = clock.Now() + kCreatedDeadline;
  while (true) {
    Result<std::optional<std::string>> state = docker.ContainerState(engagement.handler);
    if (!state.ok()) break;  // Docker does not answer: nothing to wait for
    const bool being_created = state.value() && *state.value() == "created";
    if (!HandlerStillRuns(state.value()) && !(being_created && clock.Now() < created_deadline)) {
      break;
    }
    clock.SleepFor(kGuardPollInterval);
  }
  [[maybe_unused]] Result<nlohmann::json> left =
      control.Call("DELETE", "/engagements/" + engagement.engagement_id, nullptr);
  [[maybe_unused]] Status removed = docker.Remove(DockerResource::kContainer, {engagement.handler});
  RemoveVolumes(engagement.volumes, docker, clock);
  if (!engagement.env_file.empty()) {
    std::error_code ignored;
    std::filesystem::remove(engagement.env_file, ignored);
  }
}

Result<std::unique_ptr<EngagementGuard>> StartForkedEngagementGuard(
    const GuardedEngagement& engagement) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return CliError{std::string("cannot make a pipe for the engagement's guardian: ") +
                    std::strerror(errno)};
  }
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) {
    return CliError{std::string("cannot start the engagement's guardian: ") + std::strerror(errno)};
  }
  if (pid == 0) {
    write_end.Reset();
    // A session of its own: the terminal's SIGHUP and the shell's job control pass it by.
    ::setsid();
    // Not reaped by the command: a second fork leaves the guardian to init.
    const pid_t guardian = ::fork();
    if (guardian != 0) ::_exit(0);
    RunGuardian(read_end.Get(), engagement);
  }
  read_end.Reset();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return std::unique_ptr<EngagementGuard>(
      std::make_unique<ForkedEngagementGuard>(std::move(write_end)));
}

}  // namespace tp::cli
