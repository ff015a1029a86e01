#include "cli/command_help.h"

namespace tp::cli {
namespace {

constexpr std::string_view kConnectHelp =
    R"help(Usage: telepresence connect [--docker] [--context NAME] [--manager HOST:PORT]
                                     [--timeout SECONDS] [--docker-subnet CIDR]
                                     [--plugin-registry HOST[:PORT][/PATH]] [--upgrade-plugins]

With --docker (the rest of this text until "Without --docker"):

Starts the daemon container tp-<context>-cn on Docker's default bridge network and waits until
it is connected to the cluster's traffic-manager and serves DNS for cluster names. Builds the
images tp-daemon:latest and tp-curl:latest first when they are missing (from a build tree; else
run make images). The Docker plugins teleroute:latest and telemount:latest must be installed,
enabled and of this telepresence's version (telepresence version): a missing one is installed
from the plugin registry (--plugin-registry, or "plugin_registry" in
${XDG_CONFIG_HOME:-$HOME/.config}/telepresence-docker/config.json: REGISTRY/NAME:VERSION), else
from a build tree (make plugins); a disabled one is enabled; one of another version is an error
that says how to upgrade it, or, with --upgrade-plugins, is upgraded from the registry in place
(its volumes and networks stay).
A daemon of the context that already runs connected is kept; one that runs but is not
connected, or has stopped, is removed and started afresh.

Then it creates the Teleroute network tp-<context> (driver teleroute:latest), on which the
daemon is the gateway to the cluster's subnets and the DNS server, and attaches the daemon to
it; telepresence docker-run puts containers on it. Its IPv4 subnet is the one given with
--docker-subnet, else the first /24 from 10.200.0.0/16, 10.201.0.0/16, ... 10.255.0.0/16 that
overlaps neither the cluster's subnets nor any Docker network. The gateway is its first address,
the daemon its second. A leftover network of that name is removed first.

The traffic-manager address must be reachable from containers: not 127.0.0.1 or localhost,
which inside the daemon container is the container itself; publish the manager on the Docker
bridge's gateway address (usually 172.17.0.1) and give that.

Without --docker, as root: the daemon runs on this host (telepresence-daemon beside
telepresence), its state in ${TELEPRESENCE_DOCKER_RUN_DIR:-/run/telepresence-docker}/<context>
(its record, its log daemon.log). It captures TCP and UDP to the cluster's subnets in the host's
nftables (table ip telepresence, a routing rule and table 7470), serves DNS on the address of
Docker's default bridge (usually 172.17.0.1:53) and points /etc/resolv.conf at it (the cluster's
search domains, then the host's own), and serves its control API and the engagements' SFTP
forwards on 127.0.0.1. Engagements with --docker-run then run the handler on Docker's default
bridge with --dns-search tel2-search and its ports published on 127.0.0.1 (-p
127.0.0.1:LOCAL:CONTAINER). telepresence quit stops it and puts the host back as it was: the
resolv.conf's own text, no table, no rule; after a daemon that died, quit (or the next connect)
puts back what it left.

The daemon's control API is published on 127.0.0.1 only. A manager that refuses the daemon
(wrong secret) fails at once; one that cannot be reached fails after the timeout with the
daemon's last error. Either way, and when the network cannot be made, the daemon container and
the network are removed again.

Prints, on success, the daemon container, the cluster's subnets, its DNS search domains, the
line "Teleroute network: tp-NAME (SUBNET, daemon ADDRESS)" and a last line "Connected to
HOST:PORT (context NAME) in N.N s"; or "Already connected to HOST:PORT (context NAME)" after the
network line. Progress goes to stderr.

Flags:
  --docker             run the daemon in a container (without it: on this host, as root)
  --context NAME       the context to use (default: default), read from
                       ${XDG_CONFIG_HOME:-$HOME/.config}/telepresence-docker/contexts/NAME.json
  --manager HOST:PORT  use this traffic-manager address instead of the context's
  --timeout SECONDS    how long to wait for the connection (default 20)
  --docker-subnet CIDR the Teleroute network's IPv4 subnet, prefix length 16 to 29 (e.g.
                       10.200.0.0/24); it must not overlap the cluster's or Docker's subnets
  --plugin-registry HOST[:PORT][/PATH]
                       where missing plugins come from (overrides the settings file)
  --upgrade-plugins    upgrade plugins of another version from the registry
  -h, --help           show this help

Exit codes: 0 connected, 1 failed (the message says why and what to check), 2 bad arguments.
)help";

