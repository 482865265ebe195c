"""Process life: dead-peer detection by pings, SIGTERM, bad config files,
and parleyctl against a running parleyd."""

import os
import shutil
import subprocess
import tempfile
import time
import unittest
import uuid

from harness import (Client, RawClient, Server, ServerTestCase, PARLEYD,
                     free_port,
                     NS_PING, NS_CLIENT, q, T, round_trip)


class DeadConnectionTest(ServerTestCase):
    PING_INTERVAL = 2
    PING_TIMEOUT = 2
    CONFIG = {'c2s': {'ping_interval': PING_INTERVAL,
                      'ping_timeout': PING_TIMEOUT}}
    USERS = {'alice': 'alice-pw'}

    def test_silent_peer_is_dropped(self):
        watch = Client(self.server, 'alice@localhost/watch', 'alice-pw'
                       ).connect()
        dead = RawClient(self.server)
        dead.login('alice', 'alice-pw', 'dead', presence=True)
        watch.presence(lambda p: p['from'] == 'alice@localhost/dead' and
                       p['type'] != 'unavailable')
        t0 = time.monotonic()   # the last byte 'dead' ever sends
        # 'dead' now neither reads nor answers.  'watch' (slixmpp) answers
        # the server's pings and must survive.
        limit = self.PING_INTERVAL + self.PING_TIMEOUT + T(5)
        p = watch.presence(lambda p: p['from'] == 'alice@localhost/dead' and
                           p['type'] == 'unavailable', timeout=limit)
        dt = time.monotonic() - t0
        self.assertGreaterEqual(dt, self.PING_INTERVAL - 0.5,
                                'dropped before ping_interval (%.1f s)' % dt)
        self.assertLess(dt, limit)
        # What 'dead' would have read: a ping from the server, then the
        # stream error.
        dead.wait_closed(5)
        pings = [e for e in dead.elements if e.tag == q(NS_CLIENT, 'iq') and
                 e.find(q(NS_PING, 'ping')) is not None]
        self.assertTrue(pings, 'no XEP-0199 ping sent: %r'
                        % bytes(dead.received[-600:]))
        self.assertEqual(pings[0].get('type'), 'get')
        cond, text = dead.expect_stream_error(check_closed=False)
        self.assertEqual(cond, 'connection-timeout')
        self.assertTrue(text)
        # The watcher (which answered its pings) is still there.
        self.assertTrue(watch.stream_errors.empty())
        self.assertFalse(watch.disconnected.is_set())
        watch.send_message('alice@localhost/watch', 'still alive')
        watch.message(lambda m: m['body'] == 'still alive')
        watch.disconnect()


class SigtermTest(unittest.TestCase):
    def test_sigterm_sends_system_shutdown_and_exits_0(self):
        srv = Server(name='SigtermTest')
        ok = False
        try:
            srv.add_user('alice', 'alice-pw')
            srv.add_user('bob', 'bob-pw')
            a = Client(srv, 'alice@localhost/a', 'alice-pw').connect()
            raw = RawClient(srv)
            raw.login('bob', 'bob-pw', 'raw', presence=True)
            pre = RawClient(srv)       # not logged in yet
            pre.open()
            round_trip(a, a, 'self')
            srv.sigterm()
            cond, text = raw.expect_stream_error()
            self.assertEqual(cond, 'system-shutdown')
            self.assertTrue(text)
            cond, text = pre.expect_stream_error()
            self.assertEqual(cond, 'system-shutdown')
            cond, text = a.stream_error()
            self.assertEqual(cond, 'system-shutdown')
            rc = srv.wait_exit(10)
            self.assertEqual(rc, 0, 'parleyd exit status %s' % rc)
            # The port is closed afterwards.
            self.assertRaises(OSError, RawClient, srv)
            ok = True
        finally:
            srv.stop(keep=not ok)


