"""Peer-to-peer transfer offers ([policy] p2p_transfers, im/p2p.c).

By default an offer that would hand a user's network address to the other
side (a SOCKS5 streamhost, Jingle host/srflx/prflx ICE candidates, a
direct S5B candidate) or carry a file past the virus scan (IBB, SI and
Jingle file transfer) is answered with policy-violation pointing to HTTP
upload, and never reaches the other resource.  With p2p_transfers = allow
the same offers go through.
"""

import unittest
import uuid
import xml.etree.ElementTree as ET

from harness import ServerTestCase, RawClient, q, stanza_error, NS_CLIENT

NS_BS = 'http://jabber.org/protocol/bytestreams'
NS_JINGLE = 'urn:xmpp:jingle:1'
NS_ICE = 'urn:xmpp:jingle:transports:ice-udp:1'
NS_S5B = 'urn:xmpp:jingle:transports:s5b:1'
NS_IBB = 'http://jabber.org/protocol/ibb'
NS_RTP = 'urn:xmpp:jingle:apps:rtp:1'
NS_FT = 'urn:xmpp:jingle:apps:file-transfer:5'
ADDR = '192.0.2.77'     # TEST-NET-1: never routed


def s(el):
    return ET.tostring(el).decode()


def socks5(initiator):
    return ("<query xmlns='%s' sid='s%s' mode='tcp'>"
            "<streamhost jid='%s' host='%s' port='5086'/></query>"
            % (NS_BS, uuid.uuid4().hex[:8], initiator, ADDR))


def ice(initiator, types, action='session-initiate'):
    cands = ''.join(
        "<candidate component='1' foundation='%d' generation='0' "
        "id='c%d' ip='%s' network='0' port='%d' priority='1' "
        "protocol='udp' type='%s'/>" % (i, i, ADDR, 9000 + i, t)
        for i, t in enumerate(types))
    return ("<jingle xmlns='%s' action='%s' initiator='%s' sid='j%s'>"
            "<content creator='initiator' name='voice'>"
            "<description xmlns='%s' media='audio'>"
            "<payload-type id='0' name='PCMU'/></description>"
            "<transport xmlns='%s' ufrag='u1' pwd='p1p1p1p1p1p1p1p1p1p1p1'>"
            "%s</transport></content></jingle>"
            % (NS_JINGLE, action, initiator, uuid.uuid4().hex[:8], NS_RTP,
               NS_ICE, cands))


def s5b(initiator, ctype):
    return ("<jingle xmlns='%s' action='session-initiate' initiator='%s' "
            "sid='j%s'><content creator='initiator' name='stream'>"
            "<description xmlns='%s' media='audio'/>"
            "<transport xmlns='%s' sid='t1'>"
            "<candidate cid='c1' host='%s' jid='%s' port='5086' "
            "priority='8257636' type='%s'/></transport></content></jingle>"
            % (NS_JINGLE, initiator, uuid.uuid4().hex[:8], NS_RTP, NS_S5B,
               ADDR, initiator, ctype))


def jingle_ft_ibb(initiator):
    return ("<jingle xmlns='%s' action='session-initiate' initiator='%s' "
            "sid='j%s'><content creator='initiator' name='f'>"
            "<description xmlns='%s'><file><name>a.exe</name><size>10"
            "</size></file></description>"
            "<transport xmlns='urn:xmpp:jingle:transports:ibb:1' "
            "block-size='4096' sid='ib1'/></content></jingle>"
            % (NS_JINGLE, initiator, uuid.uuid4().hex[:8], NS_FT))