constexpr std::string_view kStatusHelp =
    R"help(Usage: telepresence status [--context NAME] [--output json]

Shows whether the context's daemon container runs and is connected, and what it connected to:
one "Key: value" per line, the first "Connected: yes" or "Connected: no" (after a line "Not
connected (context NAME)" when there is no daemon), with "Teleroute network: tp-NAME (SUBNET,
daemon ADDRESS)" or "none". With --output json: the daemon's status object ("connected",
"manager", "subnets", "dns", "error", "reconnects") with "context", "container" and
"teleroute_network" ({"name","subnet","daemon"} or null) added, or
{"connected":false,"context":NAME,"container":null}.

Flags:
  --context NAME       the context (default: default)
  -o, --output json    print the status as JSON
  -h, --help           show this help

Exit codes: 0 status shown (connected or not), 1 the daemon or Docker did not answer.
)help";

constexpr std::string_view kQuitHelp =
    R"help(Usage: telepresence quit [--context NAME]

Asks the context's daemon to quit (POST /quit on its control API), waits until its container is
gone (removing it by force after 10 s), then removes whatever else telepresence created for the
context (containers, networks and volumes labelled tp.daemon=NAME) and the Teleroute network
tp-NAME, disconnecting by force the containers still on it (they lose the cluster, not their
other networks). Prints "Removed the Teleroute network tp-NAME" (with the containers it
disconnected) and "Disconnected (context NAME)", or "Not connected (context NAME); nothing to
quit".

Flags:
  --context NAME       the context (default: default)
  -h, --help           show this help

Exit codes: 0 done (also when nothing ran), 1 something could not be removed.
)help";

constexpr std::string_view kCurlHelp =
    R"help(Usage: telepresence curl [--context NAME] [--] [CURL FLAGS] URL

Runs curl in a container (tp-curl:latest) that shares the daemon container's network and DNS,
so cluster names and addresses resolve and connect as inside the cluster:
  docker run --rm -i --init --pull never --network container:tp-NAME-cn tp-curl:latest curl ARGS
Its stdin, stdout and stderr are this command's; the exit code is curl's (125 when docker could
not run it). Needs a running daemon: without one it fails (exit 1) saying to run telepresence
connect --docker. Builds tp-curl:latest first when it is missing.

From the first word that is not a flag below (or after --) every word goes to curl unchanged:
telepresence curl -- --help shows curl's own help.

Flags:
  --context NAME       the context (default: default)
  -h, --help           show this help
)help";

constexpr std::string_view kDockerRunHelp =
    R"help(Usage: telepresence docker-run [--context NAME] [--] [DOCKER RUN FLAGS] IMAGE [ARGS]

Runs a container with docker run on the context's Teleroute network tp-NAME, so that it reaches
the cluster's services by name and by address through the daemon, with the daemon's DNS:
  docker run --network tp-NAME --dns DAEMON --dns-search DOMAIN... --dns-option ndots:5
    [DOCKER RUN FLAGS] IMAGE [ARGS]
DAEMON is the daemon's address on the network and the DOMAINs are the cluster's DNS search
domains (telepresence status shows both). Ports published with -p answer on the host. Several
such containers can run at once.

From the first word that is not a flag below (or after --) every word goes to docker run
unchanged, as separate arguments (never through a shell): telepresence docker-run -it --rm
busybox sh. docker run's stdin, stdout and stderr are this command's, so -it and -d work; the
exit code is docker run's.

