"""In-band registration (XEP-0077) and invitations (XEP-0401 URIs with
XEP-0445 tokens): closed by default, open with per-address limits, by
invitation with single-use, expiring, revocable tokens; password change
after login; parleyctl invite."""

import calendar
import hashlib
import os
import re
import sqlite3
import time
import xml.etree.ElementTree as ET

from harness import (Client, RawClient, ServerTestCase, StreamClosed, T,
                     q, stanza_error, xml_escape, NS_CLIENT, NS_SASL,
                     NS_TLS, NS_BIND)

NS_REGISTER = 'jabber:iq:register'
NS_REG_FEATURE = 'http://jabber.org/features/iq-register'
NS_IBR_TOKEN = 'urn:xmpp:ibr-token:0'
NS_PARS = 'urn:xmpp:pars:0'

GOOD_PW = 'long-enough-pw-1'


def s(el):
    return ET.tostring(el).decode('utf-8', 'replace')


def reg_query(user=None, password=None, extra=''):
    body = ''
    if user is not None:
        body += '<username>%s</username>' % xml_escape(user)
    if password is not None:
        body += '<password>%s</password>' % xml_escape(password)
    return "<query xmlns='%s'>%s%s</query>" % (NS_REGISTER, body, extra)


def tls_client(server):
    """Connected, TLS up, not logged in; returns (client, features)."""
    r = RawClient(server)
    r.open()
    return r, r.starttls()


def register(r, user, password, to='localhost'):
    return r.iq(reg_query(user, password), 'set', to=to)


def preauth(r, token):
    return r.iq("<preauth xmlns='%s' token='%s'/>"
                % (NS_PARS, xml_escape(token)), 'set', to='localhost')


def accounts(server):
    r = server.ctl('user', 'list')
    assert r.returncode == 0, r.stderr
    return set(line.split('@')[0] for line in r.stdout.split())


def can_log_in(server, user, password):
    r = RawClient(server)
    r.open()
    r.starttls()
    el = r.auth_scram(user, password)
    r.close()
    return el.tag == q(NS_SASL, 'success')


class RegTestCase(ServerTestCase):

    def assertError(self, el, cond, etype=None):
        self.assertEqual(el.get('type'), 'error', s(el))
        got, typ, text = stanza_error(el)
        self.assertEqual(got, cond, s(el))
        self.assertTrue(text, 'error without <text/>: %s' % s(el))
        if etype is not None:
            self.assertEqual(typ, etype, s(el))
        # The request held a password: it must not come back.
        self.assertIsNone(el.find(q(NS_REGISTER, 'query')), s(el))
        return text

    def assertNoAddress(self, r):
        self.assertNotIn(b'127.0.0.1', bytes(r.received))


class ClosedByDefaultTest(RegTestCase):
    USERS = {'alice': 'alice-pw-1234'}

    def test_no_register_feature(self):
        r, feats = tls_client(self.server)
        self.assertIn('SCRAM-SHA-256', RawClient.mechanisms(feats))
        self.assertIsNone(feats.find(q(NS_REG_FEATURE, 'register')), s(feats))
        self.assertIsNone(feats.find(q(NS_IBR_TOKEN, 'register')), s(feats))

    def test_registration_refused_with_text(self):
        r, _ = tls_client(self.server)
        el = r.iq(reg_query(), 'get', to='localhost')
        self.assertError(el, 'service-unavailable')
        el = register(r, 'mallory', GOOD_PW)
        text = self.assertError(el, 'service-unavailable')
        self.assertIn('administrator', text)
        el = preauth(r, 'a' * 26)
        self.assertError(el, 'service-unavailable')
        self.assertNotIn('mallory', accounts(self.server))
        # The connection still logs in normally afterwards.
        self.assertEqual(r.auth_scram('alice', 'alice-pw-1234').tag,
                         q(NS_SASL, 'success'))

    def test_other_iq_before_login_still_ends_the_stream(self):
        r, _ = tls_client(self.server)
        r.send("<iq type='get' id='v1'><query xmlns='jabber:iq:roster'/>"
               "</iq>")
        cond, text = r.expect_stream_error()
        self.assertEqual(cond, 'not-authorized')


