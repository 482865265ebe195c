"""Message and presence routing between users and resources, and the
routing errors (unknown user, remote domain, malformed 'to', spoofed
'from')."""

import uuid
import xml.etree.ElementTree as ET

from harness import (Client, RawClient, ServerTestCase,
                     stanza_error, body_of)


class TwoUsersTest(ServerTestCase):
    USERS = {'alice': 'alice-pw', 'bob': 'bob-pw'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = Client(cls.server, 'alice@localhost/home',
                           'alice-pw').connect()
        cls.bob = Client(cls.server, 'bob@localhost/work', 'bob-pw').connect()

    def test_messages_both_ways(self):
        a, b = self.alice, self.bob
        for i in range(3):
            body = 'hello bob %d %s' % (i, uuid.uuid4().hex)
            a.send_message('bob@localhost/work', body)
            m = b.message(lambda m: m['body'] == body)
            self.assertEqual(m['from'], 'alice@localhost/home')
            self.assertEqual(m['to'], 'bob@localhost/work')
            self.assertEqual(m['type'], 'chat')
            body = 'hello alice %d %s' % (i, uuid.uuid4().hex)
            b.send_message('alice@localhost/home', body)
            m = a.message(lambda m: m['body'] == body)
            self.assertEqual(m['from'], 'bob@localhost/work')
            self.assertEqual(m['to'], 'alice@localhost/home')
        # Bodies never reach the server's log (DESIGN: no message bodies).
        self.assertNotIn(body, self.server.log())

    def test_message_to_bare_jid(self):
        body = 'to your bare jid ' + uuid.uuid4().hex
        self.alice.send_message('bob@localhost', body)
        m = self.bob.message(lambda m: m['body'] == body)
        self.assertEqual(m['from'], 'alice@localhost/home')

    def test_unicode_and_escaping_survive(self):
        body = 'caf\u00e9 <b>&amp;</b> "q" \'a\' \U0001F600 ' + uuid.uuid4().hex
        self.alice.send_message('bob@localhost/work', body)
        m = self.bob.message(lambda m: m['body'] == body)
        self.assertEqual(m['from'], 'alice@localhost/home')

    def test_unknown_recipient_slixmpp(self):
        self.alice.send_message('nobody@localhost', 'anyone there?')
        m = self.alice.message(lambda m: m['type'] == 'error')
        self.assertEqual(m['error'], 'service-unavailable', m['xml'])
        self.assertEqual(m['from'], 'nobody@localhost')


class ResourcesTest(ServerTestCase):
    USERS = {'alice': 'alice-pw', 'bob': 'bob-pw', 'dave': 'dave-pw'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bob = Client(cls.server, 'bob@localhost/b', 'bob-pw').connect()
        cls.r1 = Client(cls.server, 'alice@localhost/r1', 'alice-pw').connect()
        cls.r2 = Client(cls.server, 'alice@localhost/r2', 'alice-pw').connect()

    def setUp(self):
        for c in (self.bob, self.r1, self.r2):
            c.drain()

    def test_1_bare_jid_reaches_both_resources(self):
        body = 'to both ' + uuid.uuid4().hex
        self.bob.send_message('alice@localhost', body)
        for c in (self.r1, self.r2):
            m = c.message(lambda m: m['body'] == body)
            self.assertEqual(m['from'], 'bob@localhost/b')

    def test_2_full_jid_reaches_only_that_resource(self):
        body = 'only r1 ' + uuid.uuid4().hex
        self.bob.send_message('alice@localhost/r1', body)
        m = self.r1.message(lambda m: m['body'] == body)
        self.assertEqual(m['from'], 'bob@localhost/b')
        self.assertEqual(m['to'], 'alice@localhost/r1')
        self.r2.no_message(0.7, lambda m: m['body'] == body)

    def test_3_presence_reaches_other_resource(self):
        status = 'busy ' + uuid.uuid4().hex
        self.r1.send_presence(pstatus=status)
        p = self.r2.presence(lambda p: p['status'] == status)
        self.assertEqual(p['from'], 'alice@localhost/r1')
        self.assertIn(p['type'], ('available', ''))
        # The sender gets its own presence back (RFC 6121 4.2.2).
        p = self.r1.presence(lambda p: p['status'] == status)
        self.assertEqual(p['from'], 'alice@localhost/r1')
        # Bob is not subscribed: he must not see it.
        self.assertRaises(AssertionError, self.bob.presence,
                          lambda p: p['status'] == status, 0.5)

    def test_4_abrupt_disconnect_sends_unavailable(self):
        raw = RawClient(self.server)
        raw.login('alice', 'alice-pw', 'r3')
        raw.send("<presence><status>r3 here</status></presence>")
        for c in (self.r1, self.r2):
            p = c.presence(lambda p: p['from'] == 'alice@localhost/r3')
            self.assertIn(p['type'], ('available', ''))
        raw.close()   # TCP close, no </stream:stream>, no unavailable
        for c in (self.r1, self.r2):
            p = c.presence(lambda p: p['from'] == 'alice@localhost/r3' and
                           p['type'] == 'unavailable', timeout=10)
            self.assertEqual(p['to'].split('/')[0], 'alice@localhost')

    def test_5_highest_priority_wins_for_bare_jid(self):
        hi = Client(self.server, 'dave@localhost/hi', 'dave-pw').connect(
            priority=5)
        lo = Client(self.server, 'dave@localhost/lo', 'dave-pw').connect(
            priority=1)
        try:
            hi.presence(lambda p: p['from'] == 'dave@localhost/lo')
            body = 'to the highest ' + uuid.uuid4().hex
            self.bob.send_message('dave@localhost', body)
            m = hi.message(lambda m: m['body'] == body)
            self.assertEqual(m['from'], 'bob@localhost/b')
            lo.no_message(0.7, lambda m: m['body'] == body)
            # A clean log-out is announced to the other resource too.
            hi.disconnect()
            p = lo.presence(lambda p: p['from'] == 'dave@localhost/hi' and
                            p['type'] == 'unavailable')
            self.assertEqual(p['to'].split('/')[0], 'dave@localhost')
        finally:
            hi.disconnect()
            lo.disconnect()

    def test_6_negative_priority_gets_no_bare_jid_messages(self):
        neg = Client(self.server, 'dave@localhost/neg', 'dave-pw').connect(
            priority=-1)
        later = None
        try:
            body = 'nobody non-negative ' + uuid.uuid4().hex
            self.bob.send_message('dave@localhost', body)
            try:
                err = self.bob.message(lambda m: m['type'] == 'error' and
                                       m['from'] == 'dave@localhost',
                                       timeout=1.5)
            except AssertionError:
                err = None
            neg.no_message(0.5, lambda m: m['body'] == body)
            if err is not None:
                self.assertEqual(err['error'], 'service-unavailable',
                                 err['xml'])
            else:
                # Stored as if offline: goes to the next resource that
                # comes online with a non-negative priority.
                later = Client(self.server, 'dave@localhost/later',
                               'dave-pw').connect(priority=0)
                m = later.message(lambda m: m['body'] == body)
                self.assertEqual(m['from'], 'bob@localhost/b')
                neg.no_message(0.3, lambda m: m['body'] == body)
            # A full-JID message still reaches the negative one.
            body = 'direct ' + uuid.uuid4().hex
            self.bob.send_message('dave@localhost/neg', body)
            m = neg.message(lambda m: m['body'] == body)
            self.assertEqual(m['from'], 'bob@localhost/b')
        finally:
            neg.disconnect()
            if later is not None:
                later.disconnect()


class RoutingErrorsTest(ServerTestCase):
    USERS = {'alice': 'alice-pw', 'bob': 'bob-pw', 'erin': 'erin-pw',
             'mallory': 'mallory-pw'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bob = Client(cls.server, 'bob@localhost/b', 'bob-pw').connect()
        cls.raw = RawClient(cls.server)
        cls.raw.login('alice', 'alice-pw', 'raw', presence=True)

    def error_for(self, to, body='x'):
        body = '%s %s' % (body, uuid.uuid4().hex)
        self.raw.message(to, body)
        el = self.raw.next_message(lambda e: e.get('type') == 'error' and
                                   body_of(e) == body, timeout=5)
        return el, stanza_error(el)

    def test_unknown_local_user(self):
        el, (cond, etype, text) = self.error_for('nobody@localhost')
        self.assertEqual(cond, 'service-unavailable', ET.tostring(el))
        self.assertEqual(el.get('to'), 'alice@localhost/raw')
        self.assertEqual(el.get('from'), 'nobody@localhost')

    def test_remote_domain(self):
        el, (cond, etype, text) = self.error_for('someone@example.org')
        self.assertEqual(cond, 'remote-server-not-found', ET.tostring(el))

    def test_malformed_to(self):
        for bad in ('bad@@localhost', '@localhost', 'alice@localhost/',
                    'a b@localhost'):
            el, (cond, etype, text) = self.error_for(bad)
            self.assertEqual(cond, 'jid-malformed', '%s: %s'
                             % (bad, ET.tostring(el)))
            self.assertEqual(etype, 'modify')

    def test_offline_user(self):
        # Either refused (no offline storage) or stored and delivered at
        # the next initial presence (XEP-0160) - never silently lost.
        body = 'while you were out ' + uuid.uuid4().hex
        self.raw.message('erin@localhost', body)
        try:
            el = self.raw.next_message(lambda e: e.get('type') == 'error' and
                                       body_of(e) == body, timeout=1.5)
        except AssertionError:
            el = None
        if el is not None:
            cond, etype, text = stanza_error(el)
            self.assertEqual(cond, 'service-unavailable', ET.tostring(el))
            return
        erin = RawClient(self.server)
        erin.login('erin', 'erin-pw', 'back', presence=True)
        got = erin.next_message(lambda e: body_of(e) == body, timeout=10)
        self.assertEqual(got.get('from'), 'alice@localhost/raw')
        self.assertEqual(got.get('type'), 'chat')
        self.assertIsNotNone(got.find('{urn:xmpp:delay}delay'),
                             'stored message without a XEP-0203 delay: %s'
                             % ET.tostring(got))
        erin.close()

    def test_spoofed_from_is_a_stream_error(self):
        m = RawClient(self.server)
        m.login('mallory', 'mallory-pw', 'evil')
        body = 'spoofed ' + uuid.uuid4().hex
        m.send("<message from='alice@localhost/raw' to='bob@localhost/b' "
               "type='chat'><body>%s</body></message>" % body)
        cond, text = m.expect_stream_error()
        self.assertEqual(cond, 'invalid-from')
        self.assertTrue(text)
        self.bob.no_message(0.5, lambda x: x['body'] == body)
        # Own bare JID as 'from' is allowed, and 'from' is rewritten to
        # the full JID.
        m = RawClient(self.server)
        m.login('mallory', 'mallory-pw', 'honest')
        body = 'bare from ' + uuid.uuid4().hex
        m.send("<message from='mallory@localhost' to='bob@localhost/b' "
               "type='chat'><body>%s</body></message>" % body)
        got = self.bob.message(lambda x: x['body'] == body)
        self.assertEqual(got['from'], 'mallory@localhost/honest')
        m.close()

    def test_errors_are_not_bounced(self):
        # RFC 6120 8.3.1: never answer an error (or a result) with an error.
        self.raw.send("<message to='nobody@localhost' type='error' "
                      "id='no-bounce-1'><body>x</body></message>"
                      "<iq to='nobody@localhost' type='result' "
                      "id='no-bounce-2'/>"
                      "<iq to='someone@example.org' type='error' "
                      "id='no-bounce-3'/>")
        el = self.raw.iq("<ping xmlns='urn:xmpp:ping'/>", to='localhost')
        self.assertEqual(el.get('type'), 'result')
        bounced = [ET.tostring(e) for e in self.raw.elements
                   if (e.get('id') or '').startswith('no-bounce')]
        self.assertEqual(bounced, [])

    def test_other_resource_as_from_is_spoofing(self):
        m = RawClient(self.server)
        m.login('mallory', 'mallory-pw', 'one')
        m.send("<message from='mallory@localhost/two' to='bob@localhost/b' "
               "type='chat'><body>which one?</body></message>")
        cond, text = m.expect_stream_error()
        self.assertEqual(cond, 'invalid-from')
        self.assertTrue(text)

    def test_raw_to_slixmpp_and_back(self):
        body = 'raw to bob ' + uuid.uuid4().hex
        self.raw.message('bob@localhost/b', body)
        m = self.bob.message(lambda m: m['body'] == body)
        self.assertEqual(m['from'], 'alice@localhost/raw')
        self.bob.send_message('alice@localhost/raw', 'back ' + body)
        el = self.raw.next_message(lambda e: body_of(e) == 'back ' + body)
        self.assertEqual(el.get('from'), 'bob@localhost/b')
        self.assertEqual(el.get('type'), 'chat')


class PrefixedRawClient(RawClient):
    """Declares its own prefixes on the header: 's' for the streams
    namespace and 'x' for an extension used in stanzas."""

    def stream_header(self, to='localhost'):
        self._new_parser()
        self.send("<?xml version='1.0'?><s:stream xmlns='jabber:client' "
                  "xmlns:s='http://etherx.jabber.org/streams' "
                  "xmlns:x='urn:example:extra' to='%s' version='1.0'>" % to)


class HibernationTest(ServerTestCase):
    """A session quiet for longer than the server's hibernation delay
    (5 s) has its parser freed; the next stanza must be read exactly as
    before, with the namespace prefixes its stream header declared."""
    USERS = {'alice': 'alice-pw', 'bob': 'bob-pw'}

    def test_quiet_session_still_parses(self):
        import time
        bob = Client(self.server, 'bob@localhost/b', 'bob-pw').connect()
        raw = PrefixedRawClient(self.server)
        raw.login('alice', 'alice-pw', 'quiet')
        time.sleep(6.5)
        body = 'after a nap ' + uuid.uuid4().hex
        raw.send("<message to='bob@localhost/b' type='chat'><body>%s</body>"
                 "<x:extra x:attr='1'/></message>" % body)
        m = bob.message(lambda m: m['body'] == body)
        self.assertEqual(m['from'], 'alice@localhost/quiet')
        self.assertIn("urn:example:extra", str(m))
        # The stream still closes with its own prefix.
        raw.send('</s:stream>')
        raw.wait_closed(5)
        self.assertServerAlive()
