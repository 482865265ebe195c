"""Per-account rate limits (xmpp/ratelimit.c, enforced in session.c before
routing), the byte budget before authentication, `rate_limits = off` and
`parleyctl check`.

Over a limit a stanza is refused with policy-violation, type wait, whose
text names the limit, and never delivered; errors and IQ responses are
dropped instead (never answered with errors); and the connection is not
read until the bucket has room, while everyone else is served as usual.
"""

import statistics
import threading
import time
import unittest

import harness
from harness import NS_CLIENT, NS_SASL, RawClient, T, q, stanza_error
from im_util import IMTestCase, body_of, login, make_both, s, uid


def is_error_id(e, ids):
    return e.get('type') == 'error' and e.get('id') in ids


def rate_refusal(testcase, el, limit_word):
    """Asserts el is a rate-limit refusal naming limit_word."""
    cond, etype, text = stanza_error(el)
    testcase.assertEqual(cond, 'policy-violation', s(el))
    testcase.assertEqual(etype, 'wait', s(el))
    testcase.assertIn('rate limited', text or '', s(el))
    testcase.assertIn(limit_word, text or '', s(el))


def collect(client, pred, want, timeout):
    """Reads client until `want` elements match pred (or timeout); returns
    those that arrived (and removes them)."""
    end = time.monotonic() + T(timeout)
    got = []
    while len(got) < want and time.monotonic() < end:
        keep = []
        for e in client.elements:
            (got if pred(e) else keep).append(e)
        client.elements[:] = keep
        if len(got) < want:
            client.fill(0.05)
    return got


def outcome(sender, receiver, ids, timeout=10):
    """Reads both sides until each of ids was refused (an error back to
    sender) or delivered (to receiver); returns (refused, delivered)
    elements."""
    ids = set(ids)
    refused, delivered = [], []
    end = time.monotonic() + T(timeout)
    while len(refused) + len(delivered) < len(ids) and \
            time.monotonic() < end:
        for c, got, want_err in ((sender, refused, True),
                                 (receiver, delivered, False)):
            keep = []
            for e in c.elements:
                if e.get('id') in ids and \
                        (e.get('type') == 'error') == want_err:
                    got.append(e)
                else:
                    keep.append(e)
            c.elements[:] = keep
            c.fill(0.01)
    return refused, delivered


def rtt(a, b):
    """Seconds for a chat message a -> b and the answer b -> a."""
    t0 = time.monotonic()
    body = uid('rt')
    a.chat(b.jid, body)
    b.expect_body(body)
    body = uid('rt')
    b.chat(a.jid, body)
    a.expect_body(body)
    return time.monotonic() - t0


