"""Message carbons (XEP-0280): received and sent copies to the account's
other resources that enabled carbons, the exact wrapping, private
messages, resources that did not enable (or disabled again)."""

import xml.etree.ElementTree as ET

from harness import q, NS_CLIENT, NS_DISCO_INFO
from im_util import (IMTestCase, login, s, uid, body_of,
                     NS_CARBONS, NS_FORWARD, NS_HINTS)

ENABLE = "<enable xmlns='%s'/>" % NS_CARBONS
DISABLE = "<disable xmlns='%s'/>" % NS_CARBONS
PRIVATE = "<private xmlns='%s'/><no-copy xmlns='%s'/>" % (NS_CARBONS,
                                                          NS_HINTS)


def carbon(direction, body=None):
    """Matches a carbon copy (received/sent) of a message with body."""
    def pred(e):
        if e.tag != q(NS_CLIENT, 'message'):
            return False
        w = e.find(q(NS_CARBONS, direction))
        if w is None:
            return False
        if body is None:
            return True
        m = inner(e, direction)
        return m is not None and body_of(m) == body
    return pred


def any_carbon(e):
    return carbon('received')(e) or carbon('sent')(e)


def inner(el, direction):
    w = el.find(q(NS_CARBONS, direction))
    f = None if w is None else w.find(q(NS_FORWARD, 'forwarded'))
    return None if f is None else f.find(q(NS_CLIENT, 'message'))


def mentions(body):
    return lambda e: body.encode() in ET.tostring(e)


class CarbonsTest(IMTestCase):
    USERS = {u: u + '-pw' for u in ('me', 'peer', 'other')}

    def setUp(self):
        super().setUp()
        srv = self.server
        self.a = login(srv, 'me', uid('a'), priority=5)
        self.b = login(srv, 'me', uid('b'), priority=1)
        self.c = login(srv, 'me', uid('c'), priority=1)    # never enables
        self.peer = login(srv, 'peer', uid('p'))
        self.enable(self.b)

    def enable(self, r, what=ENABLE):
        el = r.iq(what, 'set')
        self.assertEqual(el.get('type'), 'result', s(el))

    def test_received_copy(self):
        body = uid('to a')
        self.peer.chat(self.a.jid, body)
        m = self.a.expect_body(body)
        cp = self.b.expect(carbon('received', body), what='received carbon')
        # XEP-0280 6: from the bare JID, to the receiving resource.
        self.assertEqual(cp.get('from'), 'me@localhost', s(cp))
        self.assertEqual(cp.get('to'), self.b.jid, s(cp))
        fwd = inner(cp, 'received')
        self.assertEqual(fwd.get('from'), self.peer.jid, s(cp))
        self.assertEqual(fwd.get('to'), self.a.jid, s(cp))
        self.assertEqual(fwd.get('type'), 'chat', s(cp))
        self.assertEqual(body_of(cp), None, 'a body outside the wrapper')
        self.c.nothing(mentions(body), 'a copy (c did not enable)')
        self.a.nothing(any_carbon, 'a carbon to the addressee itself')
        self.b.nothing(lambda e: body_of(e) == body, 'the plain message')

    def test_sent_copy(self):
        body = uid('from a')
        self.a.chat(self.peer.jid, body)
        self.peer.expect_body(body)
        cp = self.b.expect(carbon('sent', body), what='sent carbon')
        self.assertEqual(cp.get('from'), 'me@localhost', s(cp))
        self.assertEqual(cp.get('to'), self.b.jid, s(cp))
        fwd = inner(cp, 'sent')
        self.assertEqual(fwd.get('to'), self.peer.jid, s(cp))
        # The copy carries the server-stamped sender.
        self.assertEqual(fwd.get('from'), self.a.jid, s(cp))
        self.c.nothing(mentions(body), 'a copy (c did not enable)')
        self.a.nothing(any_carbon, 'a carbon to the sender itself')

    def test_bare_jid_message_copied_to_enabled_others(self):
        # To the bare JID: a (priority 5) gets it, b (enabled) a carbon,
        # c (not enabled, lower priority) nothing.
        body = uid('to bare')
        self.peer.chat('me@localhost', body)
        self.a.expect_body(body)
        cp = self.b.expect(carbon('received', body), what='received carbon')
        self.c.nothing(mentions(body), 'anything (c did not enable)')
        # If b takes the message itself (same top priority), it gets no
        # carbon on top of it.
        self.b.available(priority=5)
        self.a.expect_presence(frm=self.b.jid, ptype='')
        body = uid('to bare, two tops')
        self.peer.chat('me@localhost', body)
        self.a.expect_body(body)
        self.b.expect_body(body)
        self.b.nothing(carbon('received', body), 'a carbon of a message '
                       'it received itself')

    def test_private_messages_are_not_copied(self):
        plain = uid('plain')
        self.peer.chat(self.a.jid, plain)
        body = uid('private in')
        self.peer.send("<message to='%s' type='chat'><body>%s</body>%s"
                       "</message>" % (self.a.jid, body, PRIVATE))
        self.a.expect_body(body)
        body2 = uid('private out')
        self.a.send("<message to='%s' type='chat'><body>%s</body>%s"
                    "</message>" % (self.peer.jid, body2, PRIVATE))
        self.peer.expect_body(body2)
        # The first (not private) one was copied; the private ones not.
        self.b.expect(carbon('received', plain), what='carbon of the '
                      'non-private message')
        self.b.nothing(mentions(body), 'carbon of a private message')
        self.b.nothing(mentions(body2), 'carbon of a private message')
        self.c.nothing(mentions(body2), 'anything of a private message')

    def test_disable_and_eligibility(self):
        # Headline and error messages are not copied
        # (XEP-0280 7); normal messages with a body are.
        body = uid('headline')
        self.peer.chat(self.a.jid, body, 'headline')
        self.a.expect_body(body)
        body_n = uid('normal')
        self.peer.chat(self.a.jid, body_n, 'normal')
        self.a.expect_body(body_n)
        self.b.expect(carbon('received', body_n), what='carbon of normal')
        self.b.nothing(mentions(body), 'carbon of a headline')
        # Disabled again: nothing more.
        self.enable(self.b, DISABLE)
        body = uid('after disable')
        self.peer.chat(self.a.jid, body)
        self.a.expect_body(body)
        self.a.chat(self.peer.jid, body + ' out')
        self.peer.expect_body(body + ' out')
        self.b.nothing(mentions(body), 'a carbon after disable')
        # Carbons are per session: a new session of b's account starts
        # without them.
        d = login(self.server, 'me', uid('d'))
        body = uid('new session')
        self.peer.chat(self.a.jid, body)
        self.a.expect_body(body)
        d.nothing(mentions(body), 'a carbon to a session that did not '
                  'enable')

    def test_carbons_enable_is_own_account_only(self):
        el = self.peer.iq(ENABLE, 'set', to='me@localhost')
        self.assertEqual(el.get('type'), 'error', s(el))
        body = uid('after foreign enable')
        self.a.chat(self.peer.jid, body)
        self.peer.expect_body(body)
        self.peer.nothing(any_carbon, 'a carbon to another account')

    def test_disco_lists_carbons(self):
        el = self.a.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to='localhost')
        feats = [f.get('var') for f in el.find(q(NS_DISCO_INFO, 'query'))
                 .findall(q(NS_DISCO_INFO, 'feature'))]
        self.assertIn(NS_CARBONS, feats, s(el))
