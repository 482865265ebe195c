"""Message archives that nobody keeps silently (DESIGN danger 6, issue 7:
im/mam.c, im/archive_policy.c, store/archive.c, parleyctl archive).

XEP-0313 (urn:xmpp:mam:2) with XEP-0059 paging and XEP-0359 stanza-ids;
off by default for everyone; when an archive records a conversation,
both people in it get one notice per state from the server
(<archiving xmlns='urn:parley:archive:0'/>), before the message that
revealed it, which that archive does not record; an organisation policy
in the config; retention; purge by the user and by the admin; export
with a notice at the next login.
"""

import datetime
import json
import os
import sqlite3
import time

from harness import q, NS_CLIENT, T, wait_until, xml_escape
from im_util import (IMTestCase, login, s, uid, body_of, error_of, bare,
                     restart)

NS_MAM = 'urn:xmpp:mam:2'
NS_RSM = 'http://jabber.org/protocol/rsm'
NS_DATA = 'jabber:x:data'
NS_FORWARD = 'urn:xmpp:forward:0'
NS_DELAY = 'urn:xmpp:delay'
NS_SID = 'urn:xmpp:sid:0'
NS_ARCH = 'urn:parley:archive:0'
NS_NOTICE = 'urn:parley:notice:0'
NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'


def is_notice(e, by=None, state=None):
    if e.tag != q(NS_CLIENT, 'message') or e.get('from') != 'localhost':
        return False
    a = e.find(q(NS_ARCH, 'archiving'))
    if a is None:
        return False
    return (by is None or a.get('by') == by) and \
        (state is None or a.get('state') == state)


def notices(client, by=None, state=None):
    return [e for e in client.arrived if is_notice(e, by, state)]


def is_result(e):
    return e.tag == q(NS_CLIENT, 'message') and \
        e.find(q(NS_MAM, 'result')) is not None


def form(fields):
    if fields is None:
        return ''
    out = ["<x xmlns='%s' type='submit'>" % NS_DATA,
           "<field var='FORM_TYPE' type='hidden'><value>%s</value></field>"
           % NS_MAM]
    for k, v in fields.items():
        out.append("<field var='%s'><value>%s</value></field>"
                   % (k, xml_escape(v)))
    out.append('</x>')
    return ''.join(out)


def rsm(opts):
    if not opts:
        return ''
    kids = ''
    for k, v in opts.items():
        kids += '<%s/>' % k if v == '' else '<%s>%s</%s>' % (k, v, k)
    return "<set xmlns='%s'>%s</set>" % (NS_RSM, kids)


def mam(client, fields=None, page=None, raw_query=None, flip=False):
    """Runs a query; returns (results in arrival order as dicts, fin,
    iq).  Raises nothing on an error reply: fin is None then."""
    qid = uid('q')
    body = raw_query if raw_query is not None else \
        "<query xmlns='%s' queryid='%s'>%s%s%s</query>" % (
            NS_MAM, qid, form(fields), rsm(page),
            '<flip-page/>' if flip else '')
    iq = client.iq(body, 'set')
    res = [e for e in client.elements if is_result(e)]
    client.elements[:] = [e for e in client.elements if not is_result(e)]
    out = []
    for m in res:
        r = m.find(q(NS_MAM, 'result'))
        fw = r.find(q(NS_FORWARD, 'forwarded'))
        inner = fw.find(q(NS_CLIENT, 'message'))
        d = fw.find(q(NS_DELAY, 'delay'))
        out.append({'id': r.get('id'), 'queryid': r.get('queryid'),
                    'body': body_of(inner), 'from': inner.get('from'),
                    'to': inner.get('to'), 'stamp': d.get('stamp'),
                    'to_attr': m.get('to'), 'from_attr': m.get('from')})
    if raw_query is None:
        for r in out:
            assert r['queryid'] == qid, r
    fin = iq.find(q(NS_MAM, 'fin')) if iq.get('type') == 'result' else None
    return out, fin, iq


def fin_set(fin):
    st = fin.find(q(NS_RSM, 'set'))
    get = lambda n: (st.find(q(NS_RSM, n)).text
                     if st.find(q(NS_RSM, n)) is not None else None)
    return {'first': get('first'), 'last': get('last'),
            'count': get('count'),
            'complete': fin.get('complete') == 'true'}


