"""Bad input: each case must end in a clear stream error with a <text/>,
while a pair of users connected before keeps chatting and parleyd stays
up."""

import errno
import os
import selectors
import socket
import time
import uuid

from harness import (Client, RawClient, ServerTestCase, round_trip, T,
                     wait_until)

HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' "
          "version='1.0'>")
HEADER_NO_DECL = HEADER[len("<?xml version='1.0'?>"):]


def send_tolerant(r, data, chunk=16384):
    """Sends data in chunks, reading meanwhile; stops quietly when the
    server has closed (it may well close before the end)."""
    if isinstance(data, str):
        data = data.encode()
    for i in range(0, len(data), chunk):
        try:
            r.send(data[i:i + chunk])
        except (BrokenPipeError, ConnectionResetError, OSError):
            return False
        r.fill(0.001)
        if r.closed:
            return False
    return True


class PairMixin:
    """A pair of users connected before every case, checked after it."""

    @classmethod
    def start_pair(cls):
        cls.alice = Client(cls.server, 'alice@localhost/pair', 'alice-pw'
                           ).connect()
        cls.bob = Client(cls.server, 'bob@localhost/pair', 'bob-pw').connect()
        round_trip(cls.alice, cls.bob, 'warm-up')

    def check_pair(self, tag):
        self.assertServerAlive()
        round_trip(self.alice, self.bob, tag)
        self.assertTrue(self.alice.stream_errors.empty())
        self.assertTrue(self.bob.stream_errors.empty())
        self.assertServerAlive()

    def expect_error(self, r, conds, tag):
        cond, text = r.expect_stream_error(timeout=15)
        if isinstance(conds, str):
            conds = (conds,)
        self.assertIn(cond, conds, 'stream error <%s/> (%r)' % (cond, text))
        self.assertTrue(text and text.strip(),
                        '<%s/> without a <text/>' % cond)
        self.check_pair(tag)
        return cond, text


