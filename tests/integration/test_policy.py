"""Policies by group of accounts (xmpp/policy.c): [group.NAME] sections,
assigned with `parleyctl user group`.

Each rule a group sets refuses what it forbids with policy-violation
whose text names the group and the rule (and the refusal is in the
audit trail), while an account in no group, or in a group that allows
it, goes on as before: HTTP upload slots, contacts outside the domain,
the federation allow-list (which gates the attempt before the usual
remote-server-not-found, there being no federation yet), and rate
budgets.  A change of group applies to an open session within a second;
an unknown group name is refused by parleyctl.
"""

import os
import sqlite3
import time

import harness
from harness import NS_CLIENT, T, q, stanza_error, wait_until
from im_util import IMTestCase, login, s, uid

NS_UP = 'urn:xmpp:http:upload:0'
NS_ROSTER = 'jabber:iq:roster'
NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'


def audit_rows(server, kind):
    db = sqlite3.connect(os.path.join(server.data_dir, 'parley.db'),
                         timeout=10)
    try:
        return db.execute('SELECT account, detail FROM audit WHERE kind = ?'
                          ' ORDER BY id', (kind,)).fetchall()
    finally:
        db.close()


class PolicyCase(IMTestCase):
    GROUPS = {}         # local -> group, set with parleyctl before tests

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for local, group in cls.GROUPS.items():
            r = cls.server.ctl('user', 'group', local, group)
            assert r.returncode == 0, r.stderr

    def refused(self, el, group, rule):
        """Asserts el is a policy refusal naming group and rule."""
        cond, etype, text = stanza_error(el)
        self.assertEqual(cond, 'policy-violation', s(el))
        self.assertEqual(etype, 'cancel', s(el))
        self.assertIn("forbidden by policy of group '%s'" % group,
                      text or '', s(el))
        self.assertIn(rule, text or '', s(el))

    def slot(self, c):
        return c.iq("<request xmlns='%s' filename='a.txt' size='10' "
                    "content-type='text/plain'/>" % NS_UP, to='localhost')

    def roster_add(self, c, jid):
        return c.iq("<query xmlns='%s'><item jid='%s'/></query>"
                    % (NS_ROSTER, jid), iq_type='set')

    def reply_to(self, c, stanza_id):
        return c.expect(lambda e: e.get('id') == stanza_id,
                        what='answer to ' + stanza_id)

    def message(self, c, to, body='hi'):
        mid = uid('m')
        c.send("<message to='%s' id='%s' type='chat'><body>%s</body>"
               "</message>" % (to, mid, body))
        return mid


