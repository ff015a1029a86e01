#include "cli/docker_run_args.h"

#include <algorithm>
#include <array>
#include <utility>

namespace tp::cli {
namespace {

// docker run's flags that take a value (docker 20.10 to 28), by long name.
constexpr std::string_view kValueFlags[] = {"--add-host",
                                            "--annotation",
                                            "--attach",
                                            "--blkio-weight",
                                            "--blkio-weight-device",
                                            "--cap-add",
                                            "--cap-drop",
                                            "--cgroup-parent",
                                            "--cgroupns",
                                            "--cidfile",
                                            "--cpu-count",
                                            "--cpu-percent",
                                            "--cpu-period",
                                            "--cpu-quota",
                                            "--cpu-rt-period",
                                            "--cpu-rt-runtime",
                                            "--cpu-shares",
                                            "--cpus",
                                            "--cpuset-cpus",
                                            "--cpuset-mems",
                                            "--detach-keys",
                                            "--device",
                                            "--device-cgroup-rule",
                                            "--device-read-bps",
                                            "--device-read-iops",
                                            "--device-write-bps",
                                            "--device-write-iops",
                                            "--dns",
                                            "--dns-opt",
                                            "--dns-option",
                                            "--dns-search",
                                            "--domainname",
                                            "--entrypoint",
                                            "--env",
                                            "--env-file",
                                            "--expose",
                                            "--gpus",
                                            "--group-add",
                                            "--health-cmd",
                                            "--health-interval",
                                            "--health-retries",
                                            "--health-start-interval",
                                            "--health-start-period",
                                            "--health-timeout",
                                            "--hostname",
                                            "--io-maxbandwidth",
                                            "--io-maxiops",
                                            "--ip",
                                            "--ip6",
                                            "--ipc",
                                            "--isolation",
                                            "--kernel-memory",
                                            "--label",
                                            "--label-file",
                                            "--link",
                                            "--link-local-ip",
                                            "--log-driver",
                                            "--log-opt",
                                            "--mac-address",
                                            "--memory",
                                            "--memory-reservation",
                                            "--memory-swap",
                                            "--memory-swappiness",
                                            "--mount",
                                            "--name",
                                            "--net",
                                            "--net-alias",
                                            "--network",
                                            "--network-alias",
                                            "--oom-score-adj",
                                            "--pid",
                                            "--pids-limit",
                                            "--platform",
                                            "--publish",
                                            "--pull",
                                            "--restart",
                                            "--runtime",
                                            "--security-opt",
                                            "--shm-size",
                                            "--stop-signal",
                                            "--stop-timeout",
                                            "--storage-opt",
                                            "--sysctl",
                                            "--tmpfs",
                                            "--ulimit",
                                            "--user",
                                            "--userns",
                                            "--uts",
                                            "--volume",
                                            "--volume-driver",
                                            "--volumes-from",
                                            "--workdir"};

// Short flags and their long names; `takes_value` as in kValueFlags.
struct ShortFlag {
  char letter;
  std::string_view long_name;
  bool takes_value;
};
constexpr std::array kShortFlags{
    ShortFlag{'a', "--attach", true},       ShortFlag{'c', "--cpu-shares", true},
    ShortFlag{'d', "--detach", false},      ShortFlag{'e', "--env", true},
    ShortFlag{'h', "--hostname", true},     ShortFlag{'i', "--interactive", false},
    ShortFlag{'l', "--label", true},        ShortFlag{'m', "--memory", true},
    ShortFlag{'P', "--publish-all", false}, ShortFlag{'p', "--publish", true},
    ShortFlag{'q', "--quiet", false},       ShortFlag{'t', "--tty", false},
    ShortFlag{'u', "--user", true},         ShortFlag{'v', "--volume", true},
    ShortFlag{'w', "--workdir", true},
};

bool TakesValue(std::string_view long_name) {
  return std::find(std::begin(kValueFlags), std::end(kValueFlags), long_name) !=
         std::end(kValueFlags);
}

const ShortFlag* FindShort(char letter) {
  auto found = std::find_if(kShortFlags.begin(), kShortFlags.end(),
                            [letter](const ShortFlag& flag) { return flag.letter == letter; });
  return found == kShortFlags.end() ? nullptr : &*found;
}

bool IsFlagWord(std::string_view word) { return word.size() >= 2 && word.front() == '-'; }

// Reads the flag at words[i] into `out`; returns how many words it used (1 or 2).
size_t ReadFlag(const std::vector<std::string>& words, size_t i, std::vector<DockerRunFlag>* out) {
  const std::string& word = words[i];
  auto next_value = [&]() -> std::optional<std::string> {
    if (i + 1 < words.size()) return words[i + 1];
    return std::nullopt;
  };
  if (word.starts_with("--")) {
    size_t equals = word.find('=');
    std::string name = word.substr(0, equals);
    if (equals != std::string::npos) {
      out->push_back({name, word.substr(equals + 1)});
      return 1;
    }
    if (!TakesValue(name)) {
      out->push_back({name, std::nullopt});
      return 1;
    }
    out->push_back({name, next_value()});
    return 2;
  }
  for (size_t letter = 1; letter < word.size(); ++letter) {
    const ShortFlag* flag = FindShort(word[letter]);
    if (flag == nullptr) {
      out->push_back({word.substr(0, 1) + word[letter], std::nullopt});
      continue;
    }
    if (!flag->takes_value) {
      out->push_back({std::string(flag->long_name), std::nullopt});
      continue;
    }
    std::string rest = word.substr(letter + 1);
    if (!rest.empty()) {
      if (rest.front() == '=') rest.erase(0, 1);
      out->push_back({std::string(flag->long_name), rest});
      return 1;
    }
    out->push_back({std::string(flag->long_name), next_value()});
    return 2;
  }
  return 1;
}

// "type=bind,source=/a,target=/b" -> "/b"
std::optional<std::string> MountTarget(std::string_view spec) {
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view field = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    size_t equals = field.find('=');
    if (equals == std::string_view::npos) continue;
    std::string_view key = field.substr(0, equals);
    if (key == "target" || key == "dst" || key == "destination") {
      return std::string(field.substr(equals + 1));
    }
  }
  return std::nullopt;
}

// "SRC:DST[:OPTS]" or "DST" -> DST
std::string VolumeTarget(std::string_view spec) {
  size_t first = spec.find(':');
  if (first == std::string_view::npos) return std::string(spec);
  std::string_view rest = spec.substr(first + 1);
  return std::string(rest.substr(0, rest.find(':')));
}

}  // namespace

