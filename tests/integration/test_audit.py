"""The admin's audit trail (issue 8): every kind of event is recorded with
its metadata and nothing more, rate-limit hits are coalesced, retention
prunes, and `parleyctl audit` reads it, leaving each account it showed a
notice that it was read.

The trail is read two ways: straight from the `audit` table (what is
stored) and through `parleyctl audit --json` (what the admin sees).
"""

import json
import os
import sqlite3
import time
import unittest
import uuid

import harness
from harness import RawClient, T, q, wait_until, NS_CLIENT, NS_SASL
from im_util import IMTestCase, login, s, uid
import clamd_util
from clamd_util import EICAR, EICAR_NAME
from test_upload import UploadCase

NS_BLOCKING = 'urn:xmpp:blocking'
NS_REPORTING = 'urn:xmpp:reporting:1'
NS_NOTICE = 'urn:parley:notice:0'


def rows(server, kind=None, account=None, where='', args=()):
    """(id, kind, account, addr, detail) rows of the audit table."""
    sql = 'SELECT id, kind, account, addr, detail FROM audit WHERE 1'
    a = []
    if kind is not None:
        sql += ' AND kind = ?'
        a.append(kind)
    if account is not None:
        sql += ' AND account = ?'
        a.append(account)
    sql += where + ' ORDER BY id'
    with sqlite3.connect(os.path.join(server.data_dir, 'parley.db'),
                         timeout=10) as d:
        return d.execute(sql, a + list(args)).fetchall()


def db_bytes(server):
    """The database as bytes: the file and its write-ahead log."""
    out = b''
    for suffix in ('', '-wal'):
        p = os.path.join(server.data_dir, 'parley.db' + suffix)
        if os.path.exists(p):
            with open(p, 'rb') as f:
                out += f.read()
    return out


def wait_rows(testcase, server, pred_rows, what, timeout=10, **kw):
    got = []

    def ok():
        got[:] = rows(server, **kw)
        return pred_rows(got)
    if not wait_until(ok, T(timeout)):
        testcase.fail('%s: audit rows are %r' % (what, got))
    return got


