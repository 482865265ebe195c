"""Client state indication (XEP-0352), private XML storage (XEP-0049),
vCard-temp (XEP-0054) and service discovery (XEP-0030) of the server and
of accounts."""

import xml.etree.ElementTree as ET

from harness import q, NS_CLIENT, NS_DISCO_INFO, NS_PING
from im_util import (IMTestCase, login, s, uid, error_of,
                     is_presence, status_of, make_both, make_from_to,
                     features_after_auth,
                     NS_CSI, NS_PRIVATE, NS_VCARD, NS_DISCO_ITEMS,
                     NS_CARBONS, NS_OFFLINE)


def users(*names):
    return {n: n + '-pw' for n in names}


def is_msg(e):
    return e.tag == q(NS_CLIENT, 'message')


# --------------------------------------------------------------------------
# XEP-0352

class CsiTest(IMTestCase):
    CONFIG = {'limits': {'max_csi_held': 3}}
    USERS = users('w', 'x', 'y', 'v', 'u', 'z', 'nr')

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        srv = cls.server
        w = login(srv, 'w', 'setup', roster=True)
        others = [login(srv, n, 'setup', roster=True)
                  for n in ('x', 'y', 'v', 'u')]
        for o in others:
            make_both(w, o)
        for c in [w] + others:
            c.logout()

    def online(self, *names):
        cs = [login(self.server, n, uid(n)) for n in names]
        for c in cs:
            c.ping()
        for c in cs:
            c.ping()
            c.drop()
        return cs

    def inactive(self, w):
        w.send("<inactive xmlns='%s'/>" % NS_CSI)
        # Nothing is held yet, so this answer releases nothing: it only
        # makes sure <inactive/> was processed.
        w.ping()

    def test_feature_advertised(self):
        feats = features_after_auth(self.server, 'nr', 'nr-pw')
        self.assertIsNotNone(feats.find(q(NS_CSI, 'csi')), s(feats))

    def test_message_releases_newest_presence_first(self):
        w, x, y = self.online('w', 'x', 'y')
        self.inactive(w)
        for i in (1, 2, 3):
            x.available(status='x %d' % i)
        y.available(status='y 1')
        x.ping()
        y.ping()
        w.quiet(lambda e: is_presence(e), 0.4, 'presence while inactive')
        body = uid('wake up')
        x.chat(w.jid, body)
        m = w.expect_body(body)
        px = w.expect_presence(frm=x.jid)
        py = w.expect_presence(frm=y.jid)
        self.assertEqual(status_of(px), 'x 3')
        self.assertEqual(status_of(py), 'y 1')
        # Held presence goes out before the message (order preserved).
        self.assertLess(w.order(px), w.order(m))
        self.assertLess(w.order(py), w.order(m))
        # Only the newest of each sender.
        seen = [status_of(e) for e in w.arrived if is_presence(e)]
        self.assertNotIn('x 1', seen)
        self.assertNotIn('x 2', seen)
        # Messages are not held.
        body2 = uid('second')
        y.chat(w.jid, body2)
        w.expect_body(body2, timeout=2)

    def test_active_flushes(self):
        w, x = self.online('w', 'x')
        self.inactive(w)
        x.available(status='while away 1')
        x.available(status='while away 2')
        x.ping()
        w.quiet(is_presence, 0.3, 'presence while inactive')
        w.send("<active xmlns='%s'/>" % NS_CSI)
        p = w.expect_presence(frm=x.jid, timeout=2)
        self.assertEqual(status_of(p), 'while away 2')
        w.nothing(lambda e: is_presence(e, frm=x.jid), 'the older presence')
        # Active again: presence is immediate.
        x.available(status='live')
        p = w.expect_presence(frm=x.jid, timeout=2)
        self.assertEqual(status_of(p), 'live')

    def test_held_presence_is_bounded(self):
        # [limits] max_csi_held = 3: a fourth sender flushes the queue.
        w, x, y, v, u = self.online('w', 'x', 'y', 'v', 'u')
        self.inactive(w)
        for c in (x, y, v):
            c.available(status='held')
            c.ping()
        w.quiet(is_presence, 0.3, 'presence while inactive (under limit)')
        u.available(status='one too many')
        got = [w.expect_presence(frm=c.jid, timeout=2) for c in (x, y, v)]
        self.assertEqual([status_of(p) for p in got], ['held'] * 3)

    def test_subscription_presence_is_not_lost(self):
        # A 'subscribed' (approval) and a following 'subscribe' from the
        # same contact are two different things, not two versions of one
        # presence: neither may be dropped (RFC 6121 3.1.5/3.1.6 and 3.1.3
        # require delivery to the available resources).
        nr = login(self.server, 'nr', uid('nr'))   # did not fetch roster
        z = login(self.server, 'z', uid('z'), roster=True)
        nr.sub('z@localhost', 'subscribe')
        z.expect_presence(frm='nr@localhost', ptype='subscribe')
        self.inactive(nr)
        z.sub('nr@localhost', 'subscribed')
        z.sub('nr@localhost', 'subscribe')
        z.ping()
        nr.send("<active xmlns='%s'/>" % NS_CSI)
        nr.expect_presence(frm='z@localhost', ptype='subscribe', timeout=2)
        try:
            nr.expect_presence(frm='z@localhost', ptype='subscribed',
                               timeout=1)
        except AssertionError:
            raise AssertionError(
                "the 'subscribed' sent to an inactive (CSI) session was "
                "replaced by the later 'subscribe' from the same bare JID "
                "and never delivered; got: %s" % [
                    s(e) for e in nr.arrived if is_presence(e)])


