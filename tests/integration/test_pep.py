"""PEP (XEP-0163 on XEP-0060) with filtered notifications (XEP-0115 caps):
what OMEMO clients need, and that nothing about a node reaches someone
who may not see it."""

import base64
import hashlib
import unittest
import uuid
import xml.etree.ElementTree as ET

from harness import (RawClient, Server, ServerTestCase, NS_CLIENT,
                     NS_DISCO_INFO, T, q, stanza_error, xml_escape)

NS_PUBSUB = 'http://jabber.org/protocol/pubsub'
NS_EVENT = NS_PUBSUB + '#event'
NS_OWNER = NS_PUBSUB + '#owner'
NS_PS_ERR = NS_PUBSUB + '#errors'
NS_CAPS = 'http://jabber.org/protocol/caps'
NS_DATA = 'jabber:x:data'
NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items'
CAPS_NODE = 'https://parley.example/test-client'
IDENTITY = ('client', 'phone', '', 'PEP test')
OMEMO_DEVICES = 'urn:xmpp:omemo:2:devices'
AXOLOTL = 'eu.siacs.conversations.axolotl.devicelist'


# --------------------------------------------------------------------------
# helpers (raw XML, no client library in between)

def bare(raw):
    return raw.jid.split('/', 1)[0]


def login(server, user, resource, presence=False):
    r = RawClient(server)
    r.login(user, user + '-pw', resource, presence=presence)
    return r


def caps_ver(features, identities=(IDENTITY,)):
    """XEP-0115 5.1 for identities and features (no forms)."""
    s = ''
    for ident in sorted(identities):
        s += '%s/%s/%s/%s<' % ident
    for f in sorted(features):
        s += f + '<'
    return base64.b64encode(hashlib.sha1(s.encode()).digest()).decode()


def caps_presence(raw, features, ver=None, answer=True, extra=''):
    """Sends available presence with caps; answers the server's disco#info
    query (when one comes and answer is set).  Returns the ver used."""
    ver = ver or caps_ver(features)
    raw.send("<presence>%s<c xmlns='%s' hash='sha-1' node='%s' ver='%s'/>"
             "</presence>" % (extra, NS_CAPS, CAPS_NODE, ver))
    if answer:
        answer_caps_query(raw, features, ver)
    return ver


def is_caps_query(e, ver=None):
    if e.tag != q(NS_CLIENT, 'iq') or e.get('type') != 'get':
        return False
    qe = e.find(q(NS_DISCO_INFO, 'query'))
    return qe is not None and (ver is None or
                               qe.get('node') == '%s#%s' % (CAPS_NODE, ver))


def answer_caps_query(raw, features, ver, timeout=10):
    iq = raw.next(timeout, lambda e: is_caps_query(e, ver))
    assert iq.get('from') == 'localhost', ET.tostring(iq)
    assert iq.get('to') == raw.jid, ET.tostring(iq)
    assert iq.get('id', '').startswith('caps-'), ET.tostring(iq)
    cat, typ, _lang, name = IDENTITY
    body = "<identity category='%s' type='%s' name='%s'/>" % (cat, typ, name)
    body += ''.join("<feature var='%s'/>" % xml_escape(f) for f in features)
    raw.send("<iq type='result' id='%s' to='localhost'><query xmlns='%s' "
             "node='%s#%s'>%s</query></iq>" % (iq.get('id'), NS_DISCO_INFO,
                                                CAPS_NODE, ver, body))


def notify_features(*nodes):
    return [NS_DISCO_INFO, NS_CAPS] + [n + '+notify' for n in nodes]


def grant(owner, viewer):
    """owner lets viewer see its presence (viewer must be available)."""
    owner.send("<presence to='%s' type='subscribed'/>" % bare(viewer))
    viewer.send("<presence to='%s' type='subscribe'/>" % bare(owner))
    viewer.next_presence(lambda e: e.get('type') == 'subscribed' and
                         e.get('from') == bare(owner))


