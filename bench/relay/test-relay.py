#!/usr/bin/python3
"""bench/relay/test-relay.py - checks parley-relay end to end.

Starts bench/relay/parley-relay on free loopback ports (unbatched, then
--batch), logs two users in the way parley-bench does (STARTTLS or direct
TLS, PLAIN, bind), sends messages both ways and checks each arrives at the
other connection byte for byte; checks a non-loopback --listen is refused.
Prints 'N passed, N failed'; exits non-zero on any failure; bounded (each
socket operation times out after 5 s, the relay is started with
--lifetime 60).

    /usr/bin/python3 bench/relay/test-relay.py [--cert C --key K]
"""
import argparse
import base64
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RELAY = os.path.join(HERE, "parley-relay")


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Client:
    def __init__(self, port, user, direct, ctx):
        self.buf = b""
        raw = socket.create_connection(("127.0.0.1", port), 5)
        raw.settimeout(5)
        if direct:
            self.s = ctx.wrap_socket(raw, server_hostname="localhost")
        else:
            self.s = raw
            self.header()
            self.until(b"</stream:features>")
            self.send(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            self.until(b"<proceed")
            self.buf = b""
            self.s = ctx.wrap_socket(raw, server_hostname="localhost")
        self.header()
        f = self.until(b"</stream:features>")
        assert b"<mechanism>PLAIN</mechanism>" in f, f
        cred = base64.b64encode(b"\0" + user.encode() + b"\0pw").decode()
        self.send(("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                   "mechanism='PLAIN'>%s</auth>" % cred).encode())
        self.until(b"<success")
        self.buf = b""
        self.header()
        f = self.until(b"</stream:features>")
        assert b"<bind" in f, f
        self.send(b"<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:"
                  b"xml:ns:xmpp-bind'><resource>t1</resource></bind></iq>")
        r = self.until(b"</iq>")
        m = re.search(rb"<jid>([^<]*)</jid>", r)
        assert m and m.group(1) == ("%s@localhost/t1" % user).encode(), r
        self.jid = m.group(1).decode()
        self.buf = b""

    def header(self):
        self.send(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                  b"xmlns:stream='http://etherx.jabber.org/streams' "
                  b"to='localhost' version='1.0'>")

    def send(self, b):
        self.s.sendall(b)

    def until(self, marker):
        deadline = time.monotonic() + 5
        while marker not in self.buf:
            if time.monotonic() > deadline:
                raise TimeoutError("waiting for %r, have %r" % (marker, self.buf))
            d = self.s.recv(65536)
            if not d:
                raise EOFError("closed while waiting for %r" % marker)
            self.buf += d
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_exact(self, n):
        deadline = time.monotonic() + 5
        while len(self.buf) < n:
            if time.monotonic() > deadline:
                raise TimeoutError("have %d of %d bytes" % (len(self.buf), n))
            d = self.s.recv(65536)
            if not d:
                raise EOFError("closed")
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def close(self):
        try:
            self.send(b"</stream:stream>")
            self.until(b"</stream:stream>")
        finally:
            self.s.close()


def msg(to, i, pad=60):
    return ("<message type='chat' to='%s' id='m%d'><body>t=%020d s=%010d %s"
            "</body></message>" % (to, i, time.monotonic_ns(), i, "x" * pad)).encode()


def run_case(cert, key, batch, results):
    port, tport = free_ports(2)
    args = [RELAY, "--cert", cert, "--key", key, "--listen",
            "127.0.0.1:%d" % port, "--tls-listen", "127.0.0.1:%d" % tport,
            "--lifetime", "60"]
    if batch:
        args.append("--batch")
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    name = "batch" if batch else "unbatched"
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.1)
        ctx = ssl.create_default_context(cafile=cert)
        a = Client(port, "bench0", False, ctx)
        b = Client(tport, "bench1", True, ctx)

        def check(label, cond):
            results.append((name + ": " + label, bool(cond)))

        # one message each way, to the full and the bare JID
        m1 = msg(b.jid, 1)
        a.send(m1)
        check("a->b full JID arrives unchanged", b.read_exact(len(m1)) == m1)
        m2 = msg("bench0@localhost", 2)
        b.send(m2)
        check("b->a bare JID arrives unchanged", a.read_exact(len(m2)) == m2)
        # a burst split across TLS records and mid-tag boundaries
        burst = b"".join(msg("bench1@localhost", i, pad=i % 300) for i in range(200))
        for k in range(0, len(burst), 777):
            a.send(burst[k:k + 777])
        check("burst of 200 in order", b.read_exact(len(burst)) == burst)
        # self-presence echo, iq answered, unknown user dropped
        a.send(b"<presence/>")
        check("presence echoed", a.until(b"<presence/>") == b"<presence/>")
        a.send(b"<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
        check("iq answered", b"id='p1'" in a.until(b"/>"))
        a.send(msg("nobody@localhost", 9))
        m3 = msg("bench0@localhost", 3)
        b.send(m3)
        check("after an unknown recipient, relaying goes on",
              a.read_exact(len(m3)) == m3)
        a.close()
        b.close()
    except Exception as e:  # report, do not crash the suite
        results.append((name + ": session (%s: %s)" % (type(e).__name__, e), False))
    finally:
        p.terminate()
        try:
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
    line = out.decode().strip()
    results.append((name + ": exit line " + line,
                    p.returncode == 0 and re.search(r"msgs=20[34] ", line) is not None
                    and "unknown=1 " in line))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert")
    ap.add_argument("--key")
    a = ap.parse_args()
    if not os.access(RELAY, os.X_OK):
        sys.exit("build it first: make -C bench/relay")
    tmp = None
    if not a.cert:
        tmp = tempfile.mkdtemp(prefix="relay-test.")
        a.cert, a.key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", a.key,
                        "-out", a.cert, "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost"],
                       check=True, capture_output=True)
    results = []
    run_case(a.cert, a.key, False, results)
    run_case(a.cert, a.key, True, results)
    r = subprocess.run([RELAY, "--cert", a.cert, "--key", a.key, "--listen",
                        "0.0.0.0:%d" % free_ports(1)[0], "--lifetime", "1"],
                       capture_output=True, timeout=10)
    results.append(("non-loopback --listen refused",
                    r.returncode != 0 and b"non-loopback" in r.stderr))
    if tmp:
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)
    for label, ok in results:
        print("%s %s" % ("ok  " if ok else "FAIL", label))
    failed = sum(1 for _, ok in results if not ok)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