class FloodTest(IMTestCase):
    """The defaults: bursts of 60 messages, then 5 a second."""
    USERS = {u: u + '-pw' for u in ('spammer', 'victim', 'amy', 'ben')}
    N = 1500

    def test_flood_refused_while_others_chat(self):
        amy, ben = login(self.server, 'amy'), login(self.server, 'ben')
        victim = login(self.server, 'victim')
        spam = login(self.server, 'spammer')
        base = [rtt(amy, ben) for _ in range(20)]

        ids = ['f%d' % i for i in range(self.N)]
        stanzas = ["<message to='%s' type='chat' id='%s'><body>buy now "
                   "%s</body></message>" % (victim.jid, i, i) for i in ids]
        failed = []

        def flood():
            try:
                for k in range(0, self.N, 100):
                    spam.send(''.join(stanzas[k:k + 100]))
            except OSError as e:
                failed.append(e)

        t0 = time.monotonic()
        th = threading.Thread(target=flood)
        th.start()
        during = []
        while th.is_alive() or len(during) < 20:
            during.append(rtt(amy, ben))
        th.join()
        self.assertFalse(failed, 'the flood could not be written: %s'
                         % failed)

        refused, delivered = outcome(spam, victim, ids, 30)
        elapsed = time.monotonic() - t0
        refused_ids = {e.get('id') for e in refused}
        delivered_ids = {e.get('id') for e in delivered}

        # Every stanza is either delivered or refused, never both.
        self.assertFalse(delivered_ids & refused_ids)
        self.assertEqual(len(delivered_ids | refused_ids), self.N,
                         '%d delivered + %d refused of %d' % (
                             len(delivered_ids), len(refused_ids), self.N))
        # The burst passes, then about 5 a second.
        self.assertGreaterEqual(len(delivered_ids), 60)
        self.assertLessEqual(len(delivered_ids), 60 + 5 * elapsed + 5,
                             'delivered %d in %.1f s' % (len(delivered_ids),
                                                         elapsed))
        for e in refused[:5] + refused[-5:]:
            rate_refusal(self, e, 'messages')
        # Nobody else noticed.
        b50, d50 = statistics.median(base), statistics.median(during)
        print('flood: %d sent, %d delivered, %d refused in %.1f s; other '
              'users\' round trip p50 %.1f ms before, %.1f ms during (max '
              '%.1f ms)' % (self.N, len(delivered_ids), len(refused_ids),
                            elapsed, b50 * 1e3, d50 * 1e3,
                            max(during) * 1e3), end=' ... ', flush=True)
        self.assertLess(d50, b50 + T(0.05), 'round trip p50 %.1f ms during '
                        'the flood, %.1f ms before' % (d50 * 1e3, b50 * 1e3))
        self.assertLess(max(during), T(0.5), 'a round trip took %.0f ms '
                        'during the flood' % (max(during) * 1e3))
        # The admin hears of it, without a line per refused stanza.
        log = self.server.log()
        lines = [ln for ln in log.splitlines()
                 if 'rate limited (messages)' in ln]
        self.assertTrue(lines, 'no "rate limited" log line')
        self.assertLessEqual(len(lines), 2 + elapsed / 10)
        self.assertNotIn('buy now', log)


class PerAccountTest(IMTestCase):
    CONFIG = {'limits': {'message_burst': 10, 'message_rate': 1}}
    USERS = {u: u + '-pw' for u in ('multi', 'sink', 'solo')}

    def send(self, client, prefix, n):
        ids = ['%s%d' % (prefix, i) for i in range(n)]
        client.send(''.join("<message to='%s' id='%s' type='chat'><body>%s"
                            "</body></message>" % (self.sink.jid, i, i)
                            for i in ids))
        return set(ids)

    def test_limit_shared_by_all_resources(self):
        self.sink = login(self.server, 'sink')
        one = login(self.server, 'multi', resource='one')
        two = login(self.server, 'multi', resource='two')
        solo = login(self.server, 'solo')

        a = self.send(one, 'a', 8)
        got = collect(self.sink, lambda e: e.get('id') in a, 8, 5)
        self.assertEqual(len(got), 8)
        one.nothing(lambda e: is_error_id(e, a))

        # The second resource has its own connection but not its own
        # bucket: two messages are left (one more if a second passed).
        b = self.send(two, 'b', 8)
        refused, got = outcome(two, self.sink, b)
        self.assertEqual(len(refused) + len(got), 8)
        self.assertLessEqual(len(got), 4, 'per connection, not per account')
        self.assertGreaterEqual(len(refused), 4)
        rate_refusal(self, refused[0], 'messages')

        # Another account is not affected.
        c = self.send(solo, 'c', 8)
        got = collect(self.sink, lambda e: e.get('id') in c, 8, 5)
        self.assertEqual(len(got), 8)
        solo.nothing(lambda e: is_error_id(e, c))


class NewRecipientsTest(IMTestCase):
    CONFIG = {'limits': {'new_recipients_per_hour': 3}}
    USERS = {u: u + '-pw' for u in ('writer', 'friend', 'r1', 'r2', 'r3',
                                     'r4')}

    def test_new_recipients_per_hour(self):
        w = login(self.server, 'writer', roster=True)
        friend = login(self.server, 'friend', roster=True)
        make_both(w, friend)
        rs = [login(self.server, 'r%d' % i) for i in range(1, 5)]
        for r in rs[:3]:
            body = uid('hello')
            w.chat(r.bare_jid, body)
            r.expect_body(body)

        # A fourth stranger within the hour is refused, never delivered.
        body = uid('spam')
        w.send("<message to='%s' id='n4' type='chat'><body>%s</body>"
               "</message>" % (rs[3].bare_jid, body))
        el = w.expect(lambda e: is_error_id(e, {'n4'}), 5, 'refusal')
        rate_refusal(self, el, 'new recipients')

        # Conversations already started and contacts go on (after the
        # pause, at most PARLEY_RATE_PAUSE_MAX_MS).
        body2 = uid('again')
        w.chat(rs[0].bare_jid, body2)
        rs[0].expect_body(body2, timeout=15)
        body3 = uid('friend')
        w.chat(friend.bare_jid, body3)
        friend.expect_body(body3, timeout=15)

        # The account's other resource is counted with it.
        w2 = login(self.server, 'writer', resource='second')
        w2.send("<message to='%s' id='n5' type='chat'><body>%s</body>"
                "</message>" % (rs[3].bare_jid, body))
        el = w2.expect(lambda e: is_error_id(e, {'n5'}), 5, 'refusal')
        rate_refusal(self, el, 'new recipients')
        rs[3].nothing(lambda e: body_of(e) == body)


