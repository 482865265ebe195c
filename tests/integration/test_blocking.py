"""Blocking (XEP-0191) with AOL's meaning, and spam reports (XEP-0377).

A block hides the two users from each other and stops traffic both ways,
at once and across restarts: the blocker is told (not-acceptable with
<blocked xmlns='urn:xmpp:blocking:errors'/>), the blocked is not (the
blocker looks like an unknown account or an offline resource, presence
vanishes without a word).  Unblocking brings presence back.  A report
inside a block item blocks and lands in `parleyctl reports` without any
message body.
"""

import json

from harness import q, NS_CLIENT, NS_DISCO_INFO, NS_PING
from im_util import (IMTestCase, IM, login, s, uid, body_of, error_of,
                     restart, is_presence, make_both, bare, NS_VCARD)
from test_pep import (caps_presence, notify_features, publish, payload,
                      is_event, items_req, NS_PUBSUB)

NS_BLOCKING = 'urn:xmpp:blocking'
NS_BLOCKING_ERRORS = 'urn:xmpp:blocking:errors'
NS_REPORTING = 'urn:xmpp:reporting:1'
NS_REPORTING_0 = 'urn:xmpp:reporting:0'
NS_SID = 'urn:xmpp:sid:0'
NS_CONSENT = 'urn:parley:consent:0'


def is_msg(e, body=None, frm_bare=None):
    return e.tag == q(NS_CLIENT, 'message') and \
        (body is None or body_of(e) == body) and \
        (frm_bare is None or bare(e.get('from')) == frm_bare)


def is_block_push(e, what, jids=None):
    """An iq set with <block/> or <unblock/> (with exactly these items)."""
    if e.tag != q(NS_CLIENT, 'iq') or e.get('type') != 'set':
        return False
    el = e.find(q(NS_BLOCKING, what))
    if el is None:
        return False
    return jids is None or sorted(
        i.get('jid') for i in el.findall(q(NS_BLOCKING, 'item'))) == \
        sorted(jids)


def items_xml(jids):
    return ''.join("<item jid='%s'/>" % j for j in jids)


class Blocking:
    """The protocol, driven by hand on an IM client."""

    @staticmethod
    def blocklist(c):
        el = c.iq("<blocklist xmlns='%s'/>" % NS_BLOCKING)
        assert el.get('type') == 'result', s(el)
        bl = el.find(q(NS_BLOCKING, 'blocklist'))
        assert bl is not None, s(el)
        return sorted(i.get('jid') for i in bl.findall(q(NS_BLOCKING,
                                                          'item')))

    @staticmethod
    def block(c, *jids, inner=None):
        return c.iq("<block xmlns='%s'>%s</block>" % (
            NS_BLOCKING, items_xml(jids) if inner is None else inner), 'set')

    @staticmethod
    def unblock(c, *jids):
        return c.iq("<unblock xmlns='%s'>%s</unblock>"
                    % (NS_BLOCKING, items_xml(jids)), 'set')


def ok(el):
    assert el.get('type') == 'result', s(el)
    return el


def assert_blocked_error(el):
    """XEP-0191 3.3: the blocker's own attempt."""
    cond, etype, text = error_of(el)
    assert cond == 'not-acceptable', s(el)
    assert etype == 'cancel', s(el)
    assert text, 'no <text/>: %s' % s(el)
    err = el.find(q(NS_CLIENT, 'error'))
    assert err.find(q(NS_BLOCKING_ERRORS, 'blocked')) is not None, s(el)


def no_blocked_marker(el):
    err = el.find(q(NS_CLIENT, 'error'))
    return err is None or err.find(q(NS_BLOCKING_ERRORS, 'blocked')) is None