Needs a daemon started with telepresence connect --docker: without one, or without its
network, it fails (exit 1) saying so.

Flags:
  --context NAME       the context (default: default)
  -h, --help           show this help
)help";

// The help of replace, intercept, ingest and wiretap: one text, the mode's name and sentence in.
constexpr std::string_view kEngageHelpBody =
    R"help(                 [--env-file FILE] [--mount PATH[:ro]|true[:ro]|false]
                 [--docker-mount PATH]
                 [--name NAME] [--context NAME]
                 (--docker-run | --docker-build DIR [--docker-build-opt KEY=VALUE]... |
                  --docker-debug DIR)
                 -- [DOCKER RUN FLAGS] IMAGE [ARGS]

Runs a handler container with docker run in the foreground in the place of the cluster's
WORKLOAD: it gets the workload's environment (docker run --env-file) and its volumes (one
telemount volume per mount, at the same path), sits on the context's network tp-CONTEXT with
the daemon's DNS, so it reaches the cluster like the workload does, and gets its traffic as the
mode says. The engagement lasts exactly as long as docker run: when the container exits, on
Ctrl-C (SIGINT or SIGTERM to telepresence stops the container), or when docker run fails, the
engagement ends and its volumes and env file are removed. The exit code is docker run's.

This telepresence runs its daemon only in a container (as with the global --docker flag): when
no daemon runs, it connects first like telepresence connect --docker [--context NAME].

Everything after the stand-alone -- goes to docker run as separate words (never through a
shell); the first word that is not a docker run flag or a flag's value is the image. Added to
them: --rm and --name intercept-NAME-PORT (unless given), --label
telepresence.engagement=ID, --network tp-CONTEXT, --dns, --dns-search, --dns-option ndots:5,
--env-file (a private temporary file), -v VOLUME:PATH for each remote mount that the flags do
not mount themselves (-v X:PATH, --mount target=PATH). -d and --network are refused.

Flags:
  --port LOCAL[:CONTAINER]  LOCAL names the workload's port to engage (its only port when it
                      has just one); CONTAINER (default: LOCAL) is the port the handler
                      listens on inside its container, so in-cluster requests to that workload
                      port reach the handler's port CONTAINER. Nothing is published on the host
                      (add -p HOST_PORT:CONTAINER after -- for that). May be repeated. replace
                      engages every port (the others on the same port number); intercept and
                      wiretap the --port ones (default: the first); ingest none
  --env-file FILE     also write the workload's environment to FILE (KEY=VALUE lines)
  --mount PATH|true|false  mount the workload's volumes (true, the default), only the one at
                      PATH, or none (false); PATH:ro or true:ro mount read-only (writes
                      fail with EROFS)
  --docker-mount PATH mount the volumes under PATH in the container (PATH/MOUNT PATH)
  --name NAME         the engagement's name (default: WORKLOAD); telepresence leave NAME ends it
  --docker-run        run IMAGE as the handler
  --docker-build DIR  build the handler's image from DIR (docker build, legacy builder) and
                      run it: write the literal IMAGE where the image goes
  --docker-build-opt KEY=VALUE  pass --KEY VALUE to docker build, e.g. file=Dockerfile.dev,
                      target=dev, build-arg=VERSION=2; may be repeated
  --docker-debug DIR  like --docker-build, and run with --cap-add SYS_PTRACE --security-opt
                      seccomp=unconfined so that a debugger works
  --context NAME      the context (default: default)
  --docker            run the daemon in a container (implied)
  -h, --help          show this help

Exit codes: docker run's once it ran; 1 the engagement could not be made (the daemon's or
Docker's sentence says why: unknown workload or port, already engaged, ...); 2 bad arguments.
)help";

std::string EngageHelp(std::string_view mode, std::string_view what) {
  return "Usage: telepresence " + std::string(mode) + " WORKLOAD [--port LOCAL[:CONTAINER]]...\n" +
         std::string(kEngageHelpBody) + "\n" + std::string(mode) + ": " + std::string(what) + "\n";
}

