"""Presence by consent (RFC 6121 4): who receives a user's presence (own
resources, subscribers, directed-presence recipients: exactly those), what
a new resource learns at initial presence, unavailable on every kind of
session end, client probes, and resource priority for bare-JID messages.

Cast (one server for the class, subscriptions made once):
  own    the user whose presence is watched (resources own/one, own/two)
  fan    subscribed to own:        fan 'to',  own 'from'
  idol   own subscribed to idol:   own 'to',  idol 'from'
  pal    mutual:                   'both' on both sides
  alien  no relation at all
"""

import time

from harness import q, NS_STREAM, T
from im_util import (IMTestCase, login, is_presence, s, status_of, uid,
                     make_both, make_from_to, body_of,
                     expect_each)


def pres_of(user, ptype=None):
    return lambda e: is_presence(e, frm_bare=user + '@localhost',
                                 ptype=ptype)


class PresenceTest(IMTestCase):
    USERS = {u: u + '-pw' for u in (
        'own', 'fan', 'idol', 'pal', 'alien', 'prio', 'sender', 'dir',
        'dirpeer')}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        srv = cls.server
        own = login(srv, 'own', 'setup', roster=True)
        fan = login(srv, 'fan', 'setup', roster=True)
        idol = login(srv, 'idol', 'setup', roster=True)
        pal = login(srv, 'pal', 'setup', roster=True)
        make_from_to(fan, own)
        make_from_to(own, idol)
        make_both(own, pal)
        it = own.items()
        assert it['fan@localhost']['subscription'] == 'from', it
        assert it['idol@localhost']['subscription'] == 'to', it
        assert it['pal@localhost']['subscription'] == 'both', it
        for c in (own, fan, idol, pal):
            c.logout()

    def cast(self):
        """Everyone online and available, own on resource 'one'."""
        c = {}
        for u in ('fan', 'idol', 'pal', 'alien'):
            c[u] = login(self.server, u, uid(u), status=u + ' status')
        c['own'] = login(self.server, 'own', uid('one'), status='own one')
        for x in c.values():
            x.ping()
        return c

    def test_initial_presence_broadcast_and_probes(self):
        c = self.cast()
        for x in c.values():
            x.drop()
        two = login(self.server, 'own', uid('two'), status='own two')
        # RFC 6121 4.2.2: to subscribers (from/both) and own resources.
        for u in ('fan', 'pal', 'own'):
            p = c[u].expect_presence(frm=two.jid, ptype='')
            self.assertEqual(status_of(p), 'own two', s(p))
        for u in ('idol', 'alien'):
            c[u].nothing(pres_of('own'), 'presence of own')
        # RFC 6121 4.2.3 (local probes): the new resource learns the
        # presence of those it may see (to/both) and of its own other
        # resources; nothing of the others.
        for u in ('idol', 'pal'):
            p = two.expect_presence(frm=c[u].jid, ptype='')
            self.assertEqual(status_of(p), u + ' status')
        p = two.expect_presence(frm=c['own'].jid, ptype='')
        self.assertEqual(status_of(p), 'own one')
        for u in ('fan', 'alien'):
            two.nothing(pres_of(u), 'presence of ' + u)

    def test_updates_reach_exactly_the_subscribers(self):
        c = self.cast()
        two = login(self.server, 'own', uid('two'))
        one = c['own'].jid
        # Connected but not available: no presence broadcasts for it
        # (RFC 6121 4.2.2 / 4.4.2).
        quiet_fan = login(self.server, 'fan', uid('quiet'), presence=False)
        for x in list(c.values()) + [two]:
            x.ping()
            x.drop()
        c['own'].available(status='update 1')
        for x in (c['fan'], c['pal'], two):
            p = x.expect_presence(frm=one, ptype='')
            self.assertEqual(status_of(p), 'update 1')
        for u in ('idol', 'alien'):
            c[u].nothing(pres_of('own'), 'presence of own')
        quiet_fan.nothing(pres_of('own'), 'presence to a resource that '
                          'sent no initial presence')
        # The other direction: idol's and pal's updates reach own; fan's
        # and alien's do not.
        for u in ('fan', 'idol', 'pal', 'alien'):
            c[u].available(status=u + ' update')
        for u in ('idol', 'pal'):
            for r in (c['own'], two):
                p = r.expect_presence(frm=c[u].jid, ptype='')
                self.assertEqual(status_of(p), u + ' update')
        for u in ('fan', 'alien'):
            for r in (c['own'], two):
                r.nothing(pres_of(u), 'presence of ' + u)
        # Unavailable (explicit) goes the same way.
        c['own'].unavailable()
        for x in (c['fan'], c['pal'], two):
            x.expect_presence(frm=one, ptype='unavailable')
        for u in ('idol', 'alien'):
            c[u].nothing(pres_of('own'), 'presence of own')
        # While unavailable, own's session receives no presence broadcasts
        # (RFC 6121 4.2.2: only available resources)...
        c['pal'].available(status='while own one is away')
        two.expect_presence(frm=c['pal'].jid, ptype='')
        c['own'].nothing(pres_of('pal'), 'presence while unavailable')
        # ...and a new available presence is initial again: it is
        # broadcast and answered with the contacts' presence.
        c['own'].available(status='back')
        for x in (c['fan'], c['pal'], two):
            x.expect_presence(frm=one, ptype='')
        c['own'].expect_presence(frm=c['pal'].jid, ptype='')
        c['own'].expect_presence(frm=c['idol'].jid, ptype='')

    def check_unavailable_on_end(self, end_session):
        c = self.cast()
        watch = login(self.server, 'own', uid('watch'))
        gone = login(self.server, 'own', uid('gone'), status='about to go')
        gone_jid = gone.jid
        for u in ('fan', 'pal'):
            c[u].expect_presence(frm=gone.jid, ptype='')
        watch.expect_presence(frm=gone.jid, ptype='')
        t0 = time.monotonic()
        end_session(gone)
        for x in (c['fan'], c['pal'], watch, c['own']):
            p = x.expect_presence(frm=gone_jid,
                                  ptype='unavailable', timeout=3)
        self.assertLess(time.monotonic() - t0, T(3))
        for u in ('idol', 'alien'):
            c[u].nothing(lambda e: is_presence(e, frm=gone_jid),
                         'presence of own/gone')
        return c

    def test_unavailable_on_clean_logout(self):
        self.check_unavailable_on_end(lambda g: g.logout())

    def test_unavailable_on_abrupt_close(self):
        # TCP close without </stream:stream> and without unavailable.
        self.check_unavailable_on_end(lambda g: g.close())

    def test_one_unavailable_only(self):
        # Explicit unavailable, then the session ends: contacts hear of
        # it once.
        c = self.cast()
        g = login(self.server, 'own', uid('g'))
        gj = g.jid
        c['pal'].expect_presence(frm=gj, ptype='')
        g.unavailable()
        c['pal'].expect_presence(frm=gj, ptype='unavailable')
        g.ping()
        since = self.server.log_size()
        g.close()
        # The server logs "<conn> (<jid>): session ended (...)" once it
        # has ended the session.
        self.assertTrue(self.server.wait_log('%s): session ended' % gj, 5,
                                             since),
                        'no end of session logged for %s' % gj)
        c['pal'].nothing(lambda e: is_presence(e, frm=gj),
                         'a second unavailable')

    def test_directed_presence(self):
        # RFC 6121 4.6: directed presence reaches a non-contact; when the
        # sender goes unavailable, the recipient is told; broadcasts in
        # between are not sent to it.
        d = login(self.server, 'dir', 'd', status='dir')
        alien = login(self.server, 'alien', 'a')
        d.available(status='just for you', to=alien.jid)
        p = alien.expect_presence(frm=d.jid, ptype='')
        self.assertEqual(status_of(p), 'just for you')
        self.assertEqual(p.get('to'), alien.jid)
        d.available(status='for my subscribers')
        alien.nothing(pres_of('dir'), 'a broadcast to a directed recipient')
        d.unavailable()
        alien.expect_presence(frm=d.jid, ptype='unavailable')
        # After going unavailable the directed recipient is forgotten.
        d.available(status='back')
        d.unavailable()
        alien.nothing(pres_of('dir'), 'presence after the directed '
                      'session ended')
        # To a bare JID, and the session ends abruptly this time.
        d2 = login(self.server, 'dirpeer', 'p')
        d2.available(status='to your account', to='alien@localhost')
        alien.expect_presence(frm=d2.jid, ptype='')
        d2.close()
        alien.expect_presence(frm='dirpeer@localhost/p', ptype='unavailable',
                              timeout=3)
        # Directed presence to an account that does not exist is
        # dropped, no error (RFC 6121 8.5.1 / 4.6.2).
        d.available(to='nobody-at-all@localhost')
        d.nothing(lambda e: e.get('type') == 'error', 'an error')

    def test_directed_presence_without_initial_presence(self):
        # A session that never sent broadcast presence ("invisible", or a
        # client that only joins a room) sends directed presence; when it
        # ends, the recipient must hear unavailable, or it shows a ghost
        # forever (RFC 3921 5.1.4 case 3, kept by RFC 6121 4.6: directed
        # recipients are told when the session goes offline).
        d = login(self.server, 'dir', uid('inv'), presence=False)
        dj = d.jid
        alien = login(self.server, 'alien', uid('a'))
        d.available(status='only you see me', to=alien.jid)
        alien.expect_presence(frm=dj, ptype='')
        since = self.server.log_size()
        d.close()
        self.assertTrue(self.server.wait_log('%s): session ended' % dj, 5,
                                             since))
        alien.ping()
        self.assertTrue([e for e in alien.elements if is_presence(
            e, frm=dj, ptype='unavailable')],
            'no unavailable from %s after its session ended; the recipient '
            'of its directed presence still sees it online' % dj)

    def test_client_probe(self):
        c = self.cast()
        own = c['own']
        own.ping()
        own.drop()
        # A contact own may see: its presence comes back.
        own.send("<presence type='probe' to='idol@localhost'/>")
        p = own.expect_presence(frm=c['idol'].jid, ptype='')
        self.assertEqual(status_of(p), 'idol status')
        # A contact that did not approve own (fan), and a stranger:
        # nothing at all.
        own.send("<presence type='probe' to='fan@localhost'/>")
        own.send("<presence type='probe' to='alien@localhost'/>")
        own.nothing(lambda e: is_presence(e, frm_bare='fan@localhost') or
                    is_presence(e, frm_bare='alien@localhost'),
                    'presence for a probe it may not see')
        # And the probed do not learn of it.
        for u in ('fan', 'alien'):
            c[u].nothing(lambda e: is_presence(e, ptype='probe'), 'probe')
        # A stranger probing own learns nothing.
        c['alien'].send("<presence type='probe' to='own@localhost'/>")
        c['alien'].nothing(pres_of('own'), 'presence of own')

    def test_priority_for_bare_jid_messages(self):
        s1 = login(self.server, 'sender', 's')
        hi1 = login(self.server, 'prio', 'hi1', priority=5)
        hi2 = login(self.server, 'prio', 'hi2', priority=5)
        lo = login(self.server, 'prio', 'lo', priority=1)
        neg = login(self.server, 'prio', 'neg', priority=-1)
        for x in (hi1, hi2, lo, neg):
            x.ping()
        body = uid('to the top')
        s1.chat('prio@localhost', body)
        for x in (hi1, hi2):
            m = x.expect_body(body)
            self.assertEqual(m.get('from'), s1.jid)
        for x in (lo, neg):
            x.nothing(lambda e: body_of(e) == body, 'message')
        # The top ones leave: the next priority takes over.
        hi1.unavailable()
        hi2.logout()
        body = uid('second best')
        s1.chat('prio@localhost', body)
        lo.expect_body(body)
        neg.nothing(lambda e: body_of(e) == body, 'message')
        hi1.nothing(lambda e: body_of(e) == body, 'message')
        # Only a negative priority left: it gets no bare-JID message
        # (RFC 6121 8.5.2.1.1); a full-JID one it does.
        lo.logout()
        hi1.logout()
        body = uid('nobody non-negative')
        s1.chat('prio@localhost', body)
        s1.ping()
        neg.nothing(lambda e: body_of(e) == body, 'message')
        body2 = uid('full jid')
        s1.chat(neg.jid, body2)
        neg.expect_body(body2)
        # The stored one goes to the next non-negative resource.
        later = login(self.server, 'prio', 'later', priority=0)
        later.expect_body(body)
        neg.nothing(lambda e: body_of(e) == body, 'message')