def set_prefs(client, default, always=(), never=()):
    j = lambda l: ''.join('<jid>%s</jid>' % x for x in l)
    return client.iq("<prefs xmlns='%s' default='%s'><always>%s</always>"
                     "<never>%s</never></prefs>"
                     % (NS_MAM, default, j(always), j(never)), 'set')


def db_rows(server, sql, *args):
    con = sqlite3.connect(os.path.join(server.data_dir, 'parley.db'),
                          timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def archived(server, owner):
    return db_rows(server, 'SELECT COUNT(*) FROM archive WHERE owner = ?',
                   owner)[0][0]


def talk(a, b, n, tag='m'):
    """n messages, alternating a->b and b->a; returns the bodies in the
    order sent (each waited for at the other end)."""
    bodies = []
    for i in range(n):
        snd, rcv = (a, b) if i % 2 == 0 else (b, a)
        body = uid('%s%d' % (tag, i))
        snd.chat(rcv.bare_jid, body)
        rcv.expect_body(body)
        bodies.append(body)
    return bodies


class MamTest(IMTestCase):
    CONFIG = {'archive': {'max_page': 10}}
    USERS = {u: u + '-pw' for u in (
        'a1', 'b1', 'a2', 'b2', 'a3', 'b3', 'a4', 'b4', 'a5', 'b5',
        'a6', 'b6', 'a7', 'b7', 'a8', 'b8', 'a9', 'b9')}

    def test_off_by_default_nothing_stored(self):
        a = login(self.server, 'a1')
        b = login(self.server, 'b1')
        talk(a, b, 4)
        for c in (a, b):
            res, fin, iq = mam(c)
            self.assertEqual(res, [], s(iq))
            self.assertEqual(fin_set(fin)['count'], '0', s(iq))
            self.assertTrue(fin_set(fin)['complete'])
            c.nothing(lambda e: is_notice(e), 'an archiving notice')
            self.assertFalse([e for e in c.arrived if e.find(
                q(NS_SID, 'stanza-id')) is not None], 'a stanza-id')
        self.assertEqual(archived(self.server, 'a1'), 0)
        self.assertEqual(archived(self.server, 'b1'), 0)
        iq = a.iq("<prefs xmlns='%s'/>" % NS_MAM)
        self.assertEqual(iq.find(q(NS_MAM, 'prefs')).get('default'), 'never',
                         s(iq))

    def test_prefs_round_trip(self):
        a = login(self.server, 'a3')
        iq = set_prefs(a, 'roster', always=['x@localhost', 'Y@Localhost/r'],
                       never=['z@example.org'])
        self.assertEqual(iq.get('type'), 'result', s(iq))
        iq = a.iq("<prefs xmlns='%s'/>" % NS_MAM)
        p = iq.find(q(NS_MAM, 'prefs'))
        self.assertEqual(p.get('default'), 'roster')
        self.assertEqual(sorted(j.text for j in p.find(q(NS_MAM, 'always'))),
                         ['x@localhost', 'y@localhost'])
        self.assertEqual([j.text for j in p.find(q(NS_MAM, 'never'))],
                         ['z@example.org'])
        # Bad ones: a proper error with text, and the old ones stay.
        for bad in ("<prefs xmlns='%s' default='sometimes'/>" % NS_MAM,
                    "<prefs xmlns='%s' default='always'><always><jid>@@"
                    "</jid></always></prefs>" % NS_MAM):
            iq = a.iq(bad, 'set')
            cond, _, text = error_of(iq)
            self.assertIn(cond, ('bad-request', 'jid-malformed'), s(iq))
            self.assertTrue(text)
        iq = a.iq("<prefs xmlns='%s'/>" % NS_MAM)
        self.assertEqual(iq.find(q(NS_MAM, 'prefs')).get('default'), 'roster')
        set_prefs(a, 'never')

    def test_archive_pages_ids_and_notices(self):
        a = login(self.server, 'a2')
        b = login(self.server, 'b2')
        self.assertEqual(set_prefs(a, 'always').get('type'), 'result')
        # The first message reveals the change: both told, the peer
        # before the message, and that message is not recorded.
        first = uid('first')
        a.chat('b2@localhost', first)
        m = b.expect_body(first)
        nb = notices(b, by='a2@localhost', state='on')
        self.assertEqual(len(nb), 1, [s(x) for x in b.arrived])
        self.assertLess(b.order(nb[0]), b.order(m), 'notice after message')
        el = nb[0].find(q(NS_ARCH, 'archiving'))
        self.assertEqual((el.get('peer'), el.get('policy')),
                         ('b2@localhost', 'user'))
        self.assertTrue(body_of(nb[0]))
        a.ping()
        self.assertEqual(len(notices(a, by='a2@localhost', state='on')), 1)
        self.assertEqual(archived(self.server, 'a2'), 0)
        # Now recorded, both directions, in a's archive only.
        t0 = time.time()
        bodies = talk(a, b, 24)
        self.assertEqual(archived(self.server, 'a2'), 24)
        self.assertEqual(archived(self.server, 'b2'), 0)
        # Still one notice each, not one per message.
        for c in (a, b):
            c.ping()
            self.assertEqual(len(notices(c)), 1, [s(x) for x in notices(c)])
        # Messages from b arrive at a with a's stanza-id; b's copies have
        # none (b does not archive).
        sids = []
        for e in a.arrived:
            if e.tag == q(NS_CLIENT, 'message') and body_of(e) in bodies:
                sid = e.findall(q(NS_SID, 'stanza-id'))
                self.assertEqual(len(sid), 1, s(e))
                self.assertEqual(sid[0].get('by'), 'a2@localhost')
                sids.append((body_of(e), sid[0].get('id')))
        self.assertEqual(len(sids), 12)
        self.assertFalse([e for e in b.arrived if e.find(
            q(NS_SID, 'stanza-id')) is not None])
        # Paging forward, 10 at a time (max 50 asked, capped to 10).
        res, fin, _ = mam(a, page={'max': 50})
        self.assertEqual([r['body'] for r in res], bodies[:10])
        fs = fin_set(fin)
        self.assertEqual(fs['count'], '24')
        self.assertFalse(fs['complete'])
        self.assertEqual((fs['first'], fs['last']), (res[0]['id'],
                                                     res[-1]['id']))
        for r in res:
            self.assertEqual(r['to_attr'], a.jid)
            self.assertEqual(r['from_attr'], 'a2@localhost')
        res2, fin2, _ = mam(a, page={'max': 10, 'after': fs['last']})
        self.assertEqual([r['body'] for r in res2], bodies[10:20])
        res3, fin3, _ = mam(a, page={'max': 10,
                                     'after': fin_set(fin2)['last']})
        self.assertEqual([r['body'] for r in res3], bodies[20:])
        self.assertTrue(fin_set(fin3)['complete'])
        # MAM ids are the stanza-ids a received.
        by_body = {r['body']: r['id'] for r in res + res2 + res3}
        for body, sid in sids:
            self.assertEqual(by_body[body], sid)
        # Backwards: the last page, then the one before it.
        res, fin, _ = mam(a, page={'max': 5, 'before': ''})
        self.assertEqual([r['body'] for r in res], bodies[-5:])
        self.assertFalse(fin_set(fin)['complete'])
        res, fin, _ = mam(a, page={'max': 5,
                                   'before': fin_set(fin)['first']})
        self.assertEqual([r['body'] for r in res], bodies[-10:-5])
        # flip-page: the same page, newest first.
        res, fin, _ = mam(a, page={'max': 5, 'before': ''}, flip=True)
        self.assertEqual([r['body'] for r in res], bodies[-5:][::-1])
        # with: only b's side of a conversation... all of it is with b;
        # a stranger filter finds nothing.
        res, fin, _ = mam(a, {'with': 'b2@localhost'}, {'max': 10})
        self.assertEqual(len(res), 10)
        res, fin, _ = mam(a, {'with': 'nobody@localhost'})
        self.assertEqual(res, [])
        self.assertTrue(fin_set(fin)['complete'])
        # A time range: start after everything, end before everything.
        future = (datetime.datetime.utcnow() + datetime.timedelta(
            hours=1)).strftime('%Y-%m-%dT%H:%M:%SZ')
        past = datetime.datetime.utcfromtimestamp(t0 - 3600).strftime(
            '%Y-%m-%dT%H:%M:%SZ')
        self.assertEqual(mam(a, {'start': future})[0], [])
        self.assertEqual(mam(a, {'end': past})[0], [])
        res, _, _ = mam(a, {'start': past, 'end': future}, {'max': 10})
        self.assertEqual([r['body'] for r in res], bodies[:10])
        # start at the 15th message's own stamp: it and later ones.
        all_rows = mam(a, page={'max': 10})[0] + \
            mam(a, page={'max': 10, 'after': res[-1]['id']})[0]
        st = all_rows[14]['stamp']
        res, _, _ = mam(a, {'start': st}, {'max': 10})
        self.assertIn(bodies[14], [r['body'] for r in res])
        self.assertNotIn(bodies[0], [r['body'] for r in res])
        # after-id (extended form).
        res, _, _ = mam(a, {'after-id': all_rows[18]['id']}, {'max': 3})
        self.assertEqual([r['body'] for r in res], bodies[19:22])
        # On demand: the state of the conversation, both sides.
        iq = b.iq("<archiving xmlns='%s' with='a2@localhost'/>" % NS_ARCH,
                  to='localhost')
        els = {e.get('by'): e.get('state') for e in
               iq.find(q(NS_ARCH, 'archiving')).findall(
                   q(NS_ARCH, 'archiving'))}
        self.assertEqual(els, {'a2@localhost': 'on', 'b2@localhost': 'off'},
                         s(iq))
        # Turned off: both told at once, without a message.
        n_a, n_b = len(notices(a)), len(notices(b))
        set_prefs(a, 'never')
        b.expect(lambda e: is_notice(e, 'a2@localhost', 'off'),
                 what='off notice')
        a.expect(lambda e: is_notice(e, 'a2@localhost', 'off'),
                 what='off notice')
        talk(a, b, 2)
        self.assertEqual(archived(self.server, 'a2'), 24)
        for c, n in ((a, n_a), (b, n_b)):
            c.ping()
            self.assertEqual(len(notices(c)), n + 1)

    def test_stanza_id_spoofing_is_stripped(self):
        a = login(self.server, 'a4')
        b = login(self.server, 'b4')
        set_prefs(a, 'always')
        talk(a, b, 1)           # the notice round
        body = uid('spoof')
        b.send(
            "<message to='a4@localhost' type='chat'><body>%s</body>"
            "<stanza-id xmlns='%s' by='a4@localhost' id='forged'/>"
            "<stanza-id xmlns='%s' by='localhost' id='forged2'/>"
            "<stanza-id xmlns='%s' by='other.example' id='kept'/>"
            "</message>" % (body, NS_SID, NS_SID, NS_SID))
        m = a.expect_body(body)
        ids = [(e.get('by'), e.get('id')) for e in
               m.findall(q(NS_SID, 'stanza-id'))]
        self.assertNotIn(('a4@localhost', 'forged'), ids, s(m))
        self.assertNotIn(('localhost', 'forged2'), ids, s(m))
        self.assertIn(('other.example', 'kept'), ids, s(m))
        ours = [i for by, i in ids if by == 'a4@localhost']
        self.assertEqual(len(ours), 1, s(m))
        res, _, _ = mam(a, page={'before': '', 'max': 1})
        self.assertEqual(res[0]['id'], ours[0])
        set_prefs(a, 'never')

    def test_offline_peer_gets_notice_first(self):
        a = login(self.server, 'a5')
        set_prefs(a, 'always')
        body = uid('while-away')
        a.chat('b5@localhost', body)
        a.ping()
        b = login(self.server, 'b5')
        m = b.expect_body(body)
        nb = notices(b, by='a5@localhost', state='on')
        self.assertEqual(len(nb), 1, [s(x) for x in b.arrived])
        self.assertLess(b.order(nb[0]), b.order(m))
        set_prefs(a, 'never')

    def test_bad_queries_get_errors(self):
        a = login(self.server, 'a6')
        ns = NS_MAM
        cases = [
            ("<query xmlns='%s'><x xmlns='%s' type='submit'><field var="
             "'with'><value>b6@localhost</value></field></x></query>"
             % (ns, NS_DATA), 'bad-request'),
            ("<query xmlns='%s'>%s</query>" % (ns, form(
                {'start': 'yesterday'})), 'bad-request'),
            ("<query xmlns='%s'>%s</query>" % (ns, form(
                {'end': '2026-13-01T00:00:00Z'})), 'bad-request'),
            ("<query xmlns='%s'>%s</query>" % (ns, form(
                {'colour': 'blue'})), 'bad-request'),
            ("<query xmlns='%s'>%s</query>" % (ns, form(
                {'with': 'a@b@c'})), 'jid-malformed'),
            ("<query xmlns='%s'>%s</query>" % (ns, rsm({'max': 'lots'})),
             'bad-request'),
            ("<query xmlns='%s'>%s</query>" % (ns, rsm(
                {'after': '0123456789abcdef'})), 'item-not-found'),
            ("<query xmlns='%s'>%s</query>" % (ns, rsm(
                {'before': 'not-an-id'})), 'item-not-found'),
            ("<query xmlns='%s'>%s</query>" % (ns, rsm({'index': '3'})),
             'feature-not-implemented'),
        ]
        for xml, want in cases:
            iq = a.iq(xml, 'set')
            cond, _, text = error_of(iq)
            self.assertEqual(cond, want, s(iq))
            self.assertTrue(text, s(iq))
        # A field without var; odd characters in a queryid come back
        # escaped, and the stream stays well formed.
        iq = a.iq("<query xmlns='%s'><x xmlns='%s' type='submit'><field>"
                  "<value>x</value></field></x></query>" % (ns, NS_DATA),
                  'set')
        self.assertEqual(error_of(iq)[0], 'bad-request', s(iq))
        iq = a.iq("<query xmlns='%s' queryid='a&apos;b&lt;c&amp;'/>" % ns,
                  'set')
        self.assertEqual(iq.find(q(ns, 'fin')).get('queryid'), "a'b<c&",
                         s(iq))
        # Someone else's archive.
        iq = a.iq("<query xmlns='%s'/>" % ns, 'set', to='b6@localhost')
        self.assertEqual(error_of(iq)[0], 'forbidden', s(iq))
        # A huge max is capped, not refused.
        res, fin, iq = mam(a, page={'max': 999999999})
        self.assertEqual(iq.get('type'), 'result', s(iq))
        # The form (IQ get) lists the fields.
        iq = a.iq("<query xmlns='%s'/>" % ns)
        vars_ = [f.get('var') for f in iq.find(q(ns, 'query')).find(
            q(NS_DATA, 'x')).findall(q(NS_DATA, 'field'))]
        for v in ('FORM_TYPE', 'with', 'start', 'end'):
            self.assertIn(v, vars_)
        a.ping()
        self.assertServerAlive()

    def test_self_purge(self):
        a = login(self.server, 'a7')
        b = login(self.server, 'b7')
        set_prefs(a, 'always')
        talk(a, b, 1)
        talk(a, b, 6)
        self.assertEqual(archived(self.server, 'a7'), 6)
        iq = a.iq("<purge xmlns='%s' with='nobody@localhost'/>" % NS_ARCH,
                  'set')
        self.assertEqual(iq.find(q(NS_ARCH, 'purged')).get('count'), '0')
        iq = a.iq("<purge xmlns='%s'/>" % NS_ARCH, 'set')
        self.assertEqual(iq.find(q(NS_ARCH, 'purged')).get('count'), '6',
                         s(iq))
        self.assertEqual(mam(a)[0], [])
        self.assertEqual(archived(self.server, 'a7'), 0)
        set_prefs(a, 'never')

    def test_disco_advertises_archiving(self):
        a = login(self.server, 'a8')
        set_prefs(a, 'always')
        iq = a.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to='a8@localhost')
        qu = iq.find(q(NS_DISCO_INFO, 'query'))
        feats = [f.get('var') for f in qu.findall(q(NS_DISCO_INFO,
                                                    'feature'))]
        self.assertIn(NS_MAM, feats)
        self.assertIn(NS_ARCH, feats)
        x = [x for x in qu.findall(q(NS_DATA, 'x'))
             if any(v.text == NS_ARCH for v in x.iter(q(NS_DATA, 'value')))]
        self.assertEqual(len(x), 1, s(iq))
        fields = {f.get('var'): f.find(q(NS_DATA, 'value')).text
                  for f in x[0].findall(q(NS_DATA, 'field'))}
        self.assertEqual(fields['default'], 'always')
        self.assertEqual(fields['forced'], 'false')
        self.assertEqual(fields['disclosed'], 'true')
        set_prefs(a, 'never')

    def test_parleyctl_export_and_purge(self):
        a = login(self.server, 'a9')
        b = login(self.server, 'b9')
        set_prefs(a, 'always')
        talk(a, b, 1)
        bodies = talk(a, b, 4, tag='exp')
        out = os.path.join(self.server.dir, 'a9-export.jsonl')
        r = self.server.ctl('archive', 'export', 'a9@localhost', '--out', out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as f:
            lines = [json.loads(x) for x in f]
        self.assertEqual(len(lines), 4)
        self.assertEqual([l['direction'] for l in lines],
                         ['out', 'in', 'out', 'in'])
        for l, body in zip(lines, bodies):
            self.assertIn(body, l['xml'])
            self.assertEqual(l['peer'], 'b9@localhost')
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o600)
        # Refuses to overwrite.
        r = self.server.ctl('archive', 'export', 'a9', '--out', out)
        self.assertNotEqual(r.returncode, 0)
        # Told at the next login, once.
        a.logout()
        a = login(self.server, 'a9')
        n = a.expect(lambda e: e.find(q(NS_NOTICE, 'access')) is not None,
                     what='export notice')
        self.assertEqual(n.find(q(NS_NOTICE, 'access')).get('kind'),
                         'archive-export')
        self.assertIn('exported', body_of(n))
        # Purge: nothing of a9's archive stays.
        r = self.server.ctl('archive', 'purge', 'a9@localhost')
        self.assertEqual(r.returncode, 0, r.stderr)
        for table, col in (('archive', 'owner'), ('archive_size', 'owner'),
                           ('archive_prefs', 'user'),
                           ('archive_prefs_jids', 'user'),
                           ('archive_disclosed', 'user')):
            self.assertEqual(db_rows(self.server, 'SELECT COUNT(*) FROM %s '
                                     'WHERE %s = ?' % (table, col),
                                     'a9')[0][0], 0, table)
        a.logout()
        a = login(self.server, 'a9')
        n = a.expect(lambda e: e.find(q(NS_NOTICE, 'access')) is not None
                     and e.find(q(NS_NOTICE, 'access')).get('kind') ==
                     'archive-purge', what='purge notice')
        self.assertIn('deleted', body_of(n))
        self.assertEqual(mam(a)[0], [])
        # The contact who had been told is told too.
        b.logout()
        b = login(self.server, 'b9')
        b.expect(lambda e: e.find(q(NS_NOTICE, 'access')) is not None and
                 'a9@localhost' in (body_of(e) or ''), what='peer notice')
        r = self.server.ctl('archive', 'purge', 'nosuchuser')
        self.assertEqual(r.returncode, 4, r.stderr)


