# Front door of the project. `make demo` and `make test` are all a new user needs.
BUILD      ?= build
ASAN_BUILD ?= build/asan
TSA_BUILD  ?= build/tsa
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all deps build build-asan runtime test test-unit test-docker fuzz bench plugins plugins-push dist images demo ui extension \
	demo-cluster demo-cluster-down clean format check-layers check-locks deps-graph

all: build

deps:
	scripts/install-deps.sh

build:
	@scripts/install-deps.sh --check 2>/dev/null || scripts/install-deps.sh
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

# Only the programs (no unit tests, no benchmarks): what plugins, images, the demo and the Docker
# tests need.
runtime:
	@scripts/install-deps.sh --check 2>/dev/null || scripts/install-deps.sh
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS) --target runtime

build-asan:
	@scripts/install-deps.sh --check 2>/dev/null || scripts/install-deps.sh
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTP_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)

# The layers' arrows point down (includes and CMake targets; see scripts/check-layers.sh), the
# locking annotations hold (check-locks), the shell scripts are shellcheck-clean, unit and
# file-system tests under ASan/UBSan, the Docker tests against the managed plugins, then every
# fuzz target for FUZZ_SECONDS.
test: build-asan runtime
	scripts/check-layers.sh $(ASAN_BUILD)
	$(MAKE) --no-print-directory check-locks
	shellcheck -x .ci/run $$(git ls-files '*.sh')
	scripts/ensure-dockerd.sh
	cd $(ASAN_BUILD) && ctest --output-on-failure --timeout 600 -LE docker
	$(MAKE) --no-print-directory plugins
	cd $(BUILD) && ctest --output-on-failure --timeout 900 -L docker
	$(MAKE) --no-print-directory fuzz

check-layers: build-asan
	scripts/check-layers.sh $(ASAN_BUILD)

# Compiles the programs and their libraries with clang's thread-safety analysis (-Wthread-safety
# -Werror, build/tsa; compile only, nothing runs): every GUARDED_BY member is touched only under
# its lock, every REQUIRES function is called with it. See sync/mutex.h.
check-locks:
	@scripts/install-deps.sh --check 2>/dev/null || scripts/install-deps.sh
	cmake -S . -B $(TSA_BUILD) -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DTP_THREAD_SAFETY=ON >/dev/null
	cmake --build $(TSA_BUILD) -j$(JOBS) --target programs

# The CMake targets and what each links, as a Graphviz file (render: dot -Tsvg -O build/targets.dot).
deps-graph:
	cmake -S . -B $(BUILD) --graphviz=$(BUILD)/targets.dot >/dev/null
	@echo "wrote $(BUILD)/targets.dot"

# Builds the libFuzzer targets (clang, build/fuzz) and runs each for FUZZ_SECONDS, two at a time;
# fails on any crash, keeping the input in build/fuzz/findings/. See fuzz/run.sh.
fuzz:
	@scripts/install-deps.sh --check 2>/dev/null || scripts/install-deps.sh
	fuzz/run.sh $(FUZZ_SECONDS)

# Installs (or re-installs) the managed plugins from locally built root file systems.
plugins: runtime
	scripts/ensure-dockerd.sh
	scripts/build-plugins.sh $(BUILD)

# Builds (or refreshes) the local images from $(BUILD) without a registry: tp-daemon and tp-curl
# for `telepresence connect --docker` and `telepresence curl`, and the demo cluster's. An image
# whose inputs did not change is kept. See scripts/build-images.sh.
images: runtime
	scripts/ensure-dockerd.sh
	scripts/build-images.sh $(BUILD)

# Pushes telemount and teleroute to REGISTRY (host:port[/path]) as NAME:TAG (default: VERSION) and
# NAME:latest, for `docker plugin install` elsewhere (scripts/push-plugins.sh).
plugins-push: runtime
	@test -n "$(REGISTRY)" || { echo "usage: make plugins-push REGISTRY=host:port[/path] [TAG=...]" >&2; exit 2; }
	scripts/ensure-dockerd.sh
	scripts/push-plugins.sh $(BUILD) $(REGISTRY) $(TAG)

# The air-gapped release file build/dist/telepresence-docker-VERSION.tar.gz: the CLI, the images
# and both plugins (scripts/dist.sh); `telepresence plugins install --from FILE` installs them.
dist: runtime
	scripts/ensure-dockerd.sh
	scripts/dist.sh $(BUILD)

bench: build
	$(MAKE) --no-print-directory plugins
	scripts/ensure-dockerd.sh
	bench/run.sh $(BUILD)
	bench/connect.sh $(BUILD)
	bench/teleroute.sh $(BUILD)
	bench/engage.sh $(BUILD)

# Connects to the local demo cluster and reaches its services by name (demo/connect.sh), then
# shows a telemount volume (demo/telemount.sh), and ends with a local container replacing the
# echo workload (demo/engage.sh).
demo: runtime
	$(MAKE) --no-print-directory plugins
	demo/connect.sh $(BUILD)
	demo/telemount.sh $(BUILD)
	demo/engage.sh $(BUILD)
	@echo "To do the same in a browser: make ui"

# The page of `telepresence ui` on the demo cluster (docs/ui.md), until Ctrl-C.
ui: runtime
	$(MAKE) --no-print-directory plugins
	scripts/ensure-dockerd.sh
	demo/cluster/up.sh $(BUILD)
	$(BUILD)/bin/telepresence ui

# The Docker Desktop extension image telepresence-docker-extension:VERSION (and :latest), built
# locally from extension/ (scripts/build-extension.sh; VERSION is the file of that name).
extension: runtime
	scripts/ensure-dockerd.sh
	scripts/build-extension.sh $(BUILD)

# The local demo cluster (network tp-demo, workloads echo and greeter, the traffic-manager on a
# 127.0.0.1 port) and the default context that points at it. See demo/cluster/up.sh.
demo-cluster: runtime
	scripts/ensure-dockerd.sh
	demo/cluster/up.sh $(BUILD)

demo-cluster-down:
	demo/cluster/down.sh

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSA_BUILD)