class PresenceIqTest(IMTestCase):
    CONFIG = {'limits': {'presence_burst': 3, 'presence_rate': 1,
                         'iq_burst': 5, 'iq_rate': 2,
                         'message_burst': 2, 'message_rate': 1}}
    USERS = {u: u + '-pw' for u in ('pres', 'iqer', 'err', 'peer')}

    def test_presence_refused_with_presence_error_but_going_offline_works(
            self):
        watch = login(self.server, 'pres', resource='watch')
        main = login(self.server, 'pres', resource='main', presence=False)
        ids = ['p%d' % i for i in range(5)]
        main.send(''.join("<presence id='%s'><status>%s</status></presence>"
                          % (i, i) for i in ids) +
                  "<presence type='unavailable' id='off'/>")
        refused = collect(main, lambda e: e.tag == q(NS_CLIENT, 'presence')
                          and is_error_id(e, set(ids)), 2, 5)
        self.assertGreaterEqual(len(refused), 2, 'presence not limited')
        rate_refusal(self, refused[0], 'presence')
        # Going offline is never refused: the other resource sees it.
        watch.expect(lambda e: e.tag == q(NS_CLIENT, 'presence') and
                     e.get('from') == main.jid and
                     e.get('type') == 'unavailable', 5, 'unavailable')
        main.nothing(lambda e: is_error_id(e, {'off'}))

    def test_iq_refused(self):
        c = login(self.server, 'iqer', presence=False)
        ids = ['i%d' % i for i in range(12)]
        c.send(''.join("<iq type='get' id='%s' to='localhost'><ping "
                       "xmlns='urn:xmpp:ping'/></iq>" % i for i in ids))
        answers = collect(c, lambda e: e.get('id') in set(ids), 12, 5)
        self.assertEqual(len(answers), 12)
        refused = [e for e in answers if e.get('type') == 'error']
        self.assertGreaterEqual(len(refused), 6)
        self.assertLessEqual(len(refused), 7)
        rate_refusal(self, refused[0], 'IQ')

    def test_errors_are_dropped_not_answered(self):
        c = login(self.server, 'err')
        peer = login(self.server, 'peer')
        c.send("<message to='%s' id='m1' type='chat'><body>1</body></message>"
               "<message to='%s' id='m2' type='chat'><body>2</body></message>"
               "<message to='%s' id='m3' type='error'><error type='cancel'>"
               "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
               "</error></message>" % (peer.jid, peer.jid, peer.jid))
        got = collect(peer, lambda e: e.get('id') in ('m1', 'm2'), 2, 5)
        self.assertEqual(len(got), 2)
        # The error message is over the limit: not delivered, and not
        # answered with an error either.
        c.nothing(lambda e: e.get('id') == 'm3')
        peer.nothing(lambda e: e.get('id') == 'm3')


