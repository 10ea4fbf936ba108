# Quick start: `make run` (server on ./data) and `make test` (whole suite).
BUILD ?= build
FUZZ_SECONDS ?= 10
ASAN_BUILD ?= build-asan
JOBS ?= 2

.PHONY: setup build asan run test test-fast bench docs clean

setup:
	bash scripts/setup.sh

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSTAGEKV_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)

run: setup build
	./$(BUILD)/stagekv-server --dir ./data

# The whole suite on the normal build, then again under ASan+UBSan (but
# the reruns of e2e suites with every batch on the writer thread, label
# writer_rerun: e2e_test_writer covers it there), then every libFuzzer
# target for FUZZ_SECONDS (clang; docs/fuzzing.md).
test: setup build asan
	cd $(BUILD) && ctest --output-on-failure
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -LE writer_rerun
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

test-fast: build
	cd $(BUILD) && ctest --output-on-failure

bench: build
	bash bench/compare.sh

docs: build
	./$(BUILD)/stagekv-server --commands-md > docs/commands.md

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