class PasswordChangeTest(RegTestCase):
    """Closed mode: an account still manages its own password."""
    USERS = {'carol': 'carol-old-pw', 'dave': 'dave-pw-1234'}

    def test_change_password(self):
        r = RawClient(self.server)
        r.login('carol', 'carol-old-pw', 'pw')
        el = r.iq(reg_query(), 'get')
        self.assertEqual(el.get('type'), 'result', s(el))
        qu = el.find(q(NS_REGISTER, 'query'))
        self.assertIsNotNone(qu.find(q(NS_REGISTER, 'registered')), s(el))
        self.assertEqual(qu.find(q(NS_REGISTER, 'username')).text, 'carol')
        # Too short, someone else's, empty, removal: all refused.
        self.assertError(r.iq(reg_query('carol', 'short'), 'set'),
                         'not-acceptable')
        self.assertError(r.iq(reg_query('dave', 'carol-new-pw-1'), 'set'),
                         'forbidden')
        self.assertError(r.iq(reg_query('carol', ''), 'set'),
                         'bad-request')
        self.assertError(r.iq("<query xmlns='%s'><remove/></query>"
                              % NS_REGISTER, 'set'), 'not-allowed')
        self.assertTrue(can_log_in(self.server, 'dave', 'dave-pw-1234'))
        self.assertTrue(can_log_in(self.server, 'carol', 'carol-old-pw'))
        el = r.iq(reg_query('carol', 'carol-new-pw-1'), 'set',
                  to='localhost')
        self.assertEqual(el.get('type'), 'result', s(el))
        r.close()
        self.assertTrue(can_log_in(self.server, 'carol', 'carol-new-pw-1'))
        self.assertFalse(can_log_in(self.server, 'carol', 'carol-old-pw'))
        self.assertIn('carol', accounts(self.server))
        self.assertNotIn('carol-new-pw-1', self.server.log())


