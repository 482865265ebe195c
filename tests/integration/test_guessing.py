"""Password guessing does not lock legitimate users out: while a few
hundred wrong SCRAM attempts (against one account and against many,
from four other loopback addresses) wait out the back-off, the attacked
account itself and another user keep logging in at once.

The soak version (10,000 attempts, figures) is `make soak-guess`."""

import guessing
from harness import ServerTestCase

# Answers to wrong guesses wait 200 ms doubling to 3 s; a correct login
# must never wait for that, so LEGIT_MAX is well under the ceiling.
BACKOFF_MAX_S = 3.0
LEGIT_MAX_S = 1.5


class GuessingTest(ServerTestCase):
    CONFIG = {'auth': {'backoff_base_ms': 200,
                       'backoff_max_ms': int(BACKOFF_MAX_S * 1000)},
              'server': {'log_level': 'warn'}}
    USERS = {'alice': 'alice-pw', 'carol': 'carol-pw', 'victim1': 'v-pw',
             'victim2': 'v-pw'}

    def test_legitimate_logins_served_while_guessing(self):
        # Half the guesses at alice, the rest at many names (existing
        # and not).
        targets = []
        for i in range(30):
            targets += ['alice', 'victim%d' % (i % 3), 'nobody%d' % i]
        r = guessing.run_guessing(
            self.server.port, attempts=300, targets=targets,
            sources=[('127.0.0.%d' % i, 30) for i in range(2, 6)],
            probes=[('attacked', 'alice', 'alice-pw', '127.0.0.1'),
                    ('other', 'carol', 'carol-pw', '127.0.0.1')],
            time_limit=25, grace=BACKOFF_MAX_S + 2, probe_interval=0.2)
        guessing.report('guessing (integration)', r)
        st = guessing.probe_stats(r)

        # The guessing really happened, and was slowed down.
        self.assertEqual(r['attempts'], 300, r)
        self.assertGreaterEqual(r['answered'], 250, r)
        self.assertGreaterEqual(r['answer_p50_s'], 1.0,
                                'wrong guesses answered without back-off')
        for name in ('attacked', 'other'):
            self.assertGreaterEqual(st[name]['n'], 5, st)
            self.assertEqual(st[name]['failed'], 0,
                             '%s: legitimate logins failed: %s'
                             % (name, st[name]['reasons']))
            self.assertLess(st[name]['max'], LEGIT_MAX_S,
                            '%s: a legitimate login took %.2f s while '
                            'guessing went on' % (name, st[name]['max']))
