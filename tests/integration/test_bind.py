"""Resource binding: generated resources, conflicts, the per-account
session limit."""

import uuid
import xml.etree.ElementTree as ET

from harness import (Client, RawClient, ServerTestCase, NS_BIND, q,
                     stanza_error, body_of)


class BindTest(ServerTestCase):
    CONFIG = {'c2s': {'max_sessions_per_account': 2}}
    USERS = {'gen': 'gen-pw', 'conf': 'conf-pw', 'lim': 'lim-pw',
             'bob': 'bob-pw'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bob = Client(cls.server, 'bob@localhost/b', 'bob-pw').connect()

    def raw_authed(self, user):
        r = RawClient(self.server)
        r.open()
        r.starttls()
        el = r.auth_scram(user, self.USERS[user])
        self.assertEqual(el.tag, '{urn:ietf:params:xml:ns:xmpp-sasl}success')
        feats = r.open()
        self.assertIsNotNone(feats.find(q(NS_BIND, 'bind')))
        return r

    def test_generated_resource(self):
        jids = []
        for _ in range(2):
            r = self.raw_authed('gen')
            el = r.bind(None)
            self.assertEqual(el.get('type'), 'result', ET.tostring(el))
            jid = el.find(q(NS_BIND, 'bind')).find(q(NS_BIND, 'jid')).text
            local_domain, _, res = jid.partition('/')
            self.assertEqual(local_domain, 'gen@localhost')
            self.assertTrue(len(res) >= 8, 'weak generated resource %r' % jid)
            jids.append(jid)
            # The session works: a message from it arrives from that JID.
            body = 'from generated ' + uuid.uuid4().hex
            r.message('bob@localhost/b', body)
            m = self.bob.message(lambda m: m['body'] == body)
            self.assertEqual(m['from'], jid)
            r.close()
        self.assertNotEqual(jids[0], jids[1])

    def test_slixmpp_generated_resource(self):
        c = Client(self.server, 'gen@localhost', 'gen-pw').connect()
        self.assertTrue(c.jid.startswith('gen@localhost/'))
        self.assertTrue(len(c.jid) > len('gen@localhost/'))
        c.disconnect()

    def test_conflict_replaces_old_session(self):
        old = RawClient(self.server)
        self.assertEqual(old.login('conf', 'conf-pw', 'same'),
                         'conf@localhost/same')
        new = self.raw_authed('conf')
        el = new.bind('same')
        self.assertEqual(el.get('type'), 'result', ET.tostring(el))
        self.assertEqual(new.jid, 'conf@localhost/same')
        cond, text = old.expect_stream_error()
        self.assertEqual(cond, 'conflict')
        self.assertTrue(text)
        # The new session is the one that now receives.
        body = 'to the new one ' + uuid.uuid4().hex
        self.bob.send_message('conf@localhost/same', body)
        got = new.next_message(lambda e: body_of(e) == body)
        self.assertEqual(got.get('from'), 'bob@localhost/b')
        new.close()

    def test_session_limit(self):
        a = RawClient(self.server)
        a.login('lim', 'lim-pw', 'one')
        b = RawClient(self.server)
        b.login('lim', 'lim-pw', 'two')
        c = self.raw_authed('lim')
        el = c.bind('three')
        self.assertEqual(el.get('type'), 'error', ET.tostring(el))
        cond, etype, text = stanza_error(el)
        self.assertEqual(cond, 'resource-constraint', ET.tostring(el))
        # The first two still work.
        for r, res in ((a, 'one'), (b, 'two')):
            body = 'still here %s %s' % (res, uuid.uuid4().hex)
            r.message('bob@localhost/b', body)
            m = self.bob.message(lambda m: m['body'] == body)
            self.assertEqual(m['from'], 'lim@localhost/' + res)
        # Once one leaves, a new bind succeeds.
        a.send('</stream:stream>')
        self.assertTrue(a.wait_closed())
        d = RawClient(self.server)
        self.assertEqual(d.login('lim', 'lim-pw', 'four'),
                         'lim@localhost/four')
        for r in (b, c, d):
            r.close()