class OrgPolicyTest(IMTestCase):
    """[archive] force_domains archives everyone's conversations here,
    for force_retention (seconds, so that the sweep is seen)."""
    CONFIG = {'archive': {'force_domains': 'localhost',
                          'force_retention': '3s',
                          'expire_interval': 1}}
    USERS = {u: u + '-pw' for u in ('p1', 'q1', 'p2', 'q2')}

    def test_policy_notices_both_and_retention_deletes(self):
        p = login(self.server, 'p1')
        qq = login(self.server, 'q1')
        first = uid('first')
        p.chat('q1@localhost', first)
        qq.expect_body(first)
        for c in (p, qq):
            c.ping()
            got = notices(c)
            # Each archive is disclosed to both: p's and q's.
            self.assertEqual(sorted(n.find(q(NS_ARCH, 'archiving')).get('by')
                                    for n in got),
                             ['p1@localhost', 'q1@localhost'],
                             [s(x) for x in got])
            for n in got:
                el = n.find(q(NS_ARCH, 'archiving'))
                self.assertEqual((el.get('state'), el.get('policy'),
                                  el.get('retention')), ('on', 'org', '3s'))
        talk(p, qq, 4)
        for c in (p, qq):
            c.ping()
            self.assertEqual(len(notices(c)), 2)
        self.assertEqual(archived(self.server, 'p1'), 4)
        self.assertEqual(archived(self.server, 'q1'), 4)
        self.assertEqual(len(mam(qq)[0]), 4)
        # The user's own "never" does not override the admin's policy.
        set_prefs(p, 'never')
        talk(p, qq, 2)
        self.assertEqual(archived(self.server, 'p1'), 6)
        # Retention: gone after 3 s plus a sweep.
        self.assertTrue(wait_until(
            lambda: archived(self.server, 'p1') == 0 and
            archived(self.server, 'q1') == 0, T(10)))
        self.assertEqual(mam(p)[0], [])
        r = self.server.ctl('check')
        self.assertNotIn('archive', r.stdout)