def publish_options(**opts):
    if not opts:
        return ''
    fields = "<field var='FORM_TYPE' type='hidden'><value>%s#publish-" \
             "options</value></field>" % NS_PUBSUB
    for k, v in opts.items():
        fields += "<field var='pubsub#%s'><value>%s</value></field>" % (k, v)
    return ("<publish-options><x xmlns='%s' type='submit'>%s</x>"
            "</publish-options>" % (NS_DATA, fields))


def publish(raw, node, payload, item_id=None, **opts):
    ida = " id='%s'" % item_id if item_id is not None else ''
    return raw.iq("<pubsub xmlns='%s'><publish node='%s'><item%s>%s</item>"
                  "</publish>%s</pubsub>" % (NS_PUBSUB, node, ida, payload,
                                             publish_options(**opts)),
                  'set')


def payload(text):
    return "<entry xmlns='urn:test:pep'>%s</entry>" % xml_escape(text)


def items_req(raw, node, to=None, max_items=None, ids=()):
    ma = " max_items='%d'" % max_items if max_items else ''
    inner = ''.join("<item id='%s'/>" % i for i in ids)
    return raw.iq("<pubsub xmlns='%s'><items node='%s'%s>%s</items></pubsub>"
                  % (NS_PUBSUB, node, ma, inner), 'get', to=to)


def items_of(iq):
    """[(id, text of the payload)] of an items result."""
    assert iq.get('type') == 'result', ET.tostring(iq)
    its = iq.find(q(NS_PUBSUB, 'pubsub')).find(q(NS_PUBSUB, 'items'))
    out = []
    for it in its.findall(q(NS_PUBSUB, 'item')):
        p = it.find(q('urn:test:pep', 'entry'))
        out.append((it.get('id'), None if p is None else p.text))
    return out


def pubsub_error(iq):
    """(condition, type, pubsub#errors condition or None)."""
    cond, etype, _ = stanza_error(iq)
    err = iq.find(q(NS_CLIENT, 'error'))
    app = None
    if err is not None:
        for c in err:
            if c.tag.startswith('{%s}' % NS_PS_ERR):
                app = c.tag.split('}', 1)[1]
    return cond, etype, app


def owner_iq(raw, body, iq_type):
    return raw.iq("<pubsub xmlns='%s'>%s</pubsub>" % (NS_OWNER, body),
                  iq_type)


def get_config(raw, node):
    iq = owner_iq(raw, "<configure node='%s'/>" % node, 'get')
    assert iq.get('type') == 'result', ET.tostring(iq)
    x = iq.find(q(NS_OWNER, 'pubsub')).find(q(NS_OWNER, 'configure')) \
        .find(q(NS_DATA, 'x'))
    fields = {}
    for f in x.findall(q(NS_DATA, 'field')):
        v = f.find(q(NS_DATA, 'value'))
        fields[f.get('var')] = (f.get('type'), None if v is None else v.text,
                                [o.find(q(NS_DATA, 'value')).text
                                 for o in f.findall(q(NS_DATA, 'option'))])
    return fields


def set_config(raw, node, **opts):
    fields = "<field var='FORM_TYPE' type='hidden'><value>%s#node_config" \
             "</value></field>" % NS_PUBSUB
    for k, v in opts.items():
        fields += "<field var='pubsub#%s'><value>%s</value></field>" % (k, v)
    return owner_iq(raw, "<configure node='%s'><x xmlns='%s' type='submit'>"
                    "%s</x></configure>" % (node, NS_DATA, fields), 'set')


def is_event(e, frm=None, node=None):
    if e.tag != q(NS_CLIENT, 'message') or e.get('type') != 'headline':
        return False
    ev = e.find(q(NS_EVENT, 'event'))
    if ev is None or (frm is not None and e.get('from') != frm):
        return False
    if node is None:
        return True
    return any(c.get('node') == node for c in ev)