# --------------------------------------------------------------------------
# XEP-0049

BOOKMARKS = ("<storage xmlns='storage:bookmarks'><conference "
             "jid='room@conference.example.org' autojoin='true' "
             "name='The Room'><nick>me</nick></conference></storage>")


class PrivateStorageTest(IMTestCase):
    CONFIG = {'limits': {'max_private_size': 1024}}
    USERS = users('priv', 'snoop')

    def private(self, c, body, iq_type='get', to=None):
        return c.iq("<query xmlns='%s'>%s</query>" % (NS_PRIVATE, body),
                    iq_type, to=to)

    def get_bookmarks(self, c, to=None):
        el = self.private(c, "<storage xmlns='storage:bookmarks'/>", to=to)
        self.assertEqual(el.get('type'), 'result', s(el))
        st = el.find(q(NS_PRIVATE, 'query')).find(
            q('storage:bookmarks', 'storage'))
        self.assertIsNotNone(st, s(el))
        return el, st

    def test_round_trip(self):
        c = login(self.server, 'priv', presence=False)
        el = self.private(c, BOOKMARKS, 'set')
        self.assertEqual(el.get('type'), 'result', s(el))
        el, st = self.get_bookmarks(c)
        conf = st.find(q('storage:bookmarks', 'conference'))
        self.assertIsNotNone(conf, 'stored bookmarks not returned: %s'
                             % s(el))
        self.assertEqual(conf.get('jid'), 'room@conference.example.org')
        self.assertEqual(conf.get('autojoin'), 'true')
        self.assertEqual(conf.get('name'), 'The Room')
        self.assertEqual(conf.find(q('storage:bookmarks', 'nick')).text,
                         'me')
        # A new session sees the same.
        c2 = login(self.server, 'priv', presence=False)
        el, st = self.get_bookmarks(c2)
        self.assertIn(b'The Room', ET.tostring(el))
        # Overwrite with an empty one.
        el = self.private(c, "<storage xmlns='storage:bookmarks'/>", 'set')
        self.assertEqual(el.get('type'), 'result', s(el))
        el, st = self.get_bookmarks(c)
        self.assertEqual(len(list(st)), 0, s(el))

    def test_unset_namespace_is_empty(self):
        c = login(self.server, 'priv', presence=False)
        el = self.private(c, "<prefs xmlns='urn:example:prefs'/>")
        self.assertEqual(el.get('type'), 'result', s(el))
        pr = el.find(q(NS_PRIVATE, 'query')).find(
            q('urn:example:prefs', 'prefs'))
        self.assertIsNotNone(pr, s(el))
        self.assertEqual(len(list(pr)), 0, s(el))

    def test_other_users_are_forbidden(self):
        c = login(self.server, 'priv', presence=False)
        self.private(c, BOOKMARKS, 'set')
        # XEP-0049 3: reading or writing another user's data: forbidden.
        o = login(self.server, 'snoop', presence=False)
        el = self.private(o, "<storage xmlns='storage:bookmarks'/>",
                          to='priv@localhost')
        self.assertEqual(error_of(el)[0], 'forbidden', s(el))
        el = self.private(o, "<storage xmlns='storage:bookmarks'/>", 'set',
                          to='priv@localhost')
        self.assertEqual(error_of(el)[0], 'forbidden', s(el))
        # The other user's own storage is separate.
        el, st = self.get_bookmarks(o)
        self.assertEqual(len(list(st)), 0, s(el))
        self.assertNotIn(b'The Room', bytes(o.received))

    def test_bad_requests(self):
        c = login(self.server, 'priv', presence=False)
        for iq_type in ('get', 'set'):
            for body in ('', "<x xmlns='jabber:iq:private'/>",
                         "<a xmlns='urn:a'/><b xmlns='urn:b'/>"):
                el = self.private(c, body, iq_type)
                self.assertEqual(error_of(el)[0], 'not-acceptable',
                                 '%s %r: %s' % (iq_type, body, s(el)))

    def test_size_limit(self):
        c = login(self.server, 'priv', presence=False)
        big = "<big xmlns='urn:example:big'>%s</big>" % ('z' * 1100)
        el = self.private(c, big, 'set')
        self.assertEqual(error_of(el)[0], 'not-acceptable', s(el))
        el = self.private(c, "<big xmlns='urn:example:big'/>")
        self.assertNotIn(b'zzzz', ET.tostring(el))
        small = "<big xmlns='urn:example:big'>%s</big>" % ('z' * 900)
        el = self.private(c, small, 'set')
        self.assertEqual(el.get('type'), 'result', s(el))