class UndisclosedCheckTest(IMTestCase):
    CONFIG = {'archive': {'disclose': 'off', 'default': 'always'}}
    USERS = {'u1': 'u1-pw', 'v1': 'v1-pw'}

    def test_check_flags_and_no_notice(self):
        r = self.server.ctl('check')
        self.assertEqual(r.returncode, 6, r.stdout + r.stderr)
        self.assertIn('[archive] disclose = off', r.stdout)
        u = login(self.server, 'u1')
        v = login(self.server, 'v1')
        talk(u, v, 2)
        v.nothing(lambda e: is_notice(e), 'a notice')
        self.assertEqual(archived(self.server, 'u1'), 2)


class NoOfflineTest(IMTestCase):
    """With offline storage off, a message to an offline account is
    refused, and so not archived either."""
    CONFIG = {'limits': {'max_offline_messages': 0},
              'archive': {'default': 'always'}}
    USERS = {'o1': 'o1-pw', 'o2': 'o2-pw'}

    def test_refused_message_not_archived(self):
        a = login(self.server, 'o1')
        body = uid('nobody-home')
        a.chat('o2@localhost', body)
        err = a.expect(lambda e: e.get('type') == 'error', what='error')
        self.assertEqual(error_of(err)[0], 'service-unavailable', s(err))
        a.ping()
        self.assertEqual(archived(self.server, 'o1'), 0)
        a.nothing(lambda e: is_notice(e), 'a notice')
        b = login(self.server, 'o2')
        talk(a, b, 3)
        self.assertEqual(archived(self.server, 'o1'), 2)
        self.assertEqual(archived(self.server, 'o2'), 2)


