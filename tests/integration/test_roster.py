"""The roster (RFC 6121 2) and roster versioning (XEP-0237 / RFC 6121
2.6): get, set, update, remove, the errors of 2.3.3 and 2.5.3, pushes to
interested resources only, and the item limit."""

from harness import q, NS_CLIENT
from im_util import (IMTestCase, login, error_of, is_push, s, uid,
                     NS_ROSTER, NS_ROSTERVER, NS_PREAPPROVAL,
                     features_after_auth)


def users(*names):
    return {n: n + '-pw' for n in names}


class RosterTest(IMTestCase):
    USERS = users('alice', 'bob', 'carol', 'dave', 'erin', 'fred', 'gina',
                  'hank')

    def test_stream_features_advertise_versioning(self):
        feats = features_after_auth(self.server, 'hank', 'hank-pw')
        self.assertIsNotNone(feats.find(q(NS_ROSTERVER, 'ver')), s(feats))
        self.assertIsNotNone(feats.find(q(NS_PREAPPROVAL, 'sub')), s(feats))

    def test_empty_roster_has_a_version(self):
        c = login(self.server, 'gina', presence=False)
        el, ver, items = c.roster()
        self.assertIsNotNone(ver, 'no ver on the roster result: %s' % s(el))
        self.assertEqual(items, {})
        # An IQ result goes back to the asking resource.
        self.assertEqual(el.get('to'), c.jid)
        self.assertIn(el.get('from'), (None, 'gina@localhost'))

    def test_add_update_and_remove(self):
        c = login(self.server, 'alice', presence=False)
        _, v0, _ = c.roster()
        el = c.roster_set('bob@localhost', 'Bobby', ['Friends', 'Work'])
        self.assertEqual(el.get('type'), 'result', s(el))
        self.assertIsNone(el.find(q(NS_ROSTER, 'query')), s(el))
        _, v1, items = c.roster()
        self.assertEqual(items['bob@localhost'], {
            'jid': 'bob@localhost', 'name': 'Bobby', 'subscription': 'none',
            'ask': None, 'approved': None, 'groups': ['Friends', 'Work']})
        self.assertGreater(int(v1), int(v0))
        # Update: name and groups are replaced.
        el = c.roster_set('bob@localhost', 'Robert', ['Family'])
        self.assertEqual(el.get('type'), 'result', s(el))
        items = c.items()
        self.assertEqual(items['bob@localhost']['name'], 'Robert')
        self.assertEqual(items['bob@localhost']['groups'], ['Family'])
        # No name, no group: both cleared.
        el = c.roster_set('bob@localhost')
        self.assertEqual(el.get('type'), 'result', s(el))
        items = c.items()
        self.assertIsNone(items['bob@localhost']['name'])
        self.assertEqual(items['bob@localhost']['groups'], [])
        # Remove.
        el = c.roster_remove('bob@localhost')
        self.assertEqual(el.get('type'), 'result', s(el))
        self.assertNotIn('bob@localhost', c.items())
        # Removing it again: item-not-found (RFC 6121 2.5.3).
        el = c.roster_remove('bob@localhost')
        self.assertEqual(error_of(el)[0], 'item-not-found', s(el))

    def test_client_cannot_set_subscription_state(self):
        # RFC 6121 2.1.2.5 / 2.3.2: 'subscription' (other than remove) and
        # 'ask' from a client are ignored.
        c = login(self.server, 'carol', presence=False)
        el = c.roster_set('dave@localhost', 'D',
                          extra_attrs=" subscription='both' ask='subscribe'"
                          " approved='true'")
        self.assertEqual(el.get('type'), 'result', s(el))
        it = c.items()['dave@localhost']
        self.assertEqual(it['subscription'], 'none', it)
        self.assertIsNone(it['ask'], it)
        self.assertIsNone(it['approved'], it)
        # And dave was not asked for anything.
        d = login(self.server, 'dave')
        d.nothing(lambda e: e.tag == q(NS_CLIENT, 'presence') and
                  e.get('type') in ('subscribe', 'subscribed'),
                  'subscription presence')
        for sub in ('from', 'to'):
            el = c.roster_set('dave@localhost', 'D',
                              extra_attrs=" subscription='%s'" % sub)
            self.assertEqual(el.get('type'), 'result', s(el))
            self.assertEqual(c.items()['dave@localhost']['subscription'],
                             'none')
        c.roster_remove('dave@localhost')

    def test_remove_unknown_item(self):
        c = login(self.server, 'erin', presence=False)
        el = c.roster_remove('nobody-%s@localhost' % uid())
        self.assertEqual(error_of(el)[0], 'item-not-found', s(el))

    def test_set_errors(self):
        c = login(self.server, 'erin', presence=False)
        before = c.roster()[1]
        cases = [
            # RFC 6121 2.3.3: exactly one item.
            ("<query xmlns='jabber:iq:roster'><item jid='bob@localhost'/>"
             "<item jid='carol@localhost'/></query>", 'bad-request'),
            ("<query xmlns='jabber:iq:roster'/>", 'bad-request'),
            # The same group twice.
            ("<query xmlns='jabber:iq:roster'><item jid='bob@localhost'>"
             "<group>A</group><group>A</group></item></query>",
             'bad-request'),
            # An empty group name.
            ("<query xmlns='jabber:iq:roster'><item jid='bob@localhost'>"
             "<group></group></item></query>", 'not-acceptable'),
            # Oneself.
            ("<query xmlns='jabber:iq:roster'><item jid='erin@localhost'/>"
             "</query>", 'not-allowed'),
        ]
        for body, cond in cases:
            el = c.iq(body, 'set')
            got = error_of(el)
            self.assertEqual(got[0], cond, '%s -> %s' % (body, s(el)))
            self.assertTrue(got[2], 'no <text/> in %s' % s(el))
        # Nothing changed.
        _, ver, items = c.roster()
        self.assertEqual(ver, before)
        self.assertEqual(items, {})
        # Two items to remove count as two items too.
        c.roster_set('bob@localhost')
        c.roster_set('carol@localhost')
        el = c.iq("<query xmlns='jabber:iq:roster'>"
                  "<item jid='bob@localhost' subscription='remove'/>"
                  "<item jid='carol@localhost' subscription='remove'/>"
                  "</query>", 'set')
        self.assertEqual(error_of(el)[0], 'bad-request', s(el))
        self.assertEqual(sorted(c.items()),
                         ['bob@localhost', 'carol@localhost'])
        c.roster_remove('bob@localhost')
        c.roster_remove('carol@localhost')

    def test_no_access_to_another_users_roster(self):
        bob = login(self.server, 'bob', presence=False)
        bob.roster_set('carol@localhost', 'Secret name', ['Hidden'])
        c = login(self.server, 'fred', presence=False)
        el = c.iq("<query xmlns='jabber:iq:roster'/>", to='bob@localhost')
        self.assertEqual(el.get('type'), 'error', s(el))
        self.assertNotIn(b'Secret name', bytes(c.received))
        self.assertIn(error_of(el)[0], ('forbidden', 'service-unavailable'),
                      s(el))
        el = c.iq("<query xmlns='jabber:iq:roster'><item jid='fred@localhost'"
                  " name='planted'/></query>", 'set', to='bob@localhost')
        self.assertEqual(el.get('type'), 'error', s(el))
        items = bob.items()
        self.assertNotIn('fred@localhost', items)
        self.assertEqual(items['carol@localhost']['name'], 'Secret name')
        bob.roster_remove('carol@localhost')

    def test_pushes_go_to_interested_resources_only(self):
        # RFC 6121 2.1.6 and 2.2: pushes go to every resource that asked
        # for the roster, available or not, and to no other.
        r1 = login(self.server, 'dave', 'r1', roster=True)
        r2 = login(self.server, 'dave', 'r2', roster=True, presence=False)
        r3 = login(self.server, 'dave', 'r3')          # never asked
        _, v0, _ = r1.roster()
        el = r1.roster_set('alice@localhost', 'Al', ['G'])
        self.assertEqual(el.get('type'), 'result', s(el))
        vers = []
        for r in (r1, r2):
            push, ver, it = r.push_item('alice@localhost')
            self.assertEqual(push.get('to'), r.jid, s(push))
            # 2.1.6: no 'from', or the account's bare JID.
            self.assertIn(push.get('from'), (None, 'dave@localhost'),
                          s(push))
            self.assertEqual(it, {'jid': 'alice@localhost', 'name': 'Al',
                                  'subscription': 'none', 'ask': None,
                                  'approved': None, 'groups': ['G']})
            self.assertIsNotNone(ver, 'push without ver: %s' % s(push))
            self.assertGreater(int(ver), int(v0))
            vers.append(ver)
        self.assertEqual(vers[0], vers[1])
        r3.nothing(is_push, 'roster push')
        # The pushed version is the roster's version now.
        self.assertEqual(r1.roster()[1], vers[0])
        # Removal is pushed too, with subscription='remove', and a newer
        # version.
        el = r2.roster_remove('alice@localhost')
        self.assertEqual(el.get('type'), 'result', s(el))
        for r in (r1, r2):
            push, ver, it = r.push_item('alice@localhost')
            self.assertEqual(it['subscription'], 'remove', s(push))
            self.assertGreater(int(ver), int(vers[0]))
        r3.nothing(is_push, 'roster push')
        # A resource that asks later becomes interested.
        r3.roster()
        r1.roster_set('alice@localhost')
        r3.push_item('alice@localhost')
        r1.roster_remove('alice@localhost')

    def test_versioning(self):
        c = login(self.server, 'hank', presence=False)
        c.roster_set('bob@localhost', 'B')
        el, ver, items = c.roster()
        self.assertIn('bob@localhost', items)
        # XEP-0237 / RFC 6121 2.6.3: the current version -> empty result.
        el, ver2, items2 = c.roster(ver)
        self.assertEqual(el.get('type'), 'result')
        self.assertIsNone(items2, 'expected an empty result, got %s'
                          % s(el))
        self.assertEqual(len(list(el)), 0, s(el))
        # An older version (or an unknown one) gets the roster.
        c.roster_set('carol@localhost', 'C')
        el, ver3, items3 = c.roster(ver)
        self.assertIsNotNone(items3, s(el))
        self.assertGreater(int(ver3), int(ver))
        self.assertEqual(sorted(items3), ['bob@localhost', 'carol@localhost'])
        el, _, items4 = c.roster('bogus-version')
        self.assertEqual(sorted(items4), sorted(items3))
        # An empty ver means "I have nothing": the whole roster.
        el, _, items5 = c.roster('')
        self.assertEqual(sorted(items5 or {}), sorted(items3), s(el))
        # The version survives a new session.
        d = login(self.server, 'hank', presence=False)
        el, v, it = d.roster(ver3)
        self.assertIsNone(it, s(el))
        c.roster_remove('bob@localhost')
        c.roster_remove('carol@localhost')


