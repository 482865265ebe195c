#!/bin/sh
# Builds every fuzz/fuzz_*.c with clang's libFuzzer plus ASan+UBSan and runs
# each for $1 seconds (default 60) on its corpus in fuzz/corpus/NAME.  New
# interesting inputs land in build-fuzz/corpus/NAME (not committed); copy the
# ones worth keeping into fuzz/corpus/NAME.  Exit status is non-zero if any
# target found a crash (the reproducer is in build-fuzz/).
set -e
secs=${1:-60}
CC=${FUZZ_CC:-clang}
out=build-fuzz
mkdir -p "$out"
PKGS="libevent libevent_openssl libmicrohttpd expat sqlite3 openssl inih"
flags="-std=c11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined $(pkg-config --cflags $PKGS)"
# The library's sources: the Makefile's list (LIB_SRC), so that a new
# module is linked here too.
libsrc=${LIB_SRC:?run through make fuzz, which gives LIB_SRC}
status=0
for f in fuzz/fuzz_*.c; do
	name=$(basename "$f" .c)
	echo "== $name: building"
	$CC $flags -o "$out/$name" "$f" $libsrc $(pkg-config --libs $PKGS) -lm
	mkdir -p "$out/corpus/$name" "fuzz/corpus/$name"
	echo "== $name: running ${secs}s"
	if ! (cd "$out" && ./"$name" -max_total_time="$secs" -max_len=65536 \
	    -print_final_stats=1 "corpus/$name" "../fuzz/corpus/$name" \
	    2>&1 | tail -n 25); then
		status=1
	fi
	if ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* >/dev/null 2>&1; then
		echo "== $name: FOUND A PROBLEM, see $out/"
		status=1
	fi
done
exit $status