class PolicyRestartTest(IMTestCase):
    """A policy set in the config while the server is down is disclosed
    at the next start to everyone told about the old state."""
    USERS = {'r1': 'r1-pw', 'r2': 'r2-pw'}

    def test_policy_change_disclosed_after_restart(self):
        a = login(self.server, 'r1')
        b = login(self.server, 'r2')
        set_prefs(a, 'always')
        talk(a, b, 3)
        self.assertEqual(archived(self.server, 'r1'), 2)
        for c in (a, b):
            c.ping()
            self.assertEqual(len(notices(c)), 1)
            c.logout()
        self.server.config['archive'] = {'force_domains': 'localhost',
                                         'force_retention': '30d'}
        self.server.write_config()
        restart(self.server)
        for user in ('r1', 'r2'):
            c = login(self.server, user)
            n = c.expect(lambda e: is_notice(e, 'r1@localhost', 'on'),
                         what='policy notice')
            el = n.find(q(NS_ARCH, 'archiving'))
            self.assertEqual((el.get('policy'), el.get('retention')),
                             ('org', '30d'), s(n))
            c.ping()
            self.assertEqual(len(notices(c)), 1, [s(x) for x in notices(c)])
        # A user's "never" changes nothing while the policy holds.
        a = login(self.server, 'r1')
        set_prefs(a, 'never')
        a.ping()
        a.nothing(lambda e: is_notice(e), 'a notice')


