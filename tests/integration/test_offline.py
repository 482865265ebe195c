"""Offline messages (XEP-0160, RFC 6121 8.5.2.2.1): stored when no
resource can take them, delivered in order with a XEP-0203 delay at the
next initial presence with a non-negative priority, then deleted; chat
states alone are not stored; quotas; persistence across a restart and a
SIGKILL."""

import datetime
import re

from harness import q, NS_CLIENT, NS_DISCO_INFO
from im_util import (IMTestCase, login, s, uid, body_of, error_of, restart,
                     NS_DELAY, NS_CHATSTATES, NS_OFFLINE)

STAMP = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$')


def is_msg(e):
    return e.tag == q(NS_CLIENT, 'message')


def bodies(client):
    return [body_of(e) for e in client.elements if is_msg(e)]


class OfflineTest(IMTestCase):
    USERS = {u: u + '-pw' for u in (
        'sender', 'rcpt1', 'rcpt2', 'rcpt3', 'rcpt4', 'rcpt5', 'rcpt6')}

    def test_stored_in_order_with_delay_and_deleted(self):
        snd = login(self.server, 'sender', 's')
        sent = []
        for i, mtype in enumerate(('chat', 'normal', 'chat', None)):
            body = uid('offline %d' % i)
            if mtype is None:     # no type attribute: normal
                snd.send("<message to='rcpt1@localhost'><body>%s</body>"
                         "</message>" % body)
            else:
                snd.chat('rcpt1@localhost', body, mtype)
            sent.append((body, mtype or 'normal'))
        t_sent = datetime.datetime.now(datetime.timezone.utc)
        # No error to the sender: stored.
        snd.nothing(lambda e: e.get('type') == 'error', 'an error')
        # Logging in (bind, roster) without presence: nothing yet.
        r = login(self.server, 'rcpt1', 'r', presence=False, roster=True)
        r.nothing(is_msg, 'offline message before initial presence')
        r.available()
        got = [r.expect(is_msg, what='offline message %d' % i)
               for i in range(len(sent))]
        self.assertEqual([body_of(m) for m in got], [b for b, _ in sent])
        for m, (body, mtype) in zip(got, sent):
            self.assertEqual(m.get('from'), snd.jid, s(m))
            self.assertEqual(m.get('type') or 'normal', mtype, s(m))
            d = m.find(q(NS_DELAY, 'delay'))
            self.assertIsNotNone(d, 'no XEP-0203 delay: %s' % s(m))
            self.assertEqual(d.get('from'), 'localhost', s(m))
            self.assertRegex(d.get('stamp') or '', STAMP)
            stamp = datetime.datetime.strptime(
                d.get('stamp')[:19], '%Y-%m-%dT%H:%M:%S').replace(
                tzinfo=datetime.timezone.utc)
            self.assertLess(abs((stamp - t_sent).total_seconds()), 120,
                            'stamp %s is not now (UTC)' % d.get('stamp'))
        r.nothing(is_msg, 'more messages')
        # Delivered ones are gone: the next login gets none.
        r.logout()
        r = login(self.server, 'rcpt1', 'again')
        r.nothing(is_msg, 'an offline message delivered twice')

    def test_only_non_negative_priority_gets_them(self):
        snd = login(self.server, 'sender', 's')
        body = uid('for a real resource')
        snd.chat('rcpt2@localhost', body)
        snd.ping()
        neg = login(self.server, 'rcpt2', 'neg', priority=-1)
        neg.nothing(is_msg, 'offline message (negative priority)')
        # With only a negative-priority resource online, new messages
        # are stored as well.
        body2 = uid('while only negative')
        snd.chat('rcpt2@localhost', body2)
        snd.ping()
        neg.nothing(is_msg, 'bare-JID message (negative priority)')
        pos = login(self.server, 'rcpt2', 'pos', priority=0)
        pos.expect_body(body)
        pos.expect_body(body2)
        neg.nothing(is_msg, 'offline message (negative priority)')

    def test_what_is_not_stored(self):
        snd = login(self.server, 'sender', 's')
        # Chat state only: not stored, no error (XEP-0160 / XEP-0085).
        snd.send("<message to='rcpt3@localhost' type='chat'>"
                 "<composing xmlns='%s'/></message>" % NS_CHATSTATES)
        # Headline: not stored (RFC 6121 8.5.2.2.1).
        snd.chat('rcpt3@localhost', uid('headline'), 'headline')
        # Chat state with a body: stored.
        keep = uid('kept')
        snd.send("<message to='rcpt3@localhost' type='chat'><body>%s</body>"
                 "<active xmlns='%s'/></message>" % (keep, NS_CHATSTATES))
        snd.nothing(lambda e: e.get('type') == 'error', 'an error')
        r = login(self.server, 'rcpt3', 'r')
        m = r.expect_body(keep)
        r.nothing(is_msg, 'an unstorable message delivered')

    def test_full_jid_of_offline_resource_is_stored(self):
        snd = login(self.server, 'sender', 's')
        body = uid('to a resource that left')
        snd.chat('rcpt4@localhost/gone', body)
        snd.nothing(lambda e: e.get('type') == 'error', 'an error')
        r = login(self.server, 'rcpt4', 'other')
        m = r.expect_body(body)
        self.assertIsNotNone(m.find(q(NS_DELAY, 'delay')), s(m))

    def test_disco_lists_msgoffline(self):
        c = login(self.server, 'rcpt5', presence=False)
        el = c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to='localhost')
        feats = [f.get('var') for f in
                 el.find(q(NS_DISCO_INFO, 'query')).findall(
                     q(NS_DISCO_INFO, 'feature'))]
        self.assertIn(NS_OFFLINE, feats, s(el))


