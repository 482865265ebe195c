"""Logging in: SCRAM-SHA-256 and SCRAM-SHA-1 (slixmpp and by hand), wrong
passwords and the back-off, STARTTLS before SASL, PLAIN only when enabled
and only over TLS."""

import os
import re
import time
import xml.etree.ElementTree as ET

from harness import (Client, RawClient, ServerTestCase, NS_SASL, NS_TLS,
                     NS_BIND, q, round_trip, T, wait_until)


def mech_logged(log, user, mech):
    """True if the log says `user` authenticated with exactly `mech`."""
    return re.search(r'%s@localhost authenticated \(%s,' % (
        re.escape(user), re.escape(mech)), log) is not None


class ScramLoginTest(ServerTestCase):
    USERS = {'alice': 'alice-pw-1', 'bob': 'bob-pw-2'}

    def login_with(self, user, mech):
        since = self.server.log_size()
        c = Client(self.server, '%s@localhost/%s' % (user, mech.lower()),
                   self.USERS[user], mech=mech).connect()
        self.assertEqual(c.jid, '%s@localhost/%s' % (user, mech.lower()))
        self.assertTrue(self.server.wait_log('authenticated', since=since))
        log = self.server.log_since(since)
        self.assertTrue(mech_logged(log, user, mech),
                        'no "%s authenticated (%s, ...)" line in:\n%s'
                        % (user, mech, log))
        other = 'SCRAM-SHA-1' if mech == 'SCRAM-SHA-256' else 'SCRAM-SHA-256'
        self.assertFalse(mech_logged(log, user, other), log)
        return c

    def test_slixmpp_scram_sha256(self):
        c = self.login_with('alice', 'SCRAM-SHA-256')
        c.disconnect()

    def test_slixmpp_scram_sha1(self):
        c = self.login_with('bob', 'SCRAM-SHA-1')
        c.disconnect()

    def test_both_mechanisms_chat(self):
        a = self.login_with('alice', 'SCRAM-SHA-256')
        b = self.login_with('bob', 'SCRAM-SHA-1')
        round_trip(a, b, 'scram')
        a.disconnect()
        b.disconnect()

    def test_raw_scram_server_signature(self):
        # The hand-written client checks the server's final signature
        # (v=...), so this proves the server holds the right keys.
        for mech in ('SCRAM-SHA-256', 'SCRAM-SHA-1'):
            r = RawClient(self.server)
            feats = r.open()
            self.assertIsNotNone(feats.find(q(NS_TLS, 'starttls')))
            feats = r.starttls()
            self.assertEqual(RawClient.mechanisms(feats)[:2],
                             ['SCRAM-SHA-256', 'SCRAM-SHA-1'])
            el = r.auth_scram('alice', self.USERS['alice'], mech)
            self.assertEqual(el.tag, q(NS_SASL, 'success'), ET.tostring(el))
            feats = r.open()
            self.assertIsNotNone(feats.find(q(NS_BIND, 'bind')))
            r.close()

    def test_unknown_user_refused(self):
        r = RawClient(self.server)
        r.open()
        r.starttls()
        # What a user types as a name may be their password typed one
        # field too early: an unknown name is not written to the log.
        name = 'Secret-Typed-As-Name-%d' % os.getpid()
        el = r.auth_scram(name, 'whatever')
        self.assertEqual(el.tag, q(NS_SASL, 'failure'))
        self.assertIsNotNone(el.find(q(NS_SASL, 'not-authorized')),
                             ET.tostring(el))
        r.close()
        self.assertTrue(wait_until(lambda: 'authentication failed for an '
                                   'unknown account' in self.server.log(),
                                   T(5)), self.server.log()[-2000:])
        self.assertNotIn(name.lower(), self.server.log().lower())


class WrongPasswordTest(ServerTestCase):
    """Its own server, so that the back-off counters start at zero."""
    CONFIG = {'auth': {'backoff_base_ms': 300, 'backoff_max_ms': 8000}}
    USERS = {'alice': 'Right-Pass-4711', 'bob': 'Bob-Pass-0815'}
    BAD1 = 'Wrong-Secret-One-1234'
    BAD2 = 'Wrong-Secret-Two-5678'

    def timed_failure(self, r, password):
        t0 = time.monotonic()
        el = r.auth_scram('alice', password)
        dt = time.monotonic() - t0
        self.assertEqual(el.tag, q(NS_SASL, 'failure'), ET.tostring(el))
        self.assertIsNotNone(el.find(q(NS_SASL, 'not-authorized')),
                             ET.tostring(el))
        return dt

    def test_1_wrong_password_backoff_grows(self):
        r = RawClient(self.server)
        r.open()
        r.starttls()
        t1 = self.timed_failure(r, self.BAD1)
        t2 = self.timed_failure(r, self.BAD2)
        # base 300 ms: the 1st failure waits ~300 ms, the 2nd ~600 ms.
        self.assertGreaterEqual(t1, 0.25, 'first failure answered at once')
        self.assertGreater(t2, t1 + 0.15,
                           'back-off did not grow: %.3f s then %.3f s'
                           % (t1, t2))
        # The connection is still usable: the right password works.
        el = r.auth_scram('alice', self.USERS['alice'])
        self.assertEqual(el.tag, q(NS_SASL, 'success'), ET.tostring(el))
        r.close()

    def test_2_slixmpp_wrong_password(self):
        c = Client(self.server, 'bob@localhost/x', 'not-bobs-password')
        self.assertEqual(c.try_connect(timeout=20), 'auth_failed')
        c.disconnect(wait=0.5)
        # ... and the right one still works.
        c = Client(self.server, 'bob@localhost/y', self.USERS['bob'])
        c.connect(presence=False)
        c.disconnect()

    def test_3_password_never_logged(self):
        r = RawClient(self.server)
        r.login('alice', self.USERS['alice'], 'logcheck')
        r.close()
        log = self.server.log()
        self.assertIn('authentication failed for alice@localhost', log)
        for pw in (self.BAD1, self.BAD2, self.USERS['alice'],
                   'not-bobs-password', self.USERS['bob']):
            self.assertNotIn(pw, log)


