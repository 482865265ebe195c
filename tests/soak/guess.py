#!/usr/bin/python3
"""`make soak-guess`: 10,000 wrong passwords against one account, then
10,000 against many, each against a fresh parleyd with the default
back-off, while legitimate users log in over and over; reports how many
guesses were answered and how long the legitimate logins took.

Loopback only: parleyd listens on 127.0.0.1, guesses come from
127.0.0.2-127.0.0.65 (24 connections each) plus 127.0.0.66, where a
greedier guesser takes every unauthenticated slot the address has.  Each
phase ends after ATTEMPTS attempts or TIME_LIMIT seconds, whichever comes
first.  Probes: the attacked account itself and another user from
127.0.0.1, and a user behind the greedy guesser's address (an office
sharing one NAT address with an infected machine).

Exit status 0 when every login from 127.0.0.1 succeeded, 1 otherwise.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'integration'))

import guessing  # noqa: E402
import harness  # noqa: E402

ATTEMPTS = int(os.environ.get('SOAK_ATTEMPTS', '10000'))
TIME_LIMIT = float(os.environ.get('SOAK_TIME_LIMIT', '180'))
SOURCES = [('127.0.0.%d' % i, 24) for i in range(2, 66)]
SHARED = '127.0.0.66'
SOURCES.append((SHARED, 40))    # more than max_unauth_per_address (32)
PROBES = [('attacked', 'alice', 'alice-pw', '127.0.0.1'),
          ('other', 'carol', 'carol-pw', '127.0.0.1'),
          ('same-addr', 'dave', 'dave-pw', SHARED)]


def phase(title, targets, victims):
    srv = harness.Server({'server': {'log_level': 'warn'}}, name='soak')
    try:
        for user in ('alice', 'carol', 'dave'):
            srv.add_user(user, user + '-pw')
        for v in victims:
            srv.add_user(v, 'victim-pw')
        r = guessing.run_guessing(
            srv.port, ATTEMPTS, targets, SOURCES, PROBES, TIME_LIMIT,
            grace=10.0, probe_interval=0.25)
        guessing.report(title, r)
        return guessing.probe_stats(r)
    finally:
        srv.stop()


def main():
    print('soak-guess: %d attempts per phase, at most %.0f s each, from %d '
          'loopback addresses (%d connections); default back-off (200 ms '
          'doubling to 8 s)' % (ATTEMPTS, TIME_LIMIT, len(SOURCES),
                                sum(n for _, n in SOURCES)), flush=True)
    ok = True
    many = ['alice'] + ['victim%d' % i for i in range(999)]
    for title, targets, victims in (
            ('one account (alice)', ['alice'], []),
            ('1000 accounts (alice and 50 others exist)', many,
             many[1:51])):
        st = phase(title, targets, victims)
        for name in ('attacked', 'other'):
            if name in st and st[name]['failed']:
                ok = False
    harness.shutdown_loop()
    print('soak-guess: %s' % ('legitimate logins from other addresses all '
                              'served' if ok else 'LEGITIMATE LOGINS FAILED'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