class PauseTest(IMTestCase):
    """Over the byte limit the connection is not read for the time the
    bucket needs; other users are served meanwhile."""
    CONFIG = {'limits': {'max_stanza_size': 10000, 'byte_burst': 10000,
                         'byte_rate': 2000}}
    USERS = {u: u + '-pw' for u in ('big', 'big2', 'sink2', 'other')}

    def over_bytes(self, sender, to, prefix):
        """Two messages of ~4.6 KB pass, the third is refused."""
        pad = 'x' * 4500
        sender.send(''.join("<message to='%s' id='%s%d' type='chat'><body>"
                            "%s</body></message>" % (to.jid, prefix, i, pad)
                            for i in range(3)))
        el = sender.expect(lambda e: is_error_id(e, {prefix + '2'}), 5,
                           'refusal')
        rate_refusal(self, el, 'bytes')

    def test_reading_pauses_for_the_refill(self):
        big = login(self.server, 'big')
        sink = login(self.server, 'sink2')
        self.over_bytes(big, sink, 'b')
        # About 9.2 KB of 10 KB spent: the third needs ~3.8 KB more at
        # 2 KB/s, so nothing from this connection is read for ~1.9 s.
        t0 = time.monotonic()
        big.ping(timeout=10)
        paused = time.monotonic() - t0
        self.assertGreaterEqual(paused, 1.2, 'the connection was read at '
                                'once (%.2f s)' % paused)
        self.assertLess(paused, 5.5)
        got = collect(sink, lambda e: e.get('id') in ('b0', 'b1'), 2, 2)
        self.assertEqual(sorted(e.get('id') for e in got), ['b0', 'b1'])
        sink.nothing(lambda e: e.get('id') == 'b2')

    def test_others_served_during_the_pause(self):
        big = login(self.server, 'big2')
        other = login(self.server, 'other')
        self.over_bytes(big, other, 'c')
        t0 = time.monotonic()
        other.ping()
        self.assertLess(time.monotonic() - t0, T(0.5))


class RateLimitsOffTest(IMTestCase):
    CONFIG = {'limits': {'rate_limits': 'off', 'message_burst': 5,
                         'message_rate': 1}}
    USERS = {u: u + '-pw' for u in ('bot', 'inbox')}

    def test_flood_goes_through(self):
        bot, inbox = login(self.server, 'bot'), login(self.server, 'inbox')
        ids = ['o%d' % i for i in range(200)]
        bot.send(''.join("<message to='%s' id='%s' type='chat'><body>%s"
                         "</body></message>" % (inbox.jid, i, i)
                         for i in ids))
        got = collect(inbox, lambda e: e.get('id') in set(ids), 200, 10)
        self.assertEqual(len(got), 200)
        bot.nothing(lambda e: e.get('type') == 'error')
        self.assertIn('rate_limits = off', self.server.log())


class UnauthBudgetTest(IMTestCase):
    CONFIG = {'c2s': {'max_unauth_bytes': 8192}}
    USERS = {'late': 'late-pw'}

    def test_bytes_before_login_are_bounded(self):
        r = RawClient(self.server)
        r.open()
        r.starttls()
        # Endless failed mechanisms would otherwise go on until
        # auth_timeout.
        try:
            for _ in range(200):
                r.send("<auth xmlns='%s' mechanism='NOPE'/>" % NS_SASL)
        except OSError:
            pass
        cond, text = r.expect_stream_error()
        self.assertEqual(cond, 'policy-violation')
        self.assertIn('before logging in', text)
        # A normal login is far below the budget.
        c = RawClient(self.server)
        c.login('late', 'late-pw')
        c.close()


class CheckTest(unittest.TestCase):
    """parleyctl check: one line per risky setting, non-zero exit."""

    def check(self, config):
        srv = harness.Server(config, start=False, name='check')
        try:
            return srv.ctl('check')
        finally:
            srv.stop()

    def test_default_config_passes(self):
        r = self.check(None)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn('risky:', r.stdout)
        self.assertTrue(r.stdout.startswith('ok:'), r.stdout)

    def test_rate_limits_off_flagged(self):
        r = self.check({'limits': {'rate_limits': 'off'}})
        self.assertNotEqual(r.returncode, 0)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 1, r.stdout)
        self.assertIn('rate_limits = off', lines[0])

    def test_plain_flagged(self):
        r = self.check({'auth': {'plain': 'on'}})
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(len(r.stdout.splitlines()), 1, r.stdout)
        self.assertIn('plain = on', r.stdout)

    def test_both_flagged(self):
        r = self.check({'auth': {'plain': 'on'},
                        'limits': {'rate_limits': 'off'}})
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(len(r.stdout.splitlines()), 2, r.stdout)
