"""Password guessing against a real parleyd while legitimate users log in.

The engine behind tests/integration/test_guessing.py (a few hundred
guesses) and tests/soak/guess.py (`make soak-guess`, 10,000).  Loopback
only (the server and every source address are in 127.0.0.0/8); every run
is bounded by a count of attempts and a time limit, and stops by itself.

Guessers are asyncio tasks, each a connection from one of the given source
addresses that does SCRAM exchanges with a random proof (the server cannot
tell that from a wrong password, and the guesser needs no PBKDF2), as many
as the server lets one connection make, then reconnects.  Legitimate
logins run in a separate process (so that the guessers' event loop does
not colour their timings): each probe logs in for real (STARTTLS, SCRAM,
bind) from its own source address, over and over, and its time from TCP
connect to the bind result is recorded.
"""

import asyncio
import base64
import json
import os
import select
import socket
import ssl
import statistics
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
NS_STREAM = 'http://etherx.jabber.org/streams'
NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls'
NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl'


def _q(ns, name):
    return '{%s}%s' % (ns, name)


def _loopback(addr):
    if not addr.startswith('127.'):
        raise ValueError('loopback source addresses only: %r' % addr)
    return addr


class Refused(Exception):
    """A stream error (the reason is the text)."""


class _Conn:
    """A minimal asyncio XMPP client: STARTTLS and SCRAM-SHA-256."""

    def __init__(self, reader, writer, timeout):
        self.reader, self.writer, self.timeout = reader, writer, timeout
        self.tls = False
        self._new_parser()

    def _new_parser(self):
        self.parser = ET.XMLPullParser(events=('start', 'end'))
        self.depth = 0
        self.root = None
        self.queue = []
        self.ended = False

    async def _next(self):
        while not self.queue:
            if self.ended:
                raise ConnectionError('stream closed by the server')
            data = await asyncio.wait_for(self.reader.read(65536),
                                          self.timeout)
            if not data:
                raise ConnectionError('closed by the server')
            self.parser.feed(data)
            for ev, el in self.parser.read_events():
                if ev == 'start':
                    if self.depth == 0:
                        self.root = el
                    self.depth += 1
                    continue
                self.depth -= 1
                if self.depth == 1:
                    self.root.remove(el)
                    self.queue.append(el)
                elif self.depth == 0:
                    # What came before </stream:stream> (a stream error)
                    # is still read.
                    self.ended = True
        el = self.queue.pop(0)
        if el.tag == _q(NS_STREAM, 'error'):
            text = [c.text for c in el if c.tag.endswith('}text')]
            raise Refused(text[0] if text else 'stream error')
        return el

    def send(self, s):
        self.writer.write(s.encode())

    async def open(self):
        self._new_parser()
        self.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client'"
                  " xmlns:stream='%s' to='localhost' version='1.0'>"
                  % NS_STREAM)
        el = await self._next()
        assert el.tag == _q(NS_STREAM, 'features'), el.tag

    async def starttls(self):
        self.send("<starttls xmlns='%s'/>" % NS_TLS)
        el = await self._next()
        assert el.tag == _q(NS_TLS, 'proceed'), el.tag
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        await self.writer.start_tls(ctx, server_hostname='localhost')
        self.tls = True
        await self.open()

    async def guess(self, user):
        """One SCRAM-SHA-256 exchange with a random proof; returns the
        local name of the server's last answer ('failure', ...)."""
        b64 = lambda b: base64.b64encode(b).decode()
        cnonce = b64(os.urandom(18))
        first = 'n=%s,r=%s' % (user, cnonce)
        self.send("<auth xmlns='%s' mechanism='SCRAM-SHA-256'>%s</auth>"
                  % (NS_SASL, b64(('n,,' + first).encode())))
        el = await self._next()
        if el.tag != _q(NS_SASL, 'challenge'):
            return el.tag.split('}')[1]
        sfirst = base64.b64decode(el.text or '').decode()
        nonce = dict(kv.split('=', 1) for kv in sfirst.split(','))['r']
        self.send("<response xmlns='%s'>%s</response>" % (NS_SASL, b64(
            ('c=biws,r=%s,p=%s' % (nonce, b64(os.urandom(32)))).encode())))
        el = await self._next()
        return el.tag.split('}')[1]

    def close(self):
        try:
            self.writer.close()
        except Exception:
            pass


class _Run:
    def __init__(self, port, attempts, time_limit):
        self.port = port
        self.attempts = attempts
        self.deadline = time.monotonic() + time_limit
        self.sent = 0           # SCRAM exchanges started
        self.answered = 0       # <failure/> received
        self.answer_s = []      # time from the proof to the <failure/>
        self.refused = 0        # connections refused by the per-address limits
        self.ended = 0          # connections the server ended (auth_timeout,
                                # 5 failures): their last guess unanswered
        self.other = {}

    def done(self):
        return self.sent >= self.attempts or \
            time.monotonic() >= self.deadline


async def _guesser(run, src, targets, idx):
    while not run.done():
        c = None
        try:
            reader, writer = await asyncio.open_connection(
                '127.0.0.1', run.port, local_addr=(src, 0))
            c = _Conn(reader, writer, timeout=60)
            await c.open()
            await c.starttls()
            while not run.done():
                user = targets[run.sent % len(targets)]
                run.sent += 1
                t0 = time.monotonic()
                r = await c.guess(user)
                if r == 'failure':
                    run.answered += 1
                    run.answer_s.append(time.monotonic() - t0)
                else:
                    run.other[r] = run.other.get(r, 0) + 1
        except Refused as e:
            if c is not None and c.tls:
                run.ended += 1
            else:
                run.refused += 1
                await asyncio.sleep(0.05)
        except (ConnectionError, OSError, asyncio.TimeoutError,
                AssertionError, ssl.SSLError) as e:
            key = type(e).__name__
            run.other[key] = run.other.get(key, 0) + 1
            await asyncio.sleep(0.05)
        finally:
            if c is not None:
                c.close()