Result<DockerRunArgs> SplitDockerRunArgs(const std::vector<std::string>& words) {
  std::vector<DockerRunFlag> ignored;
  size_t i = 0;
  while (i < words.size() && IsFlagWord(words[i])) i += ReadFlag(words, i, &ignored);
  if (i >= words.size()) {
    return CliError{
        "no image among the docker run words after --; put the image after docker "
        "run's flags, e.g. -- --rm -e DEBUG=1 my-image:dev"};
  }
  DockerRunArgs split;
  split.flags.assign(words.begin(), words.begin() + static_cast<ptrdiff_t>(i));
  split.image = words[i];
  split.image_args.assign(words.begin() + static_cast<ptrdiff_t>(i) + 1, words.end());
  split.options = ReadDockerRunOptions(ReadDockerRunFlags(split.flags));
  return split;
}

std::vector<DockerRunFlag> ReadDockerRunFlags(const std::vector<std::string>& flags) {
  std::vector<DockerRunFlag> read;
  for (size_t i = 0; i < flags.size();) {
    if (!IsFlagWord(flags[i])) {
      ++i;
      continue;
    }
    i += ReadFlag(flags, i, &read);
  }
  return read;
}

DockerRunOptions ReadDockerRunOptions(const std::vector<DockerRunFlag>& flags) {
  DockerRunOptions options;
  const std::pair<std::string_view, std::vector<std::string>*> lists[] = {
      {"--env", &options.env},         {"--env-file", &options.env_files},
      {"--volume", &options.volumes},  {"--mount", &options.mounts},
      {"--publish", &options.publish},
  };
  const std::pair<std::string_view, std::optional<std::string>*> singles[] = {
      {"--name", &options.name},
      {"--network", &options.network},
      {"--net", &options.network},
      {"--entrypoint", &options.entrypoint},
  };
  const std::pair<std::string_view, bool*> switches[] = {
      {"--detach", &options.detach},
      {"--interactive", &options.interactive},
      {"--tty", &options.tty},
  };
  for (const DockerRunFlag& flag : flags) {
    if (flag.name == "--rm") options.remove = flag.value.value_or("true") != "false";
    for (const auto& [name, target] : switches) {
      if (flag.name == name) *target = flag.value.value_or("true") != "false";
    }
    if (!flag.value) continue;
    for (const auto& [name, target] : lists) {
      if (flag.name == name) target->push_back(*flag.value);
    }
    for (const auto& [name, target] : singles) {
      if (flag.name == name) *target = *flag.value;
    }
  }
  options.mounted_paths = MountedContainerPaths(flags);
  return options;
}

std::vector<std::string> MountedContainerPaths(const std::vector<DockerRunFlag>& flags) {
  std::vector<std::string> paths;
  for (const DockerRunFlag& flag : flags) {
    if (!flag.value) continue;
    std::optional<std::string> target;
    if (flag.name == "--volume") target = VolumeTarget(*flag.value);
    if (flag.name == "--mount") target = MountTarget(*flag.value);
    if (flag.name == "--tmpfs") target = flag.value->substr(0, flag.value->find(':'));
    if (target && !target->empty()) paths.push_back(WithoutTrailingSlashes(*target));
  }
  return paths;
}

std::string WithoutTrailingSlashes(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return std::string(path);
}

}  // namespace tp::cli
