"""Helpers for Parley's integration tests.

Server     a real parleyd on free loopback ports, in a temporary directory.
Client     a slixmpp client (Debian's python3-slixmpp), driven from a
           background asyncio loop so that tests stay plain and synchronous.
RawClient  plain sockets + ssl: STARTTLS, SASL (SCRAM-SHA-1/256, PLAIN) and
           bind done by hand, and arbitrary bytes for the bad-input cases.
"""

import asyncio
import atexit
import base64
import hashlib
import hmac
import logging
import os
import queue
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))



def _raise_nofile():
    """The bad-input tests open 1,000 sockets at once; a soft limit of
    1024 would make them fail for the wrong reason."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else 65536
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass


_raise_nofile()

def _dir_from_env(var, default):
    d = os.environ.get(var, default)
    if not os.path.isabs(d):
        d = os.path.abspath(d) if os.path.isdir(d) else os.path.join(ROOT, d)
    return d


BINDIR = _dir_from_env('PARLEY_BINDIR', 'bin')
BUILD = _dir_from_env('PARLEY_BUILD', 'build')
PARLEYD = os.path.join(BINDIR, 'parleyd')
PARLEYCTL = os.path.join(BINDIR, 'parleyctl')
STROPHE_CLIENT = os.path.join(BUILD, 'tests', 'strophe_client')

# Sanitizer builds are ~3x slower: every timeout is multiplied by this.
SLOW = float(os.environ.get('PARLEY_TIMEOUT_SCALE',
                            '3' if 'asan' in BINDIR or 'san' in
                            os.path.basename(os.path.dirname(BINDIR))
                            else '1'))


def T(seconds):
    """A timeout, scaled for slow builds."""
    return seconds * SLOW


DOMAIN = 'localhost'
NS_CLIENT = 'jabber:client'
NS_STREAM = 'http://etherx.jabber.org/streams'
NS_STREAMS_ERR = 'urn:ietf:params:xml:ns:xmpp-streams'
NS_STANZAS_ERR = 'urn:ietf:params:xml:ns:xmpp-stanzas'
NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls'
NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl'
NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind'
NS_PING = 'urn:xmpp:ping'
NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'
NS_VERSION = 'jabber:iq:version'
# slixmpp logs failed logins etc. on stderr; tests check these themselves.
if not os.environ.get('PARLEY_TEST_DEBUG'):
    logging.getLogger('slixmpp').setLevel(logging.CRITICAL)
else:
    logging.basicConfig(level=logging.DEBUG)
SANITIZER_MARKERS = ('AddressSanitizer', 'runtime error:', 'LeakSanitizer')


def q(ns, name):
    return '{%s}%s' % (ns, name)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
    finally:
        s.close()


def xml_escape(s):
    return (s.replace('&', '&amp;').replace('<', '&lt;')
            .replace('>', '&gt;').replace("'", '&apos;')
            .replace('"', '&quot;'))


def wait_until(pred, timeout, interval=0.02):
    """Polls pred() until it is true; returns its last value."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        time.sleep(interval)


# --------------------------------------------------------------------------
# Server


_servers = []


