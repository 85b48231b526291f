# Thin wrapper around CMake: set-up, build, test, demo, bench.
#   make demo   install what is missing, build, run the crawler demo
#   make test   install what is missing, build, run every test
BUILD ?= build
SAN_BUILD ?= build-sanitize
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local

# Debian packages the build, the tests and the demo need: the libraries;
# clang with its sanitizer and libFuzzer runtimes (libclang-rt-14-dev);
# nginx and openssl for the HTTPS and HTTP/2 tests; valgrind for the leak
# test of the embedding API.
DEPS = cmake make gcc clang libclang-rt-14-dev pkg-config liblua5.4-dev \
       lua5.4 libuv1-dev libcurl4-openssl-dev libedit-dev python3 \
       nginx-light openssl valgrind
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build test test-sanitize demo fuzz bench install clean
all: build

deps:
	@missing=""; for p in $(DEPS); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_INSTALL_PREFIX=$(PREFIX)

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-sanitize: deps
	cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAIOLUA_SANITIZE=ON \
	  -DCMAKE_C_COMPILER=clang
	cmake --build $(SAN_BUILD) -j $(JOBS)
	cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) -LE nosan

# The tutorial's crawler on a local demo site (~20 ms latency per page), to
# depth 3, sequentially and then concurrently.
demo: build
	./$(BUILD)/aiolua scripts/crawler.lua --mode both --depth 3

# The libFuzzer targets, for a bounded time: the translator FUZZ_SECONDS,
# asyncio.json's codec FUZZ_JSON_SECONDS (30, cmake/translate.cmake).
FUZZ_SECONDS ?= 60
fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DAIOLUA_FUZZ=ON \
	  -DFUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build build-fuzz --target fuzz-translate-run
	cmake --build build-fuzz --target fuzz-json-run

bench: build
	bench/run

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(SAN_BUILD) build-fuzz
