"""Direct TLS (XEP-0368) and TLS version policy."""

import ssl
import uuid
import warnings

from harness import Client, RawClient, ServerTestCase, round_trip


def legacy_context(max_version):
    """A client context that really offers old TLS versions."""
    ctx = RawClient.client_context()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = max_version
    ctx.set_ciphers('DEFAULT:@SECLEVEL=0')
    return ctx


class DirectTlsTest(ServerTestCase):
    USERS = {'alice': 'alice-pw', 'bob': 'bob-pw'}

    def test_slixmpp_direct_tls(self):
        a = Client(self.server, 'alice@localhost/direct', 'alice-pw',
                   direct_tls=True).connect()
        b = Client(self.server, 'bob@localhost/starttls', 'bob-pw').connect()
        round_trip(a, b, 'direct')
        a.disconnect()
        b.disconnect()

    def test_raw_direct_tls_with_alpn(self):
        since = self.server.log_size()
        r = RawClient(self.server, direct_tls=True, alpn=('xmpp-client',))
        self.assertIn(r.sock.version(), ('TLSv1.2', 'TLSv1.3'))
        feats = r.open()
        # Already encrypted: no STARTTLS, SASL straight away.
        self.assertIsNone(feats.find(
            '{urn:ietf:params:xml:ns:xmpp-tls}starttls'))
        self.assertIn('SCRAM-SHA-256', RawClient.mechanisms(feats))
        el = r.auth_scram('alice', 'alice-pw')
        self.assertEqual(el.tag, '{urn:ietf:params:xml:ns:xmpp-sasl}success')
        r.open()
        self.assertEqual(r.bind('alpn').get('type'), 'result')
        self.assertEqual(r.jid, 'alice@localhost/alpn')
        self.assertTrue(self.server.wait_log('(direct TLS)', since=since))
        r.close()

    def test_tls11_refused_on_direct_tls(self):
        with self.assertRaises(ssl.SSLError) as cm:
            RawClient(self.server, direct_tls=True,
                      ssl_context=legacy_context(ssl.TLSVersion.TLSv1_1))
        msg = str(cm.exception)
        # The server refused (alert), not our own OpenSSL.
        self.assertNotIn('NO_PROTOCOLS_AVAILABLE', msg)
        self.assertRegex(msg, 'PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|'
                         'protocol version|unsupported protocol')

    def test_tls11_refused_after_starttls(self):
        r = RawClient(self.server)
        r.open()
        with self.assertRaises(ssl.SSLError) as cm:
            r.starttls(legacy_context(ssl.TLSVersion.TLSv1_1))
        self.assertNotIn('NO_PROTOCOLS_AVAILABLE', str(cm.exception))
        r.close()

    def test_same_legacy_context_can_do_tls12(self):
        # Control for the two tests above: the same context, allowed
        # TLS 1.2, does connect.
        r = RawClient(self.server, direct_tls=True,
                      ssl_context=legacy_context(ssl.TLSVersion.TLSv1_2))
        self.assertEqual(r.sock.version(), 'TLSv1.2')
        r.login('bob', 'bob-pw', 'tls12-' + uuid.uuid4().hex[:6])
        r.close()

    def test_certificate_verifies_for_localhost(self):
        ctx = ssl.create_default_context(cafile=self.server.cert)
        r = RawClient(self.server, direct_tls=True, ssl_context=ctx)
        cert = r.sock.getpeercert()
        sans = [v for k, v in cert.get('subjectAltName', ()) if k == 'DNS']
        self.assertIn('localhost', sans)
        r.close()