@atexit.register
def _kill_leftover_servers():
    """Safety net (interrupted run): no parleyd of ours outlives us."""
    for srv in _servers:
        p = srv.proc
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class Server:
    """One parleyd process with its own data dir, config and ports."""

    def __init__(self, config=None, start=True, name='parley'):
        self.dir = tempfile.mkdtemp(prefix=name + '-')
        self.data_dir = os.path.join(self.dir, 'data')
        self.port = free_port()
        self.tls_port = free_port()
        while self.tls_port == self.port:
            self.tls_port = free_port()
        # HTTPS (file uploads); a test may turn it off with listen = ''.
        self.http_port = free_port()
        while self.http_port in (self.port, self.tls_port):
            self.http_port = free_port()
        self.conf_path = os.path.join(self.dir, 'parley.conf')
        self.log_path = os.path.join(self.dir, 'parleyd.log')
        self.cert = os.path.join(self.data_dir, 'tls', 'cert.pem')
        self.domain = DOMAIN
        self.proc = None
        self._logf = None
        self.stopped = False
        self.term_sent = False
        sections = {
            'server': {'domain': DOMAIN, 'data_dir': self.data_dir,
                       'log_level': 'info'},
            'c2s': {'listen': '127.0.0.1:%d' % self.port,
                    'tls_listen': '127.0.0.1:%d' % self.tls_port},
            'http': {'listen': '127.0.0.1:%d' % self.http_port},
        }
        for sec, kv in (config or {}).items():
            for k, v in kv.items():
                if v is None:
                    sections.setdefault(sec, {}).pop(k, None)
                else:
                    sections.setdefault(sec, {})[k] = str(v)
        self.config = sections
        _servers.append(self)
        self.write_config()
        if start:
            self.start()

    def write_config(self, text=None):
        if text is None:
            lines = []
            for sec, kv in self.config.items():
                lines.append('[%s]' % sec)
                lines.extend('%s = %s' % (k, v) for k, v in kv.items())
                lines.append('')
            text = '\n'.join(lines)
        with open(self.conf_path, 'w') as f:
            f.write(text)

    def start(self):
        self._logf = open(self.log_path, 'ab')
        self.proc = subprocess.Popen([PARLEYD, '-c', self.conf_path],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self._logf, stderr=self._logf,
                                     cwd=self.dir)
        end = time.monotonic() + 15
        pending = [self.port, self.tls_port]
        if self.config.get('http', {}).get('listen') == \
                '127.0.0.1:%d' % self.http_port:
            pending.append(self.http_port)
        while pending:
            if self.proc.poll() is not None:
                raise AssertionError('parleyd exited with %s at start:\n%s'
                                     % (self.proc.returncode, self.log()))
            port = pending[0]
            try:
                socket.create_connection(('127.0.0.1', port), 1).close()
                pending.pop(0)
                continue
            except OSError:
                pass
            if time.monotonic() > end:
                raise AssertionError('parleyd does not listen on %d:\n%s'
                                     % (port, self.log()))
            time.sleep(0.05)
        # The generated certificate is written before listening.
        assert os.path.exists(self.cert), 'no generated cert at ' + self.cert

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_since(self, offset):
        return self.log().encode('utf-8')[offset:].decode('utf-8', 'replace')

    def wait_log(self, text, timeout=10, since=0):
        """Waits until `text` appears in the log after byte `since`."""
        return wait_until(lambda: text in self.log_since(since), T(timeout))

    def ctl(self, *args, password=None, timeout=30):
        """Runs parleyctl; returns CompletedProcess (text)."""
        return subprocess.run([PARLEYCTL, '-c', self.conf_path] + list(args),
                              input=(password + '\n') if password is not None
                              else '', capture_output=True, text=True,
                              timeout=T(timeout), cwd=self.dir)

    def add_user(self, local, password):
        r = self.ctl('user', 'add', '%s@%s' % (local, self.domain),
                     password=password)
        if r.returncode != 0:
            raise AssertionError('parleyctl user add %s: exit %d: %s'
                                 % (local, r.returncode, r.stderr))
        return '%s@%s' % (local, self.domain)

    def sanitizer_lines(self):
        return [line for line in self.log().splitlines()
                if any(m in line for m in SANITIZER_MARKERS)]

    def sigterm(self):
        """Sends SIGTERM to this parleyd (its own PID only)."""
        if not self.term_sent and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.term_sent = True

    def wait_exit(self, timeout=10):
        """Waits for parleyd to exit; returns its status or None."""
        try:
            return self.proc.wait(timeout=T(timeout))
        except subprocess.TimeoutExpired:
            return None

    def stop(self, keep=False, expect_rc=0):
        """SIGTERM to this parleyd only, wait, check exit code and log."""
        if self.stopped:
            return None
        self.stopped = True
        rc = None
        problems = []
        if self.proc is not None:
            if self.proc.poll() is None or self.term_sent:
                self.sigterm()
                try:
                    rc = self.proc.wait(timeout=T(10))
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
                    problems.append('parleyd did not exit within %ds of '
                                    'SIGTERM' % T(10))
            else:
                problems.append('parleyd had already exited (status %s)'
                                % self.proc.returncode)
            rc = self.proc.returncode
            if not problems and expect_rc is not None and rc != expect_rc:
                problems.append('parleyd exited with %s, expected %s'
                                % (rc, expect_rc))
        if self._logf is not None:
            self._logf.close()
        san = self.sanitizer_lines()
        if san:
            problems.append('sanitizer report in the log:\n' +
                            '\n'.join(san[:20]))
        if problems or keep:
            sys.stderr.write('\n[harness] keeping %s (log: %s)\n'
                             % (self.dir, self.log_path))
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        if problems:
            tail = '\n'.join(self.log().splitlines()[-40:])
            raise AssertionError('; '.join(problems) + '\n--- log tail:\n'
                                 + tail)
        return rc


