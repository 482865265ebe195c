"""First contact needs consent (DESIGN danger 2, im/consent.c).

A stranger's chat or normal messages are held by the server and become
ONE contact request: an RFC 6121 subscribe from the stranger whose status
is the first line of the first message, with <held
xmlns='urn:parley:consent:0' count='N'/>.  Accepting (subscribed) releases
them in order with XEP-0203 delays; declining (unsubscribed) deletes them.
Caps, the [policy] first_contact settings, the per-account override
(parleyctl user policy) and persistence across a restart.
"""

import datetime
import re
import time

from harness import q, NS_CLIENT, NS_STANZAS_ERR
from im_util import (IMTestCase, login, s, uid, body_of, error_of, restart,
                     is_presence, is_push, status_of, bare, make_both,
                     make_from_to, NS_DELAY, NS_CHATSTATES, NS_HINTS)

NS_CONSENT = 'urn:parley:consent:0'
NS_RECEIPTS = 'urn:xmpp:receipts'
STAMP = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')


def is_msg(e, frm_bare=None):
    return e.tag == q(NS_CLIENT, 'message') and (
        frm_bare is None or bare(e.get('from')) == frm_bare)


def is_request(e, frm):
    return is_presence(e, frm=frm, ptype='subscribe')


def held_count(p):
    h = p.find(q(NS_CONSENT, 'held'))
    return None if h is None else int(h.get('count'))


def requests_seen(client, frm):
    """Every subscribe from frm this client has received so far."""
    return [e for e in client.arrived if is_request(e, frm)]


def chat(client, to, body, mtype='chat'):
    client.chat(to, body, mtype)


