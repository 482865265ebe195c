"""HTTP File Upload (XEP-0363) through parleyd's HTTPS port, every file
scanned by a real clamd (tests/integration/clamd_util.py) before anyone
can download it.

Slots are asked for over XMPP (slixmpp's xep_0363 plugin, or by hand);
the PUT and GET go over HTTPS with Python's http.client, or as raw bytes
on a TLS socket for the malformed and hostile requests.
"""

import hashlib
import http.client
import io
import os
import socket
import sqlite3
import ssl
import sys
import threading
import time
import unittest
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import harness
from harness import (ServerTestCase, RawClient, Client, T, q, in_loop,
                     stanza_error, wait_until, NS_DISCO_INFO, PARLEYCTL)
import clamd_util
from clamd_util import Clamd, EICAR, MARKER

NS_UP = 'urn:xmpp:http:upload:0'
NS_DATA = 'jabber:x:data'
MiB = 1024 * 1024
SANITIZED = harness.SLOW > 1


def s(el):
    return ET.tostring(el).decode()


def uid():
    return uuid.uuid4().hex[:10]


def xesc(v):
    return harness.xml_escape(v)


class UploadCase(ServerTestCase):
    """A server whose uploads are scanned by a clamd of its own."""

    SCAN = True          # start a clamd and point [scan] at it
    EXTRA = {}           # more config sections
    USERS = {'alice': 'alice-pw-1', 'bob': 'bob-pw-22'}
    clamd = None
    ctx = None

    @classmethod
    def setUpClass(cls):
        if not clamd_util.available():
            raise unittest.SkipTest('clamd not installed (tools/deps.sh)')
        config = {'scan': {}}
        if cls.SCAN:
            cls.clamd = Clamd()
            cls.addClassCleanup(cls.clamd.close)
            config['scan']['clamd_socket'] = cls.clamd.sock
        for sec, kv in cls.EXTRA.items():
            config.setdefault(sec, {}).update(kv)
        cls.CONFIG = config
        super().setUpClass()
        cls.ctx = ssl.create_default_context(cafile=cls.server.cert)

    # --- XMPP side

    def login(self, user='alice'):
        c = RawClient(self.server)
        c.login(user, self.USERS[user])
        return c

    def ask(self, c, filename, size, ctype='application/octet-stream',
            raw_name=None):
        ct = '' if ctype is None else " content-type='%s'" % xesc(ctype)
        fn = '' if filename is None else " filename='%s'" % xesc(filename)
        if raw_name is not None:
            fn = " filename='%s'" % raw_name
        return c.iq("<request xmlns='%s'%s size='%s'%s/>"
                    % (NS_UP, fn, size, ct), to='localhost')

    def slot(self, c, filename, size, ctype='application/octet-stream'):
        el = self.ask(c, filename, size, ctype)
        self.assertEqual(el.get('type'), 'result', s(el))
        sl = el.find(q(NS_UP, 'slot'))
        return (sl.find(q(NS_UP, 'put')).get('url'),
                sl.find(q(NS_UP, 'get')).get('url'))

    # --- HTTP side

    def http(self, method, url, body=None, headers=None, timeout=30):
        """(status, headers, body) of one request on a new connection."""
        u = urllib.parse.urlsplit(url)
        port = u.port or self.server.http_port
        c = http.client.HTTPSConnection('localhost', port,
                                        context=self.ctx,
                                        timeout=T(timeout))
        try:
            c.request(method, u.path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def put(self, url, data, ctype='application/octet-stream', **kw):
        return self.http('PUT', url, data, {'Content-Type': ctype}, **kw)

    def get(self, url):
        return self.http('GET', url)

    def upload(self, c, data, name=None, ctype='application/octet-stream'):
        put, get = self.slot(c, name or 'f-%s.bin' % uid(), len(data), ctype)
        st, _, body = self.put(put, data, ctype)
        return st, body, put, get

    def raw(self, data, timeout=10):
        """Sends data as is on a TLS connection; returns what came back
        until the server closed it (or the timeout)."""
        sock = socket.create_connection(('127.0.0.1',
                                         self.server.http_port), T(timeout))
        sock = self.ctx.wrap_socket(sock, server_hostname='localhost')
        out = b''
        try:
            sock.sendall(data)
            sock.settimeout(T(timeout))
            while True:
                try:
                    chunk = sock.recv(65536)
                except (socket.timeout, ssl.SSLError, OSError):
                    break
                if not chunk:
                    break
                out += chunk
        finally:
            sock.close()
        return out

    def status_of(self, raw):
        line = raw.split(b'\r\n', 1)[0].decode('latin-1')
        parts = line.split(' ')
        self.assertTrue(len(parts) >= 2 and parts[0].startswith('HTTP/1.'),
                        'not an HTTP answer: %r' % raw[:200])
        return int(parts[1])

    # --- what the server keeps

    def db(self):
        return sqlite3.connect(os.path.join(self.server.data_dir,
                                            'parley.db'), timeout=10)

    def events(self):
        """What the scanner found, from the audit trail (issue 8 folded
        the old upload_events table into it): (owner, scan, signature or
        reason, size, file in quarantine/) per quarantined, refused or
        unscanned upload."""
        with self.db() as d:
            rows = d.execute("SELECT account, detail FROM audit WHERE kind "
                             "IN ('upload', 'quarantine', 'upload-refused') "
                             "ORDER BY id").fetchall()
        out = []
        for owner, detail in rows:
            text = None
            for label in (' signature=', ' reason='):
                if label in detail:
                    detail, text = detail.split(label, 1)
            f = dict(kv.split('=', 1) for kv in detail.split(' '))
            if f['scan'] in ('clean', 'off'):
                continue
            qfile = f.get('file')
            out.append((owner, f['scan'], text, int(f['size']),
                        qfile[len('quarantine/'):] if qfile else None))
        return out

    def updir(self, sub):
        return os.path.join(self.server.data_dir, 'uploads', sub)

    def still_serving(self, good_get=None, good_data=None, xmpp=None):
        """The server answers XMPP (a round trip on xmpp, or a new
        login) and HTTP (good_get) as before."""
        self.assertServerAlive()
        c = xmpp or self.login('bob')
        el = c.iq("<ping xmlns='urn:xmpp:ping'/>", to='localhost')
        self.assertEqual(el.get('type'), 'result', s(el))
        if xmpp is None:
            c.close()
        if good_get is not None:
            st, _, body = self.get(good_get)
            self.assertEqual((st, body), (200, good_data))


class UploadTest(UploadCase):
    # r0..r4 share the ten large uploads, within the default quota.
    USERS = dict(UploadCase.USERS, **{'r%d' % i: 'r-pw-%d-xyz' % i
                                       for i in range(5)})

    def test_disco_lists_upload_on_the_domain(self):
        c = self.login()
        el = c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to='localhost')
        self.assertEqual(el.get('type'), 'result', s(el))
        qu = el.find(q(NS_DISCO_INFO, 'query'))
        ids = [(i.get('category'), i.get('type'))
               for i in qu.findall(q(NS_DISCO_INFO, 'identity'))]
        self.assertIn(('store', 'file'), ids)
        feats = [f.get('var') for f in qu.findall(q(NS_DISCO_INFO,
                                                     'feature'))]
        self.assertIn(NS_UP, feats)
        forms = qu.findall(q(NS_DATA, 'x'))
        vals = {}
        for f in forms:
            for fld in f.findall(q(NS_DATA, 'field')):
                vals[fld.get('var')] = fld.find(q(NS_DATA, 'value')).text
        self.assertEqual(vals.get('FORM_TYPE'), NS_UP, s(el))
        self.assertEqual(vals.get('max-file-size'), str(20 * MiB), s(el))

    def test_slixmpp_upload_and_another_user_downloads(self):
        data = os.urandom(300 * 1024) + b'end'
        alice = Client(self.server, 'alice@localhost/up', 'alice-pw-1')
        in_loop(alice.xmpp.register_plugin, 'xep_0363')
        alice.connect()
        # Discovery as the plugin does it (its own helper trips over
        # Python 3.11's asyncio in slixmpp 1.8.3): the domain itself.
        info = in_loop(alice.xmpp['xep_0030'].get_info, jid='localhost')
        di = info['disco_info']
        self.assertIn(('store', 'file', None, None), di['identities'])
        self.assertIn(NS_UP, di['features'])
        maxes = [f['values']['max-file-size'] for f in di.iterables
                 if f['values'].get('FORM_TYPE') == [NS_UP]]
        self.assertEqual(maxes, [str(20 * MiB)])
        alice.xmpp['xep_0363'].upload_service = info['from']
        alice.xmpp['xep_0363'].max_file_size = int(maxes[0])
        # aiohttp (under slixmpp's plugin) trusts the default CA store,
        # read once per process: point it at this server's certificate.
        import aiohttp.connector
        old = os.environ.get('SSL_CERT_FILE')
        os.environ['SSL_CERT_FILE'] = self.server.cert
        aiohttp.connector.TCPConnector._make_ssl_context.cache_clear()
        try:
            url = in_loop(alice.xmpp['xep_0363'].upload_file,
                          'holiday photo.jpg', size=len(data),
                          content_type='image/jpeg',
                          input_file=io.BytesIO(data), timeout=T(60))
        finally:
            if old is None:
                os.environ.pop('SSL_CERT_FILE', None)
            else:
                os.environ['SSL_CERT_FILE'] = old
            aiohttp.connector.TCPConnector._make_ssl_context.cache_clear()
        self.assertTrue(url.startswith('https://localhost:%d/file/'
                                       % self.server.http_port), url)
        self.assertTrue(url.endswith('/holiday%20photo.jpg'), url)
        # The token: 128 bits, hex.
        token = urllib.parse.urlsplit(url).path.split('/')[2]
        self.assertRegex(token, '^[0-9a-f]{32}$')
        # Another user, with nothing but the URL, gets the same bytes.
        st, hdrs, body = self.get(url)
        self.assertEqual(st, 200)
        self.assertEqual(hashlib.sha256(body).hexdigest(),
                         hashlib.sha256(data).hexdigest())
        self.assertEqual(hdrs.get('Content-Type'), 'image/jpeg')
        self.assertEqual(hdrs.get('X-Content-Type-Options'), 'nosniff')
        # HEAD too, without a body.
        st, hdrs, body = self.http('HEAD', url)
        self.assertEqual((st, body), (200, b''))
        self.assertEqual(hdrs.get('Content-Length'), str(len(data)))
        # Stored under a name derived from the token only.
        files = os.listdir(self.updir('files'))
        self.assertTrue(files)
        for f in files:
            self.assertRegex(f, '^[0-9a-f]{64}$')
        alice.disconnect()

    def test_eicar_refused_quarantined_never_downloadable(self):
        c = self.login()
        name = 'invoice-%s.pdf.exe' % uid()
        before = len(self.events())
        st, body, put, get = self.upload(c, EICAR, name)
        self.assertEqual(st, 422, body)
        text = body.decode()
        self.assertIn('virus scanner found Parley.Test.EICAR', text)
        self.assertIn('quarantined', text)
        # The uploader is told over XMPP as well.
        m = c.next_message(lambda e: e.get('type') == 'headline')
        self.assertEqual(m.get('from'), 'localhost')
        self.assertIn('Parley.Test.EICAR', harness.body_of(m))
        # Never served, as if it did not exist.
        for _ in range(2):
            st, _, body = self.get(get)
            self.assertEqual(st, 404)
            self.assertNotIn(b'EICAR', body)
        # The PUT URL is spent.
        st, _, _ = self.put(put, EICAR)
        self.assertEqual(st, 409)
        # Moved aside, for the admin.
        ev = self.events()
        self.assertEqual(len(ev), before + 1, ev)
        owner, event, detail, size, qfile = ev[-1]
        self.assertEqual((owner, event, size), ('alice', 'infected',
                                                len(EICAR)))
        self.assertIn('Parley.Test.EICAR', detail)
        with open(os.path.join(self.updir('quarantine'), qfile), 'rb') as f:
            self.assertEqual(f.read(), EICAR)
        self.assertNotIn(qfile, os.listdir(self.updir('files')))
        # One log line for the admin, without the file name.
        log = self.server.log()
        self.assertIn('infected', log)
        self.assertNotIn(name, log)
        self.assertNotIn('invoice-', log)

    def test_marker_deep_in_a_large_file_is_found(self):
        # Past many INSTREAM chunks: the whole file reaches clamd.
        data = bytearray(os.urandom(3 * MiB))
        data[2 * MiB + 12345:2 * MiB + 12345 + len(MARKER)] = MARKER
        c = self.login()
        st, body, _, get = self.upload(c, bytes(data))
        self.assertEqual(st, 422, body)
        self.assertIn(b'Parley.Test.Marker', body)
        self.assertEqual(self.get(get)[0], 404)
        # The same size without the marker is clean.
        st, body, _, get = self.upload(c, os.urandom(3 * MiB))
        self.assertEqual(st, 201, body)
        self.assertEqual(self.get(get)[0], 200)

    def test_oversize_refused(self):
        c = self.login()
        el = self.ask(c, 'big.iso', 20 * MiB + 1)
        cond, etype, text = stanza_error(el)
        self.assertEqual((cond, etype), ('not-acceptable', 'modify'), s(el))
        self.assertIn('too large', text)
        err = el.find(q(harness.NS_CLIENT, 'error'))
        ftl = err.find(q(NS_UP, 'file-too-large'))
        self.assertIsNotNone(ftl, s(el))
        self.assertEqual(ftl.find(q(NS_UP, 'max-file-size')).text,
                         str(20 * MiB))
        # The largest allowed size gets a slot.
        el = self.ask(c, 'ok.iso', 20 * MiB)
        self.assertEqual(el.get('type'), 'result', s(el))
        # More bytes than the slot's size, announced: refused before the
        # body is read.
        put, get = self.slot(c, 'small.bin', 10)
        st, _, body = self.put(put, b'x' * 11)
        self.assertEqual(st, 413, body)
        st, _, body = self.put(put, b'x' * 10)
        self.assertEqual(st, 201, body)

    def test_wrong_type_or_length_refused_then_second_put_refused(self):
        c = self.login()
        data = b'plain text, nothing more\n'
        put, get = self.slot(c, 'notes.txt', len(data), 'text/plain')
        st, _, body = self.put(put, data, 'application/octet-stream')
        self.assertEqual(st, 415, body)
        self.assertIn(b'text/plain', body)
        st, _, body = self.put(put, data[:-1], 'text/plain')
        self.assertEqual(st, 400, body)
        st, _, body = self.http('PUT', put, data, {})
        self.assertEqual(st, 415, body)
        # Nothing was stored by those; the right PUT still works, once.
        self.assertEqual(self.get(get)[0], 404)
        st, _, body = self.put(put, data, 'text/plain')
        self.assertEqual(st, 201, body)
        st, _, body = self.put(put, data, 'text/plain')
        self.assertEqual(st, 409, body)
        self.assertEqual(self.get(get)[2], data)

    def test_slot_requests_checked(self):
        c = self.login()
        el = self.ask(c, None, 10)
        self.assertEqual(stanza_error(el)[0], 'bad-request', s(el))
        for size in ('-1', 'ten', '', '1e6', '99999999999999999999'):
            el = self.ask(c, 'a.txt', size)
            self.assertEqual(stanza_error(el)[0], 'bad-request', s(el))
        el = self.ask(c, 'a.txt', 10, 'text/html')
        cond, _, text = stanza_error(el)
        self.assertEqual(cond, 'not-acceptable', s(el))
        self.assertIn('text/html', text)
        el = self.ask(c, 'a.svg', 10, 'image/svg+xml')
        self.assertEqual(stanza_error(el)[0], 'not-acceptable', s(el))
        el = self.ask(c, 'a.txt', 10, 'not a type')
        self.assertEqual(stanza_error(el)[0], 'bad-request', s(el))
        # A name with a path only keeps its last part, and no control
        # characters; the URL segment is percent-encoded.
        put, get = self.slot(c, '../../etc/passwd', 3)
        self.assertTrue(get.endswith('/passwd'), get)
        el = self.ask(c, None, 3, raw_name='C:\\tmp\\a&#9;b&#10;c.txt')
        get = el.find(q(NS_UP, 'slot')).find(q(NS_UP, 'get')).get('url')
        self.assertTrue(get.endswith('/abc.txt'), get)
        put, get = self.slot(c, '..', 3)
        self.assertTrue(get.endswith('/file'), get)
        put, get = self.slot(c, 'résumé <1>.txt', 3)
        self.assertTrue(get.endswith('/r%C3%A9sum%C3%A9%20%3C1%3E.txt'),
                        get)
        self.assertEqual(self.put(put, b'abc')[0], 201)
        self.assertEqual(self.get(get)[2], b'abc')

    def test_hostile_paths_get_4xx(self):
        c = self.login()
        good_data = b'the good file'
        st, _, _, good_get = self.upload(c, good_data, 'good.txt')
        self.assertEqual(st, 201)
        gpath = urllib.parse.urlsplit(good_get).path
        token = gpath.split('/')[2]
        other = '%032x' % 0x1234
        targets = [
            '/file/../../etc/passwd',
            '/file/%2e%2e/%2e%2e/etc/passwd',
            '/file/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
            '/file/%s/..%%2f..%%2fparley.db' % token,
            '/file/%s/%%2e%%2e' % token,
            '/file/%s/..' % token,
            '/file/%s/good.txt/..' % token,
            '/file/%s/good.txt/../../parley.db' % token,
            '/file/%s%%2fgood.txt' % token,
            '/file/%s/good.txt%%00.png' % token,
            '/upload/../files/%s' % ('0' * 64),
            '/files/%s' % ('0' * 64),
            '/incoming/', '/quarantine/', '/uploads/',
            '//etc/passwd', '/etc/passwd', '/file//etc/passwd',
            '/file/', '/file/%s/' % token, '/file/%s' % token, '/file',
            '/upload/', '/', '/parley.db',
            '/file/%s/good.txt' % token.upper(),
            '/file/%s/good.txt' % other,
            '/file/%s/other-name.txt' % token,
            '/file/%s/good.txt?x=1/../../etc' % other,
            'https://localhost/file/../../etc/passwd',
            '*',
        ]
        for t in targets:
            raw = self.raw(('GET %s HTTP/1.1\r\nHost: localhost\r\n'
                            'Connection: close\r\n\r\n' % t).encode())
            st = self.status_of(raw)
            self.assertTrue(400 <= st < 500, '%s -> %d' % (t, st))
            self.assertNotIn(good_data, raw, t)
            self.assertNotIn(b'root:', raw, t)
            self.still_serving(good_get, good_data, xmpp=c)
        self.still_serving(good_get, good_data)
        # A connection that sends nothing, and one cut mid-body, do not
        # stop anybody else.
        idle = socket.create_connection(('127.0.0.1',
                                         self.server.http_port))
        put, _ = self.slot(c, 'cut.bin', 1000)
        u = urllib.parse.urlsplit(put)
        cut = self.ctx.wrap_socket(socket.create_connection(
            ('127.0.0.1', self.server.http_port)),
            server_hostname='localhost')
        cut.sendall(('PUT %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: '
                     'application/octet-stream\r\nContent-Length: 1000'
                     '\r\n\r\n' % u.path).encode() + b'x' * 500)
        time.sleep(0.2)
        cut.close()
        self.still_serving(good_get, good_data)
        idle.close()
        # The cut upload left nothing behind and its slot is spent.
        wait_until(lambda: not os.listdir(self.updir('incoming')), T(5))
        self.assertEqual(os.listdir(self.updir('incoming')), [])
        self.assertEqual(self.put(put, b'x' * 1000)[0], 409)

    def test_cors_preflight_and_methods(self):
        c = self.login()
        put, get = self.slot(c, 'cors.txt', 2, 'text/plain')
        st, hdrs, body = self.http('OPTIONS', put)
        self.assertEqual(st, 204)
        self.assertIn('PUT', hdrs.get('Access-Control-Allow-Methods', ''))
        self.assertEqual(hdrs.get('Access-Control-Allow-Origin'), '*')
        st, hdrs, _ = self.http('POST', put, b'hi',
                                {'Content-Type': 'text/plain'})
        self.assertEqual(st, 405)
        self.assertIn('PUT', hdrs.get('Allow', ''))
        self.assertEqual(self.put(put, b'hi', 'text/plain')[0], 201)

    def test_rss_bounded_during_ten_parallel_max_size_uploads(self):
        size = 20 * MiB     # the default [upload] max_file_size
        clients = [self.login('r%d' % i) for i in range(5)]
        slots = []
        for i in range(10):
            slots.append(self.slot(clients[i % 5], 'big%d.bin' % i, size))
        data = os.urandom(size)

        def status():
            d = {}
            with open('/proc/%d/status' % self.server.pid) as f:
                for line in f:
                    k, v = line.split(':', 1)
                    if k.startswith('Vm'):
                        d[k] = int(v.split()[0])
            return d
        before = status()
        results = [None] * 10

        def run(i):
            try:
                results[i] = self.put(slots[i][0], data, timeout=120)[0]
            except Exception as e:          # noqa: BLE001 (reported)
                results[i] = repr(e)
        ths = [threading.Thread(target=run, args=(i,)) for i in range(10)]
        t0 = time.monotonic()
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        took = time.monotonic() - t0
        after = status()
        self.assertEqual(results, [201] * 10)
        growth = (after['VmHWM'] - before['VmRSS']) / 1024.0
        sys.stdout.write('\n[rss] ten parallel %d MiB uploads in %.1f s: '
                         'RSS %.1f MiB before, peak %.1f MiB (+%.1f MiB; '
                         '%d MiB uploaded) ' % (
                             size // MiB, took, before['VmRSS'] / 1024.0,
                             after['VmHWM'] / 1024.0, growth,
                             10 * size // MiB))
        sys.stdout.flush()
        # Had the bodies been held in memory the peak would have grown by
        # 200 MiB; streaming keeps it to buffers.  (Sanitizer builds keep
        # freed memory in quarantine, so their RSS says nothing here.)
        if not SANITIZED:
            self.assertLess(growth, 64, 'RSS grew %.1f MiB' % growth)
        st, _, body = self.get(slots[3][1])
        self.assertEqual(st, 200)
        self.assertEqual(len(body), size)
        self.assertEqual(body[:4096], data[:4096])


class MalformedTest(UploadCase):
    """Requests libmicrohttpd cannot parse, and idle connections, under a
    short [http] timeout: each gets a 4xx (at the latest when the
    timeout ends it) and the server keeps serving everybody else."""
    EXTRA = {'http': {'timeout': 3}}

    def test_malformed_requests_get_4xx(self):
        c = self.login()
        good_data = b'the good file'
        st, _, _, good_get = self.upload(c, good_data, 'good.txt')
        self.assertEqual(st, 201)
        gpath = urllib.parse.urlsplit(good_get).path
        other = '%032x' % 0x1234
        malformed = [
            b'\x00\x01\x02\x03\r\n\r\n',
            b'GET\r\n\r\n',
            b'GET /file/x HTTP/9.9\r\nHost: localhost\r\n\r\n',
            b'GET /file/x HTTP/1.1\r\nno colon here\r\n\r\n',
            b'GET /file/x HTTP/1.1\r\nHost: localhost\r\nX-Big: ' +
            b'a' * 70000 + b'\r\n\r\n',
            b'DELETE ' + gpath.encode() + b' HTTP/1.1\r\nHost: localhost'
            b'\r\nConnection: close\r\n\r\n',
            b'POST /upload/' + other.encode() + b'/x HTTP/1.1\r\n'
            b'Host: localhost\r\nContent-Length: 3\r\n\r\nabc',
            b'PUT /upload/' + other.encode() + b'/x HTTP/1.1\r\n'
            b'Host: localhost\r\nTransfer-Encoding: chunked\r\n\r\n'
            b'3\r\nabc\r\n0\r\n\r\n',
            b'GET ' + gpath.encode() + b' HTTP/1.1\r\nHost: localhost\r\n'
            b'Content-Length: 5\r\nConnection: close\r\n\r\nhello',
        ]
        for m in malformed:
            raw = self.raw(m)
            st = self.status_of(raw)
            # 505 is HTTP/9.9's own answer.
            self.assertTrue(400 <= st < 500 or (st == 505 and
                                                b'HTTP/9' in m),
                            '%r -> %d' % (m[:40], st))
            self.assertNotIn(good_data, raw)
            self.still_serving(good_get, good_data, xmpp=c)

    def test_idle_connections_are_closed(self):
        # No TLS handshake at all, and a handshake then silence: both
        # closed by the server after [http] timeout.
        plain = socket.create_connection(('127.0.0.1',
                                          self.server.http_port))
        tls = self.ctx.wrap_socket(socket.create_connection(
            ('127.0.0.1', self.server.http_port)),
            server_hostname='localhost')
        t0 = time.monotonic()
        for sock in (plain, tls):
            sock.settimeout(T(15))
            try:
                self.assertEqual(sock.recv(100), b'')
            except (ConnectionResetError, ssl.SSLError):
                pass
            sock.close()
        self.assertLess(time.monotonic() - t0, T(12))
        self.still_serving()


class QuotaTest(UploadCase):
    EXTRA = {'upload': {'max_file_size': 4096, 'quota': 10000,
                        'per_hour': 5}}

    def test_quota_and_hourly_limit(self):
        a = self.login('alice')
        for i in range(2):
            st, body, _, _ = self.upload(a, os.urandom(4096))
            self.assertEqual(st, 201, body)
        # 8192 of 10000 bytes used: 4096 more would pass the quota.
        el = self.ask(a, 'third.bin', 4096)
        cond, etype, text = stanza_error(el)
        self.assertEqual((cond, etype), ('resource-constraint', 'wait'),
                         s(el))
        self.assertIn('quota', text)
        # Smaller still fits; bob has his own quota.
        el = self.ask(a, 'small.bin', 1000)
        self.assertEqual(el.get('type'), 'result', s(el))
        b = self.login('bob')
        st, body, _, _ = self.upload(b, os.urandom(4096))
        self.assertEqual(st, 201, body)
        # Slots per hour: alice has 3 (a refused request is no slot);
        # 2 more reach the 5 allowed, the next one waits.
        for name in ('one.bin', 'two.bin'):
            el = self.ask(a, name, 10)
            self.assertEqual(el.get('type'), 'result', s(el))
        el = self.ask(a, 'three.bin', 10)
        cond, etype, text = stanza_error(el)
        self.assertEqual((cond, etype), ('resource-constraint', 'wait'),
                         s(el))
        self.assertIn('an hour', text)
        err = el.find(q(harness.NS_CLIENT, 'error'))
        retry = err.find(q(NS_UP, 'retry'))
        self.assertIsNotNone(retry, s(el))
        self.assertRegex(retry.get('stamp'),
                         r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')


class ExpiryTest(UploadCase):
    # Test-only: files expire after 2 seconds, slots after 2.
    EXTRA = {'upload': {'expire_seconds': 2, 'slot_lifetime': 2}}

    def test_expired_files_and_slots_are_gone(self):
        c = self.login()
        st, body, _, get = self.upload(c, b'short-lived')
        self.assertEqual(st, 201, body)
        self.assertEqual(self.get(get)[2], b'short-lived')
        self.assertTrue(os.listdir(self.updir('files')))
        self.assertTrue(wait_until(lambda: self.get(get)[0] == 404, T(10)),
                        'still served after expiry')
        # The periodic job removed the file itself.
        self.assertTrue(wait_until(
            lambda: not os.listdir(self.updir('files')), T(10)),
            os.listdir(self.updir('files')))
        self.assertIn('expired', self.server.log())
        # An unused slot dies as well.
        put, _ = self.slot(c, 'late.bin', 4)
        time.sleep(2.5)
        st, _, body = self.put(put, b'late')
        self.assertIn(st, (404, 410), body)


class ScannerDownTest(UploadCase):
    """clamd stops: uploads fail closed with a clear error."""

    def test_fails_closed_then_recovers(self):
        c = self.login()
        self.clamd.stop()
        before = len(self.events())
        st, body, put, get = self.upload(c, b'harmless text')
        self.assertEqual(st, 503, body)
        self.assertIn(b'could not be scanned', body)
        self.assertEqual(self.get(get)[0], 404)
        self.assertEqual(os.listdir(self.updir('files')), [])
        self.assertEqual(os.listdir(self.updir('incoming')), [])
        ev = self.events()
        self.assertEqual(len(ev), before + 1)
        self.assertEqual(ev[-1][1], 'scan-failed')
        self.assertIn('clamd', ev[-1][2])
        self.assertIn('could not be scanned', self.server.log())
        self.still_serving()
        # Back on: uploads work again without restarting parleyd.
        self.clamd.start()
        st, body, _, get = self.upload(c, b'harmless text')
        self.assertEqual(st, 201, body)
        self.assertEqual(self.get(get)[2], b'harmless text')


class FailOpenTest(UploadCase):
    SCAN = False
    EXTRA = {'scan': {'clamd_socket': '/nonexistent/clamd.sock',
                      'fail_open': 'on'}}

    def test_fail_open_serves_unscanned_and_says_so(self):
        c = self.login()
        st, body, _, get = self.upload(c, b'unscanned bytes')
        self.assertEqual(st, 201, body)
        self.assertEqual(self.get(get)[2], b'unscanned bytes')
        self.assertEqual(self.events()[-1][1], 'unscanned')
        self.assertIn('NOT scanned', self.server.log())
        r = self.server.ctl('check')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('[scan] fail_open = on', r.stdout)


class ScanOffTest(UploadCase):
    SCAN = False
    EXTRA = {'scan': {'enabled': 'off'}}

    def test_uploads_work_and_check_flags_it(self):
        c = self.login()
        st, body, _, get = self.upload(c, EICAR)
        # Nobody scans: the test file is served (this is why it is
        # flagged).
        self.assertEqual(st, 201, body)
        self.assertEqual(self.get(get)[2], EICAR)
        self.assertIn('without a virus scan', self.server.log())
        r = self.server.ctl('check')
        self.assertEqual(r.returncode, 6, r.stdout + r.stderr)
        self.assertIn('risky: [scan] enabled = off', r.stdout)


class NoHttpTest(ServerTestCase):
    CONFIG = {'http': {'listen': ''}}
    USERS = {'carol': 'carol-pw-1'}

    def test_no_listener_no_upload_feature(self):
        c = RawClient(self.server)
        c.login('carol', 'carol-pw-1')
        el = c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to='localhost')
        self.assertNotIn(NS_UP, s(el))
        el = c.iq("<request xmlns='%s' filename='a' size='1'/>" % NS_UP,
                  to='localhost')
        self.assertEqual(stanza_error(el)[0], 'service-unavailable', s(el))
        # With an account, check also wants a backup (issue 8); with one,
        # nothing about scanning is flagged when there are no uploads.
        r = self.server.ctl('backup', os.path.join(self.server.dir,
                                                   'backup.db'))
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.server.ctl('check')
        self.assertEqual(r.returncode, 0, r.stdout)


if __name__ == '__main__':
    unittest.main()
