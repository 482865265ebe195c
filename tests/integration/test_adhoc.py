"""Service administration over XMPP (XEP-0133 via XEP-0050 ad-hoc
commands, im/adhoc.c), driven by slixmpp's xep_0050 plugin as an admin
client would, and by raw clients for the refusals and bad input.

Admins ([server] admins) see and run add-user, delete-user, announce,
get-online-users-num and get-online-users-list; anyone else gets an
empty command list and forbidden.  add-user makes an account one can log
in to; delete-user removes it and closes its sessions; an announcement
reaches every online user; the online list is right.  Malformed forms,
unknown nodes, stale sessions and bad JIDs get stanza errors with text,
and the server keeps serving.
"""

import os
import sqlite3

from harness import (Client, NS_CLIENT, RawClient, T, in_loop, q,
                     stanza_error, wait_until)
from im_util import IMTestCase, login, s, uid

NS_CMD = 'http://jabber.org/protocol/commands'
NS_DATA = 'jabber:x:data'
NS_ADMIN = 'http://jabber.org/protocol/admin'
NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'
NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items'
NODES = {n: NS_ADMIN + '#' + n for n in (
    'add-user', 'delete-user', 'announce', 'get-online-users-num',
    'get-online-users-list')}


class Admin:
    """A slixmpp client with the ad-hoc commands plugin."""

    def __init__(self, server, local, password):
        self.c = Client(server, '%s@localhost/adm' % local, password)
        in_loop(lambda: (self.c.xmpp.register_plugin('xep_0004'),
                         self.c.xmpp.register_plugin('xep_0050')))
        self.c.connect()

    def commands(self):
        items = in_loop(self.c.xmpp['xep_0050'].get_commands, 'localhost')
        return [(it[0], it[1], it[2]) for it in
                items['disco_items']['items']]

    def send(self, node, action='execute', sessionid=None, fields=None):
        """Sends one command request; returns the answer (result or
        error) as an Iq."""
        from slixmpp.exceptions import IqError

        def go():
            payload = None
            if fields is not None:
                form = self.c.xmpp['xep_0004'].make_form(ftype='submit')
                form.add_field(var='FORM_TYPE', ftype='hidden',
                               value=NS_ADMIN)
                for var, val in fields.items():
                    form.add_field(var=var, value=val)
                payload = form
            return self.c.xmpp['xep_0050'].send_command(
                'localhost', node, action=action, payload=payload,
                sessionid=sessionid)

        async def call():
            try:
                return await go()
            except IqError as e:
                return e.iq
        return in_loop(call)

    def run(self, name, fields):
        """execute, then complete with fields; returns the last answer."""
        first = self.send(NODES[name])
        assert first['type'] == 'result', str(first)
        cmd = first['command']
        assert cmd['status'] == 'executing', str(first)
        assert cmd['sessionid'], str(first)
        return first, self.send(NODES[name], action='complete',
                                sessionid=cmd['sessionid'], fields=fields)


def fields(form):
    """{var: field} of a slixmpp form (a list or a dict by version)."""
    fs = form['fields']
    if isinstance(fs, dict):
        return fs
    return {f['var']: f for f in fs}


def cmd_notes(iq):
    return [(t, v) for t, v in iq['command']['notes']]


