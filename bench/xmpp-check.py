#!/usr/bin/python3
"""bench/xmpp-check.py - check a benchmark server with a real XMPP client.

Logs bench0 and bench1 in (slixmpp, Debian's python3-slixmpp), with the
SASL mechanism asked for (SCRAM-SHA-1 by default), has bench0 send a message
to bench1 and bench1 answer it, and prints one line:

    OK parley port=28222 tls=starttls mech=SCRAM-SHA-1 roundtrip_ms=3.1

Run with Debian's interpreter: /usr/bin/python3 bench/xmpp-check.py NAME
where NAME is parley, prosody or ejabberd (ports from the work dir's
bench.env), or --port P.  TLS is verified against the benchmark's own
certificate (bench.env's BENCH_CERT).  Exits 1 after at most --timeout s.
Loopback only.
"""
import argparse
import asyncio
import logging
import os
import ssl
import sys
import time

import slixmpp


def read_env(workdir):
    env = {}
    with open(os.path.join(workdir, "bench.env")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                env[k] = v
    return env


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password, mech, cafile, direct):
        super().__init__(jid, password, sasl_mech=mech)
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.check_hostname = True
        self.ssl_context = ctx
        self.direct = direct
        self.ready = asyncio.Event()
        self.failed = None
        self.inbox = asyncio.Queue()
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("failed_auth", self.on_fail)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("presence_available", self.on_presence)

    async def on_start(self, _):
        # Ready only once the server echoes our initial presence: a message
        # to a bare JID reaches available resources only (RFC 6121 8.5.2),
        # and without offline storage a message sent earlier is an error.
        self.send_presence()

    def on_presence(self, pres):
        if pres["from"] == self.boundjid:
            self.ready.set()

    def on_fail(self, _):
        self.failed = "authentication failed"
        self.ready.set()

    def on_message(self, msg):
        if msg["type"] in ("chat", "normal"):
            self.inbox.put_nowait(msg)


async def run(args, port):
    a = Client("bench0@localhost/check", args.password, args.mech,
               args.cafile, args.direct_tls)
    b = Client("bench1@localhost/check", args.password, args.mech,
               args.cafile, args.direct_tls)
    for c in (a, b):
        c.connect(("127.0.0.1", port), use_ssl=args.direct_tls,
                  force_starttls=not args.direct_tls)
    try:
        for c in (a, b):
            await asyncio.wait_for(c.ready.wait(), args.timeout)
            if c.failed:
                raise RuntimeError("%s: %s" % (c.boundjid, c.failed))
        used = a["feature_mechanisms"].mech.name if a["feature_mechanisms"].mech else "?"
        t0 = time.monotonic()
        a.send_message(mto="bench1@localhost", mbody="ping %f" % t0, mtype="chat")
        m = await asyncio.wait_for(b.inbox.get(), args.timeout)
        if not m["body"].startswith("ping "):
            raise RuntimeError("bench1 got %r" % m["body"])
        b.send_message(mto=m["from"], mbody="pong", mtype="chat")
        m = await asyncio.wait_for(a.inbox.get(), args.timeout)
        if m["body"] != "pong":
            raise RuntimeError("bench0 got %r" % m["body"])
        ms = (time.monotonic() - t0) * 1000
        return used, ms
    finally:
        for c in (a, b):
            c.disconnect()
        await asyncio.sleep(0.3)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("name", nargs="?", default="parley",
                   choices=["parley", "prosody", "ejabberd", "relay"])
    p.add_argument("--workdir", default=os.environ.get(
        "BENCH_WORKDIR", "/tmp/parley-bench-servers"))
    p.add_argument("--port", type=int)
    p.add_argument("--direct-tls", action="store_true")
    p.add_argument("--mech", default="SCRAM-SHA-1")
    p.add_argument("--password")
    p.add_argument("--cafile")
    p.add_argument("--timeout", type=float, default=15)
    p.add_argument("-v", action="store_true", help="slixmpp debug log")
    args = p.parse_args()
    env = read_env(args.workdir)
    args.password = args.password or env["BENCH_PASSWORD"]
    args.cafile = args.cafile or env["BENCH_CERT"]
    port = args.port or int(env["%s_%sPORT" % (args.name.upper(),
                                               "TLS_" if args.direct_tls else "")])
    logging.basicConfig(level=logging.DEBUG if args.v else logging.CRITICAL)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        used, ms = loop.run_until_complete(
            asyncio.wait_for(run(args, port), args.timeout * 3))
    except Exception as e:  # one line for the admin, exit 1
        print("FAIL %s port=%d: %s" % (args.name, port, e or type(e).__name__))
        sys.exit(1)
    print("OK %s port=%d tls=%s mech=%s roundtrip_ms=%.1f" % (
        args.name, port, "direct" if args.direct_tls else "starttls", used, ms))


if __name__ == "__main__":
    main()