class GroupsTest(PolicyCase):
    CONFIG = {
        'group.interns': {'upload': 'deny', 'remote_contacts': 'deny',
                          'federate': 'partner.example'},
        'group.slow': {'message_rate': 1, 'message_burst': 2},
        'group.partners': {'federate': 'partner.example, other.example'},
        'upload': {'per_hour': 10000},
    }
    USERS = {u: u + '-pw' for u in ('intern', 'staff', 'partner', 'sink',
                                     'mover', 'slowpoke')}
    GROUPS = {'intern': 'interns', 'partner': 'partners',
              'slowpoke': 'slow'}

    def test_upload(self):
        intern, staff = login(self.server, 'intern'), login(self.server,
                                                            'staff')
        el = self.slot(intern)
        self.refused(el, 'interns', 'upload = deny')
        self.assertIsNone(el.find(q(NS_UP, 'slot')))
        # An account in no group (and no [group.default]) may upload.
        el = self.slot(staff)
        self.assertEqual(el.get('type'), 'result', s(el))
        self.assertIsNotNone(el.find(q(NS_UP, 'slot')), s(el))
        # A group that does not set upload allows it.
        el = self.slot(login(self.server, 'partner'))
        self.assertEqual(el.get('type'), 'result', s(el))
        # The admin's trail has it, with group and rule.
        self.assertTrue(wait_until(lambda: any(
            a == 'intern' and d.startswith('group=interns rule=upload = '
                                           'deny count=')
            for a, d in audit_rows(self.server, 'policy')),
            T(5)), audit_rows(self.server, 'policy'))

    def test_remote_contacts(self):
        intern, staff = login(self.server, 'intern'), login(self.server,
                                                            'staff')
        # Adding a roster item of another domain.
        el = self.roster_add(intern, 'bob@partner.example')
        self.refused(el, 'interns', 'remote_contacts = deny')
        self.assertNotIn('bob@partner.example', intern.roster()[2] or {})
        # Local contacts are fine.
        el = self.roster_add(intern, 'staff@localhost')
        self.assertEqual(el.get('type'), 'result', s(el))
        # Writing to or subscribing to someone there, even on a domain
        # the allow-list names.
        mid = self.message(intern, 'bob@partner.example')
        self.refused(self.reply_to(intern, mid), 'interns',
                     'remote_contacts = deny')
        intern.send("<presence to='bob@partner.example' type='subscribe' "
                    "id='sub1'/>")
        self.refused(self.reply_to(intern, 'sub1'), 'interns',
                     'remote_contacts = deny')
        # Without the rule: the item is added, a message gets the usual
        # answer of a server without federation.
        el = self.roster_add(staff, 'bob@partner.example')
        self.assertEqual(el.get('type'), 'result', s(el))
        mid = self.message(staff, 'bob@partner.example')
        cond, _, _ = stanza_error(self.reply_to(staff, mid))
        self.assertEqual(cond, 'remote-server-not-found')

    def test_federate_allow_list(self):
        partner, staff = login(self.server, 'partner'), login(self.server,
                                                              'staff')
        disco = "<query xmlns='%s'/>" % NS_DISCO_INFO
        for dom in ('partner.example', 'other.example'):
            el = partner.iq(disco, to=dom)
            cond, _, _ = stanza_error(el)
            self.assertEqual(cond, 'remote-server-not-found', s(el))
            mid = self.message(partner, 'bob@' + dom)
            cond, _, _ = stanza_error(self.reply_to(partner, mid))
            self.assertEqual(cond, 'remote-server-not-found')
        el = partner.iq(disco, to='evil.example')
        self.refused(el, 'partners', 'federate allow-list')
        self.assertIn('evil.example', stanza_error(el)[2])
        mid = self.message(partner, 'bob@evil.example')
        self.refused(self.reply_to(partner, mid), 'partners',
                     'federate allow-list')
        # No allow-list for an account in no group.
        el = staff.iq(disco, to='evil.example')
        self.assertEqual(stanza_error(el)[0], 'remote-server-not-found')

    def send_burst(self, sender, sink, n):
        ids = [uid('b') for _ in range(n)]
        sender.send(''.join("<message to='%s' id='%s' type='chat'><body>%d"
                            "</body></message>" % (sink.jid, i, k)
                            for k, i in enumerate(ids)))
        refused, delivered = [], []
        end = time.monotonic() + T(10)
        while len(refused) + len(delivered) < n and time.monotonic() < end:
            for c, got, err in ((sender, refused, True),
                                (sink, delivered, False)):
                keep = []
                for e in c.elements:
                    if e.get('id') in ids and \
                            (e.get('type') == 'error') == err:
                        got.append(e)
                    else:
                        keep.append(e)
                c.elements[:] = keep
                c.fill(0.02)
        return refused, delivered

    def test_rate_budget(self):
        sink = login(self.server, 'sink')
        slow, staff = login(self.server, 'slowpoke'), login(self.server,
                                                            'staff')
        # Burst of 2 for the group: at most 3 of 8 pass (one refill).
        refused, delivered = self.send_burst(slow, sink, 8)
        self.assertEqual(len(refused) + len(delivered), 8)
        self.assertLessEqual(len(delivered), 3)
        self.assertGreaterEqual(len(delivered), 2)
        cond, etype, text = stanza_error(refused[0])
        self.assertEqual(cond, 'policy-violation')
        self.assertEqual(etype, 'wait')
        self.assertIn('more than 1 messages a second (bursts of 2)', text)
        # The global budget (burst 60) for everyone else.
        refused, delivered = self.send_burst(staff, sink, 8)
        self.assertEqual(len(delivered), 8, [s(e) for e in refused])

    def test_assignment_takes_effect(self):
        mover = login(self.server, 'mover')
        self.assertEqual(self.slot(mover).get('type'), 'result')
        r = self.server.ctl('user', 'group', 'mover@localhost', 'interns')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('mover@localhost group=interns', r.stdout)
        # The open session follows within a second or so.
        self.assertTrue(wait_until(
            lambda: self.slot(mover).get('type') == 'error', T(5), 0.2))
        self.refused(self.slot(mover), 'interns', 'upload = deny')
        r = self.server.ctl('user', 'group', 'mover', '--none')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('group=(none)', r.stdout)
        self.assertTrue(wait_until(
            lambda: self.slot(mover).get('type') == 'result', T(5), 0.2))
        # Listing shows the members.
        r = self.server.ctl('groups')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('interns: intern@localhost', r.stdout)
        self.assertIn('partners: partner@localhost', r.stdout)

    def test_unknown_group_refused(self):
        r = self.server.ctl('user', 'group', 'mover', 'internz')
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn('internz: no such group', r.stderr)
        self.assertIn('interns', r.stderr)
        r = self.server.ctl('user', 'group', 'mover')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn('internz', r.stdout)
        r = self.server.ctl('user', 'group', 'nobody', 'interns')
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


class DefaultGroupTest(PolicyCase):
    """[group.default] binds the accounts in no group; a named group
    does not inherit from it."""
    CONFIG = {
        'group.default': {'upload': 'deny'},
        'group.staff': {'remote_contacts': 'deny'},
    }
    USERS = {u: u + '-pw' for u in ('anyone', 'boss')}
    GROUPS = {'boss': 'staff'}

    def test_default_group(self):
        anyone, boss = login(self.server, 'anyone'), login(self.server,
                                                           'boss')
        self.refused(self.slot(anyone), 'default', 'upload = deny')
        self.assertEqual(self.slot(boss).get('type'), 'result')
        el = self.roster_add(boss, 'x@elsewhere.example')
        self.refused(el, 'staff', 'remote_contacts = deny')
        el = self.roster_add(anyone, 'x@elsewhere.example')
        self.assertEqual(el.get('type'), 'result', s(el))
        self.assertTrue(self.server.alive())