class ServerTestCase(unittest.TestCase):
    """Base class: one shared server per class (CONFIG overrides), kept on
    disk when any test of the class failed."""

    CONFIG = None
    USERS = {}          # local -> password, created in setUpClass
    server = None
    _failed = False

    @classmethod
    def setUpClass(cls):
        cls._failed = False
        cls._ran = False
        cls.server = Server(cls.CONFIG, name=cls.__name__)
        # A class cleanup runs even when a subclass's setUpClass fails
        # after this point (tearDownClass would not).
        cls.addClassCleanup(cls._stop_server, cls.server)
        for local, pw in cls.USERS.items():
            cls.server.add_user(local, pw)

    @classmethod
    def _stop_server(cls, server):
        close_all_clients()
        server.stop(keep=cls._failed or not cls._ran)

    def run(self, result=None):
        type(self)._ran = True
        before = (len(result.failures) + len(result.errors)) if result else 0
        marks = (set(map(id, _clients)), len(_raws))
        try:
            r = super().run(result)
        finally:
            # Whatever a test left connected goes, so that a failing test
            # cannot eat the per-address limits of the next ones.
            for c in [c for c in _clients if id(c) not in marks[0]]:
                c.kill()
            for raw in _raws[marks[1]:]:
                raw.close()
            del _raws[marks[1]:]
        if result is not None and \
                len(result.failures) + len(result.errors) > before:
            type(self)._failed = True
        return r

    def assertServerAlive(self):
        self.assertTrue(self.server.alive(), 'parleyd died:\n' +
                        '\n'.join(self.server.log().splitlines()[-30:]))


# --------------------------------------------------------------------------
# slixmpp clients, run on one asyncio loop in a background thread

_loop = None
_loop_lock = threading.Lock()
_clients = []
_raws = []   # RawClients, closed after the test that made them
_keep = []   # every ClientXMPP ever made: its tasks must not be GC'd pending


def event_loop():
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            t = threading.Thread(target=_loop.run_forever, daemon=True,
                                 name='slixmpp-loop')
            t.start()
        return _loop


def in_loop(fn, *args, timeout=30, **kw):
    """Runs fn(*args) in the loop thread and returns its result."""
    async def call():
        r = fn(*args, **kw)
        if asyncio.iscoroutine(r) or isinstance(r, asyncio.Future):
            r = await r
        return r
    return asyncio.run_coroutine_threadsafe(call(), event_loop()).result(
        T(timeout))


def shutdown_loop():
    """Cancels what slixmpp left on the loop and stops it (quiet exit)."""
    global _loop
    if _loop is None:
        return
    close_all_clients()

    async def cancel_all():
        me = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not me]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    try:
        asyncio.run_coroutine_threadsafe(cancel_all(), _loop).result(5)
    except Exception:
        pass
    _loop.call_soon_threadsafe(_loop.stop)
    _loop = None


def close_all_clients():
    while _clients:
        c = _clients.pop()
        try:
            c.disconnect(wait=0.5)
        except Exception:
            pass


def _stanza_dict(st):
    d = {'from': str(st['from']), 'to': str(st['to']), 'type': st['type'],
         'id': st['id'], 'xml': str(st)}
    try:
        d['body'] = st['body']
    except Exception:
        d['body'] = None
    if st['type'] == 'error':
        d['error'] = st['error']['condition']
        d['error_type'] = st['error']['type']
        d['error_text'] = st['error']['text']
    if st.name == 'presence':
        d['priority'] = st['priority']
        d['status'] = st['status']
    return d


