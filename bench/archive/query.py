#!/usr/bin/python3
"""Times XEP-0313 queries end to end against a running parleyd whose
alice@localhost has a large archive (bench/archive/run.sh): from sending
the IQ to reading the IQ result after the page's <message/>s, parsed.
Prints p50/p99/max in ms per query shape; pages of 50."""

import argparse
import datetime
import os
import sqlite3
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'integration'))
import harness  # noqa: E402
from harness import RawClient, q, NS_CLIENT  # noqa: E402

NS_MAM = 'urn:xmpp:mam:2'
NS_RSM = 'http://jabber.org/protocol/rsm'


def form(fields):
    if not fields:
        return ''
    return ("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'>"
            "<value>%s</value></field>%s</x>" % (NS_MAM, ''.join(
                "<field var='%s'><value>%s</value></field>" % kv
                for kv in fields.items())))


def query(c, fields, rsm):
    qid = uuid.uuid4().hex[:8]
    body = "<query xmlns='%s' queryid='%s'>%s<set xmlns='%s'>%s</set>" \
           "</query>" % (NS_MAM, qid, form(fields), NS_RSM, rsm)
    t0 = time.perf_counter()
    iq = c.iq(body, 'set', timeout=30)
    dt = (time.perf_counter() - t0) * 1000
    n = sum(1 for e in c.elements if e.tag == q(NS_CLIENT, 'message'))
    c.elements.clear()
    assert iq.get('type') == 'result', iq
    return dt, n


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def iso(ms):
    return datetime.datetime.utcfromtimestamp(ms / 1000).strftime(
        '%Y-%m-%dT%H:%M:%SZ')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--db', required=True)
    ap.add_argument('--runs', type=int, default=50)
    a = ap.parse_args()
    con = sqlite3.connect(a.db)
    total, lo, hi = con.execute(
        "SELECT COUNT(*), MIN(stamp), MAX(stamp) FROM archive "
        "WHERE owner = 'alice'").fetchone()
    deep = [con.execute("SELECT sid FROM archive WHERE owner = 'alice' "
                        "ORDER BY id LIMIT 1 OFFSET ?",
                        (int(total * (0.3 + 0.4 * i / a.runs)),)).fetchone()[0]
            for i in range(a.runs)]
    con.close()
    c = RawClient(port=a.port, timeout=30)
    c.login('alice', 'bench-pw')
    day = 86400 * 1000
    shapes = [
        ('latest page (before=)', lambda i: ({}, '<max>50</max><before/>')),
        ('first page', lambda i: ({}, '<max>50</max>')),
        ('with=contact, latest', lambda i: (
            {'with': 'c%d@localhost' % (i % 20)},
            '<max>50</max><before/>')),
        ('with=contact, first', lambda i: (
            {'with': 'c%d@localhost' % (i % 20)}, '<max>50</max>')),
        ('one day in the middle', lambda i: (
            {'start': iso(lo + (hi - lo) * (0.3 + 0.4 * i / a.runs)),
             'end': iso(lo + (hi - lo) * (0.3 + 0.4 * i / a.runs) + day)},
            '<max>50</max>')),
        ('RSM after= deep', lambda i: ({}, '<max>50</max><after>%s</after>'
                                       % deep[i])),
    ]
    print('archive of %d messages; %d queries per shape, pages of 50; '
          'ms end to end' % (total, a.runs))
    print('%-26s %8s %8s %8s %6s' % ('query', 'p50', 'p99', 'max', 'rows'))
    for name, mk in shapes:
        times, rows = [], 0
        for i in range(a.runs):
            f, r = mk(i)
            dt, n = query(c, f, r)
            times.append(dt)
            rows = n
        print('%-26s %8.2f %8.2f %8.2f %6d' % (
            name, pct(times, 50), pct(times, 99), max(times), rows))
    c.close()


if __name__ == '__main__':
    main()