class OpenTest(RegTestCase):
    CONFIG = {'register': {'mode': 'open', 'accounts_per_address_hour': 100,
                           'refused_per_address_hour': 100},
              'auth': {'scram_iterations': 5000}}
    USERS = {'taken': 'taken-pw-1234'}

    def test_feature_only_after_tls(self):
        r = RawClient(self.server)
        feats = r.open()
        self.assertIsNone(feats.find(q(NS_REG_FEATURE, 'register')), s(feats))
        feats = r.starttls()
        self.assertIsNotNone(feats.find(q(NS_REG_FEATURE, 'register')),
                             s(feats))
        self.assertIsNone(feats.find(q(NS_IBR_TOKEN, 'register')), s(feats))

    def test_form(self):
        r, _ = tls_client(self.server)
        el = r.iq(reg_query(), 'get')
        self.assertEqual(el.get('type'), 'result', s(el))
        qu = el.find(q(NS_REGISTER, 'query'))
        self.assertIsNotNone(qu.find(q(NS_REGISTER, 'username')), s(el))
        self.assertIsNotNone(qu.find(q(NS_REGISTER, 'password')), s(el))
        self.assertTrue(qu.find(q(NS_REGISTER, 'instructions')).text)
        self.assertIsNone(qu.find(q(NS_REGISTER, 'registered')), s(el))

    def test_register_then_log_in_on_the_same_stream(self):
        r, _ = tls_client(self.server)
        el = register(r, 'Newbie', GOOD_PW)
        self.assertEqual(el.get('type'), 'result', s(el))
        self.assertIsNone(el.find(q(NS_REGISTER, 'query')), s(el))
        # Normalised like parleyctl: lower case.
        self.assertIn('newbie', accounts(self.server))
        # A second account on the same connection is refused.
        self.assertError(register(r, 'newbie2', GOOD_PW), 'not-acceptable')
        el = r.auth_scram('newbie', GOOD_PW)
        self.assertEqual(el.tag, q(NS_SASL, 'success'), s(el))
        feats = r.open()
        self.assertIsNotNone(feats.find(q(NS_BIND, 'bind')), s(feats))
        self.assertEqual(r.bind('here').get('type'), 'result')
        r.close()
        # And with a real client, SCRAM-SHA-1 this time.
        c = Client(self.server, 'newbie@localhost/slix', GOOD_PW,
                   mech='SCRAM-SHA-1').connect(presence=False)
        c.disconnect()
        self.assertNotIn(GOOD_PW, self.server.log())

    def test_credentials_made_like_parleyctl(self):
        r, _ = tls_client(self.server)
        self.assertEqual(register(r, 'likectl', GOOD_PW).get('type'),
                         'result')
        db = sqlite3.connect(os.path.join(self.server.data_dir,
                                          'parley.db'))
        try:
            rows = {lp: row for lp, *row in db.execute(
                'SELECT localpart, sha1_iter, sha256_iter, length(sha1_salt),'
                ' length(sha256_salt), length(sha1_stored),'
                ' length(sha256_stored) FROM users'
                ' WHERE localpart IN (?, ?)', ('likectl', 'taken'))}
        finally:
            db.close()
        self.assertEqual(rows['likectl'], rows['taken'])
        self.assertEqual(rows['likectl'][:2], [5000, 5000])

    def test_slixmpp_registers_and_logs_in(self):
        from slixmpp.exceptions import IqError
        c = Client(self.server, 'slixreg@localhost/r', GOOD_PW)
        outcome = {}

        async def on_register(form):
            iq = c.xmpp.Iq()
            iq['type'] = 'set'
            iq['register']['username'] = 'slixreg'
            iq['register']['password'] = GOOD_PW
            try:
                await iq.send()
                outcome['ok'] = True
            except IqError as e:
                outcome['error'] = e.iq['error']['condition']

        def setup():
            c.xmpp.register_plugin('xep_0077')
            # Debian's slixmpp holds back every IQ until the session has
            # started, its own XEP-0077 plugin's too; let them through.
            c.xmpp._always_send_everything = True
            c.xmpp.add_event_handler('register', on_register)
        from harness import in_loop
        in_loop(setup)
        c.connect(presence=False)
        self.assertEqual(outcome, {'ok': True})
        self.assertEqual(c.bare, 'slixreg@localhost')
        c.disconnect()

    def test_conflict(self):
        r, _ = tls_client(self.server)
        text = self.assertError(register(r, 'TAKEN', 'other-pw-12345'),
                                'conflict')
        self.assertIn('taken', text)
        r.close()
        self.assertTrue(can_log_in(self.server, 'taken', 'taken-pw-1234'))
        self.assertFalse(can_log_in(self.server, 'taken', 'other-pw-12345'))

    def test_bad_names_and_passwords(self):
        before = accounts(self.server)
        cases = [('bad name', GOOD_PW), ('a@b', GOOD_PW),
                 ('caf\u00e9', GOOD_PW), ('', GOOD_PW), ('shortpw', 'abc'),
                 ('ctl', 'with\u007fdel-pw'), ('nopw', '')]
        for user, pw in cases:
            r, _ = tls_client(self.server)
            el = register(r, user, pw)
            self.assertError(el, 'not-acceptable', 'modify')
            r.close()
        r, _ = tls_client(self.server)
        text = self.assertError(register(r, 'shortpw', 'abc'),
                                'not-acceptable')
        self.assertIn('at least 8', text)
        self.assertError(r.iq(reg_query('onlyname'), 'set'),
                         'not-acceptable')
        self.assertError(r.iq(reg_query('twice', GOOD_PW,
                                        '<username>x</username>'), 'set'),
                         'bad-request')
        self.assertEqual(accounts(self.server), before)

    def test_plaintext_refused(self):
        r = RawClient(self.server)
        feats = r.open()
        self.assertIsNotNone(feats.find(q(NS_TLS, 'starttls')))
        r.send("<iq type='set' id='r1'>%s</iq>"
               % reg_query('cleartext', GOOD_PW))
        cond, text = r.expect_stream_error()
        self.assertIn(cond, ('not-authorized', 'policy-violation'))
        self.assertTrue(text)
        self.assertNotIn('cleartext', accounts(self.server))

    def test_other_domain_refused(self):
        r, _ = tls_client(self.server)
        self.assertError(register(r, 'elsewhere', GOOD_PW,
                                  to='example.org'), 'service-unavailable')
        self.assertNotIn('elsewhere', accounts(self.server))