class GroupArchiveTest(IMTestCase):
    """[group.NAME] archive (issue 8's group policies) decides in the same
    place as the rest: 'always' archives the group's conversations as an
    organisation policy, disclosed to both sides; 'off' records nothing
    and refuses preferences that would archive, naming the policy."""
    CONFIG = {'group.records': {'archive': 'always'},
              'group.nolog': {'archive': 'off'}}
    USERS = {u: u + '-pw' for u in ('rec', 'nol', 'free')}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for local, group in (('rec', 'records'), ('nol', 'nolog')):
            r = cls.server.ctl('user', 'group', local, group)
            assert r.returncode == 0, r.stderr

    def test_group_always_archives_and_discloses(self):
        a = login(self.server, 'rec')
        b = login(self.server, 'free')
        talk(a, b, 4)
        self.assertEqual(archived(self.server, 'rec'), 3)
        self.assertEqual(archived(self.server, 'free'), 0)
        for c in (a, b):
            c.ping()
            got = notices(c, 'rec@localhost', 'on')
            self.assertEqual(len(got), 1, [s(x) for x in notices(c)])
            self.assertEqual(got[0].find(q(NS_ARCH, 'archiving'))
                             .get('policy'), 'org', s(got[0]))
        # The user's "never" does not override the group's rule.
        set_prefs(a, 'never')
        talk(a, b, 2, 'n')
        self.assertEqual(archived(self.server, 'rec'), 5)

    def test_group_off_refuses_prefs_and_records_nothing(self):
        a = login(self.server, 'nol')
        b = login(self.server, 'free')
        iq = set_prefs(a, 'always')
        self.assertEqual(iq.get('type'), 'error', s(iq))
        cond, text = error_of(iq)[0], error_of(iq)[-1]
        self.assertEqual(cond, 'policy-violation', s(iq))
        self.assertIn("group 'nolog'", text or '', s(iq))
        self.assertIn('archive = off', text or '', s(iq))
        iq = set_prefs(a, 'never')
        self.assertEqual(iq.get('type'), 'result', s(iq))
        # Even had prefs been stored some other way, nothing is recorded.
        talk(a, b, 3)
        self.assertEqual(archived(self.server, 'nol'), 0)
        a.ping()
        self.assertEqual(notices(a, 'nol@localhost'), [])