class ConsentTest(IMTestCase):
    """Strangers need consent for everyone ([policy] first_contact =
    contacts), with small caps so that they are quick to reach."""
    CONFIG = {'policy': {'first_contact': 'contacts',
                         'max_held_messages': 3,
                         'max_held_bytes': 2048,
                         'max_first_contacts_per_hour': 3}}
    USERS = {u: u + '-pw' for u in (
        's1', 'r1', 's2', 'r2', 's3', 'r3', 's4', 'r4', 's5', 'r5',
        's6', 'r6a', 'r6b', 'r6c', 'r6d', 's7', 'r7', 's8', 'r8',
        's9', 'r9', 's10', 'r10', 's11', 'r11', 's12', 'r12')}

    def test_held_messages_become_one_request(self):
        snd = login(self.server, 's1', roster=True)
        rcp = login(self.server, 'r1', roster=True)
        rcp2 = login(self.server, 'r1', 'second')      # no roster fetched
        bodies = ['  \nHello, I am s1 from accounting\nsecond line',
                  uid('two'), uid('three')]
        for b in bodies:
            chat(snd, 'r1@localhost', b)
        # RFC 6121 3.1.2 at the sender: the stranger's item is none +
        # pending out, pushed; no error and nothing else.
        _, _, it = snd.push_item('r1@localhost')
        self.assertEqual((it['subscription'], it['ask']), ('none',
                                                           'subscribe'))
        snd.nothing(lambda e: e.get('type') == 'error', 'an error')
        snd.nothing(is_msg, 'a message')
        # Each available resource of the recipient: exactly one request
        # for three messages, and no message.
        for r in (rcp, rcp2):
            r.ping()
            reqs = requests_seen(r, 's1@localhost')
            self.assertEqual(len(reqs), 1, [s(x) for x in reqs])
            p = reqs[0]
            self.assertEqual(p.get('from'), 's1@localhost', s(p))
            self.assertEqual(status_of(p), 'Hello, I am s1 from accounting',
                             s(p))
            self.assertEqual(held_count(p), 1, s(p))
            r.nothing(is_msg, 'a held message')
        # The roster shows nothing (a request is not an item, RFC 6121
        # 3.1.3), as for any subscription request.
        self.assertNotIn('s1@localhost', rcp.items())
        # Another resource logging in sees the stored request once, with
        # the count brought up to date.
        rcp3 = login(self.server, 'r1', 'third')
        rcp3.ping()
        reqs = requests_seen(rcp3, 's1@localhost')
        self.assertEqual(len(reqs), 1, [s(x) for x in reqs])
        self.assertEqual(held_count(reqs[0]), 3, s(reqs[0]))
        self.assertEqual(status_of(reqs[0]), 'Hello, I am s1 from accounting')
        rcp3.nothing(is_msg, 'a held message')
        for r in (rcp, rcp2):
            r.ping()
            self.assertEqual(len(requests_seen(r, 's1@localhost')), 1)
        # Bodies never reach the log, held or not.
        self.assertNotIn(bodies[1], self.server.log())

    def test_accepted_messages_arrive_in_order_then_flow(self):
        snd = login(self.server, 's2', roster=True)
        rcp = login(self.server, 'r2', roster=True)
        bodies = [uid('first'), uid('second'), uid('third')]
        t0 = datetime.datetime.now(datetime.timezone.utc)
        for b in bodies:
            chat(snd, 'r2@localhost', b)
        snd.ping()      # all three held before the answer
        p = rcp.expect_presence(ptype='subscribe', frm='s2@localhost')
        self.assertEqual(status_of(p), bodies[0])
        rcp.sub('s2@localhost', 'subscribed')
        got = [rcp.expect(is_msg, what='held message %d' % i)
               for i in range(3)]
        self.assertEqual([body_of(m) for m in got], bodies)
        for m in got:
            self.assertEqual(m.get('from'), snd.jid, s(m))
            self.assertEqual(m.get('type'), 'chat', s(m))
            d = m.find(q(NS_DELAY, 'delay'))
            self.assertIsNotNone(d, 'no XEP-0203 delay: %s' % s(m))
            self.assertEqual(d.get('from'), 'localhost', s(m))
            self.assertRegex(d.get('stamp') or '', STAMP)
            stamp = datetime.datetime.strptime(
                d.get('stamp'), '%Y-%m-%dT%H:%M:%SZ').replace(
                tzinfo=datetime.timezone.utc)
            self.assertLess(abs((stamp - t0).total_seconds()), 120)
        rcp.nothing(is_msg, 'a message twice')
        # The sender sees the ordinary outcome: subscribed, item 'to'.
        snd.expect_presence(ptype='subscribed', frm='r2@localhost')
        snd.push_item('r2@localhost', subscription='to')
        # From now on the conversation flows both ways, undelayed.
        b = uid('now live')
        chat(snd, 'r2@localhost', b)
        m = rcp.expect_body(b)
        self.assertIsNone(m.find(q(NS_DELAY, 'delay')), s(m))
        b = uid('reply')
        chat(rcp, snd.jid, b)
        snd.expect_body(b)
        # Released messages are gone from the store: a new login of the
        # recipient gets none of them again.
        rcp.logout()
        again = login(self.server, 'r2', 'again')
        again.nothing(is_msg, 'a released message twice')
        again.nothing(lambda e: is_request(e, 's2@localhost'),
                      'the answered request')

    def test_declined_messages_are_gone(self):
        snd = login(self.server, 's3', roster=True)
        rcp = login(self.server, 'r3', roster=True)
        chat(snd, 'r3@localhost', uid('spam one'))
        chat(snd, 'r3@localhost', uid('spam two'))
        snd.ping()
        rcp.expect_presence(ptype='subscribe', frm='s3@localhost')
        snd.push_item('r3@localhost', ask='subscribe')
        n_before = len(snd.arrived)
        rcp.sub('s3@localhost', 'unsubscribed')
        # The sender learns the ordinary outcome and nothing else.
        snd.expect_presence(ptype='unsubscribed', frm='r3@localhost')
        snd.push_item('r3@localhost', ask=None)
        snd.ping()
        after = [e for e in snd.arrived[n_before:]
                 if not is_push(e) and e.tag != q(NS_CLIENT, 'iq')]
        self.assertEqual(len(after), 1, [s(e) for e in after])
        # Accepting later (now a pre-approval) gives nothing.
        rcp.sub('s3@localhost', 'subscribed')
        rcp.nothing(is_msg, 'a declined message')
        rcp.logout()
        again = login(self.server, 'r3', 'again')
        again.nothing(is_msg, 'a declined message at login')
        again.nothing(lambda e: is_request(e, 's3@localhost'),
                      'the declined request')

    def test_offline_recipient_gets_one_request_at_login(self):
        snd = login(self.server, 's4', roster=True)
        bodies = [uid('while you were out'), uid('and again')]
        for b in bodies:
            chat(snd, 'r4@localhost', b)
        snd.push_item('r4@localhost', ask='subscribe')
        snd.nothing(lambda e: e.get('type') == 'error', 'an error')
        rcp = login(self.server, 'r4', roster=True, presence=False)
        rcp.nothing(lambda e: is_request(e, 's4@localhost'),
                    'the request before initial presence')
        rcp.available()
        rcp.ping()
        reqs = requests_seen(rcp, 's4@localhost')
        self.assertEqual(len(reqs), 1, [s(x) for x in reqs])
        self.assertEqual(held_count(reqs[0]), 2, s(reqs[0]))
        self.assertEqual(status_of(reqs[0]), bodies[0])
        rcp.nothing(is_msg, 'a held message')
        # Offline messages are not a way around consent either.
        self.assertNotIn(bodies[1].encode(), bytes(rcp.received))
        rcp.sub('s4@localhost', 'subscribed')
        got = [rcp.expect(is_msg, what='held message') for _ in bodies]
        self.assertEqual([body_of(m) for m in got], bodies)

    def test_caps_give_policy_violation(self):
        snd = login(self.server, 's5', roster=True)
        rcp = login(self.server, 'r5', roster=True)
        for i in range(3):
            chat(snd, 'r5@localhost', uid('held %d' % i))
        snd.nothing(lambda e: e.get('type') == 'error', 'an error')
        over = uid('one too many')
        chat(snd, 'r5@localhost', over)
        e = snd.expect(lambda e: is_msg(e) and e.get('type') == 'error',
                       what='error for the fourth message')
        cond, etype, text = error_of(e)
        self.assertEqual((cond, etype), ('policy-violation', 'wait'), s(e))
        self.assertIn('accepted you as a contact', text or '')
        self.assertEqual(body_of(e), over)
        rcp.ping()
        self.assertEqual(len(requests_seen(rcp, 's5@localhost')), 1)
        # The one refused was not held: accepting gives exactly three.
        rcp.sub('s5@localhost', 'subscribed')
        got = [rcp.expect(is_msg, what='held message') for _ in range(3)]
        self.assertNotIn(over, [body_of(m) for m in got])
        rcp.nothing(is_msg, 'a fourth message')

    def test_byte_cap(self):
        snd = login(self.server, 's12', roster=True)
        rcp = login(self.server, 'r12', roster=True)
        chat(snd, 'r12@localhost', 'x' * 2100)     # past 2048 on its own
        e = snd.expect(lambda e: is_msg(e) and e.get('type') == 'error',
                       what='error for a message past the byte cap')
        self.assertEqual(error_of(e)[0], 'policy-violation', s(e))
        rcp.nothing(lambda e: is_request(e, 's12@localhost'),
                    'a request for a refused message')
        # A short one still becomes the request.
        chat(snd, 'r12@localhost', 'short')
        p = rcp.expect_presence(ptype='subscribe', frm='s12@localhost')
        self.assertEqual(status_of(p), 'short')

    def test_new_requests_per_hour(self):
        snd = login(self.server, 's6', roster=True)
        rcps = [login(self.server, u) for u in ('r6a', 'r6b', 'r6c', 'r6d')]
        for r in rcps[:3]:
            chat(snd, r.bare_jid, uid('hi'))
            r.expect_presence(ptype='subscribe', frm='s6@localhost')
        snd.nothing(lambda e: e.get('type') == 'error', 'an error')
        # More messages to those already asked are fine (within caps).
        chat(snd, 'r6a@localhost', uid('more'))
        snd.nothing(lambda e: e.get('type') == 'error', 'an error')
        # A fourth new person within the hour is refused.
        chat(snd, 'r6d@localhost', uid('hi'))
        e = snd.expect(lambda e: is_msg(e) and e.get('type') == 'error',
                       what='error for the fourth request')
        cond, etype, text = error_of(e)
        self.assertEqual((cond, etype), ('policy-violation', 'wait'), s(e))
        self.assertIn('too many new contact requests', text or '')
        rcps[3].nothing(lambda e: is_request(e, 's6@localhost'),
                        'a request past the hourly cap')

    def test_declined_request_cannot_come_straight_back(self):
        snd = login(self.server, 's7', roster=True)
        rcp = login(self.server, 'r7', roster=True)
        chat(snd, 'r7@localhost', uid('please'))
        rcp.expect_presence(ptype='subscribe', frm='s7@localhost')
        rcp.sub('s7@localhost', 'unsubscribed')
        snd.expect_presence(ptype='unsubscribed', frm='r7@localhost')
        chat(snd, 'r7@localhost', uid('please please'))
        e = snd.expect(lambda e: is_msg(e) and e.get('type') == 'error',
                       what='error for asking again')
        cond, _, text = error_of(e)
        self.assertEqual(cond, 'policy-violation', s(e))
        self.assertIn('less than an hour ago', text or '')
        rcp.nothing(lambda e: is_request(e, 's7@localhost'),
                    'the request again')

    def test_what_strangers_cannot_send(self):
        snd = login(self.server, 's8', roster=True)
        rcp = login(self.server, 'r8', roster=True)
        to = rcp.jid
        snd.send("<message to='%s' type='chat'><active xmlns='%s'/>"
                 "</message>" % (to, NS_CHATSTATES))
        snd.send("<message to='%s'><received xmlns='%s' id='x1'/>"
                 "</message>" % (to, NS_RECEIPTS))
        snd.send("<message to='%s' type='headline'><body>ad</body>"
                 "</message>" % to)
        snd.send("<message to='%s' type='groupchat'><body>room spam</body>"
                 "</message>" % to)
        snd.send("<message to='%s' type='error'><body>fake error</body>"
                 "<error type='cancel'><item-not-found xmlns='%s'/></error>"
                 "</message>" % (to, NS_STANZAS_ERR))
        snd.send("<message to='%s' type='chat'><body>do not keep</body>"
                 "<no-store xmlns='%s'/></message>" % (to, NS_HINTS))
        snd.ping()
        rcp.nothing(is_msg, 'a message from a stranger')
        rcp.nothing(lambda e: is_request(e, 's8@localhost'),
                    'a request for content-free messages')
        snd.nothing(lambda e: e.get('type') == 'error', 'an error')
        snd.nothing(is_push, 'a roster push')
        # A real message does become the request (so the above could
        # have failed).
        chat(snd, to, 'a real one')
        rcp.expect_presence(ptype='subscribe', frm='s8@localhost')

    def test_plain_subscribe_and_messages_make_one_request(self):
        snd = login(self.server, 's9', roster=True)
        rcp = login(self.server, 'r9', roster=True)
        # A client cannot forge the server's count.
        snd.sub('r9@localhost', 'subscribe',
                "<status>add me</status><held xmlns='%s' count='99'/>"
                % NS_CONSENT)
        p = rcp.expect_presence(ptype='subscribe', frm='s9@localhost')
        self.assertEqual(status_of(p), 'add me')
        self.assertIsNone(held_count(p), s(p))
        # Messages after the request: no second request, the count shows
        # at the next login.
        chat(snd, 'r9@localhost', uid('first words'))
        chat(snd, 'r9@localhost', uid('more words'))
        snd.ping()
        rcp.ping()
        self.assertEqual(len(requests_seen(rcp, 's9@localhost')), 1)
        rcp.nothing(is_msg, 'a held message')
        other = login(self.server, 'r9', 'other')
        other.ping()
        reqs = requests_seen(other, 's9@localhost')
        self.assertEqual(len(reqs), 1, [s(x) for x in reqs])
        self.assertEqual(held_count(reqs[0]), 2, s(reqs[0]))

    def test_withdrawn_request_takes_its_messages(self):
        snd = login(self.server, 's10', roster=True)
        rcp = login(self.server, 'r10', roster=True)
        chat(snd, 'r10@localhost', uid('oops'))
        rcp.expect_presence(ptype='subscribe', frm='s10@localhost')
        snd.sub('r10@localhost', 'unsubscribe')
        rcp.expect_presence(ptype='unsubscribe', frm='s10@localhost')
        rcp.sub('s10@localhost', 'subscribed')     # only a pre-approval
        rcp.nothing(is_msg, 'a withdrawn message')

    def test_contacts_write_freely(self):
        a = login(self.server, 's11', roster=True)
        b = login(self.server, 'r11', roster=True)
        # One direction of subscription is enough, either way.
        make_from_to(a, b)      # b's item: from
        body = uid('from a')
        chat(a, b.jid, body)
        b.expect_body(body)
        body = uid('from b')
        chat(b, a.jid, body)
        a.expect_body(body)
        b.nothing(lambda e: is_request(e, 's11@localhost'), 'a request')
        a.nothing(lambda e: is_request(e, 'r11@localhost'), 'a request')
        # Ending the subscription makes them strangers again at once.
        b.sub('s11@localhost', 'unsubscribed')
        a.expect_presence(ptype='unsubscribed', frm='r11@localhost')
        body = uid('after the end')
        chat(a, b.jid, body)
        b.expect_presence(ptype='subscribe', frm='s11@localhost')
        b.nothing(is_msg, 'a message from a former contact')