constexpr std::string_view kListHelp =
    R"help(Usage: telepresence list [--context NAME] [--output json]

Lists the cluster's workloads that have a traffic-agent (GET /workloads on the daemon): one row
per workload with its ports and its engagement ("NAME (MODE PORTS)", or "-"). Needs a running
daemon (telepresence connect --docker). With --output json: {"workloads": [{"workload", "ports",
"mounts", "mount_policies": {PATH: RemoteReadOnly|Local} (the others are Remote),
"engagement": {"id", "mode", "name", "ports"} or null}]}.

Flags:
  --context NAME       the context (default: default)
  -o, --output json    print the workloads as JSON
  -h, --help           show this help
)help";

constexpr std::string_view kContextsHelp =
    R"help(Usage: telepresence contexts [--output json]

Lists the contexts: the files of ${XDG_CONFIG_HOME:-$HOME/.config}/telepresence-docker/contexts/
(make demo-cluster writes "default"), one row per context with its traffic-manager and cluster
network; a file that cannot be read says why. With --output json: {"contexts": [{"name",
"manager", "cluster_network", "cluster_subnets"} or {"name", "error"}]}.

Flags:
  -o, --output json    print the contexts as JSON
  -h, --help           show this help
)help";

constexpr std::string_view kComposeHelp =
    R"help(Usage: telepresence compose [--context NAME] [-f FILE]... [-p NAME] COMMAND [ARGS]

Runs docker-compose (1.29) COMMAND on the compose files (-f, else docker-compose.yml,
docker-compose.yaml, compose.yaml or compose.yml and its docker-compose.override.yml in this
folder) and an override file that puts the services on the cluster. A service's x-tele says how:

  services:
    local-echo:
      image: tp-echo
      x-tele:
        type: replace          # connect, replace, intercept, ingest or wiretap
        name: echo             # the workload (default: the service's name)
        ports: ["8080:8081"]   # as --port LOCAL[:CONTAINER]
        mounts: [{path: /srv/echo-data, policy: remoteReadOnly}]  # remote, remoteReadOnly, local

Every service (but one with network_mode) joins the Teleroute network tp-<context> and uses the
daemon's DNS, so it reaches cluster services by name; a service without x-tele is just that
(connect). An engaged service also gets the workload's environment (env_file) and a telemount
volume per remote mount, and the workload's traffic as the type says. A top-level
`x-tele: {context: NAME}` chooses the context (--context wins). Needs a daemon: run telepresence
connect --docker first.

  up        engages the workloads, then docker-compose up ARGS. With -d (--detach) the
            engagements stay (the daemon holds them) until compose down or telepresence quit;
            without, they end when docker-compose ends (Ctrl-C), and compose down removes the
            containers.
  down      docker-compose down ARGS, then ends the engagements and removes their volumes, the
            env files and the override: nothing of the project is left.
  OTHERS    (ps, logs, exec, config, ...) docker-compose COMMAND ARGS with the same files.

telepresence quit takes the context's projects down first, as compose down would.