class BadInputTest(PairMixin, ServerTestCase):
    USERS = {'alice': 'alice-pw', 'bob': 'bob-pw', 'carol': 'carol-pw',
             'dave': 'dave-pw'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_pair()

    def carol(self):
        """A logged-in raw session for the cases that need one."""
        r = RawClient(self.server)
        r.login('carol', 'carol-pw', 'bad-' + uuid.uuid4().hex[:6],
                presence=True)
        return r

    # --- malformed XML

    def test_malformed_mismatched_tags_before_login(self):
        r = RawClient(self.server)
        r.open()
        r.send("<message><body>hello</bodyy></message>")
        self.expect_error(r, 'not-well-formed', 'mismatched-pre')

    def test_malformed_mismatched_tags_after_login(self):
        r = self.carol()
        r.send("<message to='bob@localhost/pair' type='chat'><body>x</body>"
               "</mesage>")
        self.expect_error(r, 'not-well-formed', 'mismatched-post')

    def test_invalid_utf8(self):
        r = self.carol()
        r.send(b"<message to='bob@localhost/pair'><body>\xff\xfe\xc3"
               b"</body></message>")
        self.expect_error(r, 'not-well-formed', 'utf8')

    # --- restricted XML

    def test_billion_laughs(self):
        ents = ['<!ENTITY lol "lol">']
        for i in range(1, 10):
            ents.append('<!ENTITY lol%d "%s">' % (
                i, ('&lol%s;' % (i - 1 if i > 1 else '')) * 10))
        payload = ("<?xml version='1.0'?><!DOCTYPE stream:stream [%s]>"
                   % ''.join(ents)) + HEADER_NO_DECL + \
            "<message to='bob@localhost'><body>&lol9;</body></message>"
        r = RawClient(self.server)
        send_tolerant(r, payload)
        self.expect_error(r, 'restricted-xml', 'billion-laughs')

    def test_doctype_after_login(self):
        r = self.carol()
        r.send("<!DOCTYPE foo [<!ENTITY x 'y'>]><message/>")
        self.expect_error(r, ('restricted-xml', 'not-well-formed'),
                          'doctype-post')

    def test_entity_reference_in_stanza(self):
        r = self.carol()
        r.send("<message to='bob@localhost/pair'><body>&xxe;</body>"
               "</message>")
        self.expect_error(r, ('restricted-xml', 'not-well-formed'),
                          'entity-ref')

    def test_processing_instruction(self):
        r = RawClient(self.server)
        r.open()
        r.send("<?evil instruction?><presence/>")
        self.expect_error(r, 'restricted-xml', 'pi')

    def test_comment(self):
        r = RawClient(self.server)
        r.open()
        r.send("<!-- a comment --><presence/>")
        self.expect_error(r, 'restricted-xml', 'comment')

    # --- size and shape limits

    def test_oversized_stanza(self):
        r = self.carol()
        body = 'A' * (300 * 1024)
        marker = uuid.uuid4().hex
        send_tolerant(r, "<message to='bob@localhost/pair' type='chat'>"
                      "<body>%s%s</body></message>" % (marker, body))
        self.expect_error(r, 'policy-violation', 'oversize')
        self.bob.no_message(0.2, lambda m: marker in (m['body'] or ''))

    def test_oversized_before_login(self):
        r = RawClient(self.server)
        r.open()
        send_tolerant(r, '<iq>' + 'B' * (300 * 1024) + '</iq>')
        self.expect_error(r, 'policy-violation', 'oversize-pre')

    def test_deep_nesting(self):
        r = self.carol()
        r.send("<message to='bob@localhost/pair'>" + '<a>' * 200 +
               '</a>' * 200 + '</message>')
        self.expect_error(r, 'policy-violation', 'deep')

    def test_deep_nesting_before_login(self):
        r = RawClient(self.server)
        r.open()
        r.send('<x>' * 200)
        self.expect_error(r, 'policy-violation', 'deep-pre')

    def test_too_many_attributes(self):
        r = self.carol()
        attrs = ' '.join("a%d='v'" % i for i in range(100))
        r.send("<message to='bob@localhost/pair' %s><body>x</body>"
               "</message>" % attrs)
        self.expect_error(r, 'policy-violation', 'attrs')

    def test_huge_stream_header(self):
        r = RawClient(self.server)
        send_tolerant(r, "<?xml version='1.0'?><stream:stream "
                      "xmlns='jabber:client' xmlns:stream='http://etherx."
                      "jabber.org/streams' to='localhost' version='1.0' "
                      "x='%s'>" % ('h' * 8000))
        self.expect_error(r, 'policy-violation', 'header')

    # --- not XMPP at all

    def test_garbage_before_header(self):
        r = RawClient(self.server)
        r.send('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')
        self.expect_error(r, ('not-well-formed', 'bad-format',
                              'invalid-namespace', 'policy-violation'),
                          'http')

    def test_binary_garbage(self):
        r = RawClient(self.server)
        r.send(bytes(range(256)) * 4)
        self.expect_error(r, ('not-well-formed', 'bad-format',
                              'unsupported-encoding'), 'binary')

    def test_wrong_domain_in_header(self):
        r = RawClient(self.server)
        r.stream_header(to='example.org')
        self.expect_error(r, 'host-unknown', 'host')

    def test_wrong_namespace_in_header(self):
        r = RawClient(self.server)
        r.send("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
               "xmlns:stream='http://etherx.jabber.org/streams' "
               "to='localhost' version='1.0'>")
        self.expect_error(r, 'invalid-namespace', 'ns')

    def test_plaintext_after_starttls(self):
        # <starttls/> and more in one packet: the rest must never be read
        # as if it had come over TLS (CVE-2011-0411 style).
        r = RawClient(self.server)
        r.open()
        r.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
               "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
               "mechanism='PLAIN'>AGNhcm9sAGNhcm9sLXB3</auth>")
        self.assertTrue(r.wait_closed(), 'connection kept open')
        self.assertNotIn(b'success', bytes(r.received))
        self.check_pair('starttls-injection')

    def test_text_at_stream_level(self):
        r = RawClient(self.server)
        r.open()
        r.send('just some text')
        self.expect_error(r, 'bad-format', 'text')

    def test_tls_handshake_garbage(self):
        r = RawClient(self.server, port=self.server.tls_port)
        r.send(b'\x16\x03\x01\x00\x05hello' + b'\x00' * 100)
        self.assertTrue(r.wait_closed(), 'direct TLS port kept garbage open')
        self.check_pair('tls-garbage')

    # --- flood

    def test_thousand_connections(self):
        n = 1000
        max_unauth = 32     # the default [c2s] max_unauth_per_address
        socks = []
        sel = selectors.DefaultSelector()
        try:
            # Non-blocking connects in batches, so that the listen backlog
            # never drops SYNs (which would add 1 s retransmits).
            for start in range(0, n, 100):
                batch = []
                for _ in range(100):
                    s = socket.socket()
                    s.setblocking(False)
                    rc = s.connect_ex(('127.0.0.1', self.server.port))
                    self.assertIn(rc, (0, errno.EINPROGRESS))
                    batch.append(s)
                socks.extend(batch)
                wsel = selectors.DefaultSelector()
                for s in batch:
                    wsel.register(s, selectors.EVENT_WRITE)
                pending = set(batch)
                end = time.monotonic() + T(10)
                while pending and time.monotonic() < end:
                    for key, _ in wsel.select(0.5):
                        wsel.unregister(key.fileobj)
                        pending.discard(key.fileobj)
                wsel.close()
                self.assertFalse(pending, '%d connects did not complete'
                                 % len(pending))
            for s in socks:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                self.assertEqual(err, 0, os.strerror(err))
                sel.register(s, selectors.EVENT_READ)
            data = {s: bytearray() for s in socks}
            closed = set()
            # Read until nothing has happened for a while.
            quiet_for = T(1.5)
            last = time.monotonic()
            end = last + T(30)
            while time.monotonic() < end and \
                    time.monotonic() - last < quiet_for:
                for key, _ in sel.select(0.2):
                    s = key.fileobj
                    try:
                        chunk = s.recv(4096)
                    except (ConnectionResetError, BlockingIOError):
                        chunk = b''
                    if chunk:
                        data[s] += chunk
                    else:
                        closed.add(s)
                        sel.unregister(s)
                    last = time.monotonic()
            refused = [s for s in socks if s in closed and
                       b'policy-violation' in data[s]]
            silent_open = [s for s in socks if s not in closed and
                           not data[s]]
            other = [s for s in socks if s not in refused and
                     s not in silent_open]
            for s in refused[:5] + refused[-5:]:
                self.assertIn(b'<stream:error>', data[s])
                self.assertRegex(bytes(data[s]), rb'<text[^>]*>[^<]+</text>')
                self.assertTrue(data[s].startswith(b'<?xml'), data[s][:80])
            self.assertLessEqual(len(silent_open), max_unauth,
                                 '%d connections stayed open (limit %d)'
                                 % (len(silent_open), max_unauth))
            self.assertEqual(other and [bytes(data[s][:200]) for s in other
                                        [:3]], [],
                             '%d connections got something else'
                             % len(other))
            self.assertGreaterEqual(len(refused), n - max_unauth)
            self.assertServerAlive()
        finally:
            sel.close()
            for s in socks:
                s.close()
        # Once those are closed, the pair still chats and a NEW login works
        # (the per-address slots are released when the server sees the
        # closes; give it a moment).
        self.check_pair('after-flood')

        def new_login():
            r = RawClient(self.server)
            try:
                r.login('dave', 'dave-pw', 'after-flood-' +
                        uuid.uuid4().hex[:6])
                return r
            except Exception:
                r.close()
                return None
        r = wait_until(new_login, T(10), interval=0.2)
        self.assertIsNotNone(r, 'no new login possible after the flood')
        body = 'dave is in ' + uuid.uuid4().hex
        r.message('bob@localhost/pair', body)
        m = self.bob.message(lambda m: m['body'] == body)
        self.assertEqual(m['from'], r.jid)
        r.close()
        c = Client(self.server, 'carol@localhost/after-flood', 'carol-pw')
        c.connect()
        round_trip(c, self.alice, 'carol-after-flood')
        c.disconnect()


