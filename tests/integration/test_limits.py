"""Per-address limits bound unauthenticated connections and the connection
rate, never the number of logged-in sessions from one address (a whole
office may sit behind one NAT address)."""

import selectors
import socket
import time
import uuid

from harness import (Client, RawClient, ServerTestCase, round_trip, T,
                     wait_until)


def refused_plain(port, timeout=5):
    """Opens a TCP connection and returns what the server sends before
    closing it, or None if it keeps the connection open (nothing sent)."""
    s = socket.create_connection(('127.0.0.1', port), T(timeout))
    s.settimeout(T(0.5) if timeout > 1 else timeout)
    data = b''
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                s.close()
                return data
            data += chunk
    except (socket.timeout, TimeoutError):
        if data:
            s.close()
            return data
        return s   # still open, silent: caller closes
    except ConnectionResetError:
        s.close()
        return data


class UnauthLimitTest(ServerTestCase):
    MAX_UNAUTH = 4
    CONFIG = {'c2s': {'max_unauth_per_address': MAX_UNAUTH,
                      'connect_rate': 1000,
                      'max_sessions_per_account': 20}}
    USERS = {'office': 'office-pw', 'bob': 'bob-pw'}

    def fill_slots(self, port):
        held = []
        for _ in range(self.MAX_UNAUTH):
            r = refused_plain(port, timeout=0.3)
            self.assertIsInstance(r, socket.socket,
                                  'refused below the limit: %r' % (r,))
            held.append(r)
        return held

    def test_starttls_port_over_limit(self):
        held = self.fill_slots(self.server.port)
        try:
            data = refused_plain(self.server.port)
            self.assertIsInstance(data, bytes, 'admitted over the limit')
            self.assertIn(b'<stream:error>', data)
            self.assertIn(b'policy-violation', data)
            self.assertRegex(data, rb'<text[^>]*>[^<]+</text>')
        finally:
            for s in held:
                s.close()
        # Slots come back once those are closed.
        ok = wait_until(lambda: _admitted(self.server.port), T(5), 0.1)
        self.assertTrue(ok, 'slots not released after close')

    def test_direct_tls_port_over_limit_just_closes(self):
        held = self.fill_slots(self.server.tls_port)
        try:
            data = refused_plain(self.server.tls_port)
            self.assertEqual(data, b'', 'expected a bare close, got %r'
                             % (data,))
        finally:
            for s in held:
                s.close()
        ok = wait_until(lambda: _admitted(self.server.tls_port), T(5), 0.1)
        self.assertTrue(ok)

    def test_authenticated_sessions_do_not_count(self):
        # Three times the unauthenticated limit, all logged in at once
        # from 127.0.0.1: the limit must not apply to them.
        n = self.MAX_UNAUTH * 3
        sessions = []
        try:
            for i in range(n):
                r = RawClient(self.server)
                r.login('office', 'office-pw', 'desk%d' % i)
                sessions.append(r)
            bob = Client(self.server, 'bob@localhost/b', 'bob-pw').connect()
            for i in (0, n - 1):
                body = 'desk %d %s' % (i, uuid.uuid4().hex)
                sessions[i].message('bob@localhost/b', body)
                m = bob.message(lambda m: m['body'] == body)
                self.assertEqual(m['from'], 'office@localhost/desk%d' % i)
            bob.disconnect()
        finally:
            for r in sessions:
                r.close()


def _admitted(port):
    r = refused_plain(port, timeout=0.3)
    if isinstance(r, socket.socket):
        r.close()
        return True
    return False


class ConnectRateTest(ServerTestCase):
    RATE = 2      # per second, burst 4x = 8
    CONFIG = {'c2s': {'connect_rate': RATE, 'max_unauth_per_address': 1000}}
    USERS = {'alice': 'alice-pw', 'bob': 'bob-pw'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = Client(cls.server, 'alice@localhost/a', 'alice-pw'
                           ).connect()
        cls.bob = Client(cls.server, 'bob@localhost/b', 'bob-pw').connect()
        # Let the bucket refill (start-up probes and these two logins).
        time.sleep(4.0 / cls.RATE + 0.5)

    def test_burst_then_refused_then_recovers(self):
        # Open them all at once, then see which were refused.
        n = self.RATE * 4 + 6
        socks = [socket.create_connection(('127.0.0.1', self.server.port),
                                          T(5)) for _ in range(n)]
        data = {s: b'' for s in socks}
        closed = set()
        sel = selectors.DefaultSelector()
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
        last = time.monotonic()
        while time.monotonic() - last < T(1):
            for key, _ in sel.select(0.1):
                try:
                    chunk = key.fileobj.recv(4096)
                except ConnectionResetError:
                    chunk = b''
                if chunk:
                    data[key.fileobj] += chunk
                else:
                    closed.add(key.fileobj)
                    sel.unregister(key.fileobj)
                last = time.monotonic()
        sel.close()
        held = [s for s in socks if s not in closed]
        refused = [data[s] for s in socks if s in closed]
        for s in socks:
            s.close()
        self.assertLessEqual(len(held), self.RATE * 4,
                             'burst larger than 4x the rate: %d' % len(held))
        self.assertGreaterEqual(len(refused), 6)
        for r in refused:
            self.assertIn(b'policy-violation', r)
            self.assertRegex(r, rb'<text[^>]*>[^<]+</text>')
        # Logged-in users are not affected...
        round_trip(self.alice, self.bob, 'rate')
        # ... and after a pause a new connection is accepted again.
        time.sleep(1.5 / self.RATE)
        self.assertTrue(wait_until(lambda: _admitted(self.server.port),
                                   T(5), 0.6))