class BlockingTest(IMTestCase, Blocking):

    def users(self, *names):
        """Fresh accounts for one test: {name: local}."""
        out = {}
        for n in names:
            local = uid(n).lower()
            self.server.add_user(local, local + '-pw')
            out[n] = local
        return out

    def test_disco_lists_blocking_and_reporting(self):
        u = self.users('a')
        a = login(self.server, u['a'])
        for to in ('localhost', a.bare_jid):
            el = a.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=to)
            feats = [f.get('var') for f in el.find(
                q(NS_DISCO_INFO, 'query')).findall(q(NS_DISCO_INFO,
                                                     'feature'))]
            self.assertIn(NS_BLOCKING, feats, s(el))
            self.assertIn(NS_REPORTING, feats, s(el))

    def test_block_unblock_pushes_and_normalisation(self):
        u = self.users('a', 'x', 'y')
        a1 = login(self.server, u['a'], 'one')
        a2 = login(self.server, u['a'], 'two')
        a3 = login(self.server, u['a'], 'three')    # never asks the list
        self.assertEqual(self.blocklist(a1), [])
        self.assertEqual(self.blocklist(a2), [])
        x = '%s@localhost' % u['x']
        y = '%s@localhost/Phone' % u['y']
        # Normalised: localpart and domain lower-cased, resource kept.
        ok(self.block(a1, x.upper().replace('LOCALHOST', 'LocalHost'), y,
                      x))
        for c in (a1, a2):
            p = c.expect(lambda e: is_block_push(e, 'block', [x, y]),
                         what='block push')
            self.assertEqual(p.get('to'), c.jid, s(p))
        a3.nothing(lambda e: is_block_push(e, 'block'), 'a push to a '
                   'resource that never asked for the blocklist')
        self.assertEqual(self.blocklist(a3), sorted([x, y]))
        ok(self.unblock(a2, y))
        for c in (a1, a2):
            c.expect(lambda e: is_block_push(e, 'unblock', [y]),
                     what='unblock push')
        self.assertEqual(self.blocklist(a1), [x])
        # Nobody else can read or change the list.
        other = login(self.server, u['x'])
        el = other.iq("<blocklist xmlns='%s'/>" % NS_BLOCKING,
                      to=a1.bare_jid)
        self.assertEqual(error_of(el)[0], 'service-unavailable', s(el))

    def test_block_all_and_unblock_all(self):
        u = self.users('a', 'b')
        a1 = login(self.server, u['a'], 'one')
        a2 = login(self.server, u['a'], 'two')
        self.blocklist(a2)
        jids = ['%s@localhost' % u['b'], 'spam.example', 'x@spam.example/r',
                'spam.example/res']
        ok(self.block(a1, *jids))
        a2.expect(lambda e: is_block_push(e, 'block', jids))
        self.assertEqual(self.blocklist(a1), sorted(jids))
        ok(a1.iq("<unblock xmlns='%s'/>" % NS_BLOCKING, 'set'))
        # The push for everything is an empty <unblock/>.
        p = a2.expect(lambda e: is_block_push(e, 'unblock', []),
                      what='unblock-all push')
        self.assertEqual(len(p.find(q(NS_BLOCKING, 'unblock'))), 0, s(p))
        self.assertEqual(self.blocklist(a1), [])
        self.assertEqual(self.blocklist(a2), [])

    def test_malformed_requests(self):
        u = self.users('a', 'b', 'c', 'd')
        a = login(self.server, u['a'])
        c = login(self.server, u['c'])
        d = login(self.server, u['d'])
        b = '%s@localhost' % u['b']
        ok(self.block(a, b))
        cases = [
            ('', 'bad-request'),                          # no item
            ("<item/>", 'bad-request'),                   # no jid
            ("<item jid=''/>", 'jid-malformed'),
            ("<item jid='a@@b'/>", 'jid-malformed'),
            ("<item jid='x@bad domain'/>", 'jid-malformed'),
            ("<item jid='%s'/>" % a.bare_jid, 'not-acceptable'),  # self
            ("<item jid='%s/other'/>" % a.bare_jid, 'not-acceptable'),
            # All or nothing: a good item beside a bad one is not kept.
            ("<item jid='good@localhost'/><item jid='@x'/>",
             'jid-malformed'),
        ]
        for inner, want in cases:
            el = self.block(a, inner=inner)
            cond, etype, text = error_of(el)
            self.assertEqual(cond, want, '%r: %s' % (inner, s(el)))
            self.assertTrue(text, 'no <text/>: %s' % s(el))
            # The others keep chatting meanwhile.
            body = uid('still here')
            c.chat(d.jid, body)
            d.expect_body(body)
        el = a.iq("<unblock xmlns='%s'><item jid='a@@b'/></unblock>"
                  % NS_BLOCKING, 'set')
        self.assertEqual(error_of(el)[0], 'jid-malformed', s(el))
        self.assertEqual(self.blocklist(a), [b])

    def test_messages_stop_both_ways(self):
        u = self.users('a', 'b', 'c')
        a = login(self.server, u['a'])
        b = login(self.server, u['b'])
        c = login(self.server, u['c'])
        ok(self.block(a, b.bare_jid))
        # Blocker to blocked: told why, nothing arrives.
        for to in (b.bare_jid, b.jid):
            body = uid('from a')
            a.chat(to, body)
            el = a.expect(lambda e: is_msg(e) and e.get('type') == 'error',
                          what='error for %s' % to)
            assert_blocked_error(el)
            b.nothing(lambda e: is_msg(e, body), 'the blocked message')
        # Blocked to blocker: as if the account did not exist.
        ghost = 'nobody-%s@localhost' % uid()
        b.chat(ghost, 'hello?')
        want = error_of(b.expect(lambda e: is_msg(e) and
                                 e.get('type') == 'error'))
        for to in (a.bare_jid, a.jid):
            body = uid('from b')
            b.chat(to, body)
            el = b.expect(lambda e: is_msg(e) and e.get('type') == 'error',
                          what='error for %s' % to)
            self.assertEqual(error_of(el), want, s(el))
            self.assertTrue(no_blocked_marker(el), s(el))
            a.nothing(lambda e: is_msg(e, body), 'a message from b')
        # Others are untouched, both ways.
        for x, y in ((a, c), (c, a), (b, c), (c, b)):
            body = uid('free')
            x.chat(y.jid, body)
            y.expect_body(body)

    def test_iqs_stop_both_ways(self):
        u = self.users('a', 'b', 'c')
        a = login(self.server, u['a'], 'res')
        b = login(self.server, u['b'], 'res')
        make_both(a, b)
        ok(self.block(a, b.bare_jid))
        ping = "<ping xmlns='%s'/>" % NS_PING
        el = a.iq(ping, to=b.jid)
        assert_blocked_error(el)
        el = a.iq("<vCard xmlns='%s'/>" % NS_VCARD, to=b.bare_jid)
        assert_blocked_error(el)
        # The blocked one gets what an offline resource or a stranger
        # gets.
        offline = error_of(b.iq(ping, to=a.bare_jid + '/gone'))
        el = b.iq(ping, to=a.jid)
        self.assertEqual(error_of(el), offline, s(el))
        self.assertTrue(no_blocked_marker(el), s(el))
        # For the account: what a stranger gets, so the block does not
        # show; an error every time, even for an open PEP node.
        stranger = login(self.server, u['c'])
        ok(publish(a, 'urn:test:open', payload('public'), 'p1',
                   access_model='open'))
        ok(items_req(stranger, 'urn:test:open', to=a.bare_jid))
        for body, like in (
                ("<vCard xmlns='%s'/>" % NS_VCARD, None),
                ("<query xmlns='%s'/>" % NS_DISCO_INFO, None),
                ("<query xmlns='jabber:iq:private'><x xmlns='urn:x'/>"
                 "</query>", None),
                ("<query xmlns='jabber:iq:roster'/>", None),
                ("<pubsub xmlns='%s'><items node='urn:test:open'/>"
                 "</pubsub>" % NS_PUBSUB,
                 "<pubsub xmlns='%s'><items node='urn:test:none'/>"
                 "</pubsub>" % NS_PUBSUB)):
            el = b.iq(body, to=a.bare_jid)
            want = stranger.iq(like or body, to=a.bare_jid)
            self.assertEqual(error_of(el), error_of(want), s(el))
            self.assertTrue(no_blocked_marker(el), s(el))
        a.nothing(lambda e: e.tag == q(NS_CLIENT, 'iq') and
                  e.get('from', '').startswith(b.bare_jid), 'an iq from b')
        b.nothing(lambda e: e.tag == q(NS_CLIENT, 'iq') and
                  e.get('from', '').startswith(a.bare_jid), 'an iq from a')

    def test_presence_stops_at_once_and_comes_back(self):
        u = self.users('a', 'b')
        a = login(self.server, u['a'], 'a1', roster=True, status='a here')
        b = login(self.server, u['b'], 'b1', roster=True, status='b here')
        make_both(a, b)
        a.available(status='a again')
        b.expect_presence(frm=a.jid, ptype='')
        b.available(status='b again')
        a.expect_presence(frm=b.jid, ptype='')
        ok(self.block(a, b.bare_jid))
        # Both sides see the other go, at once.
        a.expect_presence(frm=b.jid, ptype='unavailable')
        b.expect_presence(frm=a.jid, ptype='unavailable')
        # Nothing crosses afterwards: updates, directed presence,
        # probes, new resources, subscription requests.
        a.available(status='a hidden')
        b.available(status='b hidden')
        b.available(status='b directed', to=a.jid)
        b.send("<presence type='probe' to='%s'/>" % a.bare_jid)
        b.sub(a.bare_jid, 'unsubscribe')
        b.sub(a.bare_jid, 'subscribe')
        b2 = login(self.server, u['b'], 'b2', status='b2')
        a2 = login(self.server, u['a'], 'a2', status='a2')
        for x, y, z in ((a, b, b2), (a2, b, b2), (b, a, a2), (b2, a, a2)):
            x.nothing(lambda e: is_presence(e, frm_bare=y.bare_jid) and
                      e.get('type') != 'unavailable',
                      'presence across the block')
        # The blocker's own presence stanzas to b are refused, told.
        a.available(to=b.jid)
        assert_blocked_error(a.expect(
            lambda e: is_presence(e, ptype='error')))
        a.sub(b.bare_jid, 'subscribe')
        assert_blocked_error(a.expect(
            lambda e: is_presence(e, ptype='error')))
        # b never sees an error for its presence.
        b.nothing(lambda e: is_presence(e, ptype='error'), 'an error')
        b2.logout()
        a2.logout()
        a.drop()
        b.drop()
        ok(self.unblock(a, b.bare_jid))
        # Back: each sees the other's current presence at once.
        p = b.expect_presence(frm=a.jid, ptype='')
        self.assertEqual(p.find(q(NS_CLIENT, 'status')).text, 'a hidden')
        p = a.expect_presence(frm=b.jid, ptype='')
        # (the last broadcast one: directed presence is not kept)
        self.assertEqual(p.find(q(NS_CLIENT, 'status')).text, 'b hidden')
        a.available(status='a free')
        b.expect_presence(frm=a.jid, ptype='')
        body = uid('again')
        b.chat(a.jid, body)
        a.expect_body(body)

    def test_pep_events_stop(self):
        u = self.users('a', 'b')
        a = login(self.server, u['a'], 'a', roster=True)
        b = login(self.server, u['b'], 'b', roster=True)
        make_both(a, b)
        node = 'urn:test:blocking'
        feats = notify_features(node)
        bn = IM(self.server).start(u['b'], resource='n', presence=False)
        ver = caps_presence(bn, feats)
        ok(publish(a, node, payload('before'), 'i1'))
        bn.expect(lambda e: is_event(e, a.bare_jid, node), what='event')
        ok(self.block(a, b.bare_jid))
        ok(publish(a, node, payload('after'), 'i2'))
        bn.nothing(lambda e: is_event(e, a.bare_jid), 'an event from a')
        # Nor the last item for a new resource of b.
        b2 = IM(self.server).start(u['b'], resource='n2', presence=False)
        caps_presence(b2, feats, ver=ver, answer=False)
        b2.nothing(lambda e: is_event(e, a.bare_jid), 'a last item from a')

    def test_either_side_blocking_is_enough(self):
        u = self.users('a', 'b')
        a = login(self.server, u['a'])
        b = login(self.server, u['b'])
        ok(self.block(b, a.bare_jid))   # b blocks a this time
        body = uid('a to b')
        a.chat(b.jid, body)
        el = a.expect(lambda e: is_msg(e) and e.get('type') == 'error')
        self.assertEqual(error_of(el)[0], 'service-unavailable', s(el))
        b.nothing(lambda e: is_msg(e, body), 'the message')
        # Both block: the blocker side is told, whoever sends.
        ok(self.block(a, b.bare_jid))
        a.chat(b.jid, 'x')
        assert_blocked_error(a.expect(lambda e: is_msg(e) and
                                      e.get('type') == 'error'))

    def test_subscription_requests_do_not_reach_the_blocker(self):
        u = self.users('a', 's', 'e')
        # A request stored before the block is not shown while it lasts.
        early = login(self.server, u['e'], roster=True)
        early.sub('%s@localhost' % u['a'], 'subscribe')
        early.ping()
        a = login(self.server, u['a'], roster=True)
        a.expect_presence(frm_bare=early.bare_jid, ptype='subscribe')
        ok(self.block(a, early.bare_jid))
        a.logout()
        a = login(self.server, u['a'], roster=True)
        a.nothing(lambda e: is_presence(e, frm_bare=early.bare_jid),
                  'a request stored before the block')
        st = login(self.server, u['s'], roster=True)
        ok(self.block(a, st.bare_jid))
        st.sub(a.bare_jid, 'subscribe')
        st.ping()
        a.nothing(lambda e: is_presence(e, frm_bare=st.bare_jid),
                  'a request from the blocked')
        self.assertNotIn(st.bare_jid, a.items() or {})
        # Not at the next login either.
        a.logout()
        a = login(self.server, u['a'], roster=True)
        a.nothing(lambda e: is_presence(e, frm_bare=st.bare_jid),
                  'a stored request from the blocked')

    def test_domain_and_resource_items(self):
        u = self.users('a', 'b', 'c')
        a = login(self.server, u['a'])
        b_phone = login(self.server, u['b'], 'phone')
        b_desk = login(self.server, u['b'], 'desk')
        c = login(self.server, u['c'])
        # A full JID blocks that resource only.
        ok(self.block(a, b_phone.jid))
        body = uid('phone')
        b_phone.chat(a.jid, body)
        self.assertEqual(error_of(b_phone.expect(
            lambda e: is_msg(e) and e.get('type') == 'error'))[0],
            'service-unavailable')
        body = uid('desk')
        b_desk.chat(a.jid, body)
        a.expect_body(body)
        # The own domain: everyone else on the server.
        ok(self.block(a, 'localhost'))
        body = uid('c')
        c.chat(a.jid, body)
        self.assertEqual(error_of(c.expect(
            lambda e: is_msg(e) and e.get('type') == 'error'))[0],
            'service-unavailable')
        a.chat(c.jid, 'x')
        assert_blocked_error(a.expect(lambda e: is_msg(e) and
                                      e.get('type') == 'error'))
        # Never one's own resources.
        a2 = login(self.server, u['a'], 'two')
        body = uid('self')
        a2.chat(a.jid, body)
        a.expect_body(body)
        ok(self.unblock(a, 'localhost'))
        body = uid('c again')
        c.chat(a.jid, body)
        a.expect_body(body)

    def test_offline_messages(self):
        u = self.users('a', 'b', 'c')
        b = login(self.server, u['b'])
        # Stored before the block: deleted by it.
        early = uid('stored before')
        b.chat('%s@localhost' % u['a'], early)
        b.ping()
        a = login(self.server, u['a'], presence=False)
        ok(self.block(a, b.bare_jid))
        a.logout()
        # To an offline blocker: refused, not stored.
        late = uid('while offline')
        b.chat('%s@localhost' % u['a'], late)
        el = b.expect(lambda e: is_msg(e) and e.get('type') == 'error')
        self.assertEqual(error_of(el)[0], 'service-unavailable', s(el))
        a = login(self.server, u['a'])
        a.nothing(lambda e: is_msg(e), 'an offline message from b')
        # Both ways: what the blocker left waiting for c goes too.
        a.chat('%s@localhost' % u['c'], uid('to offline c'))
        a.nothing(lambda e: is_msg(e) and e.get('type') == 'error',
                  'an error (the message is stored)')
        ok(self.block(a, '%s@localhost' % u['c']))
        c = login(self.server, u['c'])
        c.nothing(lambda e: is_msg(e), 'an offline message from a')

    def test_survives_restart(self):
        u = self.users('a', 'b')
        a = login(self.server, u['a'])
        ok(self.block(a, '%s@localhost' % u['b']))
        a.logout()
        restart(self.server)
        a = login(self.server, u['a'])
        b = login(self.server, u['b'])
        self.assertEqual(self.blocklist(a), [b.bare_jid])
        b.chat(a.jid, 'after restart')
        self.assertEqual(error_of(b.expect(
            lambda e: is_msg(e) and e.get('type') == 'error'))[0],
            'service-unavailable')
        a.chat(b.jid, 'after restart')
        assert_blocked_error(a.expect(lambda e: is_msg(e) and
                                      e.get('type') == 'error'))
        b.nothing(lambda e: is_msg(e), 'a message across the block')
        a.nothing(lambda e: is_msg(e) and e.get('type') != 'error',
                  'a message across the block')