class TooManyFailuresTest(ServerTestCase):
    CONFIG = {'auth': {'backoff_base_ms': 10, 'backoff_max_ms': 40}}
    USERS = {'alice': 'alice-pw'}

    def test_five_failures_close_the_stream(self):
        r = RawClient(self.server)
        r.open()
        r.starttls()
        for i in range(4):
            el = r.auth_scram('alice', 'bad-%d' % i)
            self.assertEqual(el.tag, q(NS_SASL, 'failure'), ET.tostring(el))
        el = r.auth_scram('alice', 'bad-5')
        self.assertEqual(el.tag, q(NS_SASL, 'failure'), ET.tostring(el))
        cond, text = r.expect_stream_error()
        self.assertEqual(cond, 'policy-violation')
        self.assertTrue(text)


class StartTlsTest(ServerTestCase):
    USERS = {'alice': 'alice-pw'}

    def test_features_before_tls_offer_only_starttls(self):
        r = RawClient(self.server)
        feats = r.open()
        st = feats.find(q(NS_TLS, 'starttls'))
        self.assertIsNotNone(st, ET.tostring(feats))
        self.assertIsNotNone(st.find(q(NS_TLS, 'required')))
        self.assertEqual(RawClient.mechanisms(feats), [])
        self.assertEqual(len(list(feats)), 1, ET.tostring(feats))
        r.close()

    def test_auth_before_starttls_refused(self):
        r = RawClient(self.server)
        r.open()
        # PLAIN with a real password, in the clear: must not log in.
        r.send("<auth xmlns='%s' mechanism='PLAIN'>AGFsaWNlAGFsaWNlLXB3"
               "</auth>" % NS_SASL)
        cond, text = r.expect_stream_error()
        self.assertIn(cond, ('policy-violation', 'not-authorized'))
        self.assertTrue(text, 'stream error without <text/>')
        self.assertNotIn(b'success', bytes(r.received))

    def test_scram_before_starttls_refused(self):
        r = RawClient(self.server)
        r.open()
        el = None
        try:
            el = r.auth_scram('alice', 'alice-pw')
        except Exception:
            pass
        self.assertFalse(el is not None and el.tag == q(NS_SASL, 'success'))
        self.assertIn(b'<stream:error>', bytes(r.received))
        self.assertTrue(r.wait_closed())

    def test_plain_not_offered_by_default(self):
        r = RawClient(self.server)
        r.open()
        feats = r.starttls()
        mechs = RawClient.mechanisms(feats)
        self.assertIn('SCRAM-SHA-256', mechs)
        self.assertNotIn('PLAIN', mechs)
        el = r.auth_plain('alice', 'alice-pw')
        self.assertEqual(el.tag, q(NS_SASL, 'failure'), ET.tostring(el))
        self.assertIsNotNone(el.find(q(NS_SASL, 'invalid-mechanism')),
                             ET.tostring(el))
        r.close()


class PlainEnabledTest(ServerTestCase):
    CONFIG = {'auth': {'plain': 'on'}}
    USERS = {'alice': 'alice-plain-pw'}

    def test_plain_offered_after_tls_only(self):
        r = RawClient(self.server)
        feats = r.open()
        self.assertEqual(RawClient.mechanisms(feats), [],
                         'mechanisms offered before TLS: %s'
                         % ET.tostring(feats))
        feats = r.starttls()
        self.assertIn('PLAIN', RawClient.mechanisms(feats))
        r.close()

    def test_plain_before_tls_refused(self):
        r = RawClient(self.server)
        r.open()
        r.send("<auth xmlns='%s' mechanism='PLAIN'>AGFsaWNlAGFsaWNlLXBsYWlu"
               "LXB3</auth>" % NS_SASL)   # \0alice\0alice-plain-pw
        cond, text = r.expect_stream_error()
        self.assertTrue(cond)
        self.assertTrue(text)
        self.assertNotIn(b'success', bytes(r.received))

    def test_plain_login_works(self):
        since = self.server.log_size()
        r = RawClient(self.server)
        jid = r.login('alice', 'alice-plain-pw', 'plain', mech='PLAIN')
        self.assertEqual(jid, 'alice@localhost/plain')
        self.assertTrue(self.server.wait_log('authenticated', since=since))
        self.assertTrue(mech_logged(self.server.log_since(since), 'alice',
                                    'PLAIN'))
        r.close()

    def test_plain_wrong_password(self):
        r = RawClient(self.server)
        r.open()
        r.starttls()
        el = r.auth_plain('alice', 'Plain-Wrong-Secret-99')
        self.assertEqual(el.tag, q(NS_SASL, 'failure'))
        self.assertIsNotNone(el.find(q(NS_SASL, 'not-authorized')))
        r.close()
        log = self.server.log()
        self.assertIn('authentication failed for alice@localhost', log)
        self.assertNotIn('Plain-Wrong-Secret-99', log)
        self.assertNotIn('alice-plain-pw', log)