class AuditTest(IMTestCase):
    CONFIG = {'limits': {'message_rate': 1, 'message_burst': 3}}
    USERS = {'alice': 'alice-pw', 'bob': 'bob-pw', 'carol': 'carol-pw',
             'dave': 'dave-pw'}

    def audit_json(self, *args):
        r = self.server.ctl('audit', '--json', *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout), r.stdout

    def test_login_and_logout_with_address_and_reason(self):
        a = login(self.server, 'alice', resource='desk')
        wait_rows(self, self.server, lambda r: any(
            x[4].startswith('resource=desk ') for x in r),
            'login', kind='login', account='alice')
        row = [x for x in rows(self.server, 'login', 'alice')
               if x[4].startswith('resource=desk ')][-1]
        self.assertEqual(row[3], '127.0.0.1')
        self.assertIn('mechanism=SCRAM-SHA-256', row[4])
        a.logout()
        got = wait_rows(self, self.server, lambda r: any(
            'resource=desk' in x[4] for x in r), 'logout', kind='logout',
            account='alice')
        self.assertIn('reason=client closed', got[-1][4])
        self.assertEqual(got[-1][3], '127.0.0.1')
        # A connection that just drops: connection lost.
        b = login(self.server, 'alice', resource='laptop')
        b.close()
        got = wait_rows(self, self.server, lambda r: any(
            'resource=laptop' in x[4] for x in r), 'drop', kind='logout',
            account='alice')
        self.assertIn('reason=connection lost', got[-1][4])
        # And the admin sees it.
        ev, _ = self.audit_json('--account', 'alice@localhost')
        kinds = [e['kind'] for e in ev]
        self.assertIn('login', kinds)
        self.assertIn('logout', kinds)
        self.assertTrue(all(e['account'] == 'alice@localhost' for e in ev))
        self.assertIn('127.0.0.1', [e['address'] for e in ev])

    def failed_login(self, user, password):
        c = RawClient(self.server)
        c.open()
        c.starttls()
        el = c.auth_scram(user, password)
        self.assertEqual(el.tag, q(NS_SASL, 'failure'))
        c.close()

    def test_failed_logins_known_and_unknown(self):
        before = rows(self.server, 'login-failed')
        self.failed_login('carol', 'wrong-pw')
        secret = 'hunter2' + uuid.uuid4().hex[:8]
        self.failed_login(secret, 'whatever')
        got = wait_rows(self, self.server, lambda r: len(r) >= len(before)
                        + 2, 'failed logins', kind='login-failed')
        new = got[len(before):]
        carol = [x for x in new if x[2] == 'carol']
        self.assertEqual(len(carol), 1, new)
        self.assertEqual(carol[0][3], '127.0.0.1')
        unknown = [x for x in new if x[2] is None]
        self.assertEqual(len(unknown), 1, new)
        self.assertIn('unknown account', unknown[0][4])
        self.assertEqual(unknown[0][3], '127.0.0.1')
        # The name typed for an unknown account is kept nowhere.
        self.assertNotIn(secret.encode(), db_bytes(self.server))
        r = self.server.ctl('audit')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(secret, r.stdout)

    def test_block_unblock_report_without_text(self):
        a = login(self.server, 'dave')
        marker = 'report-text-' + uid()
        a.iq("<block xmlns='%s'><item jid='bob@localhost'/></block>"
             % NS_BLOCKING, 'set')
        a.iq("<unblock xmlns='%s'><item jid='bob@localhost'/></unblock>"
             % NS_BLOCKING, 'set')
        el = a.iq("<block xmlns='%s'><item jid='spam@example.org'>"
                  "<report xmlns='%s' reason='urn:xmpp:reporting:spam'>"
                  "<text>%s</text></report></item></block>"
                  % (NS_BLOCKING, NS_REPORTING, marker), 'set')
        self.assertEqual(el.get('type'), 'result', s(el))
        got = wait_rows(self, self.server, lambda r: len(r) >= 3,
                        'block events', account='dave',
                        where=" AND kind IN ('block', 'unblock', "
                        "'report')")
        kinds = [(x[1], x[4]) for x in got]
        self.assertEqual(kinds[0], ('block', 'items=1 jids=bob@localhost'))
        self.assertEqual(kinds[1], ('unblock',
                                    'items=1 jids=bob@localhost'))
        self.assertIn(('block', 'items=1 jids=spam@example.org'), kinds)
        self.assertIn(('report', 'reported=spam@example.org '
                       'reason=urn:xmpp:reporting:spam'), kinds)
        # The reporter's text is for the report queue, not the trail.
        for x in rows(self.server):
            self.assertNotIn(marker, x[4] or '')

    def test_rate_limit_hits_coalesced_and_no_body(self):
        a = login(self.server, 'alice', resource='flood')
        b = login(self.server, 'bob', resource='sink')
        marker = 'BODY-MARKER-' + uuid.uuid4().hex
        n = 25
        ids = set('rl%d-%s' % (i, marker[-6:]) for i in range(n))
        for i in range(n):
            a.chat(b.jid, '%s %d' % (marker, i),
                   extra=" id='rl%d-%s'" % (i, marker[-6:]))
        # Every message is either refused (an error naming the limit)
        # or delivered; wait for all of them.
        refused = delivered = 0
        end = time.monotonic() + T(30)
        while refused + delivered < n and time.monotonic() < end:
            a.fill(0.05)
            b.fill(0.05)
            for c in (a, b):
                keep = []
                for e in c.elements:
                    if e.tag == q(NS_CLIENT, 'message') and \
                            e.get('id') in ids:
                        if e.get('type') == 'error':
                            refused += 1
                        else:
                            delivered += 1
                    else:
                        keep.append(e)
                c.elements[:] = keep
        self.assertEqual(refused + delivered, n)
        self.assertGreater(refused, 5)
        # One row for the whole flood, its count brought up to date.
        got = wait_rows(self, self.server, lambda r: len(r) == 1 and
                        r[0][4].endswith(' count=%d' % refused),
                        'one coalesced row', timeout=20,
                        kind='rate-limit', account='alice')
        self.assertEqual(got[0][4], 'limit=messages count=%d' % refused)
        self.assertEqual(got[0][3], '127.0.0.1')
        # No body anywhere: not in the database file, not in what the
        # admin reads.
        a.ping()
        self.assertNotIn(marker.encode(), db_bytes(self.server))
        r = self.server.ctl('audit')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(marker, r.stdout)
        self.assertIn('limit=messages', r.stdout)

    def test_policy_refusal(self):
        a = login(self.server, 'carol', resource='one')
        b = login(self.server, 'carol', resource='two')
        # An in-band transfer: its bytes would skip the virus scan.
        el = a.iq("<open xmlns='http://jabber.org/protocol/ibb' "
                  "block-size='4096' sid='s1' stanza='iq'/>", 'set',
                  to=b.jid)
        self.assertEqual(el.get('type'), 'error', s(el))
        got = wait_rows(self, self.server, lambda r: len(r) == 1,
                        'policy', kind='policy', account='carol')
        self.assertTrue(got[0][4].startswith(
            'policy=p2p_transfers count=1'), got)

    def test_audit_read_leaves_a_notice(self):
        c = login(self.server, 'carol', resource='n1')
        c.logout()
        wait_rows(self, self.server, lambda r: r, 'logout',
                  kind='logout', account='carol')
        ev, out = self.audit_json('--account', 'carol', '--since', '1h')
        self.assertTrue(ev)
        # Carol is told at her next login, by the server itself.
        c = login(self.server, 'carol', resource='n2')
        m = c.expect(lambda e: e.tag == q(NS_CLIENT, 'message') and
                     e.find(q(NS_NOTICE, 'access')) is not None,
                     what='notice')
        self.assertEqual(m.get('from'), 'localhost')
        self.assertEqual(m.find(q(NS_NOTICE, 'access')).get('kind'),
                         'audit-read')
        text = ''.join(m.find(q(NS_CLIENT, 'body')).itertext())
        self.assertIn('audit trail', text)
        self.assertIn('%d event' % len(ev), text)
        # Once: not again at the login after.
        c.logout()
        c = login(self.server, 'carol', resource='n3')
        c.nothing(lambda e: e.tag == q(NS_CLIENT, 'message') and
                  e.find(q(NS_NOTICE, 'access')) is not None, 'notice')
        # Nobody else was shown, nobody else is told; the read is in the
        # trail.
        d = login(self.server, 'dave', resource='n4')
        d.nothing(lambda e: e.tag == q(NS_CLIENT, 'message') and
                  e.find(q(NS_NOTICE, 'access')) is not None, 'notice')
        admin = rows(self.server, 'admin')
        self.assertTrue(any('account=carol' in x[4] for x in admin), admin)

    def test_bad_arguments(self):
        for args in (('--since', 'yesterday'), ('--since',),
                     ('--account',), ('--bogus',),
                     ('--since', '2026-02-30'), ('--since', '5x')):
            r = self.server.ctl('audit', *args)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1,
                             r.stderr)
            self.assertEqual(r.stdout, '')
        r = self.server.ctl('audit', '--account', 'x@elsewhere.org')
        self.assertNotEqual(r.returncode, 0)
        # --since in the future: nothing; in the past: everything.
        ev, _ = self.audit_json('--since', '2100-01-01T00:00:00Z')
        self.assertEqual(ev, [])
        ev, _ = self.audit_json('--since', '2000-01-01')
        self.assertTrue(ev)
        r = self.server.ctl('audit', '--since', '7d')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith('TIME'))