class AccountLimitTest(RegTestCase):
    CONFIG = {'register': {'mode': 'open', 'accounts_per_address_hour': 2}}

    def test_third_account_in_an_hour_refused(self):
        for name in ('lim1', 'lim2'):
            r, _ = tls_client(self.server)
            self.assertEqual(register(r, name, GOOD_PW).get('type'),
                             'result')
            r.close()
        r, _ = tls_client(self.server)
        el = register(r, 'lim3', GOOD_PW)
        text = self.assertError(el, 'policy-violation', 'wait')
        self.assertIn('hour', text)
        self.assertNoAddress(r)
        self.assertNotIn('lim3', accounts(self.server))
        # The same connection may still log in, as may the others.
        self.assertEqual(r.auth_scram('lim1', GOOD_PW).tag,
                         q(NS_SASL, 'success'))
        r.close()
        self.assertTrue(can_log_in(self.server, 'lim2', GOOD_PW))
        self.assertServerAlive()


class RefusedLimitTest(RegTestCase):
    CONFIG = {'register': {'mode': 'open', 'refused_per_address_hour': 3}}
    USERS = {'known': 'known-pw-1234'}

    def test_probing_is_bounded(self):
        r, _ = tls_client(self.server)
        for name in ('known', 'bad name', 'known'):
            el = register(r, name, GOOD_PW)
            self.assertIn(stanza_error(el)[0], ('conflict',
                                                'not-acceptable'), s(el))
        text = self.assertError(register(r, 'fresh', GOOD_PW),
                                'policy-violation', 'wait')
        self.assertTrue(text)
        self.assertNoAddress(r)
        r.close()
        self.assertNotIn('fresh', accounts(self.server))
        self.assertTrue(can_log_in(self.server, 'known', 'known-pw-1234'))


def make_invite(server, *args):
    r = server.ctl('invite', *args)
    assert r.returncode == 0, (r.returncode, r.stderr)
    out = dict(line.split(': ', 1) for line in r.stdout.splitlines())
    return out