class SlixmppMamTest(IMTestCase):
    """The same archive through a real client library: slixmpp's XEP-0313
    plugin pages the archive with RSM (XEP-0059) until <fin
    complete='true'/>, and the ids it gets are the XEP-0359 stanza-ids the
    recipient saw."""
    CONFIG = {'archive': {'max_page': 4}}
    USERS = {'sa': 'sa-pw', 'sb': 'sb-pw'}

    def slix(self, local):
        from harness import Client, in_loop
        c = Client(self.server, '%s@localhost/slix' % local, local + '-pw')
        in_loop(lambda: [c.xmpp.register_plugin(p) for p in
                         ('xep_0004', 'xep_0059', 'xep_0297', 'xep_0313',
                          'xep_0359')])
        c.connect()
        return c

    def test_slixmpp_pages_the_archive(self):
        from harness import in_loop
        import xml.etree.ElementTree as ET
        a = self.slix('sa')
        b = self.slix('sb')

        async def prefs():
            iq = b.xmpp.make_iq_set()
            iq.append(ET.fromstring("<prefs xmlns='%s' default='always'/>"
                                    % NS_MAM))
            return await iq.send()
        self.assertEqual(in_loop(prefs)['type'], 'result')
        # b archives; a's first message reveals it and is not recorded.
        sent = []
        for i in range(11):
            body = uid('slix%d' % i)
            a.send_message('sb@localhost', body)
            m = b.message(lambda d: d['body'] == body)
            sent.append((body, m['xml']))
        notice = a.message(lambda d: d['from'] == 'localhost' and
                           NS_ARCH in d['xml'])
        arch = ET.fromstring(notice['xml']).find(q(NS_ARCH, 'archiving'))
        self.assertEqual((arch.get('by'), arch.get('state')),
                         ('sb@localhost', 'on'), notice['xml'])

        async def page_all():
            got = []
            async for msg in b.xmpp['xep_0313'].iterate(
                    with_jid='sa@localhost', rsm={'max': 3}):
                got.append((msg['mam_result']['id'],
                            msg['mam_result']['forwarded']['stanza']
                            ['body']))
            return got
        got = in_loop(page_all)
        bodies = [x for x, _ in sent]
        self.assertEqual([b_ for _, b_ in got], bodies[1:],
                         'paged archive differs from what was sent')
        # Each archived message reached sb with a stanza-id equal to its
        # archive id; the first (unrecorded) one carried none.
        for (body, xml), (mid, _) in zip(sent[1:], got):
            el = ET.fromstring(xml)
            sid = el.find(q(NS_SID, 'stanza-id'))
            self.assertIsNotNone(sid, xml)
            self.assertEqual((sid.get('by'), sid.get('id')),
                             ('sb@localhost', mid), xml)
        self.assertIsNone(ET.fromstring(sent[0][1]).find(
            q(NS_SID, 'stanza-id')), sent[0][1])