class OfflineQuotaTest(IMTestCase):
    CONFIG = {'limits': {'max_offline_messages': 3,
                         'max_offline_bytes': 4096}}
    USERS = {'sender': 'sender-pw', 'full': 'full-pw', 'big': 'big-pw'}

    def test_byte_quota(self):
        snd = login(self.server, 'sender', 's')
        first = uid('big 1') + 'x' * 2500
        snd.chat('big@localhost', first)
        snd.nothing(lambda e: e.get('type') == 'error', 'an error')
        second = uid('big 2') + 'y' * 2500
        snd.chat('big@localhost', second)
        el = snd.expect(lambda e: e.get('type') == 'error',
                        what='error past max_offline_bytes')
        self.assertEqual(error_of(el)[0], 'resource-constraint', s(el))
        r = login(self.server, 'big', 'r')
        r.expect_body(first)
        r.nothing(lambda e: is_msg(e) and body_of(e) == second,
                  'the refused message')

    def test_quota(self):
        snd = login(self.server, 'sender', 's')
        kept = [uid('kept %d' % i) for i in range(3)]
        for b in kept:
            snd.chat('full@localhost', b)
        snd.nothing(lambda e: e.get('type') == 'error', 'an error')
        over = uid('one too many')
        snd.chat('full@localhost', over)
        el = snd.expect(lambda e: e.get('type') == 'error' and
                        body_of(e) == over or (
                            e.get('type') == 'error' and
                            e.get('from') == 'full@localhost'),
                        what='error for the 4th message')
        cond, etype, text = error_of(el)
        self.assertEqual(cond, 'resource-constraint', s(el))
        self.assertEqual(etype, 'wait', s(el))
        self.assertTrue(text, s(el))
        self.assertEqual(el.get('from'), 'full@localhost', s(el))
        r = login(self.server, 'full', 'r')
        for b in kept:
            r.expect_body(b)
        r.nothing(lambda e: is_msg(e) and body_of(e) == over,
                  'the refused message')
        # Delivered and deleted: there is room again.
        r.logout()
        again = uid('room again')
        snd.chat('full@localhost', again)
        snd.nothing(lambda e: e.get('type') == 'error', 'an error')
        r = login(self.server, 'full', 'r2')
        r.expect_body(again)


class OfflineOffTest(IMTestCase):
    CONFIG = {'limits': {'max_offline_messages': 0}}
    USERS = {'sender': 'sender-pw', 'away': 'away-pw'}

    def test_storage_off(self):
        snd = login(self.server, 'sender', 's')
        body = uid('nobody keeps this')
        snd.chat('away@localhost', body)
        el = snd.expect(lambda e: e.get('type') == 'error',
                        what='error (offline storage is off)')
        self.assertEqual(error_of(el)[0], 'service-unavailable', s(el))
        r = login(self.server, 'away', 'r')
        r.nothing(is_msg, 'a message that was refused')
        # Not advertised either (disco lists only what works).
        el = r.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to='localhost')
        feats = [f.get('var') for f in
                 el.find(q(NS_DISCO_INFO, 'query')).findall(
                     q(NS_DISCO_INFO, 'feature'))]
        self.assertNotIn(NS_OFFLINE, feats, 'msgoffline advertised with '
                         'max_offline_messages = 0: %s' % s(el))


class OfflinePersistenceTest(IMTestCase):
    USERS = {'sender': 'sender-pw', 'rest': 'rest-pw', 'kill': 'kill-pw'}

    def test_survives_restart(self):
        snd = login(self.server, 'sender', 's')
        bodies_ = [uid('before restart %d' % i) for i in range(2)]
        for b in bodies_:
            snd.chat('rest@localhost', b)
        snd.ping()
        snd.close()
        restart(self.server)
        r = login(self.server, 'rest', 'r')
        got = [body_of(r.expect(is_msg)) for _ in bodies_]
        self.assertEqual(got, bodies_)
        r.nothing(is_msg, 'more')

    def test_survives_sigkill(self):
        snd = login(self.server, 'sender', 's')
        body = uid('before kill -9')
        snd.chat('kill@localhost', body)
        # The ping's answer means the message was processed (and, the
        # server says, committed before anything else happened).
        snd.ping()
        restart(self.server, kill=True)
        snd.close()
        r = login(self.server, 'kill', 'r')
        m = r.expect_body(body)
        self.assertIsNotNone(m.find(q(NS_DELAY, 'delay')), s(m))
        r.nothing(is_msg, 'more')
        # And it was deleted once delivered, durably too.
        r.close()
        restart(self.server, kill=True)
        r = login(self.server, 'kill', 'r2')
        r.nothing(is_msg, 'a message delivered twice')