class Client:
    """A slixmpp client.  Received messages, presence and stream errors go
    to thread-safe queues of plain dicts."""

    def __init__(self, server, jid, password, mech=None, direct_tls=False,
                 port=None, record_raw=False):
        self.server = server
        self.jid_requested = jid
        self.password = password
        self.mech = mech
        self.direct_tls = direct_tls
        self.port = port or (server.tls_port if direct_tls else server.port)
        self.messages = queue.Queue()
        self.presences = queue.Queue()
        self.stream_errors = queue.Queue()
        self.raw_in = []
        self.record_raw = record_raw
        self.session_started = threading.Event()
        self.auth_failed = threading.Event()
        self.disconnected = threading.Event()
        self.xmpp = in_loop(self._create)
        _clients.append(self)
        _keep.append(self.xmpp)

    def _create(self):
        import slixmpp
        x = slixmpp.ClientXMPP(self.jid_requested, self.password,
                               sasl_mech=self.mech)
        x.ssl_context = ssl.create_default_context(cafile=self.server.cert)
        x.ssl_context.check_hostname = True
        x.use_ipv6 = False
        x.register_plugin('xep_0030')
        x.register_plugin('xep_0199')
        x.add_event_handler('session_start', self._on_session_start)
        x.add_event_handler('failed_auth',
                            lambda *a: self.auth_failed.set())
        x.add_event_handler('disconnected',
                            lambda *a: self.disconnected.set())
        x.add_event_handler('message', lambda m: self.messages.put(
            _stanza_dict(m)))
        x.add_event_handler('presence', lambda p: self.presences.put(
            _stanza_dict(p)))
        x.add_event_handler('stream_error', lambda e: self.stream_errors.put(
            (e['condition'], e['text'])))
        if self.record_raw:
            orig = x.data_received

            def data_received(data, _orig=orig):
                self.raw_in.append(bytes(data))
                return _orig(data)
            x.data_received = data_received
        return x

    def _on_session_start(self, _event):
        self.session_started.set()

    @property
    def jid(self):
        """The bound full JID."""
        return str(self.xmpp.boundjid.full)

    @property
    def bare(self):
        return str(self.xmpp.boundjid.bare)

    def connect(self, timeout=15, presence=True, priority=None):
        self.session_started.clear()
        self.auth_failed.clear()
        self.disconnected.clear()
        in_loop(self.xmpp.connect, ('127.0.0.1', self.port),
                use_ssl=self.direct_tls)
        end = time.monotonic() + T(timeout)
        while time.monotonic() < end:
            if self.session_started.wait(0.05):
                break
            if self.auth_failed.is_set():
                raise AssertionError('%s: authentication failed'
                                     % self.jid_requested)
            if self.disconnected.is_set():
                err = None if self.stream_errors.empty() else \
                    self.stream_errors.queue[0]
                raise AssertionError('%s: disconnected before the session '
                                     'started (stream error %r)'
                                     % (self.jid_requested, err))
        else:
            raise AssertionError('%s: no session_start within %ss'
                                 % (self.jid_requested, T(timeout)))
        if presence:
            self.send_presence(priority=priority)
        return self

    def try_connect(self, timeout=20):
        """Returns 'ok', 'auth_failed' or 'timeout' (no exception)."""
        try:
            self.connect(timeout=timeout, presence=False)
            return 'ok'
        except AssertionError:
            return 'auth_failed' if self.auth_failed.is_set() else 'timeout'

    def send_presence(self, priority=None, **kw):
        if priority is not None:
            kw['ppriority'] = priority
        in_loop(self.xmpp.send_presence, **kw)

    def send_message(self, to, body, mtype='chat'):
        in_loop(self.xmpp.send_message, mto=to, mbody=body, mtype=mtype)

    def send_raw(self, data):
        in_loop(self.xmpp.send_raw, data)

    def get(self, qname, pred=None, timeout=10):
        """Next item of queue `qname` for which pred holds (others are
        dropped); AssertionError on timeout."""
        qu = getattr(self, qname)
        end = time.monotonic() + T(timeout)
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError('%s: nothing matching in %s within %ss'
                                     % (self.jid_requested, qname,
                                        T(timeout)))
            try:
                item = qu.get(timeout=left)
            except queue.Empty:
                continue
            if pred is None or pred(item):
                return item

    def message(self, pred=None, timeout=10):
        return self.get('messages', pred, timeout)

    def presence(self, pred=None, timeout=10):
        return self.get('presences', pred, timeout)

    def stream_error(self, timeout=10):
        return self.get('stream_errors', None, timeout)

    def no_message(self, within=0.5, pred=None):
        """Asserts that no (matching) message arrives within `within` s."""
        end = time.monotonic() + within
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            try:
                m = self.messages.get(timeout=left)
            except queue.Empty:
                return
            if pred is None or pred(m):
                raise AssertionError('%s: unexpected message %s'
                                     % (self.jid_requested, m['xml']))

    def drain(self):
        for qu in (self.messages, self.presences, self.stream_errors):
            while True:
                try:
                    qu.get_nowait()
                except queue.Empty:
                    break

    def disconnect(self, wait=2.0):
        if self in _clients:
            _clients.remove(self)
        if self.xmpp.transport is None:
            return
        try:
            in_loop(self.xmpp.disconnect, wait=wait, timeout=wait + 10)
        except Exception:
            in_loop(self.xmpp.abort)
        self.disconnected.wait(T(wait + 2))

    def abort(self):
        """Closes the TCP connection without </stream:stream>."""
        in_loop(self.xmpp.abort)

    def kill(self):
        """Forgets this client, closing its connection abruptly."""
        if self in _clients:
            _clients.remove(self)
        try:
            if self.xmpp.transport is not None:
                in_loop(self.xmpp.abort, timeout=5)
        except Exception:
            pass


