"""Presence subscriptions (RFC 6121 3): request, approval, cancel,
unsubscribe, pre-approval (3.4), requests to offline and nonexistent
contacts, and roster removal of a contact (2.5.2).  Each test uses its
own pair of accounts, so the tests do not depend on each other."""

from harness import q, NS_CLIENT
from im_util import (IMTestCase, login, is_push, is_presence, s, status_of,
                     bare, make_both, make_from_to, NS_NICK)


def sub_presence(el):
    return el.tag == q(NS_CLIENT, 'presence') and el.get('type') in (
        'subscribe', 'subscribed', 'unsubscribe', 'unsubscribed')


class SubscriptionTest(IMTestCase):
    USERS = {u: u + '-pw' for u in (
        'a1', 'b1', 'a2', 'b2', 'a3', 'b3', 'a4', 'b4', 'a5', 'b5',
        'a6', 'b6', 'a7', 'b7', 'a8', 'b8', 'a9', 'b9', 'a10', 'b10',
        'a11', 'b11', 'a12', 'b12')}

    def test_request_and_approval(self):
        a = login(self.server, 'a1', 'one', roster=True)
        a2 = login(self.server, 'a1', 'two', roster=True)
        b = login(self.server, 'b1', 'one', roster=True, status='b here')
        b2 = login(self.server, 'b1', 'two', status='b2 here')  # no roster
        for c in (a, a2, b, b2):
            c.ping()
            c.drop()
        # Sent to a full JID: subscriptions are between bare JIDs anyway.
        a.sub('b1@localhost/one', 'subscribe',
              "<status>let me see you</status>"
              "<nick xmlns='%s'>Ann</nick>" % NS_NICK)
        # RFC 6121 3.1.2: the user's interested resources get a push with
        # ask='subscribe'.
        for r in (a, a2):
            _, _, it = r.push_item('b1@localhost')
            self.assertEqual(it['subscription'], 'none', it)
            self.assertEqual(it['ask'], 'subscribe', it)
        # 3.1.3: every available resource of the contact gets the request,
        # from the user's bare JID, status and nick kept.
        for r in (b, b2):
            p = r.expect_presence(ptype='subscribe', frm_bare='a1@localhost')
            self.assertEqual(p.get('from'), 'a1@localhost', s(p))
            self.assertEqual(bare(p.get('to')), 'b1@localhost', s(p))
            self.assertEqual(status_of(p), 'let me see you', s(p))
            nick = p.find(q(NS_NICK, 'nick'))
            self.assertIsNotNone(nick, s(p))
            self.assertEqual(nick.text, 'Ann')
        # Not approved yet: a sees nothing of b.
        a.nothing(lambda e: is_presence(e, frm_bare='b1@localhost', ptype=''),
                  'presence of b before approval')
        self.assertEqual(a.items()['b1@localhost']['ask'], 'subscribe')
        b.sub('a1@localhost', 'subscribed')
        # 3.1.5: b's interested resource gets 'from' pushed.
        _, _, it = b.push_item('a1@localhost')
        self.assertEqual(it['subscription'], 'from', it)
        self.assertIsNone(it['ask'])
        b2.nothing(is_push, 'roster push (b2 never asked for the roster)')
        # 3.1.6: a's items become 'to' (pushed), a gets 'subscribed' and
        # then b's current presence, of every available resource.
        for r in (a, a2):
            _, _, it = r.push_item('b1@localhost')
            self.assertEqual(it['subscription'], 'to', it)
            self.assertIsNone(it['ask'], it)
            sub = r.expect_presence(ptype='subscribed', frm='b1@localhost')
            p1 = r.expect_presence(frm='b1@localhost/one', ptype='')
            p2 = r.expect_presence(frm='b1@localhost/two', ptype='')
            self.assertEqual(status_of(p1), 'b here')
            self.assertEqual(status_of(p2), 'b2 here')
            self.assertLess(r.order(sub), r.order(p1),
                            'presence came before subscribed')
            self.assertLess(r.order(sub), r.order(p2),
                            'presence came before subscribed')
        # Now b's presence reaches a, but a's does not reach b ('from' only
        # on b's side).
        b.available(status='b changed')
        for r in (a, a2):
            p = r.expect_presence(frm=b.jid, ptype='')
            self.assertEqual(status_of(p), 'b changed')
        a.available(status='a changed')
        for r in (b, b2):
            r.nothing(lambda e: is_presence(e, frm_bare='a1@localhost'),
                      'presence of a (b has only from)')
        # b asks back; a does not answer: still nothing of a reaches b.
        b.sub('a1@localhost', 'subscribe')
        a.expect_presence(ptype='subscribe', frm='b1@localhost')
        _, _, it = b.push_item('a1@localhost')
        self.assertEqual((it['subscription'], it['ask']), ('from',
                                                           'subscribe'))
        a.available(status='a changed again')
        b.nothing(lambda e: is_presence(e, frm_bare='a1@localhost'),
                  'presence of a (a did not approve)')
        # a approves: both.
        a.sub('b1@localhost', 'subscribed')
        _, _, it = b.push_item('a1@localhost', subscription='both')
        self.assertEqual((it['subscription'], it['ask']), ('both', None))
        _, _, it = a.push_item('b1@localhost', subscription='both')
        p = b.expect_presence(frm=a.jid, ptype='')
        self.assertEqual(status_of(p), 'a changed again')

    def test_unsubscribe(self):
        # RFC 6121 3.3: the subscriber cancels its own subscription.
        a = login(self.server, 'a2', roster=True)
        b = login(self.server, 'b2', roster=True, status='hello')
        make_from_to(a, b)      # a: to, b: from
        a.sub('b2@localhost', 'unsubscribe')
        _, _, it = a.push_item('b2@localhost')
        self.assertEqual((it['subscription'], it['ask']), ('none', None))
        _, _, it = b.push_item('a2@localhost')
        self.assertEqual(it['subscription'], 'none')
        p = b.expect_presence(ptype='unsubscribe', frm='a2@localhost')
        # 3.3.3: the contact's server sends unavailable from each of the
        # contact's available resources at once.
        a.expect_presence(frm=b.jid, ptype='unavailable')
        # And nothing of b afterwards.
        b.available(status='gone for you')
        a.nothing(lambda e: is_presence(e, frm_bare='b2@localhost',
                                        ptype=''), 'presence after unsubscribe')

    def test_cancel_subscription(self):
        # RFC 6121 3.2: the contact revokes the user's subscription.
        a = login(self.server, 'a3', roster=True)
        b = login(self.server, 'b3', roster=True, status='visible')
        make_from_to(a, b)
        b.available(status='visible 2')
        a.expect_presence(frm=b.jid, ptype='')
        b.sub('a3@localhost', 'unsubscribed')
        _, _, it = b.push_item('a3@localhost')
        self.assertEqual(it['subscription'], 'none', it)
        _, _, it = a.push_item('b3@localhost')
        self.assertEqual((it['subscription'], it['ask']), ('none', None))
        p = a.expect_presence(ptype='unsubscribed', frm='b3@localhost')
        # 3.2.2: unavailable from b's resources to a, at once.
        a.expect_presence(frm=b.jid, ptype='unavailable')
        b.available(status='private again')
        a.nothing(lambda e: is_presence(e, frm_bare='b3@localhost',
                                        ptype=''), 'presence after cancel')
        self.assertNotIn(b'private again', bytes(a.received))

    def test_request_to_offline_contact_is_kept_once(self):
        a = login(self.server, 'a4', roster=True)
        a.sub('b4@localhost', 'subscribe')
        a.push_item('b4@localhost')
        # A duplicate while pending (RFC 6121 3.1.3: not shown again).
        a.sub('b4@localhost', 'subscribe')
        a.ping()
        # b connects and fetches the roster: nothing yet (requests go to
        # available resources).
        b = login(self.server, 'b4', presence=False, roster=True)
        b.nothing(sub_presence, 'subscription presence before initial '
                  'presence')
        b.available()
        p = b.expect_presence(ptype='subscribe', frm='a4@localhost')
        b.nothing(lambda e: is_presence(e, ptype='subscribe'),
                  'a second copy of the request')
        # Another duplicate while b is online: not shown either.
        a.sub('b4@localhost', 'subscribe')
        a.ping()
        b.nothing(lambda e: is_presence(e, ptype='subscribe'),
                  'a duplicate request shown again')
        # Next login: the still pending request once more, exactly once.
        b.logout()
        b = login(self.server, 'b4', resource='again')
        b.expect_presence(ptype='subscribe', frm='a4@localhost')
        b.nothing(lambda e: is_presence(e, ptype='subscribe'),
                  'the request twice at login')
        # Approving it works as usual.
        b.sub('a4@localhost', 'subscribed')
        a.expect_presence(ptype='subscribed', frm='b4@localhost')
        a.expect_presence(frm=b.jid, ptype='')
        self.assertEqual(a.items()['b4@localhost']['subscription'], 'to')

    def test_pre_approval(self):
        # RFC 6121 3.4.
        b = login(self.server, 'b5', roster=True, status='b5 is here')
        a = login(self.server, 'a5', roster=True)
        b.sub('a5@localhost', 'subscribed')
        _, _, it = b.push_item('a5@localhost')
        self.assertEqual((it['subscription'], it['approved']),
                         ('none', 'true'), it)
        # Nothing reaches a for a pre-approval.
        a.nothing(lambda e: sub_presence(e) or is_push(e),
                  'anything for a pre-approval')
        self.assertNotIn('b5@localhost', a.items())
        # a asks: approved at once, without asking b.
        a.sub('b5@localhost', 'subscribe')
        a.expect_presence(ptype='subscribed', frm='b5@localhost')
        p = a.expect_presence(frm=b.jid, ptype='')
        self.assertEqual(status_of(p), 'b5 is here')
        self.assertEqual(a.items()['b5@localhost']['subscription'], 'to')
        _, _, it = b.push_item('a5@localhost')
        self.assertEqual((it['subscription'], it['approved']), ('from', None),
                         it)
        b.nothing(lambda e: is_presence(e, ptype='subscribe'),
                  'a subscription request (it was pre-approved)')
        # The approval is used: b's presence goes to a from now on.
        b.available(status='b5 again')
        a.expect_presence(frm=b.jid, ptype='')

    def test_pre_approval_can_be_withdrawn(self):
        b = login(self.server, 'b9', roster=True)
        a = login(self.server, 'a9', roster=True)
        b.sub('a9@localhost', 'subscribed')
        b.push_item('a9@localhost')
        b.sub('a9@localhost', 'unsubscribed')
        _, _, it = b.push_item('a9@localhost')
        self.assertIsNone(it['approved'], it)
        a.sub('b9@localhost', 'subscribe')
        b.expect_presence(ptype='subscribe', frm='a9@localhost')
        a.nothing(lambda e: is_presence(e, ptype='subscribed'),
                  'subscribed after the pre-approval was withdrawn')

    def test_subscribe_to_nonexistent_user(self):
        a = login(self.server, 'a6', roster=True)
        a.sub('nobody-here@localhost', 'subscribe')
        p = a.expect_presence(ptype='unsubscribed',
                              frm='nobody-here@localhost')
        a.ping()
        it = a.items().get('nobody-here@localhost')
        self.assertTrue(it is None or (it['subscription'] == 'none' and
                                       it['ask'] is None), it)

    def test_roster_remove_of_both_contact(self):
        # RFC 6121 2.5.2: removal sends unsubscribe and unsubscribed.
        a = login(self.server, 'a7', roster=True, status='a7 on')
        b = login(self.server, 'b7', roster=True, status='b7 on')
        make_both(a, b)
        a.available(status='a7 still')
        b.expect_presence(frm=a.jid, ptype='')
        el = a.roster_remove('b7@localhost')
        self.assertEqual(el.get('type'), 'result', s(el))
        a.push_item('b7@localhost', subscription='remove')
        self.assertNotIn('b7@localhost', a.items())
        b.expect_presence(ptype='unsubscribe', frm='a7@localhost')
        b.expect_presence(ptype='unsubscribed', frm='a7@localhost')
        # b stops seeing a at once, and a stops seeing b.
        b.expect_presence(frm=a.jid, ptype='unavailable')
        a.expect_presence(frm=b.jid, ptype='unavailable')
        b.ping()
        it = b.items()['a7@localhost']
        self.assertEqual((it['subscription'], it['ask']), ('none', None))
        a.available(status='a7 secret')
        b.available(status='b7 secret')
        b.nothing(lambda e: is_presence(e, frm_bare='a7@localhost',
                                        ptype=''), 'presence of a')
        a.nothing(lambda e: is_presence(e, frm_bare='b7@localhost',
                                        ptype=''), 'presence of b')

    def test_unsolicited_subscribed_changes_nothing(self):
        # RFC 6121 3.1.6: a 'subscribed' that a never asked for must not
        # give a a subscription (it is only b's pre-approval).
        a = login(self.server, 'a8', roster=True)
        b = login(self.server, 'b8', roster=True, status='b8')
        b.sub('a8@localhost', 'subscribed')
        b.ping()
        a.nothing(lambda e: is_presence(e, frm_bare='b8@localhost'),
                  'presence of b')
        self.assertNotIn('b8@localhost', a.items())
        # An 'unsubscribed' out of nowhere changes nothing either.
        b.sub('a8@localhost', 'unsubscribe')
        a.nothing(lambda e: is_presence(e, frm_bare='b8@localhost'),
                  'presence of b')

    def test_denial(self):
        # RFC 6121 3.2.1 / 3.1.5: the contact refuses the request.
        a = login(self.server, 'a10', roster=True)
        b = login(self.server, 'b10', roster=True, status='b10')
        a.sub('b10@localhost', 'subscribe')
        a.push_item('b10@localhost', ask='subscribe')
        b.expect_presence(ptype='subscribe', frm='a10@localhost')
        b.sub('a10@localhost', 'unsubscribed')
        a.expect_presence(ptype='unsubscribed', frm='b10@localhost')
        _, _, it = a.push_item('b10@localhost', ask=None)
        self.assertEqual(it['subscription'], 'none', it)
        a.nothing(lambda e: is_presence(e, frm_bare='b10@localhost',
                                        ptype=''), 'presence of b')
        # The refused request is not shown again at b's next login.
        b.logout()
        b = login(self.server, 'b10', roster=True)
        b.nothing(lambda e: is_presence(e, ptype='subscribe'),
                  'a refused request shown again')
        self.assertNotIn('a10@localhost', b.items())

    def test_withdrawn_request_is_not_shown(self):
        # RFC 6121 3.3: an 'unsubscribe' before the contact answered
        # cancels the pending request (the contact's server forgets it).
        a = login(self.server, 'a11', roster=True)
        a.sub('b11@localhost', 'subscribe')
        a.push_item('b11@localhost', ask='subscribe')
        a.sub('b11@localhost', 'unsubscribe')
        _, _, it = a.push_item('b11@localhost', ask=None)
        self.assertEqual(it['subscription'], 'none', it)
        b = login(self.server, 'b11', roster=True)
        b.nothing(lambda e: is_presence(e, ptype='subscribe'),
                  'a withdrawn request')
        # A later 'subscribed' from b is not an approval any more.
        b.sub('a11@localhost', 'subscribed')
        a.nothing(lambda e: is_presence(e, ptype='subscribed'),
                  'subscribed for a withdrawn request')
        self.assertEqual(a.items()['b11@localhost']['subscription'], 'none')

    def test_unsubscribe_from_mutual(self):
        # From 'both', a's unsubscribe ends only a's half: a stops seeing
        # b, b still sees a.
        a = login(self.server, 'a12', roster=True)
        b = login(self.server, 'b12', roster=True)
        make_both(a, b)
        a.sub('b12@localhost', 'unsubscribe')
        _, _, it = a.push_item('b12@localhost', subscription='from')
        _, _, it = b.push_item('a12@localhost', subscription='to')
        a.expect_presence(frm=b.jid, ptype='unavailable')
        b.nothing(lambda e: is_presence(e, frm=a.jid, ptype='unavailable'),
                  'unavailable of a (b still subscribed to a)')
        a.available(status='a still shared')
        p = b.expect_presence(frm=a.jid, ptype='')
        self.assertEqual(status_of(p), 'a still shared')
        b.available(status='b hidden now')
        a.nothing(lambda e: is_presence(e, frm_bare='b12@localhost',
                                        ptype=''), 'presence of b')
