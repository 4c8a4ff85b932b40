# backchannel: one Makefile, sources discovered by directory.
#
#   make            build everything under $(BUILD) (default build/, gcc)
#   make test       install deps if missing, build with gcc, clang and ASan+UBSan,
#                   run unit tests, vector checkers, layering check, fuzz replay
#   make bench      run every benchmark
#   make fuzz       run every fuzz target for FUZZ_SECONDS (clang, libFuzzer)
#   make demo       the newcomer's first command (builds the binary only)
#   make latency    message latency on the test network -> docs/performance.md
#
# Variables: CC (gcc|clang), BUILD (output dir), SAN=1 (ASan+UBSan build).

CC      ?= gcc
BUILD   ?= build
SAN     ?=
V       ?=
VERSION := 0.1.0

include mk/warnings.mk

PKGS    := libsodium libcrypto libuv sqlite3 jansson inih libmicrohttpd libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CRIT_LIBS  := $(shell pkg-config --libs criterion 2>/dev/null)
# The QR code of `backchannel invite`: linked into the binary only.
APP_LIBS   := $(shell pkg-config --libs libqrencode 2>/dev/null)

ifeq ($(findstring clang,$(CC)),clang)
WARN_CC := $(WARN_CLANG)
else
WARN_CC := $(WARN_GCC)
endif

ifeq ($(SAN),1)
OPT     := $(ASAN)
LDSAN   := -fsanitize=address,undefined
else
OPT     := $(HARDEN)
LDSAN   :=
endif

CFLAGS  ?=
CFLAGS  += -DBC_VERSION=\"$(VERSION)\" $(EXTRA_CFLAGS) $(STD) $(WARN) $(WARN_CC) $(WERROR) $(OPT) -g -MMD -MP -Isrc \
           -pthread $(PKG_CFLAGS)
# Code that never handles network input may relax the conversion warnings
# that Criterion's macros trip over.
TEST_CFLAGS := $(CFLAGS) -Itests -Wno-conversion -Wno-float-equal \
           -Wno-double-promotion -Wno-missing-prototypes -Wno-missing-declarations
LDFLAGS += $(LDSAN) -pthread
ifneq ($(SAN),1)
LDFLAGS += $(HARDEN_LD)
endif
LDLIBS  := $(PKG_LIBS) -lm

Q := $(if $(V),,@)

LAYERS  := lib crypto wire net store dir node client
LIB_SRC := $(foreach d,$(LAYERS),$(wildcard src/$(d)/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
APP_SRC := $(wildcard src/app/*.c)
APP_OBJ := $(APP_SRC:%.c=$(BUILD)/obj/%.o)
LIBBC   := $(BUILD)/libbc.a

COMMON_SRC := $(wildcard tests/common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
# An archive, so that a test links only the helpers it uses (a vector
# checker has no need of the fake gateway and the link code it pulls in).
COMMON_LIB := $(BUILD)/libtestcommon.a

UNIT_SRC  := $(wildcard tests/unit/*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
VEC_SRC   := $(wildcard tests/vectors/*.c)
VEC_BIN   := $(VEC_SRC:tests/vectors/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
FUZZ_SRC  := $(wildcard fuzz/*.c)
REPLAY_BIN := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz-replay/%)
FUZZ_BIN  := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all test test-asan bench fuzz demo latency clean deps layering format soak rtt soak-delivery
.DEFAULT_GOAL := all
# Keep the objects of tests, benches and fuzz targets: make would otherwise
# delete them as intermediates and rebuild them every run.
.SECONDARY:

all: deps-check $(BUILD)/backchannel $(UNIT_BIN) $(VEC_BIN) $(BENCH_BIN) $(REPLAY_BIN)

deps-check:
	$(Q)scripts/install-deps --check-or-install

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(TEST_CFLAGS) -c $< -o $@

$(LIBBC): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(COMMON_LIB): $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/backchannel: $(APP_OBJ) $(LIBBC)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(APP_OBJ) $(LIBBC) $(APP_LIBS) $(LDLIBS)

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(COMMON_LIB) $(LIBBC)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(COMMON_LIB) $(LIBBC) $(CRIT_LIBS) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/vectors/%.o $(COMMON_LIB) $(LIBBC)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(COMMON_LIB) $(LIBBC) $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIBBC)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIBBC) $(LDLIBS)

# Fuzz targets are replayed over their corpora by the normal test run: the same
# LLVMFuzzerTestOneInput linked with a small main instead of libFuzzer.
$(BUILD)/obj/fuzz/harness/replay.o: fuzz/harness/replay.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/fuzz-replay/%: $(BUILD)/obj/fuzz/%.o $(BUILD)/obj/fuzz/harness/replay.o $(LIBBC)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/obj/fuzz/harness/replay.o $(LIBBC) $(LDLIBS)

# libFuzzer builds (clang only): make fuzz-build BUILD=build/fuzz-clang CC=clang
$(BUILD)/fuzz/%: $(BUILD)/obj/fuzz/%.o $(LIBBC)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(LIBBC) $(LDLIBS)

fuzz-build: $(FUZZ_BIN)

test:
	$(Q)scripts/test

test-asan:
	$(Q)scripts/test --asan-only

bench: all
	$(Q)scripts/bench $(BUILD)

fuzz:
	$(Q)scripts/fuzz

# The minute-long flood of tests/net/mixnet.sh (make test runs 20 s of it).
soak: all
	$(Q)SOAK=60 tests/net/mixnet.sh $(BUILD)

# The demo needs only the binary: a newcomer waits for nothing else.
demo: deps-check $(BUILD)/backchannel
	$(Q)scripts/demo $(BUILD)

# Thousands of messages between two clients (tests/net/delivery.sh runs 100).
soak-delivery: all
	$(Q)DELIVERY_N=2000 tests/net/delivery.sh $(BUILD)

# A client's measured round trips on a local testnet against the prediction.
rtt: all
	$(Q)scripts/rtt-testnet $(BUILD)

latency: deps-check $(BUILD)/backchannel
	$(Q)scripts/latency $(BUILD)

layering:
	$(Q)scripts/check-layering

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
