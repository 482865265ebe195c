# Parley build.  `make` builds bin/parleyd, bin/parleyctl and bin/parley-bench
# (when present); `make run` installs missing Debian packages, builds and
# starts parleyd with the embedded defaults; `make test` runs every test;
# `make asan` runs the suite under ASan+UBSan; `make fuzz` runs the libFuzzer
# targets for FUZZ_SECONDS each; `make bench` a short parley-bench run.

BUILD	?= build
BINDIR	?= bin
CC	?= cc
SAN	?=

PKGS	:= libevent libevent_openssl libmicrohttpd expat sqlite3 openssl inih
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN	:= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wno-unused-parameter -Wno-missing-field-initializers -Wformat=2 -Wvla
CFLAGS	?= -O2 -g
ifeq ($(SAN),1)
CFLAGS	:= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
endif
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -Isrc $(WARN) $(PKG_CFLAGS) $(CFLAGS) \
	   -MMD -MP
LIBS	:= $(PKG_LIBS) -lm

LIB_SRC	:= $(sort $(wildcard src/core/*.c src/net/*.c src/xml/*.c \
	   src/xmpp/*.c src/im/*.c src/store/*.c src/http/*.c src/scan/*.c \
	   src/admin/*.c))
LIB_OBJ	:= $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB	:= $(BUILD)/libparley.a

PROGS	:= parleyd parleyctl $(if $(wildcard src/parley-bench),parley-bench)
BINS	:= $(PROGS:%=$(BINDIR)/%)

UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC  := $(sort $(wildcard fuzz/fuzz_*.c))
REPLAY_BINS := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/tests/replay_%)
STROPHE_CLIENT := $(BUILD)/tests/strophe_client

.PHONY: all run deps test unit asan fuzz bench bench-compare bench-idle \
	bench-archive soak-guess clean
all: $(BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

define prog_rule
$(BINDIR)/$(1): $(patsubst %.c,$(BUILD)/%.o,$(wildcard src/$(1)/*.c)) $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $$(LIB) $$(LIBS)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))
PROG_OBJ := $(foreach p,$(PROGS),$(patsubst %.c,$(BUILD)/%.o,$(wildcard src/$(p)/*.c)))

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS) -lcmocka

$(BUILD)/tests/replay_%: fuzz/%.c fuzz/replay_main.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< fuzz/replay_main.c $(LIB) $(LIBS)

$(STROPHE_CLIENT): tests/integration/strophe_client.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< \
	    $(shell pkg-config --cflags --libs libstrophe)

unit: $(UNIT_BINS) $(REPLAY_BINS)

test: deps all unit $(STROPHE_CLIENT)
	BUILD=$(BUILD) BINDIR=$(BINDIR) sh tests/run.sh

# The sanitizer build lives in its own tree so that it never mixes objects
# with the normal one.
asan:
	$(MAKE) BUILD=build-asan BINDIR=build-asan/bin SAN=1 test

FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
fuzz: $(FUZZ_SRC)
	LIB_SRC="$(LIB_SRC)" sh fuzz/run.sh $(FUZZ_SECONDS)

# A short load run (about 30 s) of every parley-bench scenario against a
# parleyd started from bin/ on free loopback ports.
bench: all
	sh bench/smoke.sh

# The full comparison with Prosody and ejabberd (as root: installs them
# from Debian, about 15 minutes) and the 19,000-session idle run; see
# docs/BENCHMARKS.md.
bench-compare: all
	bash bench/setup-servers.sh --users 1000
	bash bench/compare.sh --runs 3 --duration 6 bench-results.txt

bench-idle: all
	bash bench/setup-servers.sh --users 1000
	bash bench/idle-max.sh 19000

# Password guessing on loopback (not part of `make test`): 10,000 wrong
# attempts against one account, then against many, while legitimate users
# log in; reports guesses answered and legitimate login times (p50/p99).
# At most SOAK_TIME_LIMIT seconds per phase (default 180).
soak-guess: all
	PARLEY_BINDIR=$(BINDIR) /usr/bin/python3 tests/soak/guess.py

# The 1,000,000-message archive (XEP-0313) benchmark: fills an archive
# through the store API, starts parleyd on it and times MAM queries end
# to end (p50/p99/max); a few minutes.  See docs/BENCHMARKS.md.
ARCHIVE_FILL := $(BUILD)/bench/archive-fill
$(ARCHIVE_FILL): bench/archive/fill.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

bench-archive: all $(ARCHIVE_FILL)
	BUILD=$(BUILD) BINDIR=$(BINDIR) sh bench/archive/run.sh

# Installs the Debian packages that are missing (as root), never others.
deps:
	@sh tools/deps.sh

run: deps all
	$(BINDIR)/parleyd

clean:
	rm -rf build build-asan build-fuzz bin

-include $(LIB_OBJ:.o=.d) $(PROG_OBJ:.o=.d)