class RetentionTest(IMTestCase):
    CONFIG = {'audit': {'retention': '3s'}}
    USERS = {'erin': 'erin-pw'}

    def test_old_events_pruned(self):
        c = login(self.server, 'erin', resource='old')
        c.logout()
        old = wait_rows(self, self.server, lambda r: len(r) >= 2,
                        'login and logout', account='erin')
        first = old[-1][0]
        # Pruned within the retention and one run of the job (5 s).
        gone = wait_until(lambda: not rows(
            self.server, where=' AND id <= ?', args=(first,)), T(15))
        self.assertTrue(gone, rows(self.server))
        # New events are recorded as before.
        c = login(self.server, 'erin', resource='new')
        wait_rows(self, self.server, lambda r: r, 'a new login',
                  kind='login', account='erin')
        self.assertIn('older than 3s deleted', self.server.log())


class UploadAuditTest(UploadCase):
    def test_upload_and_quarantine_recorded_without_file_name(self):
        c = self.login()
        name = 'holiday-%s.bin' % uid()
        st, body, _, _ = self.upload(c, b'clean bytes here', name)
        self.assertEqual(st, 201, body)
        bad = 'payroll-%s.exe' % uid()
        st, body, _, _ = self.upload(c, EICAR, bad)
        self.assertEqual(st, 422, body)
        up = rows(self.server, 'upload', 'alice')
        self.assertEqual(len(up), 1, up)
        self.assertEqual(up[0][3], '127.0.0.1')
        self.assertRegex(up[0][4], r'^id=\d+ size=16 '
                         r'type=application/octet-stream scan=clean$')
        qu = rows(self.server, 'quarantine', 'alice')
        self.assertEqual(len(qu), 1, qu)
        self.assertRegex(qu[0][4], r'^id=\d+ size=68 '
                         r'type=application/octet-stream scan=infected '
                         r'file=quarantine/[0-9a-f]{64} signature=' +
                         EICAR_NAME)
        for x in rows(self.server):
            self.assertNotIn(name, x[4] or '')
            self.assertNotIn(bad, x[4] or '')


if __name__ == '__main__':
    unittest.main()
