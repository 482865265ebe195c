#!/usr/bin/python3
"""Runs Parley's integration tests (tests/integration/test_*.py).

Environment: PARLEY_BINDIR (parleyd, parleyctl; default "bin"),
PARLEY_BUILD (build dir with tests/strophe_client; default "build"),
PARLEY_TIMEOUT_SCALE (multiplies every timeout; 3 by default when the
bindir looks like a sanitizer build).  Arguments, if any, are test name
patterns (unittest -k), e.g. `run.py BadInput`.

The last line printed is "N passed, N failed" (", N skipped" appended when
tests were skipped); the exit status is 1 when anything failed or errored.
"""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv):
    sys.path.insert(0, HERE)
    import harness

    for path in (harness.PARLEYD, harness.PARLEYCTL):
        if not os.access(path, os.X_OK):
            print('missing %s (run make, or set PARLEY_BINDIR)' % path)
            print('0 passed, 1 failed')
            return 1
    print('parleyd: %s; strophe client: %s; timeout scale %g'
          % (harness.PARLEYD, harness.STROPHE_CLIENT, harness.SLOW),
          flush=True)
    loader = unittest.TestLoader()
    if argv:
        loader.testNamePatterns = ['*%s*' % a for a in argv]
    suite = loader.discover(HERE, pattern='test_*.py', top_level_dir=HERE)
    start = time.monotonic()
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2)
    result = runner.run(suite)
    harness.shutdown_loop()
    elapsed = time.monotonic() - start

    # Errors in setUpClass/tearDownClass are not counted in testsRun but
    # are failures all the same.
    failed_tests = set()
    class_errors = 0
    for test, _ in result.failures + result.errors:
        if isinstance(test, unittest.TestCase):
            failed_tests.add(test.id())
        else:
            class_errors += 1
    failed = len(failed_tests) + class_errors + \
        len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - len(failed_tests) - skipped - \
        len(result.unexpectedSuccesses)
    passed = max(passed, 0)
    print('integration tests took %.1f s' % elapsed)
    line = '%d passed, %d failed' % (passed, failed)
    if skipped:
        line += ', %d skipped' % skipped
    sys.stdout.flush()
    sys.stderr.flush()
    print(line, flush=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
