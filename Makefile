# Thin wrapper over Meson for the README's commands. The real build is meson.build.
.PHONY: all deps node-deps build build-asan build-tsan run banned openapi fuzz fuzz-check test test-unit test-blackbox test-postgres test-asan test-tsan bench fmt lint clean

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
PYTEST     ?= /usr/bin/python3 -m pytest
LISTEN     ?= 127.0.0.1:8420

all: build

deps:
	@scripts/deps.sh

# The npm packages pinned in package-lock.json: the build embeds Swagger UI
# (swagger-ui-dist) and GraphiQL (graphiql, react, react-dom) into the
# binary; the tests drive the others (the OpenAPI linter, node-vault, jose,
# openid-client, playwright-core, graphql, graphql-http).
node-deps: deps
	@scripts/npm-deps.sh

$(BUILD)/build.ninja: | deps node-deps
	meson setup $(BUILD) --buildtype=release -Db_ndebug=false

build: deps node-deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD_ASAN)/build.ninja: | deps node-deps
	meson setup $(BUILD_ASAN) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

build-asan: deps node-deps $(BUILD_ASAN)/build.ninja
	ninja -C $(BUILD_ASAN)

$(BUILD_TSAN)/build.ninja: | deps node-deps
	meson setup $(BUILD_TSAN) --buildtype=debugoptimized -Db_sanitize=thread -Db_lundef=false

build-tsan: deps node-deps $(BUILD_TSAN)/build.ninja
	ninja -C $(BUILD_TSAN)

# Build and start a dev server: embedded SQLite under ./.latchkey; the first
# start prints the root token, later starts keep all data.
run: build
	./$(BUILD)/latchkey server --dev --listen $(LISTEN)

test-unit: build
	meson test -C $(BUILD) --print-errorlogs

test-blackbox: build node-deps
	LATCHKEY_BIN=$(CURDIR)/$(BUILD)/latchkey $(PYTEST) -q tests/blackbox

# The same store contract and the same black-box suite on PostgreSQL: a
# throwaway cluster of Debian's postgresql-15 (scripts/pgtmp.sh: initdb in a
# temporary directory, a Unix socket only, run as the postgres user when we
# are root), stopped and removed at the end whatever happened. Each test
# server gets a database of its own (tests/blackbox/pgstore.py).
test-postgres: build node-deps
	@dir=$$(mktemp -d "$${TMPDIR:-/tmp}/latchkey-pg.XXXXXX") && chmod 755 "$$dir" && \
	trap 'scripts/pgtmp.sh stop "$$dir/pg"; rm -rf "$$dir"' EXIT && \
	dsn=$$(scripts/pgtmp.sh start "$$dir/pg") && \
	echo "test-postgres: conformance suite on PostgreSQL" && \
	LATCHKEY_TEST_DSNS="$$dsn" $(BUILD)/tests/unit/test_store_conformance >"$$dir/conformance.log" 2>&1 || \
	  { tail -50 "$$dir/conformance.log"; exit 1; } && tail -1 "$$dir/conformance.log" && \
	echo "test-postgres: black-box suite on PostgreSQL" && \
	LATCHKEY_TEST_PG="$$dsn" LATCHKEY_BIN=$(CURDIR)/$(BUILD)/latchkey $(PYTEST) -q tests/blackbox

# Both suites once more under AddressSanitizer + UndefinedBehaviorSanitizer.
SAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

test-asan: build-asan node-deps
	$(SAN_ENV) meson test -C $(BUILD_ASAN) --print-errorlogs --timeout-multiplier 4
	LATCHKEY_BIN=$(CURDIR)/$(BUILD_ASAN)/latchkey LATCHKEY_SANITIZED=1 $(SAN_ENV) $(PYTEST) -q tests/blackbox

# ThreadSanitizer: the unit suites (the token cache and rate limiter hammer
# them from real threads), then the black-box tests that load one server from
# many client threads at once. halt_on_error makes a report fail the run: a
# unit test exits non-zero, a server exits 66 and its test fails on that.
TSAN_ENV = TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
# Sanitized threads run many times slower, the more so on a loaded host:
# the unit tests' timeouts are multiplied (a real hang still ends).
# gcc 12's TSan refuses to start ("unexpected memory mapping") on kernels
# with vm.mmap_rnd_bits above 28; without address randomisation it always
# starts. setarch -R where the host allows it (children inherit it).
TSAN_RUN := $(shell setarch $$(uname -m) -R true 2>/dev/null && echo setarch $$(uname -m) -R)
TSAN_BLACKBOX = tests/blackbox/test_revocation_race.py tests/blackbox/test_token_races.py tests/blackbox/test_held_answers.py \
	tests/blackbox/test_graphql.py::test_racing_rotations_through_graphql_make_one_new_token \
	tests/blackbox/test_graphql.py::test_queries_and_mutations_from_many_clients_at_once \
	tests/blackbox/test_server.py::test_concurrent_requests_are_served \
	tests/blackbox/test_audit.py::test_a_file_sink_written_under_concurrent_mutations_and_reads_verifies \
	tests/blackbox/test_audit.py::test_chain_continues_across_restarts_and_concurrent_writers \
	tests/blackbox/test_notice_delivery.py::test_the_server_sends_webhooks_while_its_relay_hangs \
	tests/blackbox/test_notice_delivery.py::test_a_hung_relay_costs_one_timeout_and_never_delays_the_webhook \
	tests/blackbox/test_notices.py::test_the_server_thread_delivers_the_1_day_notice_by_itself \
	tests/blackbox/test_notices.py::test_sighup_rereads_a_rotated_webhook_secret \
	tests/blackbox/test_notices.py::test_sigterm_aborts_a_delivery_in_flight_and_stops_cleanly \
	tests/blackbox/test_vault_tokens.py::test_num_uses_holds_under_concurrency \
	tests/blackbox/test_vault_tokens.py::test_subtree_revocation_races_child_creation \
	tests/blackbox/test_federation.py::test_concurrent_exchanges_share_the_key_set_cache \
	tests/blackbox/test_read_cache.py::test_every_read_after_a_write_sees_it_under_load \
	tests/blackbox/test_federation.py::test_a_slow_key_set_never_holds_up_the_loop \
	tests/blackbox/test_docs.py::test_plain_copies_are_made_once_under_concurrent_requests

test-tsan: build-tsan
	$(TSAN_ENV) $(TSAN_RUN) meson test -C $(BUILD_TSAN) --print-errorlogs --timeout-multiplier 10
	LATCHKEY_BIN=$(CURDIR)/$(BUILD_TSAN)/latchkey LATCHKEY_SANITIZED=1 LATCHKEY_RACE_TRIALS=10 $(TSAN_ENV) \
	  $(TSAN_RUN) $(PYTEST) -q $(TSAN_BLACKBOX)

# Static checks first, so the last lines are the test runner's summary.
test: lint openapi fuzz-check test-unit test-blackbox test-postgres test-asan test-tsan

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
	/usr/bin/python3 scripts/layers.py

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN)