class RosterLimitTest(IMTestCase):
    CONFIG = {'limits': {'max_roster_items': 3}}
    USERS = users('alice', 'bob', 'carol', 'dave', 'erin', 'fred', 'gus',
                  'hal')

    def test_item_limit(self):
        c = login(self.server, 'alice', presence=False)
        for u in ('bob', 'carol', 'dave'):
            el = c.roster_set(u + '@localhost')
            self.assertEqual(el.get('type'), 'result', s(el))
        el = c.roster_set('erin@localhost')
        cond, etype, text = error_of(el)
        self.assertEqual(cond, 'not-allowed', s(el))
        self.assertTrue(text, 'no <text/>: %s' % s(el))
        self.assertEqual(len(c.items()), 3)
        # Updating an existing item is still fine at the limit.
        el = c.roster_set('bob@localhost', 'Bob', ['G'])
        self.assertEqual(el.get('type'), 'result', s(el))
        # After a removal there is room again.
        c.roster_remove('carol@localhost')
        el = c.roster_set('erin@localhost')
        self.assertEqual(el.get('type'), 'result', s(el))
        self.assertEqual(sorted(c.items()), ['bob@localhost',
                                             'dave@localhost',
                                             'erin@localhost'])

    def test_subscribe_does_not_bypass_the_limit(self):
        # An outbound subscription request adds a roster item (RFC 6121
        # 3.1.2); the item limit must hold for it too.
        c = login(self.server, 'fred', roster=True)
        for u in ('bob', 'carol', 'dave'):
            el = c.roster_set(u + '@localhost')
            self.assertEqual(el.get('type'), 'result', s(el))
        c.sub('erin@localhost', 'subscribe')
        c.ping()
        items = c.items()
        self.assertLessEqual(len(items), 3,
                             'a subscribe added a 4th item past '
                             'max_roster_items=3: %s' % sorted(items))

    def test_approval_does_not_bypass_the_limit(self):
        # Approving a request makes the requester a roster item ('from');
        # at the limit that must not make a 4th item either.
        c = login(self.server, 'gus', roster=True)
        for u in ('bob', 'carol', 'erin'):
            el = c.roster_set(u + '@localhost')
            self.assertEqual(el.get('type'), 'result', s(el))
        a = login(self.server, 'hal', roster=True)
        a.sub('gus@localhost', 'subscribe')
        c.expect_presence(ptype='subscribe', frm='hal@localhost')
        c.sub('hal@localhost', 'subscribed')
        c.ping()
        items = c.items()
        self.assertLessEqual(len(items), 3,
                             'approving a request added a 4th item past '
                             'max_roster_items=3: %s' % sorted(items))