# --------------------------------------------------------------------------
# XEP-0054

VCARD = ("<vCard xmlns='vcard-temp'><FN>Vera Card</FN>"
         "<NICKNAME>vee</NICKNAME></vCard>")


class VCardTest(IMTestCase):
    CONFIG = {'limits': {'max_vcard_size': 1024}}
    USERS = users('vera', 'friend', 'fan', 'stranger', 'blank')

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        vera = login(cls.server, 'vera', 'setup', roster=True)
        friend = login(cls.server, 'friend', 'setup', roster=True)
        make_from_to(friend, vera)        # friend sees vera's presence
        vera.logout()
        friend.logout()

    def vcard(self, c, to=None, iq_type='get', body=None):
        return c.iq(body or "<vCard xmlns='vcard-temp'/>", iq_type, to=to)

    def test_empty_when_unset(self):
        c = login(self.server, 'blank', presence=False)
        el = self.vcard(c)
        self.assertEqual(el.get('type'), 'result', s(el))
        v = el.find(q(NS_VCARD, 'vCard'))
        self.assertIsNotNone(v, s(el))
        self.assertEqual(len(list(v)), 0, s(el))

    def set_vera(self):
        vera = login(self.server, 'vera', presence=False)
        el = self.vcard(vera, iq_type='set', body=VCARD)
        self.assertEqual(el.get('type'), 'result', s(el))
        return vera

    def test_set_and_get_own(self):
        vera = self.set_vera()
        for to in (None, 'vera@localhost'):
            el = self.vcard(vera, to=to)
            self.assertEqual(el.get('type'), 'result', s(el))
            fn = el.find(q(NS_VCARD, 'vCard')).find(q(NS_VCARD, 'FN'))
            self.assertIsNotNone(fn, s(el))
            self.assertEqual(fn.text, 'Vera Card', s(el))

    def test_contact_may_read(self):
        self.set_vera()
        friend = login(self.server, 'friend', presence=False)
        el = self.vcard(friend, to='vera@localhost')
        self.assertEqual(el.get('type'), 'result', s(el))
        self.assertEqual(el.get('from'), 'vera@localhost', s(el))
        nick = el.find(q(NS_VCARD, 'vCard')).find(q(NS_VCARD, 'NICKNAME'))
        self.assertIsNotNone(nick, s(el))
        self.assertEqual(nick.text, 'vee')

    def test_stranger_gets_what_a_nonexistent_account_gives(self):
        self.set_vera()
        st = login(self.server, 'stranger', presence=False)
        el1 = self.vcard(st, to='vera@localhost')
        el2 = self.vcard(st, to='no-such-user@localhost')
        e1, e2 = error_of(el1), error_of(el2)
        self.assertEqual(e1[0], 'service-unavailable', s(el1))
        self.assertEqual(e1, e2, '%s vs %s' % (s(el1), s(el2)))
        self.assertNotIn(b'Vera Card', bytes(st.received))
        # The relation is one-way: friend may see vera ('from' on vera's
        # side), vera may not see friend, so vera is a stranger to friend.
        vera = login(self.server, 'vera', presence=False)
        el = self.vcard(vera, to='friend@localhost')
        self.assertEqual(error_of(el)[0], 'service-unavailable', s(el))

    def test_only_the_owner_sets(self):
        self.set_vera()
        friend = login(self.server, 'friend', presence=False)
        el = self.vcard(friend, to='vera@localhost', iq_type='set',
                        body="<vCard xmlns='vcard-temp'><FN>Hacked</FN>"
                             "</vCard>")
        self.assertEqual(el.get('type'), 'error', s(el))
        vera = login(self.server, 'vera', presence=False)
        el = self.vcard(vera)
        self.assertNotIn(b'Hacked', ET.tostring(el))

    def test_size_limit(self):
        c = login(self.server, 'blank', presence=False)
        big = "<vCard xmlns='vcard-temp'><DESC>%s</DESC></vCard>" % (
            'd' * 1100)
        el = self.vcard(c, iq_type='set', body=big)
        self.assertEqual(error_of(el)[0], 'not-acceptable', s(el))
        el = self.vcard(c)
        self.assertNotIn(b'ddddd', ET.tostring(el))


