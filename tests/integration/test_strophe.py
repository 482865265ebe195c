"""A libstrophe client (tests/integration/strophe_client.c) against parleyd,
talking with a slixmpp user."""

import os
import subprocess
import uuid

from harness import Client, ServerTestCase, STROPHE_CLIENT, T


class StropheTest(ServerTestCase):
    USERS = {'strophe': 'strophe-pw', 'bob': 'bob-pw'}

    @classmethod
    def setUpClass(cls):
        if not os.access(STROPHE_CLIENT, os.X_OK):
            raise AssertionError('%s is missing: run `make %s`'
                                 % (STROPHE_CLIENT, 'build/tests/'
                                    'strophe_client'))
        super().setUpClass()
        cls.bob = Client(cls.server, 'bob@localhost/slix', 'bob-pw').connect()

    def run_strophe(self, jid, password, to, body):
        return subprocess.Popen(
            [STROPHE_CLIENT, jid, password, '127.0.0.1',
             str(self.server.port), to, body],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def test_strophe_sends_and_receives(self):
        body = 'hello from libstrophe ' + uuid.uuid4().hex
        reply = 'hello libstrophe, this is slixmpp ' + uuid.uuid4().hex
        since = self.server.log_size()
        p = self.run_strophe('strophe@localhost', 'strophe-pw',
                             'bob@localhost/slix', body)
        try:
            m = self.bob.message(lambda m: m['body'] == body, timeout=30)
            self.assertTrue(m['from'].startswith('strophe@localhost/'),
                            m['from'])
            self.assertEqual(m['type'], 'chat')
            self.bob.send_message(m['from'], reply)
            out, err = p.communicate(timeout=T(30))
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 0, 'stdout %r stderr %r' % (out, err))
        self.assertIn('GOT ' + reply, out.splitlines())
        log = self.server.log_since(since)
        self.assertRegex(log, r'strophe@localhost authenticated \(SCRAM-SHA-')

    def test_strophe_wrong_password(self):
        p = self.run_strophe('strophe@localhost', 'wrong-password',
                             'bob@localhost/slix', 'never sent')
        try:
            out, err = p.communicate(timeout=T(40))
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 1, 'stdout %r stderr %r' % (out, err))
        self.assertNotIn('GOT', out)
        self.assertTrue(err.strip(), 'no reason on stderr')
        self.bob.no_message(0.3, lambda m: m['body'] == 'never sent')
