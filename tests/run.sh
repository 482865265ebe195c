#!/bin/sh
# Runs every test of one build tree and prints one closing line,
# "N passed, N failed".  BUILD and BINDIR name the tree (make sets them).
BUILD=${BUILD:-build}
BINDIR=${BINDIR:-bin}
pass=0
fail=0
failed=""

count() {	# name, exit code
	if [ "$2" -eq 0 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		failed="$failed $1"
	fi
}

echo "== unit tests (cmocka)"
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	"$t"
	count "$(basename "$t")" $?
done

echo "== fuzz corpus replay"
for t in "$BUILD"/tests/replay_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t" | sed 's/^replay_//')
	"$t" fuzz/corpus/"$name"
	count "$(basename "$t")" $?
done

echo "== integration tests (real parleyd, slixmpp, libstrophe)"
PARLEY_BINDIR="$BINDIR" PARLEY_BUILD="$BUILD" \
    /usr/bin/python3 tests/integration/run.py
count integration $?

echo
[ -n "$failed" ] && echo "failed suites:$failed"
echo "suites: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