class AdhocTest(IMTestCase):
    CONFIG = {'server': {'admins': 'boss@localhost, chief@localhost'}}
    USERS = {u: u + '-pw' for u in ('boss', 'chief', 'worker', 'victim',
                                     'listener')}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = Admin(cls.server, 'boss', 'boss-pw')

    def raw_cmd(self, c, node, action=None, sessionid=None, body=''):
        attrs = " node='%s'" % node
        if action:
            attrs += " action='%s'" % action
        if sessionid:
            attrs += " sessionid='%s'" % sessionid
        return c.iq("<command xmlns='%s'%s>%s</command>" % (NS_CMD, attrs,
                                                           body),
                    iq_type='set', to='localhost')

    def cmd_error(self, el, cond, specific=None):
        c, _, text = stanza_error(el)
        self.assertEqual(c, cond, s(el))
        self.assertTrue(text, s(el))
        if specific is not None:
            err = el.find(q(NS_CLIENT, 'error'))
            self.assertIsNotNone(err.find(q(NS_CMD, specific)), s(el))
        return text

    def test_listed_to_admins_only(self):
        listed = self.admin.commands()
        self.assertEqual(sorted(n for _, n, _ in listed),
                         sorted(NODES.values()))
        self.assertTrue(all(j == 'localhost' for j, _, _ in listed))
        w = login(self.server, 'worker')
        el = w.iq("<query xmlns='%s' node='%s'/>" % (NS_DISCO_ITEMS, NS_CMD),
                  to='localhost')
        self.assertEqual(el.get('type'), 'result', s(el))
        self.assertEqual(len(el.find(q(NS_DISCO_ITEMS, 'query'))), 0, s(el))
        # The server advertises XEP-0050.
        el = w.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to='localhost')
        feats = [f.get('var') for f in el.iter(q(NS_DISCO_INFO, 'feature'))]
        self.assertIn(NS_CMD, feats)
        # A command node's description, for admins only.
        el = w.iq("<query xmlns='%s' node='%s'/>" % (
            NS_DISCO_INFO, NODES['add-user']), to='localhost')
        self.cmd_error(el, 'forbidden')

    def test_non_admin_refused(self):
        w = login(self.server, 'worker')
        for node in (NODES['add-user'], NODES['get-online-users-num'],
                     NS_ADMIN + '#no-such'):
            el = self.raw_cmd(w, node)
            text = self.cmd_error(el, 'forbidden')
            self.assertIn('admin', text)
        rows = self.audit('admin')
        self.assertTrue(any(a == 'worker' and 'refused' in d
                            for a, d in rows), rows)

    def audit(self, kind):
        db = sqlite3.connect(os.path.join(self.server.data_dir, 'parley.db'),
                             timeout=10)
        try:
            return db.execute('SELECT account, detail FROM audit WHERE '
                              'kind = ?', (kind,)).fetchall()
        finally:
            db.close()

    def test_add_user(self):
        name = uid('new').replace('-', '')
        first, done = self.admin.run('add-user', {
            'accountjid': '%s@localhost' % name,
            'password': 'fresh-pw-9', 'password-verify': 'fresh-pw-9'})
        form = first['command']['form']
        self.assertEqual(form['type'], 'form')
        self.assertIn('accountjid', fields(form))
        self.assertEqual(fields(form)['password']['type'], 'text-private')
        self.assertEqual(done['type'], 'result', str(done))
        self.assertEqual(done['command']['status'], 'completed')
        self.assertIn(('info', 'added %s@localhost' % name),
                      cmd_notes(done))
        # A working login, with the password given.
        c = login(self.server, name, password='fresh-pw-9')
        c.ping()
        # Again: the account exists (a note, not a crash).
        _, again = self.admin.run('add-user', {
            'accountjid': '%s@localhost' % name,
            'password': 'x', 'password-verify': 'x'})
        self.assertEqual(again['command']['status'], 'completed')
        self.assertIn(('error', '%s@localhost already exists' % name),
                      cmd_notes(again))
        self.assertTrue(any(a == name and d.startswith('add-user by '
                                                       'boss@localhost')
                            for a, d in self.audit('admin')))

    def test_add_user_bad_input(self):
        for fields, cond in (
                ({'accountjid': 'x@other.example', 'password': 'p',
                  'password-verify': 'p'}, 'jid-malformed'),
                ({'accountjid': 'not a jid@@', 'password': 'p',
                  'password-verify': 'p'}, 'jid-malformed'),
                ({'accountjid': 'y@localhost/res', 'password': 'p',
                  'password-verify': 'p'}, 'jid-malformed'),
                ({'accountjid': 'y@localhost', 'password': 'p',
                  'password-verify': 'q'}, 'not-acceptable'),
                ({'accountjid': 'y@localhost'}, 'bad-request')):
            _, el = self.admin.run('add-user', fields)
            self.assertEqual(el['type'], 'error', str(el))
            self.assertEqual(el['error']['condition'], cond, str(el))
            self.assertTrue(el['error']['text'], str(el))
        r = self.server.ctl('user', 'list')
        self.assertNotIn('y@localhost', r.stdout)
        self.assertServerAlive()

    def test_delete_user(self):
        v1 = login(self.server, 'victim')
        v2 = login(self.server, 'victim')
        _, done = self.admin.run('delete-user', {
            'accountjids': ['victim@localhost', 'ghost@localhost']})
        self.assertEqual(done['command']['status'], 'completed', str(done))
        ns = cmd_notes(done)
        self.assertIn(('info', 'deleted victim@localhost'), ns)
        self.assertIn(('error', 'no such account: ghost@localhost'), ns)
        for v in (v1, v2):
            cond, text = v.expect_stream_error()
            self.assertEqual(cond, 'not-authorized')
            self.assertIn('deleted', text)
        r = self.server.ctl('user', 'list')
        self.assertNotIn('victim@localhost', r.stdout)
        raw = RawClient(self.server)
        with self.assertRaises(AssertionError):
            raw.login('victim', 'victim-pw')
        # A bad JID among them: nothing is deleted.
        self.server.add_user('keeper', 'keeper-pw')
        _, el = self.admin.run('delete-user', {
            'accountjids': ['keeper@localhost', 'bad@other.example']})
        self.assertEqual(el['type'], 'error', str(el))
        self.assertEqual(el['error']['condition'], 'jid-malformed')
        self.assertIn('keeper@localhost', self.server.ctl('user',
                                                          'list').stdout)

    def test_announce(self):
        a = login(self.server, 'listener')
        b = login(self.server, 'worker')
        word = uid('notice')
        _, done = self.admin.run('announce', {
            'subject': 'Maintenance', 'announcement': 'down at 6pm ' + word})
        self.assertEqual(done['command']['status'], 'completed', str(done))
        self.assertTrue(any(t == 'info' and v.startswith('sent to ')
                            for t, v in cmd_notes(done)))
        for c in (a, b):
            m = c.expect(lambda e: e.tag == q(NS_CLIENT, 'message') and
                         word in (e.findtext(q(NS_CLIENT, 'body')) or ''),
                         what='announcement')
            self.assertEqual(m.get('from'), 'localhost')
            self.assertEqual(m.get('type'), 'headline')
            self.assertEqual(m.findtext(q(NS_CLIENT, 'subject')),
                             'Maintenance')
        # The admin's own slixmpp session got it too.
        got = self.admin.c.message(lambda m: word in (m['body'] or ''))
        self.assertEqual(got['from'], 'localhost')
        # An empty announcement is bad input.
        _, el = self.admin.run('announce', {'subject': 'x'})
        self.assertEqual(el['error']['condition'], 'bad-request')

    def test_online_users(self):
        w = login(self.server, 'worker')
        w2 = login(self.server, 'worker')
        el = self.admin.send(NODES['get-online-users-num'])
        self.assertEqual(el['command']['status'], 'completed', str(el))
        num = int(fields(el['command']['form'])['onlineusersnum']['value'])
        _, lst = self.admin.run('get-online-users-list',
                                {'max_items': 'none'})
        jids = fields(lst['command']['form'])['onlineuserjids']['value']
        jids = [str(j) for j in jids]
        self.assertIn('boss@localhost', jids)
        self.assertIn('worker@localhost', jids)
        self.assertEqual(len(jids), len(set(jids)), jids)   # accounts
        self.assertEqual(num, len(jids))
        # max_items bounds it.
        _, one = self.admin.run('get-online-users-list', {'max_items': '1'})
        self.assertEqual(len(fields(one['command']['form'])
                             ['onlineuserjids']['value']), 1)
        w.logout()
        w2.logout()
        self.assertTrue(wait_until(lambda: 'worker@localhost' not in [
            str(j) for j in fields(self.admin.run(
                'get-online-users-list', {'max_items': 'none'})[1]
                ['command']['form'])['onlineuserjids']['value']],
            T(5), 0.2))

    def test_sessions_and_bad_requests(self):
        boss = login(self.server, 'boss')
        el = self.raw_cmd(boss, NODES['add-user'])
        cmd = el.find(q(NS_CMD, 'command'))
        sid = cmd.get('sessionid')
        self.assertEqual(cmd.get('status'), 'executing', s(el))
        self.assertIsNotNone(cmd.find(q(NS_CMD, 'actions')), s(el))
        # Complete without a form.
        el = self.raw_cmd(boss, NODES['add-user'], 'complete', sid)
        self.cmd_error(el, 'bad-request', 'bad-payload')
        # A form of the wrong type.
        el = self.raw_cmd(boss, NODES['add-user'], 'complete', sid,
                          "<x xmlns='%s' type='form'/>" % NS_DATA)
        self.cmd_error(el, 'bad-request', 'bad-payload')
        # An action not offered.
        el = self.raw_cmd(boss, NODES['add-user'], 'prev', sid)
        self.cmd_error(el, 'bad-request', 'bad-action')
        # Cancel ends the session; it cannot be used after.
        el = self.raw_cmd(boss, NODES['add-user'], 'cancel', sid)
        self.assertEqual(el.find(q(NS_CMD, 'command')).get('status'),
                         'canceled', s(el))
        el = self.raw_cmd(boss, NODES['add-user'], 'complete', sid,
                          "<x xmlns='%s' type='submit'/>" % NS_DATA)
        self.cmd_error(el, 'bad-request', 'bad-sessionid')
        # Someone else's (or a made-up) session id.
        el = self.raw_cmd(boss, NODES['add-user'], 'complete', 'deadbeef',
                          "<x xmlns='%s' type='submit'/>" % NS_DATA)
        self.cmd_error(el, 'bad-request', 'bad-sessionid')
        # Unknown node, missing node.
        el = self.raw_cmd(boss, NS_ADMIN + '#reboot-the-world')
        self.cmd_error(el, 'item-not-found')
        el = boss.iq("<command xmlns='%s'/>" % NS_CMD, iq_type='set',
                     to='localhost')
        self.cmd_error(el, 'item-not-found')
        boss.ping()
        self.assertServerAlive()