class InviteTest(RegTestCase):
    CONFIG = {'register': {'mode': 'invite',
                           'refused_per_address_hour': 100}}
    USERS = {'taken': 'taken-pw-1234'}

    def test_features(self):
        r, feats = tls_client(self.server)
        self.assertIsNotNone(feats.find(q(NS_IBR_TOKEN, 'register')),
                             s(feats))
        self.assertIsNotNone(feats.find(q(NS_REG_FEATURE, 'register')),
                             s(feats))

    def test_without_token_refused(self):
        r, _ = tls_client(self.server)
        text = self.assertError(register(r, 'uninvited', GOOD_PW),
                                'forbidden')
        self.assertIn('invitation', text)
        self.assertNotIn('uninvited', accounts(self.server))

    def test_token_works_once(self):
        inv = make_invite(self.server)
        r, _ = tls_client(self.server)
        el = preauth(r, inv['token'])
        self.assertEqual(el.get('type'), 'result', s(el))
        # A taken name spends nothing ...
        self.assertError(register(r, 'taken', GOOD_PW), 'conflict')
        el = register(r, 'invited', GOOD_PW)
        self.assertEqual(el.get('type'), 'result', s(el))
        self.assertEqual(r.auth_scram('invited', GOOD_PW).tag,
                         q(NS_SASL, 'success'))
        r.close()
        # ... and the used token is refused afterwards.
        r, _ = tls_client(self.server)
        self.assertError(preauth(r, inv['token']), 'item-not-found')
        self.assertError(register(r, 'invited2', GOOD_PW), 'forbidden')
        self.assertNotIn('invited2', accounts(self.server))
        lst = self.server.ctl('invite', 'list').stdout
        self.assertRegex(lst, r'(?m)^%s used uses_left=0 used=1 '
                         % inv['id'])

    def test_multi_use(self):
        inv = make_invite(self.server, '--uses', '2')
        for name, ok in (('multi1', True), ('multi2', True),
                         ('multi3', False)):
            r, _ = tls_client(self.server)
            el = preauth(r, inv['token'])
            self.assertEqual(el.get('type') == 'result', ok, s(el))
            if ok:
                self.assertEqual(register(r, name, GOOD_PW).get('type'),
                                 'result')
            r.close()
        self.assertTrue({'multi1', 'multi2'} <= accounts(self.server))
        self.assertNotIn('multi3', accounts(self.server))

    def test_expired_token_refused(self):
        inv = make_invite(self.server, '--expires', '1s')
        time.sleep(2.2)
        r, _ = tls_client(self.server)
        self.assertError(preauth(r, inv['token']), 'item-not-found')
        self.assertError(register(r, 'late', GOOD_PW), 'forbidden')
        self.assertNotIn('late', accounts(self.server))

    def test_revoked_token_refused(self):
        inv = make_invite(self.server)
        rv = self.server.ctl('invite', 'revoke', inv['token'])
        self.assertEqual(rv.returncode, 0, rv.stderr)
        r, _ = tls_client(self.server)
        self.assertError(preauth(r, inv['token']), 'item-not-found')
        # Revoked between the token check and the registration.
        inv = make_invite(self.server)
        r, _ = tls_client(self.server)
        self.assertEqual(preauth(r, inv['token']).get('type'), 'result')
        rv = self.server.ctl('invite', 'revoke', inv['id'])
        self.assertEqual(rv.returncode, 0, rv.stderr)
        self.assertError(register(r, 'revoked', GOOD_PW), 'forbidden')
        self.assertNotIn('revoked', accounts(self.server))

    def test_unknown_token_refused(self):
        r, _ = tls_client(self.server)
        self.assertError(preauth(r, 'abcdefghijklmnopqrstuvwxyz'),
                         'item-not-found')
        self.assertError(preauth(r, 'x'), 'item-not-found')

    def test_only_the_hash_is_stored(self):
        inv = make_invite(self.server)
        path = os.path.join(self.server.data_dir, 'parley.db')
        db = sqlite3.connect(path)
        try:
            hashes = [bytes(h) for (h,) in
                      db.execute('SELECT hash FROM invites')]
        finally:
            db.close()
        self.assertIn(hashlib.sha256(inv['token'].encode()).digest(), hashes)
        raw = b''
        for suffix in ('', '-wal'):
            if os.path.exists(path + suffix):
                with open(path + suffix, 'rb') as f:
                    raw += f.read()
        self.assertNotIn(inv['token'].encode(), raw)


class InviteCtlTest(RegTestCase):

    def test_output_parses(self):
        t0 = time.time()
        inv = make_invite(self.server, '--uses', '3', '--expires', '2d')
        self.assertEqual(set(inv), {'uri', 'token', 'id', 'uses', 'expires'})
        self.assertRegex(inv['token'], r'^[a-z2-7]{26}$')
        self.assertEqual(inv['uri'],
                         'xmpp:localhost?register;preauth=' + inv['token'])
        self.assertEqual(inv['uses'], '3')
        exp = calendar.timegm(time.strptime(inv['expires'],
                                            '%Y-%m-%dT%H:%M:%SZ'))
        self.assertAlmostEqual(exp - t0, 2 * 86400, delta=60)
        other = make_invite(self.server)
        self.assertNotEqual(other['token'], inv['token'])
        self.assertEqual(int(other['id']), int(inv['id']) + 1)
        lst = self.server.ctl('invite', 'list')
        self.assertEqual(lst.returncode, 0)
        self.assertRegex(lst.stdout, r'(?m)^%s active uses_left=3 used=0 '
                         % inv['id'])
        self.assertNotIn(inv['token'], lst.stdout)

    def test_bad_arguments(self):
        for args in (['--uses', '0'], ['--uses', 'x'], ['--uses'],
                     ['--expires', '7'], ['--expires', '400d'],
                     ['--expires', '-1d'], ['--bogus'],
                     ['list', 'extra'], ['revoke'], ['revoke', 'a', 'b'],
                     ['revoke', '12x']):
            r = self.server.ctl('invite', *args)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertEqual(r.stdout, '', args)
            lines = r.stderr.splitlines()
            self.assertEqual(len(lines), 1, (args, r.stderr))
            self.assertTrue(lines[0].startswith('parleyctl: '), lines)
        r = self.server.ctl('invite', 'revoke', '99999')
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(len(r.stderr.splitlines()), 1)
