"""Idle logoff and the maximum session length (xmpp/policy.c's sweep).

A session with no user activity for [c2s] idle_logoff (or its group's)
is closed with a policy-violation stream error whose text says why;
keep-alives do not count: XEP-0199 pings to the server or to oneself,
whitespace, automatic answers (IQ results, receipts), auto-away
presence.  Messages do count.  max_session closes a session that has
lasted its time, busy or not, with its own text.  Short durations keep
the test quick: 2 s idle, swept every 250 ms.
"""

import time

from harness import NS_PING, T
from im_util import IMTestCase, login, s, uid

IDLE = 2.0


class IdleTest(IMTestCase):
    CONFIG = {
        'c2s': {'idle_logoff': '2s'},
        'group.lazy': {'idle_logoff': '0'},
        'group.short': {'max_session': '2s', 'idle_logoff': '0'},
    }
    USERS = {u: u + '-pw' for u in ('idler', 'pinger', 'chatty', 'peer',
                                     'lazy', 'short', 'acker', 'away')}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for local, group in (('lazy', 'lazy'), ('short', 'short')):
            r = cls.server.ctl('user', 'group', local, group)
            assert r.returncode == 0, r.stderr

    def keep(self, c, seconds, action):
        """Calls action(c) every 0.3 s for seconds, or until the server
        closes the stream; returns the seconds it stayed open."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < T(seconds):
            try:
                action(c)
                c.fill(0.3)
            except (OSError, AssertionError):
                break
            if c.closed or any(e.tag.endswith('}error') and
                               e.tag.startswith('{http://etherx')
                               for e in c.elements):
                break
        return time.monotonic() - t0

    def logged_off(self, c, words):
        cond, text = c.expect_stream_error(timeout=T(IDLE + 3))
        self.assertEqual(cond, 'policy-violation')
        for w in words:
            self.assertIn(w, text or '')
        return text

    def test_idle_session_logged_off(self):
        c = login(self.server, 'idler')
        t0 = time.monotonic()
        text = self.logged_off(c, ('logged off after 2s without activity',
                                   'idle_logoff'))
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, IDLE - 0.1)
        self.assertLess(took, T(IDLE + 1.5), text)
        self.assertTrue(self.server.alive())
        # The admin's trail says so.
        self.assertTrue(self.server.wait_log('stream error policy-violation'
                                             ': logged off after 2s'))

    def test_pings_are_not_activity(self):
        c = login(self.server, 'pinger')

        def ping(cl):
            # To the server, to one's own account, and whitespace.
            cl.send("<iq type='get' id='%s' to='localhost'><ping xmlns='%s'"
                    "/></iq>" % (uid('p'), NS_PING))
            cl.send("<iq type='get' id='%s'><ping xmlns='%s'/></iq>"
                    % (uid('p'), NS_PING))
            cl.send(' \n ')
        stayed = self.keep(c, IDLE + 3, ping)
        self.assertLess(stayed, IDLE + 2, 'pings kept the session open')
        self.logged_off(c, ('without activity',))

    def test_automatic_answers_are_not_activity(self):
        peer = login(self.server, 'peer')
        acker = login(self.server, 'acker')

        def ack(cl):
            # Receipts and an auto-away presence, as an unattended
            # client sends them.
            cl.send("<message to='%s' id='%s'><received xmlns='urn:xmpp:"
                    "receipts' id='x'/></message>" % (peer.jid, uid('r')))
            cl.send("<presence><show>away</show></presence>")
        stayed = self.keep(acker, IDLE + 3, ack)
        self.assertLess(stayed, IDLE + 2, 'receipts kept the session open')
        self.logged_off(acker, ('without activity',))

    def test_messages_are_activity(self):
        peer = login(self.server, 'peer')
        c = login(self.server, 'chatty')

        def chat(cl):
            cl.chat(peer.jid, uid('hello'))
        stayed = self.keep(c, IDLE * 2, chat)
        self.assertGreaterEqual(stayed, T(IDLE * 2) - 0.2)
        c.ping()        # still served
        self.assertFalse(c.closed)

    def test_group_without_idle_logoff(self):
        c = login(self.server, 'lazy')
        time.sleep(IDLE + 1)
        c.ping()
        self.assertFalse(c.closed)

    def test_max_session(self):
        peer = login(self.server, 'peer')
        c = login(self.server, 'short')
        t0 = time.monotonic()

        def chat(cl):
            cl.chat(peer.jid, uid('busy'))
        stayed = self.keep(c, IDLE + 3, chat)
        self.assertLess(stayed, IDLE + 2)
        text = self.logged_off(c, ('session time limit',
                                   'a session may last 2s',
                                   "max_session of group 'short'"))
        self.assertGreaterEqual(time.monotonic() - t0, IDLE - 0.1, text)
        # Logging in again works: the limit is per session.
        again = login(self.server, 'short')
        again.ping()