def event_items(msg):
    """(node, [(id, payload text)], [retracted ids]) of an items event."""
    its = msg.find(q(NS_EVENT, 'event')).find(q(NS_EVENT, 'items'))
    got = []
    for it in its.findall(q(NS_EVENT, 'item')):
        p = it.find(q('urn:test:pep', 'entry'))
        got.append((it.get('id'), None if p is None else p.text))
    retracted = [r.get('id') for r in its.findall(q(NS_EVENT, 'retract'))]
    return its.get('node'), got, retracted


def expect_nothing(raw, pred, within=0.7):
    try:
        el = raw.next(within, pred)
    except AssertionError:
        return
    raise AssertionError('unexpected: %s' % ET.tostring(el))


def unique(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:8])


# --------------------------------------------------------------------------

class PepAccessTest(ServerTestCase):
    """Publish, retrieve and the three access models."""
    USERS = {'alice': 'alice-pw', 'bob': 'bob-pw', 'carol': 'carol-pw'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # bob may see alice's presence; carol is a stranger to alice.
        cls.alice = login(cls.server, 'alice', 'a', presence=True)
        cls.bob = login(cls.server, 'bob', 'b', presence=True)
        cls.carol = login(cls.server, 'carol', 'c', presence=True)
        grant(cls.alice, cls.bob)

    def test_publish_and_retrieve_by_owner(self):
        a = self.alice
        iq = publish(a, 'n1', payload('hello'), 'i1')
        self.assertEqual(iq.get('type'), 'result', ET.tostring(iq))
        pub = iq.find(q(NS_PUBSUB, 'pubsub')).find(q(NS_PUBSUB, 'publish'))
        self.assertEqual(pub.get('node'), 'n1')
        self.assertEqual(pub.find(q(NS_PUBSUB, 'item')).get('id'), 'i1')
        self.assertEqual(items_of(items_req(a, 'n1')), [('i1', 'hello')])
        # To the own bare JID too.
        self.assertEqual(items_of(items_req(a, 'n1', to=bare(a))),
                         [('i1', 'hello')])
        # No id: the server makes one.
        iq = publish(a, 'n1', payload('second'))
        gen = iq.find(q(NS_PUBSUB, 'pubsub')).find(q(NS_PUBSUB, 'publish')) \
            .find(q(NS_PUBSUB, 'item')).get('id')
        self.assertTrue(gen)
        # Default max_items is 1: the newest is what is kept.
        self.assertEqual(items_of(items_req(a, 'n1')), [(gen, 'second')])
        # Same id replaces.
        publish(a, 'n1', payload('third'), gen)
        self.assertEqual(items_of(items_req(a, 'n1')), [(gen, 'third')])
        # Default configuration: presence access model.
        self.assertEqual(get_config(a, 'n1')['pubsub#access_model'][1],
                         'presence')

    def test_bad_publishes(self):
        a = self.alice
        iq = publish(a, 'bad', "<a xmlns='urn:x'/><b xmlns='urn:x'/>")
        self.assertEqual(pubsub_error(iq)[0::2],
                         ('bad-request', 'invalid-payload'))
        iq = publish(a, 'bad', '')
        self.assertEqual(pubsub_error(iq)[0::2],
                         ('bad-request', 'invalid-payload'))
        # Publishing to someone else's account.
        iq = a.iq("<pubsub xmlns='%s'><publish node='x'><item>%s</item>"
                  "</publish></pubsub>" % (NS_PUBSUB, payload('no')), 'set',
                  to='bob@localhost')
        self.assertEqual(stanza_error(iq)[0], 'forbidden')
        self.assertServerAlive()

    def test_presence_model_contact_yes_stranger_no_leak(self):
        a, b, c = self.alice, self.bob, self.carol
        node = unique('pres')
        self.assertEqual(publish(a, node, payload('p')).get('type'),
                         'result')
        got = items_of(items_req(b, node, to='alice@localhost'))
        self.assertEqual([t for _, t in got], ['p'])
        # The stranger: the same answer as for a node that does not exist.
        iq1 = items_req(c, node, to='alice@localhost')
        iq2 = items_req(c, unique('nonexistent'), to='alice@localhost')
        e1, e2 = stanza_error(iq1), stanza_error(iq2)
        self.assertEqual(e1[0], 'item-not-found')
        self.assertEqual(e1, e2)
        self.assertNotIn(b'<item ', ET.tostring(iq1))
        # disco#items: bob sees the node, carol is not told anything.
        iq = b.iq("<query xmlns='%s'/>" % NS_DISCO_ITEMS, to='alice@localhost')
        nodes = [i.get('node') for i in
                 iq.find(q(NS_DISCO_ITEMS, 'query'))]
        self.assertIn(node, nodes)
        iq = c.iq("<query xmlns='%s'/>" % NS_DISCO_ITEMS, to='alice@localhost')
        self.assertEqual(iq.get('type'), 'error')
        self.assertNotIn(node.encode(), ET.tostring(iq))

    def test_open_model_stranger_may_retrieve(self):
        a, c = self.alice, self.carol
        node = unique('open')
        iq = publish(a, node, payload('public'), 'x', access_model='open')
        self.assertEqual(iq.get('type'), 'result', ET.tostring(iq))
        self.assertEqual(items_of(items_req(c, node, to='alice@localhost')),
                         [('x', 'public')])
        self.assertEqual(get_config(a, node)['pubsub#access_model'][1],
                         'open')

    def test_whitelist_model(self):
        a, b, c = self.alice, self.bob, self.carol
        node = unique('wl')
        iq = publish(a, node, payload('secret'), 's',
                     access_model='whitelist')
        self.assertEqual(iq.get('type'), 'result', ET.tostring(iq))
        # A contact that is not a member: refused.
        iq = items_req(b, node, to='alice@localhost')
        self.assertEqual(pubsub_error(iq), ('not-allowed', 'cancel',
                                            'closed-node'))
        # A stranger: nothing to see at all.
        iq = items_req(c, node, to='alice@localhost')
        self.assertEqual(stanza_error(iq)[0], 'item-not-found')
        # Membership.
        iq = owner_iq(a, "<affiliations node='%s'><affiliation "
                      "jid='bob@localhost' affiliation='member'/>"
                      "</affiliations>" % node, 'set')
        self.assertEqual(iq.get('type'), 'result', ET.tostring(iq))
        iq = owner_iq(a, "<affiliations node='%s'/>" % node, 'get')
        affs = {x.get('jid'): x.get('affiliation') for x in
                iq.find(q(NS_OWNER, 'pubsub')).find(q(NS_OWNER,
                                                      'affiliations'))}
        self.assertEqual(affs, {'alice@localhost': 'owner',
                                'bob@localhost': 'member'})
        self.assertEqual(items_of(items_req(b, node, to='alice@localhost')),
                         [('s', 'secret')])
        # And out again.
        owner_iq(a, "<affiliations node='%s'><affiliation jid='bob@localhost'"
                 " affiliation='none'/></affiliations>" % node, 'set')
        iq = items_req(b, node, to='alice@localhost')
        self.assertEqual(stanza_error(iq)[0], 'not-allowed')

    def test_precondition_then_reconfigure(self):
        """The Conversations flow: publish-options conflict with the node,
        the client reconfigures the node and publishes again."""
        a = self.alice
        node = AXOLOTL
        self.assertEqual(publish(a, node, payload('v1')).get('type'),
                         'result')
        iq = publish(a, node, payload('v2'), access_model='open')
        self.assertEqual(pubsub_error(iq), ('conflict', 'cancel',
                                            'precondition-not-met'))
        cfg = get_config(a, node)
        self.assertEqual(cfg['FORM_TYPE'][1], NS_PUBSUB + '#node_config')
        self.assertEqual(cfg['pubsub#access_model'][0], 'list-single')
        self.assertEqual(sorted(cfg['pubsub#access_model'][2]),
                         ['open', 'presence', 'whitelist'])
        self.assertIn('pubsub#max_items', cfg)
        iq = set_config(a, node, access_model='open')
        self.assertEqual(iq.get('type'), 'result', ET.tostring(iq))
        iq = publish(a, node, payload('v2'), access_model='open')
        self.assertEqual(iq.get('type'), 'result', ET.tostring(iq))
        self.assertEqual([t for _, t in items_of(items_req(a, node))],
                         ['v2'])
        # An option this server cannot meet is a precondition failure.
        iq = publish(a, node, payload('v3'), access_model='open',
                     persist_items='false')
        self.assertEqual(pubsub_error(iq)[2], 'precondition-not-met')
        # Bookmarks (XEP-0402) options are met.
        iq = publish(a, 'urn:xmpp:bookmarks:1', payload('b'), 'room@muc',
                     persist_items='true', max_items='max',
                     send_last_published_item='never',
                     access_model='whitelist')
        self.assertEqual(iq.get('type'), 'result', ET.tostring(iq))

    def test_item_limit_evicts_oldest(self):
        a = self.alice
        node = unique('limit')
        for i in range(4):
            iq = publish(a, node, payload('n%d' % i), 'i%d' % i,
                         max_items='3')
            self.assertEqual(iq.get('type'), 'result', ET.tostring(iq))
        self.assertEqual(items_of(items_req(a, node)),
                         [('i1', 'n1'), ('i2', 'n2'), ('i3', 'n3')])
        self.assertEqual(items_of(items_req(a, node, max_items=2)),
                         [('i2', 'n2'), ('i3', 'n3')])
        self.assertEqual(items_of(items_req(a, node, ids=['i2', 'i0'])),
                         [('i2', 'n2')])
        # Lowering max_items trims at once.
        self.assertEqual(set_config(a, node, max_items='1').get('type'),
                         'result')
        self.assertEqual(items_of(items_req(a, node)), [('i3', 'n3')])

    def test_account_disco_info(self):
        iq = self.alice.iq("<query xmlns='%s'/>" % NS_DISCO_INFO,
                           to='alice@localhost')
        qe = iq.find(q(NS_DISCO_INFO, 'query'))
        idents = [(i.get('category'), i.get('type'))
                  for i in qe.findall(q(NS_DISCO_INFO, 'identity'))]
        self.assertIn(('pubsub', 'pep'), idents)
        feats = {f.get('var') for f in qe.findall(q(NS_DISCO_INFO,
                                                     'feature'))}
        for f in ('publish', 'publish-options', 'auto-create',
                  'access-open', 'access-presence', 'access-whitelist',
                  'retrieve-items', 'retract-items', 'delete-nodes',
                  'config-node', 'persistent-items', 'last-published',
                  'filtered-notifications'):
            self.assertIn(NS_PUBSUB + '#' + f, feats)


class PepNotifyTest(ServerTestCase):
    """Events go to resources that asked (+notify) and may see the node."""
    USERS = {'dave': 'dave-pw', 'erin': 'erin-pw', 'frank': 'frank-pw'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dave = login(cls.server, 'dave', 'd', presence=True)
        cls.erin_plain = login(cls.server, 'erin', 'plain', presence=True)
        grant(cls.dave, cls.erin_plain)
        feats = notify_features(OMEMO_DEVICES, AXOLOTL, 'urn:test:node')
        cls.erin = login(cls.server, 'erin', 'notify')
        caps_presence(cls.erin, feats)
        cls.frank = login(cls.server, 'frank', 'f')
        # The same ver as erin's, verified and cached: no query this time.
        caps_presence(cls.frank, feats, answer=False)

    def test_publish_notifies_only_notify_contacts(self):
        node = OMEMO_DEVICES
        devs = "<devices xmlns='urn:xmpp:omemo:2'><device id='42'/></devices>"
        iq = publish(self.dave, node, devs, 'current', access_model='open')
        self.assertEqual(iq.get('type'), 'result', ET.tostring(iq))
        m = self.erin.next_message(lambda e: is_event(e, 'dave@localhost',
                                                      node))
        self.assertEqual(m.get('to'), 'erin@localhost/notify')
        it = m.find(q(NS_EVENT, 'event')).find(q(NS_EVENT, 'items')) \
            .find(q(NS_EVENT, 'item'))
        self.assertEqual(it.get('id'), 'current')
        dev = it.find(q('urn:xmpp:omemo:2', 'devices'))
        self.assertEqual(dev.find(q('urn:xmpp:omemo:2', 'device'))
                         .get('id'), '42')
        # No +notify, a stranger (open node or not), the owner without caps.
        expect_nothing(self.erin_plain, lambda e: is_event(e))
        expect_nothing(self.frank, lambda e: is_event(e), 0.2)
        expect_nothing(self.dave, lambda e: is_event(e), 0.2)

    def test_retract_with_notify(self):
        node = 'urn:test:node'
        publish(self.dave, node, payload('one'), 'r1', max_items='5')
        publish(self.dave, node, payload('two'), 'r2', max_items='5')
        for want in ([('r1', 'one')], [('r2', 'two')]):
            self.erin.next_message(lambda e: is_event(e, node=node) and
                                   event_items(e)[1] == want)
        iq = self.dave.iq("<pubsub xmlns='%s'><retract node='%s' "
                          "notify='true'><item id='r1'/></retract></pubsub>"
                          % (NS_PUBSUB, node), 'set')
        self.assertEqual(iq.get('type'), 'result', ET.tostring(iq))
        m = self.erin.next_message(
            lambda e: is_event(e, node=node) and event_items(e)[2])
        self.assertEqual(event_items(m), (node, [], ['r1']))
        self.assertEqual(items_of(items_req(self.dave, node)),
                         [('r2', 'two')])
        iq = self.dave.iq("<pubsub xmlns='%s'><retract node='%s'><item "
                          "id='r1'/></retract></pubsub>" % (NS_PUBSUB, node),
                          'set')
        self.assertEqual(stanza_error(iq)[0], 'item-not-found')
        # Without notify: nobody hears of it.
        iq = self.dave.iq("<pubsub xmlns='%s'><retract node='%s'><item "
                          "id='r2'/></retract></pubsub>" % (NS_PUBSUB, node),
                          'set')
        self.assertEqual(iq.get('type'), 'result')
        expect_nothing(self.erin, lambda e: is_event(e, node=node))

    def test_delete_node(self):
        node = AXOLOTL
        publish(self.dave, node, payload('gone soon'), 'x')
        self.erin.next_message(lambda e: is_event(e, node=node))
        iq = owner_iq(self.dave, "<delete node='%s'/>" % node, 'set')
        self.assertEqual(iq.get('type'), 'result', ET.tostring(iq))
        m = self.erin.next_message(
            lambda e: is_event(e) and
            e.find(q(NS_EVENT, 'event')).find(q(NS_EVENT, 'delete'))
            is not None)
        self.assertEqual(m.find(q(NS_EVENT, 'event'))
                         .find(q(NS_EVENT, 'delete')).get('node'), node)
        iq = items_req(self.dave, node)
        self.assertEqual(stanza_error(iq)[0], 'item-not-found')
        iq = owner_iq(self.dave, "<delete node='%s'/>" % node, 'set')
        self.assertEqual(stanza_error(iq)[0], 'item-not-found')

    def test_last_item_on_login(self):
        node = 'urn:test:last'
        publish(self.dave, node, payload('old'), 'l1', max_items='2')
        publish(self.dave, node, payload('latest'), 'l2', max_items='2')
        feats = notify_features(node)
        e2 = login(self.server, 'erin', 'late')
        ver = caps_presence(e2, feats)
        m = e2.next_message(lambda e: is_event(e, 'dave@localhost', node))
        self.assertEqual(event_items(m), (node, [('l2', 'latest')], []))
        self.assertEqual(m.get('to'), 'erin@localhost/late')
        # Same ver again: cached, no query, the last item straight away.
        e3 = login(self.server, 'erin', 'later')
        caps_presence(e3, feats, ver=ver, answer=False)
        m = e3.next_message(lambda e: is_event(e, 'dave@localhost', node))
        self.assertEqual(event_items(m), (node, [('l2', 'latest')], []))
        expect_nothing(e3, lambda e: is_caps_query(e), 0.2)
        # A stranger with the same caps gets nothing.
        f2 = login(self.server, 'frank', 'late')
        caps_presence(f2, feats, ver=ver, answer=False)
        expect_nothing(f2, lambda e: is_event(e))
        # Nothing for a node configured never to send its last item.
        self.assertEqual(set_config(self.dave, node,
                                    send_last_published_item='never')
                         .get('type'), 'result')
        e4 = login(self.server, 'erin', 'never')
        caps_presence(e4, feats, ver=ver, answer=False)
        expect_nothing(e4, lambda e: is_event(e, node=node))

    def test_bad_hash_is_not_cached(self):
        node = 'urn:test:bad-hash'
        publish(self.dave, node, payload('b'), 'b1')
        feats = notify_features(node)
        bogus = base64.b64encode(b'not the right hash at all').decode()
        e1 = login(self.server, 'erin', 'bogus1')
        caps_presence(e1, feats, ver=bogus)
        # Used for that session ...
        e1.next_message(lambda e: is_event(e, 'dave@localhost', node))
        # ... but never believed for another one: it is asked again.
        e2 = login(self.server, 'erin', 'bogus2')
        caps_presence(e2, feats, ver=bogus, answer=False)
        e2.next(5, lambda e: is_caps_query(e, bogus))
        self.assertServerAlive()


class CapsHashTest(ServerTestCase):
    """XEP-0115 5.3: the complex example (two identities with xml:lang,
    an extended-information form) verifies, so its ver is cached."""
    USERS = {'ivan': 'ivan-pw'}
    VER = 'q07IKJEyjvHSyhy//CH0CxmKi8w='
    INFO = ("<identity xml:lang='en' category='client' name='Psi 0.11' "
            "type='pc'/><identity xml:lang='el' category='client' "
            "name='\u03a8 0.11' type='pc'/>"
            "<feature var='http://jabber.org/protocol/caps'/>"
            "<feature var='http://jabber.org/protocol/disco#info'/>"
            "<feature var='http://jabber.org/protocol/disco#items'/>"
            "<feature var='http://jabber.org/protocol/muc'/>"
            "<x xmlns='jabber:x:data' type='result'>"
            "<field var='FORM_TYPE' type='hidden'>"
            "<value>urn:xmpp:dataforms:softwareinfo</value></field>"
            "<field var='ip_version'><value>ipv4</value>"
            "<value>ipv6</value></field>"
            "<field var='os'><value>Mac</value></field>"
            "<field var='os_version'><value>10.5.1</value></field>"
            "<field var='software'><value>Psi</value></field>"
            "<field var='software_version'><value>0.11</value></field>"
            "</x>")

    def presence(self, raw):
        raw.send("<presence><c xmlns='%s' hash='sha-1' node='http://psi-im."
                 "org' ver='%s'/></presence>" % (NS_CAPS, self.VER))

    def test_complex_example_is_cached(self):
        r1 = login(self.server, 'ivan', 'one')
        self.presence(r1)
        iq = r1.next(10, lambda e: is_caps_query(e))
        self.assertEqual(iq.find(q(NS_DISCO_INFO, 'query')).get('node'),
                         'http://psi-im.org#' + self.VER)
        r1.send("<iq type='result' id='%s' to='localhost'><query xmlns='%s'"
                " node='http://psi-im.org#%s'>%s</query></iq>"
                % (iq.get('id'), NS_DISCO_INFO, self.VER,
                   self.INFO))
        r2 = login(self.server, 'ivan', 'two')
        self.presence(r2)
        expect_nothing(r2, lambda e: is_caps_query(e))
        self.assertServerAlive()

    def test_answer_to_someone_elses_query_is_ignored(self):
        """An answer is taken only from the session that was asked."""
        r1 = login(self.server, 'ivan', 'asked')
        ver = caps_ver(notify_features('urn:test:x', 'urn:test:y'))
        caps_presence(r1, notify_features('urn:test:x', 'urn:test:y'),
                      ver=ver, answer=False)
        iq = r1.next(10, lambda e: is_caps_query(e, ver))
        r2 = login(self.server, 'ivan', 'other')
        r2.send("<iq type='result' id='%s' to='localhost'><query xmlns='%s'/>"
                "</iq>" % (iq.get('id'), NS_DISCO_INFO))
        r2.send("<iq type='error' id='caps-bogus' to='localhost'/>")
        # Still not cached: a third session is asked again.
        r3 = login(self.server, 'ivan', 'third')
        caps_presence(r3, notify_features('urn:test:x', 'urn:test:y'),
                      ver=ver, answer=False)
        r3.next(10, lambda e: is_caps_query(e, ver))
        self.assertServerAlive()


class PepLimitsTest(ServerTestCase):
    USERS = {'gina': 'gina-pw'}
    CONFIG = {'limits': {'max_pep_nodes': 2, 'max_pep_items': 3}}

    def test_node_limit(self):
        g = login(self.server, 'gina', 'g')
        self.assertEqual(publish(g, 'a', payload('1')).get('type'), 'result')
        self.assertEqual(publish(g, 'b', payload('2')).get('type'), 'result')
        iq = publish(g, 'c', payload('3'))
        cond, _, text = stanza_error(iq)
        self.assertEqual(cond, 'policy-violation')
        self.assertTrue(text)
        # Existing nodes still take items.
        self.assertEqual(publish(g, 'a', payload('4')).get('type'), 'result')

    def test_max_items_capped(self):
        g = login(self.server, 'gina', 'h')
        node = 'a'
        self.assertEqual(publish(g, node, payload('0')).get('type'),
                         'result')
        iq = set_config(g, node, max_items='1000')
        self.assertEqual(iq.get('type'), 'result', ET.tostring(iq))
        self.assertEqual(get_config(g, node)['pubsub#max_items'][1], '3')
        for i in range(5):
            publish(g, node, payload(str(i)), str(i))
        self.assertEqual([i for i, _ in items_of(items_req(g, node))],
                         ['2', '3', '4'])


class PepPersistenceTest(unittest.TestCase):
    def test_items_survive_restart(self):
        srv = Server(name='PepPersistenceTest')
        ok = False
        try:
            srv.add_user('hank', 'hank-pw')
            h = login(srv, 'hank', 'h')
            iq = publish(h, 'keep', payload('kept'), 'k1', max_items='4',
                         access_model='whitelist')
            self.assertEqual(iq.get('type'), 'result', ET.tostring(iq))
            publish(h, 'keep', payload('kept2'), 'k2',
                    access_model='whitelist', max_items='4')
            h.close()
            srv.sigterm()
            self.assertEqual(srv.wait_exit(10), 0)
            srv.term_sent = False
            srv._logf.close()
            srv.start()
            h = login(srv, 'hank', 'h2')
            self.assertEqual(items_of(items_req(h, 'keep')),
                             [('k1', 'kept'), ('k2', 'kept2')])
            cfg = get_config(h, 'keep')
            self.assertEqual(cfg['pubsub#access_model'][1], 'whitelist')
            self.assertEqual(cfg['pubsub#max_items'][1], '4')
            h.close()
            ok = True
        finally:
            srv.stop(keep=not ok)


if __name__ == '__main__':
    unittest.main()