class ReportTest(IMTestCase, Blocking):
    """Reports go to the queue with what the server knows, no body.
    Strangers need consent here, to see held messages counted."""
    CONFIG = {'policy': {'first_contact': 'contacts'}}
    USERS = {u: u + '-pw' for u in ('victim', 'spammer', 'friend',
                                    'old', 'quiet', 'flood')}

    def reports(self):
        r = self.server.ctl('reports', '--json')
        self.assertEqual(r.returncode, 0, r.stderr)
        return r, json.loads(r.stdout)

    def test_report_blocks_and_is_queued_without_body(self):
        victim = login(self.server, 'victim', roster=True)
        spammer = login(self.server, 'spammer', roster=True)
        friend = login(self.server, 'friend', roster=True)
        make_both(victim, friend)
        secret = uid('BUY-NOW-secret-body')
        # A stranger's messages are held for consent (im/consent.c).
        for i in range(2):
            spammer.chat(victim.bare_jid, '%s %d' % (secret, i))
        victim.expect(lambda e: is_presence(e, frm_bare=spammer.bare_jid,
                                            ptype='subscribe'))
        # Delivered messages from a contact are counted too.
        for i in range(3):
            friend.chat(victim.jid, 'hi %d' % i)
            victim.expect_body('hi %d' % i)
        inner = ("<item jid='%s'><report xmlns='%s' "
                 "reason='urn:xmpp:reporting:spam'>"
                 "<stanza-id xmlns='%s' by='%s' id='sid-1'/>"
                 "<stanza-id xmlns='%s' by='%s' id='sid-2'/>"
                 "<text xml:lang='en'>sells \"things\"\n line two</text>"
                 "</report></item>"
                 "<item jid='%s'><report xmlns='%s' "
                 "reason='urn:xmpp:reporting:abuse'/></item>"
                 % (spammer.bare_jid, NS_REPORTING, NS_SID, victim.bare_jid,
                    NS_SID, victim.bare_jid, friend.bare_jid, NS_REPORTING))
        ok(self.block(victim, inner=inner))
        self.assertEqual(self.blocklist(victim),
                         sorted([spammer.bare_jid, friend.bare_jid]))
        # Blocked like any item.
        spammer.chat(victim.jid, 'more')
        self.assertEqual(error_of(spammer.expect(
            lambda e: is_msg(e) and e.get('type') == 'error'))[0],
            'service-unavailable')
        r, got = self.reports()
        self.assertNotIn('BUY-NOW', r.stdout)
        mine = [x for x in got if x['reporter'] == victim.bare_jid]
        self.assertEqual(len(mine), 2, got)
        spam = [x for x in mine if x['reported'] == spammer.bare_jid][0]
        self.assertEqual(spam['reason'], 'urn:xmpp:reporting:spam')
        self.assertEqual(spam['text'], 'sells "things"\n line two')
        self.assertEqual(spam['stanza_ids'], ['sid-1', 'sid-2'])
        self.assertEqual(spam['held_deleted'], 2, spam)
        self.assertIsInstance(spam['reported_created'], str)
        abuse = [x for x in mine if x['reported'] == friend.bare_jid][0]
        self.assertEqual(abuse['reason'], 'urn:xmpp:reporting:abuse')
        self.assertEqual(abuse['received'], 3, abuse)
        self.assertEqual(abuse['roster'], 'both', abuse)
        self.assertIsNone(abuse['text'])
        # The plain listing: one line per report, no body either.
        plain = self.server.ctl('reports')
        self.assertEqual(plain.returncode, 0, plain.stderr)
        lines = plain.stdout.splitlines()
        self.assertEqual(len(lines), len(got), plain.stdout)
        self.assertNotIn('BUY-NOW', plain.stdout)
        line = [x for x in lines if spammer.bare_jid in x][0]
        self.assertIn('urn:xmpp:reporting:spam', line)
        self.assertIn('held_deleted=2', line)
        self.assertIn('ids=sid-1,sid-2', line)
        # The held messages went with the block: accepting later brings
        # nothing.
        ok(self.unblock(victim, spammer.bare_jid))
        victim.sub(spammer.bare_jid, 'subscribed')
        victim.nothing(lambda e: is_msg(e, frm_bare=spammer.bare_jid),
                       'a held message after the block')

    def test_old_report_form_and_bad_reports(self):
        old = login(self.server, 'old')
        el = self.block(old, inner="<item jid='x@localhost'><report "
                        "xmlns='%s' reason=''/></item>" % NS_REPORTING)
        cond, _, text = error_of(el)
        self.assertEqual(cond, 'bad-request', s(el))
        self.assertTrue(text)
        self.assertEqual(self.blocklist(old), [])
        ok(self.block(old, inner="<item jid='y@localhost'><report "
                      "xmlns='%s'><abuse/><text>old style</text></report>"
                      "</item>" % NS_REPORTING_0))
        _, got = self.reports()
        mine = [x for x in got if x['reporter'] == old.bare_jid]
        self.assertEqual(len(mine), 1, got)
        self.assertEqual(mine[0]['reason'], 'urn:xmpp:reporting:abuse')
        self.assertEqual(mine[0]['text'], 'old style')
        self.assertIsNone(mine[0]['reported_created'])  # no such account

    def test_a_user_cannot_flood_the_queue(self):
        flood = login(self.server, 'flood')
        inner = ''.join("<item jid='f%d@localhost'><report xmlns='%s' "
                        "reason='urn:xmpp:reporting:spam'/></item>"
                        % (i, NS_REPORTING) for i in range(105))
        ok(self.block(flood, inner=inner))
        self.assertEqual(len(self.blocklist(flood)), 105)
        _, got = self.reports()
        self.assertEqual(len([x for x in got
                              if x['reporter'] == flood.bare_jid]), 100)


class EmptyQueueTest(IMTestCase):

    def test_no_reports_prints_nothing(self):
        r = self.server.ctl('reports')
        self.assertEqual((r.returncode, r.stdout), (0, ''), r.stderr)
        r = self.server.ctl('reports', '--json')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), [])
        r = self.server.ctl('reports', '--xml')
        self.assertEqual(r.returncode, 2, r.stdout)


class LimitTest(IMTestCase, Blocking):
    CONFIG = {'limits': {'max_blocklist_items': 3}}
    USERS = {'lim': 'lim-pw'}

    def test_item_limit(self):
        c = login(self.server, 'lim')
        ok(self.block(c, 'a@localhost', 'b@localhost'))
        el = self.block(c, 'c@localhost', 'd@localhost')
        cond, _, text = error_of(el)
        self.assertEqual(cond, 'not-acceptable', s(el))
        self.assertIn('3', text)
        self.assertEqual(self.blocklist(c), ['a@localhost', 'b@localhost'])
        # Items already listed cost nothing.
        ok(self.block(c, 'a@localhost', 'c@localhost'))
        self.assertEqual(len(self.blocklist(c)), 3)