class DeadConnectionTest(IMTestCase):
    CONFIG = {'c2s': {'ping_interval': 1, 'ping_timeout': 2}}
    USERS = {'own': 'own-pw', 'pal': 'pal-pw'}

    def test_dead_connection_ends_with_unavailable(self):
        own = login(self.server, 'own', 'live', roster=True)
        pal = login(self.server, 'pal', 'live', roster=True)
        make_both(own, pal)
        dead = login(self.server, 'own', 'dead', status='soon dead')
        dead.answer_pings = False
        for x in (own, pal):
            x.expect_presence(frm=dead.jid, ptype='')
        t0 = time.monotonic()
        # 'dead' neither reads nor writes from now on.  The others answer
        # the server's pings and stay.
        expect_each([own, pal], lambda e: is_presence(
            e, 'own@localhost/dead', 'unavailable'), timeout=6,
            what='unavailable of own/dead')
        dt = time.monotonic() - t0
        self.assertLess(dt, T(5.5), 'unavailable after %.1f s' % dt)
        self.assertGreater(dt, 0.5, 'dropped before any ping (%.1f s)' % dt)
        # The live sessions were pinged too and survived.
        for x in (own, pal):
            x.ping()
            self.assertFalse(x.closed)


class ShutdownTest(IMTestCase):
    USERS = {'own': 'own-pw', 'pal': 'pal-pw', 'fan': 'fan-pw'}

    def test_sigterm_with_contacts_online(self):
        own = login(self.server, 'own', 'a', roster=True)
        pal = login(self.server, 'pal', 'a', roster=True)
        fan = login(self.server, 'fan', 'a', roster=True)
        make_both(own, pal)
        make_from_to(fan, own)
        own2 = login(self.server, 'own', 'b', roster=True)
        pal.available(status='x')
        for x in (own, own2, pal, fan):
            x.ping()
        self.server.sigterm()
        for x in (own, own2, pal, fan):
            el = x.expect(lambda e: e.tag == q(NS_STREAM, 'error'),
                          timeout=10, what='stream error')
            conds = [c.tag.split('}', 1)[1] for c in el]
            self.assertIn('system-shutdown', conds, s(el))
            self.assertTrue(x.wait_closed(5))
            self.assertIsNone(x.parse_error, x.received[-300:])
        self.assertEqual(self.server.wait_exit(10), 0,
                         self.server.log()[-2000:])