class ConsentRestartTest(IMTestCase):
    CONFIG = {'policy': {'first_contact': 'contacts'}}
    USERS = {'sender': 'sender-pw', 'rcpt': 'rcpt-pw'}

    def test_held_messages_survive_restart(self):
        snd = login(self.server, 'sender', roster=True)
        bodies = [uid('before restart'), uid('also before')]
        for b in bodies:
            chat(snd, 'rcpt@localhost', b)
        snd.push_item('rcpt@localhost', ask='subscribe')
        snd.ping()      # processed: committed
        restart(self.server, kill=True)
        rcp = login(self.server, 'rcpt', roster=True)
        rcp.ping()
        reqs = requests_seen(rcp, 'sender@localhost')
        self.assertEqual(len(reqs), 1, [s(x) for x in reqs])
        self.assertEqual(held_count(reqs[0]), 2)
        rcp.sub('sender@localhost', 'subscribed')
        got = [rcp.expect(is_msg, what='held message') for _ in bodies]
        self.assertEqual([body_of(m) for m in got], bodies)


def delivered_directly(test, snd, rcp):
    body = uid('direct')
    chat(snd, rcp.jid, body)
    m = rcp.expect_body(body)
    test.assertIsNone(m.find(q(NS_DELAY, 'delay')), s(m))
    rcp.nothing(lambda e: is_request(e, snd.bare_jid), 'a request')
    snd.nothing(is_push, 'a roster push')