def round_trip(a, b, tag='rt'):
    """a -> b and b -> a chat messages, bodies and full-JID senders checked."""
    body1 = '%s %s' % (tag, uuid.uuid4().hex)
    a.send_message(b.jid, body1)
    m = b.message(lambda m: m['body'] == body1, timeout=10)
    assert m['from'] == a.jid, 'from %r, expected %r' % (m['from'], a.jid)
    assert m['type'] == 'chat'
    body2 = '%s reply %s' % (tag, uuid.uuid4().hex)
    b.send_message(a.jid, body2)
    m = a.message(lambda m: m['body'] == body2, timeout=10)
    assert m['from'] == b.jid, 'from %r, expected %r' % (m['from'], b.jid)


# --------------------------------------------------------------------------
# Raw client


class StreamClosed(Exception):
    pass


def _xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


class RawClient:
    """A hand-driven XMPP client on a plain socket.

    Every byte received is kept in `received` (for scans).  Parsed
    top-level elements (children of <stream:stream>) are queued; the
    stream header's attributes are in `header`."""

    def __init__(self, server=None, port=None, direct_tls=False,
                 alpn=('xmpp-client',), ssl_context=None, timeout=10,
                 host='127.0.0.1', connect=True):
        self.server = server
        self.port = port or (server.tls_port if direct_tls else server.port)
        self.host = host
        self.timeout = T(timeout)
        self.sock = None
        self.received = bytearray()
        self.closed = False           # EOF or reset seen
        self.stream_ended = False     # </stream:stream> seen
        self.header = None
        self.elements = []
        self.parse_error = None
        self.jid = None
        self.tls = False
        self._new_parser()
        _raws.append(self)
        if connect:
            self.sock = socket.create_connection((host, self.port),
                                                 self.timeout)
            self.sock.settimeout(self.timeout)
            if direct_tls:
                self._wrap_tls(ssl_context, alpn)

    # --- plumbing

    def _new_parser(self):
        self.parser = ET.XMLPullParser(events=('start', 'end'))
        self.depth = 0
        self.root = None
        self.header = None
        self.stream_ended = False

    @staticmethod
    def client_context(alpn=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if alpn:
            ctx.set_alpn_protocols(list(alpn))
        return ctx

    def _wrap_tls(self, ctx=None, alpn=None):
        ctx = ctx or self.client_context(alpn)
        self.sock = ctx.wrap_socket(self.sock, server_hostname='localhost')
        self.tls = True

    def send(self, data):
        if isinstance(data, str):
            data = data.encode('utf-8')
        self.sock.sendall(data)

    def _feed(self, data):
        self.received += data
        if self.parse_error is not None:
            return
        try:
            self.parser.feed(data)
            for ev, el in self.parser.read_events():
                if ev == 'start':
                    if self.depth == 0:
                        self.root = el
                        self.header = dict(el.attrib)
                    self.depth += 1
                else:
                    self.depth -= 1
                    if self.depth == 1:
                        self.elements.append(el)
                        self.root.remove(el)
                    elif self.depth == 0:
                        self.stream_ended = True
        except ET.ParseError as e:
            self.parse_error = e

    def fill(self, timeout=None):
        """Reads once (waits up to timeout); False if nothing came."""
        if self.closed:
            return False
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, TimeoutError, ssl.SSLWantReadError):
            return False
        except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError,
                ssl.SSLZeroReturnError, ssl.SSLError, OSError):
            self.closed = True
            return False
        if not data:
            self.closed = True
            return False
        self._feed(data)
        return True

    def next(self, timeout=None, pred=None):
        """The next top-level element (matching pred); raises StreamClosed
        or AssertionError on timeout."""
        timeout = self.timeout if timeout is None else T(timeout)
        end = time.monotonic() + timeout
        while True:
            for i, el in enumerate(self.elements):
                if pred is None or pred(el):
                    del self.elements[i]
                    return el
            if pred is None:
                self.elements.clear()
            if self.closed:
                raise StreamClosed('connection closed; received: %r'
                                   % bytes(self.received[-500:]))
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError('nothing (matching) within %.1fs; '
                                     'received: %r' % (timeout, bytes(
                                         self.received[-500:])))
            self.fill(min(left, 1.0))

    def wait_closed(self, timeout=10):
        """True if the server closes the connection within timeout."""
        end = time.monotonic() + T(timeout)
        while not self.closed and time.monotonic() < end:
            self.fill(min(1.0, max(0.01, end - time.monotonic())))
        return self.closed

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True

    # --- stream level

    def stream_header(self, to=DOMAIN):
        self._new_parser()
        self.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client'"
                  " xmlns:stream='http://etherx.jabber.org/streams' to='%s'"
                  " version='1.0'>" % to)

    def features(self, timeout=None):
        el = self.next(timeout, lambda e: e.tag == q(NS_STREAM, 'features')
                       or e.tag == q(NS_STREAM, 'error'))
        if el.tag != q(NS_STREAM, 'features'):
            raise AssertionError('stream error instead of features: %s'
                                 % ET.tostring(el))
        return el

    def open(self, to=DOMAIN):
        self.stream_header(to)
        return self.features()

    def expect_stream_error(self, timeout=10, check_closed=True):
        """Waits for <stream:error/>; returns (condition, text) and checks
        that the server then closes the connection."""
        try:
            el = self.next(timeout, lambda e: e.tag == q(NS_STREAM, 'error'))
        except StreamClosed:
            raise AssertionError('closed without a stream error; received: '
                                 '%r' % bytes(self.received[-800:]))
        cond, text = None, None
        for c in el:
            if c.tag == q(NS_STREAMS_ERR, 'text'):
                text = c.text or ''
            elif c.tag.startswith('{%s}' % NS_STREAMS_ERR):
                cond = c.tag.split('}', 1)[1]
        if check_closed:
            assert self.wait_closed(timeout), \
                'server did not close the connection after <%s/>' % cond
        return cond, text

    def starttls(self, ctx=None):
        self.send("<starttls xmlns='%s'/>" % NS_TLS)
        el = self.next(pred=lambda e: e.tag in (q(NS_TLS, 'proceed'),
                                                q(NS_TLS, 'failure'),
                                                q(NS_STREAM, 'error')))
        assert el.tag == q(NS_TLS, 'proceed'), ET.tostring(el)
        self._wrap_tls(ctx)
        return self.open()

    @staticmethod
    def mechanisms(features):
        m = features.find(q(NS_SASL, 'mechanisms'))
        return [] if m is None else [x.text for x in m]

    def _sasl_next(self):
        return self.next(pred=lambda e: e.tag.startswith('{%s}' % NS_SASL)
                         or e.tag == q(NS_STREAM, 'error'))

    def auth_plain(self, user, password, authzid=''):
        payload = ('%s\0%s\0%s' % (authzid, user, password)).encode()
        self.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                  % (NS_SASL, base64.b64encode(payload).decode()))
        return self._sasl_next()

    def auth_scram(self, user, password, mech='SCRAM-SHA-256'):
        """Client side of SCRAM (RFC 5802); returns the final element
        (<success/> after checking the server signature, or <failure/>)."""
        hname = {'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-1': 'sha1'}[mech]
        H = lambda b: hashlib.new(hname, b).digest()
        HMAC = lambda k, m: hmac.new(k, m, hname).digest()
        b64 = lambda b: base64.b64encode(b).decode()
        cnonce = b64(os.urandom(18))
        gs2 = 'n,,'
        name = user.replace('=', '=3D').replace(',', '=2C')
        cfirst_bare = 'n=%s,r=%s' % (name, cnonce)
        self.send("<auth xmlns='%s' mechanism='%s'>%s</auth>"
                  % (NS_SASL, mech, b64((gs2 + cfirst_bare).encode())))
        el = self._sasl_next()
        if el.tag != q(NS_SASL, 'challenge'):
            return el
        sfirst = base64.b64decode(el.text or '').decode()
        attrs = dict(kv.split('=', 1) for kv in sfirst.split(','))
        assert attrs['r'].startswith(cnonce), sfirst
        salted = hashlib.pbkdf2_hmac(hname, password.encode(),
                                     base64.b64decode(attrs['s']),
                                     int(attrs['i']))
        ckey = HMAC(salted, b'Client Key')
        cfinal_bare = 'c=%s,r=%s' % (b64(gs2.encode()), attrs['r'])
        authmsg = ','.join((cfirst_bare, sfirst, cfinal_bare)).encode()
        proof = _xor(ckey, HMAC(H(ckey), authmsg))
        self.send("<response xmlns='%s'>%s</response>"
                  % (NS_SASL, b64(('%s,p=%s' % (cfinal_bare, b64(proof)))
                                  .encode())))
        el = self._sasl_next()
        if el.tag == q(NS_SASL, 'success'):
            sfinal = base64.b64decode(el.text or '').decode()
            ssig = HMAC(HMAC(salted, b'Server Key'), authmsg)
            assert sfinal == 'v=' + b64(ssig), \
                'bad server signature %r' % sfinal
        return el

    def bind(self, resource=None, iq_id='bind1'):
        """Sends a bind request; returns the <iq/> answer."""
        res = '' if resource is None else \
            '<resource>%s</resource>' % xml_escape(resource)
        self.send("<iq type='set' id='%s'><bind xmlns='%s'>%s</bind></iq>"
                  % (iq_id, NS_BIND, res))
        el = self.iq_reply(iq_id)
        if el.get('type') == 'result':
            self.jid = el.find(q(NS_BIND, 'bind')).find(q(NS_BIND, 'jid')).text
        return el

    def login(self, user, password, resource=None, mech='SCRAM-SHA-256',
              presence=False):
        """STARTTLS (unless direct TLS), SASL, restart, bind."""
        feats = self.open()
        if not self.tls:
            assert feats.find(q(NS_TLS, 'starttls')) is not None, \
                ET.tostring(feats)
            feats = self.starttls()
        if mech == 'PLAIN':
            el = self.auth_plain(user, password)
        else:
            el = self.auth_scram(user, password, mech)
        assert el.tag == q(NS_SASL, 'success'), \
            'login of %s failed: %s' % (user, ET.tostring(el))
        feats = self.open()
        assert feats.find(q(NS_BIND, 'bind')) is not None, ET.tostring(feats)
        el = self.bind(resource)
        assert el.get('type') == 'result', ET.tostring(el)
        if presence:
            self.send('<presence/>')
        return self.jid

    # --- stanzas

    def iq_reply(self, iq_id, timeout=None):
        return self.next(timeout, lambda e: (e.tag == q(NS_CLIENT, 'iq') and
                                             e.get('id') == iq_id) or
                         e.tag == q(NS_STREAM, 'error'))

    def iq(self, xml_body, iq_type='get', to=None, timeout=None):
        iq_id = 'iq-' + uuid.uuid4().hex[:8]
        self.send("<iq type='%s' id='%s'%s>%s</iq>" % (
            iq_type, iq_id, " to='%s'" % to if to else '', xml_body))
        return self.iq_reply(iq_id, timeout)

    def message(self, to, body, mtype='chat', extra=''):
        self.send("<message to='%s' type='%s'%s><body>%s</body></message>"
                  % (xml_escape(to), mtype, extra, xml_escape(body)))

    def next_message(self, pred=None, timeout=None):
        return self.next(timeout, lambda e: e.tag == q(NS_CLIENT, 'message')
                         and (pred is None or pred(e)))

    def next_presence(self, pred=None, timeout=None):
        return self.next(timeout, lambda e: e.tag == q(NS_CLIENT, 'presence')
                         and (pred is None or pred(e)))


def stanza_error(el):
    """(condition, type, text) of a stanza of type error."""
    err = el.find(q(NS_CLIENT, 'error'))
    if err is None:
        return None, None, None
    cond, text = None, None
    for c in err:
        if c.tag == q(NS_STANZAS_ERR, 'text'):
            text = c.text
        elif c.tag.startswith('{%s}' % NS_STANZAS_ERR):
            cond = c.tag.split('}', 1)[1]
    return cond, err.get('type'), text


def body_of(el):
    b = el.find(q(NS_CLIENT, 'body'))
    return None if b is None else b.text
