"""Nothing about a user's network address, nor the server's software and
version, reaches clients."""

import re
import uuid
import xml.etree.ElementTree as ET

from harness import (Client, RawClient, ServerTestCase,
                     NS_DISCO_INFO, NS_PING, NS_VERSION, q, stanza_error,
                     body_of)


def port_pattern(port):
    # The port as a number of its own (not a piece of a hex id).
    return re.compile(r'(?<![0-9A-Za-z])%d(?![0-9A-Za-z])' % port)


class NoAddressTest(ServerTestCase):
    USERS = {'alice': 'alice-pw', 'bob': 'bob-pw'}

    def test_no_ip_or_port_in_anything_received(self):
        # alice: raw client (every decrypted byte kept); bob: slixmpp with
        # its raw input recorded.
        alice = RawClient(self.server)
        alice.login('alice', 'alice-pw', 'raw')
        bob = Client(self.server, 'bob@localhost/slix', 'bob-pw',
                     record_raw=True).connect()
        alice2 = Client(self.server, 'alice@localhost/second', 'alice-pw',
                        record_raw=True).connect()
        alice.send("<presence><status>here</status></presence>")
        alice2.presence(lambda p: p['from'] == 'alice@localhost/raw')
        alice.next_presence(lambda e: e.get('from') ==
                            'alice@localhost/second')
        for i in range(3):
            body = 'ping %d %s' % (i, uuid.uuid4().hex)
            alice.message('bob@localhost/slix', body)
            m = bob.message(lambda m: m['body'] == body)
            self.assertEqual(m['from'], 'alice@localhost/raw')
            bob.send_message('alice@localhost/raw', 're ' + body)
            alice.next_message(lambda e: body_of(e) == 're ' + body)
        # Some errors and iqs too: they echo stanzas back.
        alice.message('nobody@localhost', 'x')
        alice.next_message(lambda e: e.get('type') == 'error')
        alice.iq("<ping xmlns='%s'/>" % NS_PING, to='localhost')
        alice.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to='localhost')
        bob.send_message('alice@localhost', 'to bare')
        alice.next_message(lambda e: body_of(e) == 'to bare')
        alice2.message(lambda m: m['body'] == 'to bare')
        alice2.disconnect()
        alice.next_presence(lambda e: e.get('type') == 'unavailable')

        ports = {alice.sock.getsockname()[1],
                 bob.xmpp.transport.get_extra_info('sockname')[1]}
        seen = {
            'raw alice': bytes(alice.received).decode('utf-8', 'replace'),
            'slixmpp bob': b''.join(bob.raw_in).decode('utf-8', 'replace'),
            'slixmpp alice2': b''.join(alice2.raw_in).decode('utf-8',
                                                             'replace'),
        }
        for who, text in seen.items():
            self.assertGreater(len(text), 500, who)
            self.assertNotIn('127.0.0.1', text, who)
            self.assertNotIn('::1', text, who)
            self.assertNotIn('::ffff:', text, who)
            for port in ports:
                self.assertIsNone(port_pattern(port).search(text),
                                  '%s saw port %d: %s' % (who, port, text))
        alice.close()
        bob.disconnect()


class NoVersionTest(ServerTestCase):
    USERS = {'alice': 'alice-pw'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.r = RawClient(cls.server)
        cls.r.login('alice', 'alice-pw', 'probe')

    def test_version_query_refused(self):
        el = self.r.iq("<query xmlns='%s'/>" % NS_VERSION, to='localhost')
        self.assertEqual(el.get('type'), 'error', ET.tostring(el))
        cond, etype, text = stanza_error(el)
        self.assertEqual(cond, 'service-unavailable', ET.tostring(el))
        raw = ET.tostring(el).decode()
        self.assertNotIn('<ns1:name', raw)
        self.assertNotRegex(raw.lower(), 'parley')

    def test_disco_info_discloses_no_software(self):
        el = self.r.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to='localhost')
        self.assertEqual(el.get('type'), 'result', ET.tostring(el))
        self.assertEqual(el.get('from'), 'localhost')
        query = el.find(q(NS_DISCO_INFO, 'query'))
        self.assertIsNotNone(query)
        ids = query.findall(q(NS_DISCO_INFO, 'identity'))
        self.assertIn(('server', 'im'),
                      [(i.get('category'), i.get('type')) for i in ids])
        for i in ids:
            name = i.get('name') or ''
            self.assertNotIn('parley', name.lower())
            self.assertIsNone(re.search(r'\d+\.\d+', name), name)
        features = [f.get('var') for f in
                    query.findall(q(NS_DISCO_INFO, 'feature'))]
        self.assertIn(NS_PING, features)
        self.assertIn(NS_DISCO_INFO, features)
        self.assertNotIn(NS_VERSION, features)
        # No XEP-0232 software-info form either.
        self.assertNotIn('software', ET.tostring(el).decode().lower())
        self.assertNotIn('parley', ET.tostring(el).decode().lower())

    def test_ping_answered(self):
        el = self.r.iq("<ping xmlns='%s'/>" % NS_PING, to='localhost')
        self.assertEqual(el.get('type'), 'result', ET.tostring(el))
        self.assertEqual(el.get('from'), 'localhost')

    def test_stream_header_has_no_software(self):
        r = RawClient(self.server)
        r.open()
        text = bytes(r.received).decode().lower()
        self.assertNotIn('parley', text)
        self.assertEqual(r.header.get('from'), 'localhost')
        r.close()