class SilentConnectionTest(PairMixin, ServerTestCase):
    AUTH_TIMEOUT = 2
    CONFIG = {'c2s': {'auth_timeout': AUTH_TIMEOUT}}
    USERS = {'alice': 'alice-pw', 'bob': 'bob-pw', 'carol': 'carol-pw'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_pair()

    def test_never_sends_anything(self):
        t0 = time.monotonic()
        r = RawClient(self.server)
        cond, text = self.expect_error(r, 'connection-timeout', 'silent')
        dt = time.monotonic() - t0
        self.assertGreaterEqual(dt, self.AUTH_TIMEOUT - 0.3,
                                'closed too early (%.2f s)' % dt)
        self.assertLess(dt, T(self.AUTH_TIMEOUT + 5),
                        'closed too late (%.2f s)' % dt)

    def test_slow_login_times_out(self):
        # Sending something does not extend the deadline (slowloris).
        t0 = time.monotonic()
        r = RawClient(self.server)
        r.open()
        r.starttls()
        while time.monotonic() - t0 < self.AUTH_TIMEOUT + T(5):
            try:
                r.send(' ')
            except OSError:
                break
            r.fill(0.3)
            if r.closed or r.elements:
                break
        self.expect_error(r, 'connection-timeout', 'slowloris')
        self.assertLess(time.monotonic() - t0, T(self.AUTH_TIMEOUT + 5))

    def test_authenticated_but_never_bound(self):
        # The deadline covers log-in AND bind.
        t0 = time.monotonic()
        r = RawClient(self.server)
        r.open()
        r.starttls()
        el = r.auth_scram('carol', 'carol-pw')
        self.assertTrue(el.tag.endswith('success'))
        r.open()
        self.expect_error(r, 'connection-timeout', 'unbound')
        dt = time.monotonic() - t0
        self.assertGreaterEqual(dt, self.AUTH_TIMEOUT - 0.3)
        self.assertLess(dt, T(self.AUTH_TIMEOUT + 5))

    def test_login_in_time_is_not_cut(self):
        c = Client(self.server, 'carol@localhost/intime', 'carol-pw')
        c.connect()
        time.sleep(self.AUTH_TIMEOUT + 0.5)
        round_trip(c, self.alice, 'in-time')
        self.assertTrue(c.stream_errors.empty())
        c.disconnect()