# --------------------------------------------------------------------------
# XEP-0030

WORKING = {NS_PING, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_CARBONS, NS_PRIVATE,
           NS_VCARD, NS_OFFLINE,
           # XEP-0191 blocking and XEP-0377 reports (test_blocking.py)
           'urn:xmpp:blocking', 'urn:xmpp:reporting:1',
           'urn:xmpp:reporting:0',
           # XEP-0077 password change after login (test_register.py)
           'jabber:iq:register',
           # XEP-0363 HTTP upload, on the HTTPS port (test_upload.py)
           'urn:xmpp:http:upload:0'}


def features(el):
    qu = el.find(q(NS_DISCO_INFO, 'query'))
    return [f.get('var') for f in qu.findall(q(NS_DISCO_INFO, 'feature'))]


def identities(el):
    qu = el.find(q(NS_DISCO_INFO, 'query'))
    return [(i.get('category'), i.get('type'))
            for i in qu.findall(q(NS_DISCO_INFO, 'identity'))]


class DiscoTest(IMTestCase):
    USERS = users('me', 'sub', 'idol', 'stranger')

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        me = login(cls.server, 'me', 'setup', roster=True)
        sub = login(cls.server, 'sub', 'setup', roster=True)
        idol = login(cls.server, 'idol', 'setup', roster=True)
        make_from_to(sub, me)     # sub may see me's presence
        make_from_to(me, idol)    # me may see idol, idol may not see me
        for c in (me, sub, idol):
            c.logout()

    def disco(self, c, to, ns=NS_DISCO_INFO, node=None):
        attr = '' if node is None else " node='%s'" % node
        return c.iq("<query xmlns='%s'%s/>" % (ns, attr), to=to)

    def test_server_info_lists_exactly_what_works(self):
        c = login(self.server, 'me')
        el = self.disco(c, 'localhost')
        self.assertEqual(el.get('type'), 'result', s(el))
        self.assertIn(('server', 'im'), identities(el))
        feats = features(el)
        self.assertEqual(len(feats), len(set(feats)), 'duplicates: %s'
                         % s(el))
        # PEP/pubsub features may come and go with that work; the rest
        # must be exactly the working set.
        core = {f for f in feats if 'pubsub' not in f}
        self.assertEqual(core, WORKING, s(el))
        # And each of them works.
        self.assertEqual(c.iq("<ping xmlns='%s'/>" % NS_PING,
                              to='localhost').get('type'), 'result')
        self.assertEqual(self.disco(c, 'localhost', NS_DISCO_ITEMS)
                         .get('type'), 'result')
        self.assertEqual(c.iq("<enable xmlns='%s'/>" % NS_CARBONS, 'set')
                         .get('type'), 'result')
        self.assertEqual(c.iq("<query xmlns='%s'><p xmlns='urn:p'/></query>"
                              % NS_PRIVATE).get('type'), 'result')
        self.assertEqual(c.iq("<vCard xmlns='%s'/>" % NS_VCARD)
                         .get('type'), 'result')
        # A node the server does not have.
        el = self.disco(c, 'localhost', node='no-such-node')
        self.assertEqual(error_of(el)[0], 'item-not-found', s(el))

    def test_account_info(self):
        me = login(self.server, 'me', presence=False)
        sub = login(self.server, 'sub', presence=False)
        stranger = login(self.server, 'stranger', presence=False)
        idol = login(self.server, 'idol', presence=False)
        # Self and a presence subscriber: account/registered.
        for c in (me, sub):
            el = self.disco(c, 'me@localhost')
            self.assertEqual(el.get('type'), 'result', s(el))
            self.assertEqual(el.get('from'), 'me@localhost', s(el))
            self.assertIn(('account', 'registered'), identities(el), s(el))
        # Not a subscriber (idol, whom me follows, but not the reverse),
        # a stranger, and a nonexistent account: the same error.
        errs = []
        for c, to in ((idol, 'me@localhost'), (stranger, 'me@localhost'),
                      (stranger, 'nobody-%s@localhost' % uid())):
            el = self.disco(c, to)
            e = error_of(el)
            self.assertEqual(e[0], 'service-unavailable',
                             '%s -> %s: %s' % (c.jid, to, s(el)))
            errs.append(e)
            el = self.disco(c, to, NS_DISCO_ITEMS)
            self.assertEqual(error_of(el)[0], 'service-unavailable', s(el))
        self.assertEqual(errs[0], errs[2])
        self.assertEqual(errs[1], errs[2])