class BadConfigTest(unittest.TestCase):
    """parleyd refuses a bad config: exit 1, one line naming file:line."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='parley-badconf-')
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.conf = os.path.join(self.dir, 'parley.conf')

    def config(self, extra=''):
        # 6 lines; an `extra` line is line 7.
        return ('[server]\ndomain = localhost\ndata_dir = %s\n'
                '[c2s]\nlisten = 127.0.0.1:%d\ntls_listen = 127.0.0.1:%d\n'
                % (os.path.join(self.dir, 'data'), free_port(), free_port())
                + extra)

    def check_refused(self, text, lineno, words=()):
        with open(self.conf, 'w') as f:
            f.write(text)
        try:
            p = subprocess.run([PARLEYD, '-c', self.conf],
                               capture_output=True, text=True,
                               timeout=T(15), cwd=self.dir)
        except subprocess.TimeoutExpired:
            self.fail('parleyd kept running with a bad config')
        self.assertEqual(p.returncode, 1, 'stderr: %r' % p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, 'stderr: %r' % p.stderr)
        self.assertIn(self.conf, lines[0])
        if lineno is not None:
            self.assertIn('%s:%d:' % (self.conf, lineno), lines[0])
        for w in words:
            self.assertIn(w, lines[0])
        self.assertEqual(p.stdout, '')
        self.assertFalse(os.path.exists(os.path.join(self.dir, 'data',
                                                     'parley.db')))
        return lines[0]

    def test_unknown_key(self):
        self.check_refused(self.config('no_such_key = 1\n'), 7,
                           ['no_such_key'])

    def test_bad_value(self):
        self.check_refused(self.config('auth_timeout = soon\n'), 7,
                           ['auth_timeout'])

    def test_value_out_of_range(self):
        self.check_refused(self.config('max_sessions_per_account = 0\n'), 7,
                           ['max_sessions_per_account'])

    def test_unknown_section(self):
        self.check_refused(self.config('[nonsense]\nx = 1\n'), 7,
                           ['nonsense'])

    def test_bad_listen_address(self):
        text = self.config().replace('\nlisten = 127.0.0.1:',
                                     '\nlisten = 127.0.0.1:99999', 1)
        self.check_refused(text, 5, ['listen'])

    def test_missing_file(self):
        p = subprocess.run([PARLEYD, '-c', self.conf],
                           capture_output=True, text=True, timeout=T(15))
        self.assertEqual(p.returncode, 1)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn(self.conf, lines[0])


class ParleyctlTest(ServerTestCase):
    USERS = {'bob': 'bob-pw'}

    def login_ok(self, user, password):
        c = Client(self.server, '%s@localhost/ctl-%s' % (
            user, uuid.uuid4().hex[:6]), password)
        r = c.try_connect(timeout=20)
        c.disconnect(wait=0.5)
        return r

    def test_user_lifecycle(self):
        srv = self.server
        jid = 'zoe@localhost'
        r = srv.ctl('user', 'add', jid, password='zoe-first-pw')
        self.assertEqual(r.returncode, 0, r.stderr)
        r = srv.ctl('user', 'add', jid, password='other')
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertTrue(r.stderr.strip())
        r = srv.ctl('user', 'list')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(jid, r.stdout.split())
        self.assertIn('bob@localhost', r.stdout.split())
        self.assertEqual(self.login_ok('zoe', 'zoe-first-pw'), 'ok')

        r = srv.ctl('user', 'passwd', jid, password='zoe-second-pw')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.login_ok('zoe', 'zoe-first-pw'), 'auth_failed')
        self.assertEqual(self.login_ok('zoe', 'zoe-second-pw'), 'ok')

        r = srv.ctl('user', 'delete', jid)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = srv.ctl('user', 'delete', jid)
        self.assertEqual(r.returncode, 4, r.stderr)
        r = srv.ctl('user', 'passwd', jid, password='x')
        self.assertEqual(r.returncode, 4, r.stderr)
        r = srv.ctl('user', 'list')
        self.assertNotIn(jid, r.stdout.split())
        self.assertEqual(self.login_ok('zoe', 'zoe-second-pw'), 'auth_failed')
        self.assertTrue(self.server.alive())
        # Passwords never reach the log.
        log = self.server.log()
        for pw in ('zoe-first-pw', 'zoe-second-pw'):
            self.assertNotIn(pw, log)

    def test_bad_jid(self):
        for bad in ('bad@@localhost', 'a b@localhost', '@localhost'):
            r = self.server.ctl('user', 'add', bad, password='pw')
            self.assertEqual(r.returncode, 5, '%s: %s' % (bad, r.stderr))
            self.assertEqual(len(r.stderr.strip().splitlines()), 1)

    def test_usage(self):
        r = self.server.ctl('user', 'frobnicate')
        self.assertEqual(r.returncode, 2, r.stderr)
        r = self.server.ctl()
        self.assertEqual(r.returncode, 2, r.stderr)

    def test_new_user_can_chat_with_running_server(self):
        self.assertEqual(self.server.ctl('user', 'add', 'yan@localhost',
                                         password='yan-pw').returncode, 0)
        y = Client(self.server, 'yan@localhost/y', 'yan-pw').connect()
        b = Client(self.server, 'bob@localhost/b', 'bob-pw').connect()
        round_trip(y, b, 'ctl')
        y.disconnect()
        b.disconnect()