def held(test, snd, rcp):
    body = uid('held')
    chat(snd, rcp.jid, body)
    rcp.expect_presence(ptype='subscribe', frm=snd.bare_jid)
    rcp.nothing(is_msg, 'the held message')
    snd.push_item(rcp.bare_jid, ask='subscribe')


class DefaultPolicyTest(IMTestCase):
    """No [policy] and no [register]: auto, registration closed, so every
    account of this server writes freely (existing tests rely on it)."""
    USERS = {u: u + '-pw' for u in ('a', 'b', 'c', 'd')}

    def test_local_strangers_write_freely(self):
        delivered_directly(self, login(self.server, 'a'),
                           login(self.server, 'b'))

    def test_per_account_override(self):
        snd = login(self.server, 'c', roster=True)
        rcp = login(self.server, 'd', roster=True)
        r = self.server.ctl('user', 'policy', 'd@localhost')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(),
                         'd@localhost first_contact=default (auto: domain)')
        r = self.server.ctl('user', 'policy', 'd@localhost',
                            'first_contact=contacts')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(),
                         'd@localhost first_contact=contacts')
        time.sleep(1.2)     # parleyd looks at most once a second
        held(self, snd, rcp)
        r = self.server.ctl('user', 'policy', 'd', 'first_contact=default')
        self.assertEqual(r.returncode, 0, r.stderr)
        time.sleep(1.2)
        delivered_directly(self, snd, rcp)
        # Bad input is refused with a usage error.
        r = self.server.ctl('user', 'policy', 'd', 'first_contact=nobody')
        self.assertEqual(r.returncode, 2, r.stderr)
        r = self.server.ctl('user', 'policy', 'nobody-here')
        self.assertEqual(r.returncode, 4, r.stderr)