The override and the env files (the workload's secrets, mode 0600) live in
${XDG_CONFIG_HOME:-$HOME/.config}/telepresence-docker/compose/PROJECT/ while the project is up.
Its exit code is docker-compose's.

Flags:
  --context NAME       the context (default: x-tele's context, else "default")
  -f, --file FILE      a compose file (repeatable, merged in order as docker-compose does)
  -p, --project-name NAME   the project (default: COMPOSE_PROJECT_NAME, else the first
                       file's folder)
  -h, --help           show this help (docker-compose's: telepresence compose COMMAND --help)
)help";

constexpr std::string_view kUiHelp =
    R"help(Usage: telepresence ui [--port N] [--no-open] [--context NAME]

Serves a page that connects, lists the workloads, engages them with a local container, shows its
logs and leaves again, all in a browser. It listens on 127.0.0.1 only and prints its address with
a secret made for this start (http://127.0.0.1:7670/?token=...): only a browser that opened that
address gets in. Runs until Ctrl-C, then stops the containers it started; a connected daemon stays
connected. See docs/ui.md.

Flags:
  --port N             the port (default 7670; 0: any free port)
  --no-open            do not open a browser (xdg-open), just print the address
  --context NAME       the context the page starts on (default: default)
  -h, --help           show this help
)help";

constexpr std::string_view kPluginsHelp =
    R"help(Usage: telepresence plugins status [--output json]
       telepresence plugins install [--plugin-registry HOST[:PORT][/PATH] | --from FILE]
                                    [--upgrade]

status lists the Docker plugins telepresence needs, teleroute:latest and telemount:latest: their
version, whether they are enabled, where they came from, and "ok", "missing", "disabled" or
"other version" (this telepresence wants its own version). With --output json: {"version",
"plugins": [{"name", "state", "installed", "enabled", "version", "reference"}]}.

install makes them ready, as connect --docker does, without connecting: from the registry
(--plugin-registry, or "plugin_registry" in the settings file
${XDG_CONFIG_HOME:-$HOME/.config}/telepresence-docker/config.json; REGISTRY/NAME:VERSION,
installed as NAME:latest, granting what they ask for), else from a build tree; with --upgrade,
plugins of another version are upgraded in place from the registry, keeping their volumes and
networks. --from FILE installs them from a release file of make dist
(telepresence-docker-VERSION.tar.gz), with no registry; it does not upgrade (Docker upgrades a
plugin only from a registry).

Flags:
  --plugin-registry HOST[:PORT][/PATH]   the registry (overrides the settings file)
  --from FILE          a release file of make dist
  --upgrade            upgrade plugins of another version (from the registry)
  -o, --output json    status as JSON
  -h, --help           show this help
)help";

constexpr std::string_view kVersionHelp =
    R"help(Usage: telepresence version

Prints "telepresence VERSION": the version this telepresence is, and that its Docker plugins
must be (telepresence plugins status).
)help";

constexpr std::string_view kLeaveHelp =
    R"help(Usage: telepresence leave NAME [--context NAME]

Ends the engagement NAME (the --name of replace, intercept, ingest or wiretap; telepresence list
shows them) and removes its handler container (docker rm -f); the telepresence command that ran
the handler then removes its volumes and exits. An unknown NAME is an error.

Flags:
  --context NAME       the context (default: default)
  -h, --help           show this help
)help";

constexpr std::string_view kReplaceSentence = "every port of the workload goes to the handler.";
constexpr std::string_view kInterceptSentence =
    "the --port ports (default: the first) go to the handler; the others reach the workload.";
constexpr std::string_view kIngestSentence =
    "no traffic changes; the handler gets the environment and volumes.";
constexpr std::string_view kWiretapSentence =
    "the workload still answers; the handler gets a copy of what clients send to the --port "
    "ports (its answers are dropped).";

}  // namespace

std::string CommandHelp(std::string_view command) {
  if (command == "connect") return std::string(kConnectHelp);
  if (command == "status") return std::string(kStatusHelp);
  if (command == "quit") return std::string(kQuitHelp);
  if (command == "curl") return std::string(kCurlHelp);
  if (command == "docker-run") return std::string(kDockerRunHelp);
  if (command == "list") return std::string(kListHelp);
  if (command == "leave") return std::string(kLeaveHelp);
  if (command == "ui") return std::string(kUiHelp);
  if (command == "contexts") return std::string(kContextsHelp);
  if (command == "plugins") return std::string(kPluginsHelp);
  if (command == "version") return std::string(kVersionHelp);
  if (command == "compose") return std::string(kComposeHelp);
  if (command == "replace") return EngageHelp(command, kReplaceSentence);
  if (command == "intercept") return EngageHelp(command, kInterceptSentence);
  if (command == "ingest") return EngageHelp(command, kIngestSentence);
  return EngageHelp(command, kWiretapSentence);
}

}  // namespace tp::cli