class P2PCase(ServerTestCase):
    USERS = {'alice': 'alice-pw-1', 'bob': 'bob-pw-22'}

    def pair(self):
        a = RawClient(self.server)
        a.login('alice', 'alice-pw-1', resource='laptop')
        b = RawClient(self.server)
        b.login('bob', 'bob-pw-22', resource='phone')
        return a, b

    def offer(self, a, b, payload):
        """Sends payload in an IQ set from a to b's full JID; returns
        (a's answer, the IQ as b got it or None).  A message sent right
        after it is the marker: the router keeps one sender's order, so
        whatever b has not seen by then, b never gets."""
        iq_id = 'p2p-' + uuid.uuid4().hex[:8]
        a.send("<iq type='set' id='%s' to='%s'>%s</iq>"
               % (iq_id, b.jid, payload))
        a.message(b.jid, 'marker ' + iq_id)
        got = None
        while True:
            el = b.next(10, lambda e: e.tag in (q(NS_CLIENT, 'iq'),
                                                q(NS_CLIENT, 'message')))
            if el.tag == q(NS_CLIENT, 'iq') and el.get('id') == iq_id:
                got = el
                # b answers, as a client would.
                b.send("<iq type='result' id='%s' to='%s'/>"
                       % (iq_id, a.jid))
            elif el.tag == q(NS_CLIENT, 'message') and \
                    (el.findtext(q(NS_CLIENT, 'body')) or '') == \
                    'marker ' + iq_id:
                break
        return a.iq_reply(iq_id, timeout=5), got

    def assertRefused(self, a, b, payload):
        answer, got = self.offer(a, b, payload)
        self.assertIsNone(got, 'the offer reached %s: %s'
                          % (b.jid, s(got) if got is not None else ''))
        cond, etype, text = stanza_error(answer)
        self.assertEqual(cond, 'policy-violation', s(answer))
        self.assertIn('HTTP upload (XEP-0363)', text)
        return text

    def assertDelivered(self, a, b, payload):
        answer, got = self.offer(a, b, payload)
        self.assertIsNotNone(got, 'the IQ did not reach %s' % b.jid)
        self.assertEqual(answer.get('type'), 'result', s(answer))
        return got


class P2PRefuseTest(P2PCase):

    def test_socks5_direct_host_refused(self):
        a, b = self.pair()
        text = self.assertRefused(a, b, socks5(a.jid))
        self.assertIn('network address', text)
        # Nothing about the address reached bob, then or later.
        self.assertNotIn(ADDR.encode(), bytes(b.received))
        self.assertIn('refused a query offer', self.server.log())

    def test_jingle_host_and_srflx_candidates_refused(self):
        a, b = self.pair()
        for types in (['host'], ['srflx'], ['prflx'], ['relay', 'host']):
            self.assertRefused(a, b, ice(a.jid, types))
        # In any action that carries candidates.
        for action in ('transport-info', 'transport-replace',
                       'session-accept'):
            self.assertRefused(a, b, ice(a.jid, ['host'], action))
        self.assertNotIn(ADDR.encode(), bytes(b.received))

    def test_jingle_relay_candidates_pass(self):
        # A call through a TURN relay names the relay, not the user.
        a, b = self.pair()
        got = self.assertDelivered(a, b, ice(a.jid, ['relay']))
        self.assertIn("type=\"relay\"", s(got))

    def test_jingle_s5b_direct_refused_proxy_passes(self):
        a, b = self.pair()
        self.assertRefused(a, b, s5b(a.jid, 'direct'))
        self.assertRefused(a, b, s5b(a.jid, 'assisted'))
        self.assertDelivered(a, b, s5b(a.jid, 'proxy'))

    def test_unscanned_file_transfers_refused(self):
        a, b = self.pair()
        text = self.assertRefused(a, b, jingle_ft_ibb(a.jid))
        self.assertIn('virus scan', text)
        self.assertRefused(a, b, "<open xmlns='%s' block-size='4096' "
                           "sid='i1' stanza='iq'/>" % NS_IBB)
        self.assertRefused(
            a, b, "<si xmlns='http://jabber.org/protocol/si' id='s1' "
            "profile='http://jabber.org/protocol/si/profile/file-transfer'>"
            "<file xmlns='http://jabber.org/protocol/si/profile/"
            "file-transfer' name='a.exe' size='10'/></si>")

    def test_other_iqs_to_resources_still_routed(self):
        a, b = self.pair()
        self.assertDelivered(a, b, "<query xmlns='jabber:iq:private'/>")
        # And messages are not touched at all.
        a.message(b.jid, 'hello')
        m = b.next_message()
        self.assertEqual(m.find(q(NS_CLIENT, 'body')).text, 'hello')


class P2PAllowTest(P2PCase):
    CONFIG = {'policy': {'p2p_transfers': 'allow'}}

    def test_socks5_and_jingle_offers_pass_when_allowed(self):
        a, b = self.pair()
        got = self.assertDelivered(a, b, socks5(a.jid))
        sh = got.find(q(NS_BS, 'query')).find(q(NS_BS, 'streamhost'))
        self.assertEqual(sh.get('host'), ADDR)
        self.assertDelivered(a, b, ice(a.jid, ['host', 'srflx']))
        self.assertDelivered(a, b, jingle_ft_ibb(a.jid))
        r = self.server.ctl('check')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('[policy] p2p_transfers = allow', r.stdout)


if __name__ == '__main__':
    unittest.main()