async def _guess_all(run, sources, targets, grace):
    tasks = [asyncio.ensure_future(_guesser(run, src, targets, i))
             for i, (src, n) in enumerate(sources) for _ in range(n)]
    while not run.done():
        await asyncio.sleep(0.1)
    # Answers still in flight get the back-off's time to arrive.
    _, pending = await asyncio.wait(tasks, timeout=grace)
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


def _pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def run_guessing(port, attempts, targets, sources, probes, time_limit,
                 grace=10.0, probe_interval=0.25):
    """Guesses `attempts` times (cycling over `targets`) from `sources`
    [(address, connections)], while `probes` [(name, user, password,
    address)] log in for real; stops after time_limit seconds at most.
    Returns a dict of figures (see report())."""
    for src, _ in sources:
        _loopback(src)
    for p in probes:
        _loopback(p[3])
    prober = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), 'probe', str(port),
         json.dumps({'probes': probes, 'interval': probe_interval})],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    run = _Run(port, attempts, time_limit)
    t0 = time.monotonic()
    try:
        asyncio.run(_guess_all(run, sources, targets, grace))
    finally:
        elapsed = time.monotonic() - t0
        # Closing its stdin stops the prober after its current round
        # (each login has a 15 s limit).
        prober.stdin.close()
        out = prober.stdout.read()
        prober.stdout.close()
        prober.wait(timeout=60)
    probes_out = json.loads(out) if out.strip() else {}
    return {
        'attempts': run.sent, 'answered': run.answered,
        'refused_connections': run.refused, 'ended_by_server': run.ended,
        'other': run.other, 'elapsed_s': elapsed,
        'answer_p50_s': _pct(run.answer_s, 50),
        'answer_p99_s': _pct(run.answer_s, 99),
        'probes': probes_out,
    }


def probe_stats(r):
    """{name: {n, ok, failed, p50, p99, max, reasons}} from run_guessing."""
    out = {}
    for name, rows in r['probes'].items():
        ok = [dt for good, dt, _ in rows if good]
        bad = [why for good, _, why in rows if not good]
        reasons = {}
        for why in bad:
            reasons[why] = reasons.get(why, 0) + 1
        out[name] = {'n': len(rows), 'ok': len(ok), 'failed': len(bad),
                     'p50': _pct(ok, 50), 'p99': _pct(ok, 99),
                     'max': max(ok) if ok else None, 'reasons': reasons}
    return out


def report(title, r, out=sys.stdout):
    ms = lambda v: '-' if v is None else '%.0f ms' % (v * 1000)
    out.write('%s: %d wrong attempts sent, %d answered in %.1f s (answer '
              'delay p50 %s, p99 %s); %d connections refused by the '
              'per-address limits, %d ended by the server (auth_timeout or '
              '5 failures)%s\n'
              % (title, r['attempts'], r['answered'], r['elapsed_s'],
                 ms(r['answer_p50_s']), ms(r['answer_p99_s']),
                 r['refused_connections'], r['ended_by_server'],
                 ('; other: %s' % r['other']) if r['other'] else ''))
    for name, st in sorted(probe_stats(r).items()):
        out.write('  legitimate %-10s %4d logins, %4d ok, %4d failed; '
                  'login time p50 %s, p99 %s, max %s%s\n'
                  % (name, st['n'], st['ok'], st['failed'], ms(st['p50']),
                     ms(st['p99']), ms(st['max']),
                     ('; failures: %s' % st['reasons'])
                     if st['reasons'] else ''))
    out.flush()


# --------------------------------------------------------------------------
# The probe process: real logins, timed, until stdin is closed.

def _probe_login(port, user, password, src):
    import harness
    r = harness.RawClient(port=port, connect=False, timeout=15)
    t0 = time.monotonic()
    try:
        r.sock = socket.create_connection(('127.0.0.1', port), 15,
                                          source_address=(src, 0))
        r.sock.settimeout(15)
        r.login(user, password, 'probe-' + uuid.uuid4().hex[:8])
        return True, time.monotonic() - t0, ''
    except Exception as e:
        why = str(e)
        for known in ('too many unauthenticated connections',
                      'too many new connections', 'not-authorized',
                      'timed out', 'connection closed'):
            if known in why:
                why = known
                break
        return False, time.monotonic() - t0, why[:80]
    finally:
        r.close()


def _probe_main(port, spec):
    sys.path.insert(0, HERE)
    spec = json.loads(spec)
    rows = {p[0]: [] for p in spec['probes']}
    while True:
        for name, user, password, src in spec['probes']:
            rows[name].append(_probe_login(port, user, password, src))
        # Wait for the interval, or stop when the parent closes stdin.
        r, _, _ = select.select([sys.stdin], [], [], spec['interval'])
        if r and not sys.stdin.read(1):
            break
    sys.stdout.write(json.dumps(rows))
    sys.stdout.flush()


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == 'probe':
        _probe_main(int(sys.argv[2]), sys.argv[3])
    else:
        sys.stderr.write('usage: guessing.py probe PORT SPEC\n')
        sys.exit(2)
