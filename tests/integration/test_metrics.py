"""The admin's view of traffic: the OpenMetrics page at /metrics on the
HTTPS listener (http/metrics.c, admin/metrics.c) and `parleyctl top`, the
top talkers from per-account counts flushed to the database
(admin/traffic.c, store/traffic.c).

Every page is checked with prometheus_client's strict OpenMetrics parser
(Debian's python3-prometheus-client); counters must move by exactly what
a known workload did, and the page must name no account, JID or address.
"""

import http.client
import json
import shutil
import ssl
import subprocess
import time
import unittest
import urllib.parse
import uuid

import harness
from harness import (ServerTestCase, RawClient, T, q, stanza_error,
                     wait_until, NS_CLIENT, NS_SASL, PARLEYD)

try:
    from prometheus_client.openmetrics.parser import \
        text_string_to_metric_families
except ImportError:      # tools/deps.sh installs it
    text_string_to_metric_families = None

CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8'
NS_UP = 'urn:xmpp:http:upload:0'
TOKEN = 'Tk-' + uuid.uuid4().hex


def uid():
    return uuid.uuid4().hex[:8]


class MetricsCase(ServerTestCase):
    """A server with a fast traffic flush; helpers to read its pages."""

    METRICS = {}
    USERS = {}
    ctx = None

    @classmethod
    def setUpClass(cls):
        if text_string_to_metric_families is None:
            raise unittest.SkipTest('python3-prometheus-client missing '
                                    '(tools/deps.sh)')
        config = {'metrics': dict({'flush_interval': 1}, **cls.METRICS),
                  'scan': {'enabled': 'off'}}
        for sec, kv in getattr(cls, 'EXTRA', {}).items():
            config.setdefault(sec, {}).update(kv)
        cls.CONFIG = config
        super().setUpClass()
        cls.ctx = ssl.create_default_context(cafile=cls.server.cert)

    def http(self, method, path, headers=None):
        c = http.client.HTTPSConnection('localhost', self.server.http_port,
                                        context=self.ctx, timeout=T(10))
        try:
            c.request(method, path, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def scrape(self, headers=None):
        """The page, checked by the strict parser: {sample: value} with
        samples named like 'name{label="v"}'."""
        st, hdrs, body = self.http('GET', '/metrics', headers)
        self.assertEqual(st, 200, body)
        self.assertEqual(hdrs.get('Content-Type'), CONTENT_TYPE)
        text = body.decode('utf-8')
        self.assertTrue(text.endswith('# EOF\n'), text[-200:])
        out = {}
        for fam in text_string_to_metric_families(text):
            for s in fam.samples:
                labels = ','.join('%s="%s"' % kv for kv in
                                  sorted(s.labels.items()))
                out[s.name + ('{%s}' % labels if labels else '')] = s.value
        self.last_text = text
        return out

    def login(self, user):
        c = RawClient(self.server)
        c.login(user, self.USERS[user])
        return c

    def ping(self, c):
        el = c.iq("<ping xmlns='urn:xmpp:ping'/>", to='localhost')
        self.assertEqual(el.get('type'), 'result')

    def top(self, *args):
        return self.server.ctl('top', *args)

    def top_json(self, *args):
        r = self.top('--json', *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)


class MetricsPageTest(MetricsCase):
    USERS = {'amy': 'amy-pw-123', 'ben': 'ben-pw-456',
             'flood': 'flood-pw-789'}
    # A small message budget, so that a rate-limit hit is cheap to make.
    EXTRA = {'limits': {'message_burst': 10, 'message_rate': 1}}

    def test_page_is_strict_openmetrics_with_every_family(self):
        m = self.scrape()
        fams = {f.name: f for f in
                text_string_to_metric_families(self.last_text)}
        want = {
            'parley_sessions': 'gauge',
            'parley_connections': 'counter',
            'parley_logins': 'counter',
            'parley_auth_failures': 'counter',
            'parley_stanzas_received': 'counter',
            'parley_stanzas_sent': 'counter',
            'parley_received_bytes': 'counter',
            'parley_sent_bytes': 'counter',
            'parley_rate_limited': 'counter',
            'parley_uploads': 'counter',
            'parley_upload_bytes': 'counter',
            'parley_output_queue_bytes': 'gauge',
            'parley_offline_messages': 'gauge',
            'parley_held_messages': 'gauge',
            'parley_uploads_scanning': 'gauge',
            'parley_traffic_pending_accounts': 'gauge',
            'parley_stanza_handling_seconds': 'histogram',
            'parley_store_write_seconds': 'histogram',
            'parley_login_seconds': 'histogram',
        }
        for name, typ in want.items():
            self.assertIn(name, fams, self.last_text)
            self.assertEqual(fams[name].type, typ, name)
            self.assertTrue(fams[name].documentation, name)
        self.assertEqual(fams['parley_sent_bytes'].unit, 'bytes')
        self.assertEqual(fams['parley_login_seconds'].unit, 'seconds')
        for kind in ('message', 'presence', 'iq'):
            self.assertIn('parley_stanzas_received_total{kind="%s"}' % kind,
                          m)
        for lim in ('messages', 'presence', 'iq', 'bytes', 'recipients',
                    'connections'):
            self.assertIn('parley_rate_limited_total{limit="%s"}' % lim, m)
        self.assertIn('parley_stanza_handling_seconds_bucket{le="+Inf"}', m)
        # HEAD answers the same headers, no body.
        st, hdrs, body = self.http('HEAD', '/metrics')
        self.assertEqual((st, body), (200, b''))
        self.assertEqual(hdrs.get('Content-Type'), CONTENT_TYPE)
        # Browsers elsewhere may not read it; other paths are not it.
        st, hdrs, _ = self.http('GET', '/metrics')
        self.assertNotIn('Access-Control-Allow-Origin', hdrs)
        self.assertEqual(self.http('GET', '/metricsx')[0], 404)
        self.assertEqual(self.http('GET', '/metrics/x')[0], 404)

    def test_counters_follow_a_known_workload(self):
        amy, ben = self.login('amy'), self.login('ben')
        self.ping(amy)
        self.ping(ben)
        # Sessions: both logged in (earlier tests' clients may still be
        # closing).
        self.assertTrue(wait_until(lambda: self.scrape().get(
            'parley_sessions{state="authenticated"}') == 2, T(5)),
            self.last_text)
        before = self.scrape()
        n = 7
        stanzas = ''.join("<message to='%s' type='chat' id='m%d'><body>"
                          "hello %d</body></message>" % (ben.jid, i, i)
                          for i in range(n))
        amy.send(stanzas)
        for i in range(n):
            ben.next_message(lambda e, i=i: e.get('id') == 'm%d' % i)
        self.ping(amy)
        after = self.scrape()

        def delta(name):
            return after.get(name, 0) - before.get(name, 0)

        self.assertEqual(delta('parley_stanzas_received_total'
                               '{kind="message"}'), n)
        self.assertEqual(delta('parley_stanzas_sent_total'
                               '{kind="message"}'), n)
        # The ping after the messages, and its answer.
        self.assertEqual(delta('parley_stanzas_received_total{kind="iq"}'),
                         1)
        self.assertEqual(delta('parley_stanzas_sent_total{kind="iq"}'), 1)
        self.assertEqual(delta('parley_stanzas_received_total'
                               '{kind="presence"}'), 0)
        self.assertGreaterEqual(delta('parley_received_bytes_total'),
                                len(stanzas))
        self.assertGreaterEqual(delta('parley_sent_bytes_total'),
                                len(stanzas))
        # One stanza in 8 is timed (admin/metrics.h METRICS_TIME_EVERY).
        self.assertIn(delta('parley_stanza_handling_seconds_count'),
                      ((n + 1) // 8, (n + 1 + 7) // 8))
        self.assertEqual(delta('parley_auth_failures_total'), 0)

        # A wrong password: one auth failure, no login.
        c = RawClient(self.server)
        c.open()
        c.starttls()
        el = c.auth_scram('amy', 'not-the-password')
        self.assertEqual(el.tag, q(NS_SASL, 'failure'))
        c.close()
        again = self.scrape()
        self.assertEqual(again['parley_auth_failures_total'] -
                         after['parley_auth_failures_total'], 1)
        self.assertEqual(again['parley_logins_total'],
                         after['parley_logins_total'])
        # A login is observed by the login histogram.
        d = self.login('amy')
        self.ping(d)
        last = self.scrape()
        self.assertEqual(last['parley_logins_total'] -
                         again['parley_logins_total'], 1)
        self.assertEqual(last['parley_login_seconds_count'] -
                         again['parley_login_seconds_count'], 1)
        self.assertEqual(last['parley_connections_total'] -
                         after['parley_connections_total'], 2)
        self.assertGreater(last['parley_store_write_seconds_count'], 0)
        # A message for an account that is offline is stored: the queue
        # gauge moves (and the store write is timed).
        amy.message('flood@localhost', 'for later')
        self.ping(amy)
        stored = self.scrape()
        self.assertEqual(stored['parley_offline_messages'] -
                         last['parley_offline_messages'], 1)
        self.assertGreater(stored['parley_store_write_seconds_count'],
                           last['parley_store_write_seconds_count'])

    def test_rate_limit_hits_are_counted_by_limit(self):
        flood, ben = self.login('flood'), self.login('ben')
        before = self.scrape()
        ids = ['r%s-%d' % (uid(), i) for i in range(16)]
        flood.send(''.join("<message to='%s' type='chat' id='%s'><body>x"
                           "</body></message>" % (ben.jid, i) for i in ids))
        # Each one is refused (an error back) or delivered; the burst is
        # 10, so some are refused.
        refused, delivered = set(), set()
        end = time.monotonic() + T(20)
        while len(refused) + len(delivered) < len(ids) and \
                time.monotonic() < end:
            for c, got, err in ((flood, refused, True),
                                (ben, delivered, False)):
                keep = []
                for e in c.elements:
                    if e.get('id') in ids and \
                            (e.get('type') == 'error') == err:
                        got.add(e.get('id'))
                    else:
                        keep.append(e)
                c.elements[:] = keep
                c.fill(0.05)
        self.assertEqual(len(refused) + len(delivered), len(ids))
        self.assertGreater(len(refused), 0)
        after = self.scrape()
        key = 'parley_rate_limited_total{limit="messages"}'
        self.assertEqual(after[key] - before[key], len(refused))
        # Refused or not, every one was received.
        self.assertEqual(after['parley_stanzas_received_total'
                               '{kind="message"}'] -
                         before['parley_stanzas_received_total'
                                '{kind="message"}'], len(ids))

    def test_no_account_jid_or_address_on_the_page(self):
        amy = self.login('amy')
        amy.message(amy.jid, 'secret body text')
        self.ping(amy)
        self.scrape()
        text = self.last_text
        for bad in ('amy', 'ben', 'flood', '@', '127.0.0.1', 'localhost',
                    'secret'):
            self.assertNotIn(bad, text)

    def test_wrong_token_does_not_close_the_loopback_door(self):
        # access = loopback without a token: a loopback client gets in
        # with or without an Authorization header.
        self.scrape({'Authorization': 'Bearer nope'})


class MetricsTokenTest(MetricsCase):
    """access = token: the token is needed even from loopback."""

    METRICS = {'access': 'token', 'token': TOKEN}

    def test_token_required_from_everyone(self):
        st, hdrs, body = self.http('GET', '/metrics')
        self.assertEqual(st, 401, body)
        self.assertTrue(hdrs.get('WWW-Authenticate', '')
                        .startswith('Bearer'), hdrs)
        self.assertNotIn(b'parley_', body)
        for wrong in ('Bearer ' + TOKEN[:-1], 'Bearer ' + TOKEN + 'x',
                      'Basic ' + TOKEN, TOKEN, 'Bearer'):
            st, _, body = self.http('GET', '/metrics',
                                    {'Authorization': wrong})
            self.assertEqual(st, 401, wrong)
            self.assertNotIn(b'parley_', body)
        m = self.scrape({'Authorization': 'Bearer ' + TOKEN})
        self.assertIn('parley_connections_total', m)
        m = self.scrape({'Authorization': 'bearer ' + TOKEN})
        self.assertIn('parley_connections_total', m)
        # The token never reaches the log.
        self.assertIn('/metrics refused', self.server.log())
        self.assertNotIn(TOKEN, self.server.log())


class MetricsConfigTest(unittest.TestCase):
    """Settings parleyd refuses, and the page turned off."""

    def run_parleyd(self, metrics):
        srv = harness.Server({'metrics': metrics}, start=False,
                             name='MetricsConfig')
        try:
            r = subprocess.run([PARLEYD, '-c', srv.conf_path],
                               capture_output=True, text=True,
                               timeout=T(10), stdin=subprocess.DEVNULL)
            return r
        finally:
            srv.stopped = True
            shutil.rmtree(srv.dir, ignore_errors=True)

    def test_token_access_needs_a_good_token(self):
        for metrics, word in (({'access': 'token'}, 'needs one'),
                              ({'token': 'short'}, 'at least 16'),
                              ({'token': 'has a space in it 0123'},
                               'at least 16'),
                              ({'access': 'anyone'}, 'loopback or token'),
                              ({'flush_interval': 0}, 'flush_interval')):
            r = self.run_parleyd(metrics)
            self.assertNotEqual(r.returncode, 0, metrics)
            self.assertIn(word, r.stderr + r.stdout, metrics)


class MetricsOffTest(MetricsCase):
    METRICS = {'enabled': 'off'}

    def test_no_page_when_off(self):
        st, _, _ = self.http('GET', '/metrics')
        self.assertEqual(st, 404)


class TopTest(MetricsCase):
    """Three users send 30, 20 and 10 messages, the last ones large; one
    uploads a file.  `top` ranks them by each measure."""

    USERS = {'u1': 'u1-pw-aaaa', 'u2': 'u2-pw-bbbb', 'u3': 'u3-pw-cccc',
             'sink': 'sink-pw-dddd'}

    def upload(self, c, data):
        el = c.iq("<request xmlns='%s' filename='f.bin' size='%d' "
                  "content-type='application/octet-stream'/>"
                  % (NS_UP, len(data)), to='localhost')
        self.assertEqual(el.get('type'), 'result')
        put = el.find(q(NS_UP, 'slot')).find(q(NS_UP, 'put')).get('url')
        u = urllib.parse.urlsplit(put)
        conn = http.client.HTTPSConnection('localhost', u.port,
                                           context=self.ctx, timeout=T(30))
        try:
            conn.request('PUT', u.path, body=data,
                         headers={'Content-Type':
                                  'application/octet-stream'})
            r = conn.getresponse()
            self.assertEqual(r.status, 201, r.read())
        finally:
            conn.close()

    def test_top_ranks_a_generated_workload(self):
        sink = self.login('sink')
        senders = {u: self.login(u) for u in ('u1', 'u2', 'u3')}
        plan = {'u1': (30, 10), 'u2': (20, 10), 'u3': (10, 4000)}
        for u, (n, size) in plan.items():
            c = senders[u]
            c.send(''.join("<message to='%s' type='chat' id='%s-%d'><body>"
                           "%s</body></message>" % (sink.jid, u, i,
                                                    'x' * size)
                           for i in range(n)))
            self.ping(c)
        self.upload(senders['u2'], b'file contents ' * 100)
        sink.close()

        def ranked():
            rows = self.top_json('--window', '1h')
            return [(r['account'], r['messages']) for r in rows]

        want = [('u1@localhost', 30), ('u2@localhost', 20),
                ('u3@localhost', 10)]
        got = wait_until(lambda: ranked() == want and ranked(), T(10),
                         interval=0.2)
        self.assertEqual(ranked(), want)
        rows = self.top_json()
        self.assertEqual([r['rank'] for r in rows], [1, 2, 3])
        # Bytes: u3's 10 large messages outweigh the others.
        rows = self.top_json('--by', 'bytes')
        self.assertEqual(rows[0]['account'], 'u3@localhost')
        self.assertGreater(rows[0]['bytes'], 10 * 4000)
        self.assertEqual([r['account'] for r in rows[1:3]],
                         ['u1@localhost', 'u2@localhost'])
        # Files: only u2 uploaded.
        rows = self.top_json('--by', 'files', '--window', '7d')
        self.assertEqual([(r['account'], r['files'], r['file_bytes'])
                          for r in rows], [('u2@localhost', 1, 1400)])
        # --limit, and the plain table.
        rows = self.top_json('--limit', '2')
        self.assertEqual([r['account'] for r in rows],
                         ['u1@localhost', 'u2@localhost'])
        r = self.top('--by', 'messages', '--window', '24h', '--limit', '3')
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertTrue(lines[0].startswith('RANK'), r.stdout)
        self.assertEqual([ln.split()[1] for ln in lines[1:]],
                         ['u1@localhost', 'u2@localhost', 'u3@localhost'])
        self.assertEqual([ln.split()[2] for ln in lines[1:]],
                         ['30', '20', '10'])
        # The sink sent nothing but a ping: not a talker by messages.
        self.assertNotIn('sink@localhost', r.stdout)

    def test_bad_arguments(self):
        for args in (('--by', 'likes'), ('--window', '2h'),
                     ('--limit', '0'), ('--limit', 'ten'),
                     ('--limit', '1001'), ('--by',), ('--frobnicate',)):
            r = self.top(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(r.stdout, '', args)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1,
                             r.stderr)


class TopShutdownTest(MetricsCase):
    """Counts are flushed at shutdown, not lost with the process."""

    METRICS = {'flush_interval': 3600}
    USERS = {'quick': 'quick-pw-1234', 'sink': 'sink-pw-5678'}

    def test_counts_survive_a_stop(self):
        sink, quick = self.login('sink'), self.login('quick')
        quick.send(''.join("<message to='%s' type='chat' id='s%d'><body>"
                           "hi</body></message>" % (sink.jid, i)
                           for i in range(5)))
        self.ping(quick)
        # Not flushed yet: the interval is an hour.
        self.assertEqual(self.top_json(), [])
        m = self.scrape()
        self.assertEqual(m['parley_traffic_pending_accounts'], 1)
        quick.close()
        sink.close()
        self.server.sigterm()
        self.assertEqual(self.server.wait_exit(), 0)
        rows = self.top_json()
        self.assertEqual([(r['account'], r['messages']) for r in rows],
                         [('quick@localhost', 5)])


if __name__ == '__main__':
    unittest.main()