class OwnPolicyTest(IMTestCase):
    """The account reads and sets its own value with an IQ."""
    USERS = {u: u + '-pw' for u in ('a', 'b', 'c')}

    def policy(self, c, attrs='', iq_type='get', to=None):
        return c.iq("<policy xmlns='%s'%s/>" % (NS_CONSENT, attrs),
                    iq_type, to=to)

    def test_get_and_set(self):
        snd = login(self.server, 'a', roster=True)
        rcp = login(self.server, 'b', roster=True)
        el = self.policy(rcp)
        self.assertEqual(el.get('type'), 'result', s(el))
        p = el.find(q(NS_CONSENT, 'policy'))
        self.assertEqual((p.get('first-contact'), p.get('in-effect')),
                         ('default', 'domain'), s(el))
        delivered_directly(self, snd, rcp)
        el = self.policy(rcp, " first-contact='contacts'", 'set')
        self.assertEqual(el.get('type'), 'result', s(el))
        p = self.policy(rcp).find(q(NS_CONSENT, 'policy'))
        self.assertEqual((p.get('first-contact'), p.get('in-effect')),
                         ('contacts', 'contacts'))
        held(self, snd, rcp)
        # The admin sees what the user chose.
        r = self.server.ctl('user', 'policy', 'b')
        self.assertEqual(r.stdout.strip(), 'b@localhost first_contact=contacts')
        # Bad values, and other people's settings, are refused.
        el = self.policy(rcp, " first-contact='nobody'", 'set')
        self.assertEqual(error_of(el)[0], 'bad-request', s(el))
        el = self.policy(snd, " first-contact='anyone'", 'set',
                         to='b@localhost')
        self.assertEqual(error_of(el)[0], 'forbidden', s(el))
        el = self.policy(rcp, " first-contact='default'", 'set')
        self.assertEqual(el.get('type'), 'result', s(el))
        p = self.policy(rcp).find(q(NS_CONSENT, 'policy'))
        self.assertEqual(p.get('first-contact'), 'default')


