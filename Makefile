# Thin wrapper over Meson for the README's commands. The real build is meson.build.
.PHONY: all deps build build-asan run banned openapi fuzz fuzz-check test test-unit test-blackbox test-asan bench fmt lint clean

BUILD      ?= build
BUILD_ASAN ?= build-asan
PYTEST     ?= /usr/bin/python3 -m pytest
LISTEN     ?= 127.0.0.1:8420

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) --buildtype=release -Db_ndebug=false

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD_ASAN)/build.ninja: | deps
	meson setup $(BUILD_ASAN) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

build-asan: deps $(BUILD_ASAN)/build.ninja
	ninja -C $(BUILD_ASAN)

# Build and start a dev server: embedded SQLite under ./.latchkey; the first
# start prints the root token, later starts keep all data.
run: build
	./$(BUILD)/latchkey server --dev --listen $(LISTEN)

test-unit: build
	meson test -C $(BUILD) --print-errorlogs

test-blackbox: build
	LATCHKEY_BIN=$(CURDIR)/$(BUILD)/latchkey $(PYTEST) -q tests/blackbox

# Both suites once more under AddressSanitizer + UndefinedBehaviorSanitizer.
SAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

test-asan: build-asan
	$(SAN_ENV) meson test -C $(BUILD_ASAN) --print-errorlogs
	LATCHKEY_BIN=$(CURDIR)/$(BUILD_ASAN)/latchkey LATCHKEY_SANITIZED=1 $(SAN_ENV) $(PYTEST) -q tests/blackbox

# Static checks first, so the last lines are the test runner's summary.
test: lint openapi fuzz-check test-unit test-blackbox test-asan

fuzz-check: deps
	@scripts/fuzz.sh check

openapi: deps
	@scripts/openapi-lint.sh

banned:
	@scripts/banned.sh

# libFuzzer harnesses (tests/fuzz): FUZZ=check runs the seed corpora, FUZZ=run fuzzes for FUZZ_SECONDS each.
FUZZ ?= run
FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz.sh $(FUZZ) $(FUZZ_SECONDS)

bench: build
	scripts/bench.sh $(BUILD)/latchkey

fmt:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c')

lint: deps
	clang-format --dry-run -Werror $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c')
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	  --suppress=missingIncludeSystem -I src -D_GNU_SOURCE src
	scripts/banned.sh

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