class InviteOnlyTest(IMTestCase):
    CONFIG = {'register': {'mode': 'invite'}}
    USERS = {'a': 'a-pw', 'b': 'b-pw'}

    def test_invite_counts_as_closed(self):
        delivered_directly(self, login(self.server, 'a'),
                           login(self.server, 'b'))


class OpenRegistrationTest(IMTestCase):
    """auto with open registration: only contacts write freely."""
    CONFIG = {'register': {'mode': 'open'}}
    USERS = {u: u + '-pw' for u in ('a', 'b', 'c', 'd')}

    def test_local_strangers_need_consent(self):
        held(self, login(self.server, 'a', roster=True),
             login(self.server, 'b', roster=True))

    def test_override_to_anyone(self):
        r = self.server.ctl('user', 'policy', 'd', 'first_contact=anyone')
        self.assertEqual(r.returncode, 0, r.stderr)
        time.sleep(1.2)
        delivered_directly(self, login(self.server, 'c', roster=True),
                           login(self.server, 'd', roster=True))


class DomainPolicyTest(IMTestCase):
    """An explicit domain wins over auto, even with open registration."""
    CONFIG = {'register': {'mode': 'open'},
              'policy': {'first_contact': 'domain',
                         'first_contact_domains': 'partner.example'}}
    USERS = {'a': 'a-pw', 'b': 'b-pw'}

    def test_accounts_of_this_server_write_freely(self):
        delivered_directly(self, login(self.server, 'a'),
                           login(self.server, 'b'))


class AnyonePolicyTest(IMTestCase):
    CONFIG = {'register': {'mode': 'open'},
              'policy': {'first_contact': 'anyone'}}
    USERS = {'a': 'a-pw', 'b': 'b-pw', 'c': 'c-pw', 'd': 'd-pw'}

    def test_nobody_needs_consent(self):
        delivered_directly(self, login(self.server, 'a'),
                           login(self.server, 'b'))

    def test_override_to_contacts(self):
        r = self.server.ctl('user', 'policy', 'd', 'first_contact=contacts')
        self.assertEqual(r.returncode, 0, r.stderr)
        time.sleep(1.2)
        held(self, login(self.server, 'c', roster=True),
             login(self.server, 'd', roster=True))
