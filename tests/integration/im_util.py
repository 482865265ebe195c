"""Shared helpers for the RFC 6121 / IM-extension integration tests
(test_roster, test_subscriptions, test_presence_consent, test_offline,
test_carbons, test_extensions).

Everything here drives RawClients, so that each stanza is seen exactly as
the server wrote it.  Negative checks ("X must NOT arrive") are
event-driven, never sleeps: the sender's stanzas are known to be processed
once a ping it sent afterwards is answered (one event loop, in order), and
anything the server queued for a receiver before that has arrived once the
receiver's own ping is answered (one connection, in order).
"""

import re
import signal
import time
import uuid
import xml.etree.ElementTree as ET

import harness
from harness import (RawClient, ServerTestCase, T, q, stanza_error, body_of,
                     NS_CLIENT, NS_SASL, NS_PING, xml_escape)

NS_ROSTER = 'jabber:iq:roster'
NS_ROSTERVER = 'urn:xmpp:features:rosterver'
NS_PREAPPROVAL = 'urn:xmpp:features:pre-approval'
NS_CARBONS = 'urn:xmpp:carbons:2'
NS_FORWARD = 'urn:xmpp:forward:0'
NS_HINTS = 'urn:xmpp:hints'
NS_DELAY = 'urn:xmpp:delay'
NS_CSI = 'urn:xmpp:csi:0'
NS_PRIVATE = 'jabber:iq:private'
NS_VCARD = 'vcard-temp'
NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items'
NS_OFFLINE = 'msgoffline'
NS_CHATSTATES = 'http://jabber.org/protocol/chatstates'
NS_NICK = 'http://jabber.org/protocol/nick'

DOMAIN = 'localhost'


def SLOW_SCALE():
    return harness.SLOW


def bare(jid):
    return (jid or '').split('/', 1)[0]


def uid(prefix='x'):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:10])


def s(el):
    """Printable form of an element (for assertion messages)."""
    if el is None:
        return 'None'
    return ET.tostring(el).decode('utf-8', 'replace')


def is_presence(el, frm=None, ptype=None, frm_bare=None):
    """ptype: None matches any; '' matches available (no type)."""
    if el.tag != q(NS_CLIENT, 'presence'):
        return False
    if frm is not None and el.get('from') != frm:
        return False
    if frm_bare is not None and bare(el.get('from')) != frm_bare:
        return False
    if ptype is not None and (el.get('type') or '') != ptype:
        return False
    return True


def status_of(el):
    st = el.find(q(NS_CLIENT, 'status'))
    return None if st is None else st.text


def roster_item_dict(it):
    return {'jid': it.get('jid'), 'name': it.get('name'),
            'subscription': it.get('subscription'), 'ask': it.get('ask'),
            'approved': it.get('approved'),
            'groups': sorted((g.text or '') for g in
                             it.findall(q(NS_ROSTER, 'group')))}


def is_push(el, jid=None):
    if el.tag != q(NS_CLIENT, 'iq') or el.get('type') != 'set':
        return False
    qu = el.find(q(NS_ROSTER, 'query'))
    if qu is None:
        return False
    if jid is None:
        return True
    return any(i.get('jid') == jid for i in qu.findall(q(NS_ROSTER, 'item')))


class IM(RawClient):
    """A RawClient with IM conveniences.  `pushes` are answered."""

    def __init__(self, server, **kw):
        super().__init__(server, **kw)
        self.bare_jid = None
        self.local_port = self.sock.getsockname()[1]
        self.arrived = []       # every top-level element, in order
        self.answer_pings = True
        self.last_ver = None    # roster version last seen (pushes, gets)
        self.ver_errors = []
        _ims.append(self)

    def _feed(self, data):
        n = len(self.elements)
        super()._feed(data)
        new = self.elements[n:]
        self.arrived.extend(new)
        for el in new:
            self._track_ver(el)
        if self.answer_pings:
            for el in new:
                # XEP-0199 pings from the server are answered at once.
                if el.tag == q(NS_CLIENT, 'iq') and \
                        el.get('type') == 'get' and \
                        el.find(q(NS_PING, 'ping')) is not None:
                    self.elements.remove(el)
                    self.send("<iq type='result' id='%s' to='%s'/>"
                              % (xml_escape(el.get('id') or ''),
                                 xml_escape(el.get('from') or DOMAIN)))

    def _track_ver(self, el):
        """XEP-0237 / RFC 6121 2.6: every push carries a version newer
        than anything before it (in arrival order)."""
        if el.tag != q(NS_CLIENT, 'iq'):
            return
        qu = el.find(q(NS_ROSTER, 'query'))
        if qu is None or el.get('type') not in ('set', 'result'):
            return
        ver = qu.get('ver')
        if el.get('type') == 'set' and ver is None:
            self.ver_errors.append('push without ver: %s' % s(el))
            return
        if ver is None:
            return
        try:
            v = int(ver)
        except ValueError:
            return
        if el.get('type') == 'set' and self.last_ver is not None and \
                v <= self.last_ver:
            self.ver_errors.append('push ver %d not above %d: %s'
                                   % (v, self.last_ver, s(el)))
        self.last_ver = v

    def order(self, el):
        """Arrival index of an element received by this client."""
        for i, e in enumerate(self.arrived):
            if e is el:
                return i
        raise AssertionError('element not received here: %s' % s(el))

    # --- session

    def start(self, user, password=None, resource=None, presence=True,
              roster=False, priority=None, status=None):
        self.login(user, password or user + '-pw', resource or uid('r'))
        self.bare_jid = bare(self.jid)
        if roster:
            self.roster()
        if presence:
            self.available(priority=priority, status=status)
        return self

    def available(self, priority=None, status=None, to=None):
        kids = ''
        if status is not None:
            kids += '<status>%s</status>' % xml_escape(status)
        if priority is not None:
            kids += '<priority>%d</priority>' % priority
        self.send('<presence%s>%s</presence>'
                  % (" to='%s'" % to if to else '', kids))

    def unavailable(self, to=None):
        self.send("<presence type='unavailable'%s/>"
                  % (" to='%s'" % to if to else ''))

    def sub(self, to, ptype, extra=''):
        """Subscription-state presence (subscribe, subscribed, ...)."""
        self.send("<presence to='%s' type='%s'>%s</presence>"
                  % (xml_escape(to), ptype, extra))

    def ping(self, timeout=10):
        """Round trip to the server: everything sent before is processed,
        and everything queued for us before has been read."""
        el = self.iq("<ping xmlns='%s'/>" % NS_PING, to=DOMAIN,
                     timeout=timeout)
        assert el.get('type') == 'result', s(el)

    def logout(self):
        """Clean end: </stream:stream>, waits for the server to close."""
        try:
            self.send('</stream:stream>')
        except OSError:
            pass
        self.wait_closed(5)
        self.close()

    # --- waiting

    def expect(self, pred, timeout=5, what='element'):
        try:
            return self.next(timeout, pred)
        except AssertionError as e:
            raise AssertionError('%s: no %s: %s' % (self.jid, what, e))

    def expect_presence(self, frm=None, ptype=None, frm_bare=None,
                        timeout=5):
        return self.expect(lambda e: is_presence(e, frm, ptype, frm_bare),
                           timeout, 'presence from=%s type=%r'
                           % (frm or frm_bare, ptype))

    def expect_push(self, jid, timeout=5):
        el = self.expect(lambda e: is_push(e, jid), timeout,
                         'roster push for %s' % jid)
        # RFC 6121 2.1.6: the client answers a push.
        if el.get('id'):
            self.send("<iq type='result' id='%s'/>" % xml_escape(el.get('id')))
        return el

    def push_item(self, jid, timeout=5, **want):
        """The next push for jid whose item has the fields in `want`
        (e.g. subscription='both'); earlier pushes for jid that do not
        match are skipped (intermediate states).  Returns (iq, ver, item)."""
        end = time.monotonic() + T(timeout)
        seen = []
        while True:
            left = max(0.05, end - time.monotonic())
            try:
                el = self.expect_push(jid, left / SLOW_SCALE())
            except AssertionError:
                raise AssertionError('%s: no push for %s with %r; saw %s'
                                     % (self.jid, jid, want, seen))
            qu = el.find(q(NS_ROSTER, 'query'))
            it = [roster_item_dict(i) for i in qu.findall(q(NS_ROSTER,
                  'item')) if i.get('jid') == jid][0]
            if all(it.get(k) == v for k, v in want.items()):
                return el, qu.get('ver'), it
            seen.append(it)

    def nothing(self, pred, what='element', sync=True):
        """Asserts that no matching element has arrived (after a ping,
        which guarantees everything queued before it has been read)."""
        if sync:
            self.ping()
        bad = [e for e in self.elements if pred(e)]
        if bad:
            raise AssertionError('%s: unexpected %s: %s'
                                 % (self.jid, what, s(bad[0])))

    def quiet(self, pred, within, what='element'):
        """Asserts that no matching element arrives within `within` s
        without sending anything (for CSI, where a ping would flush)."""
        end = time.monotonic() + T(within)
        while time.monotonic() < end:
            self.fill(max(0.01, min(0.2, end - time.monotonic())))
        bad = [e for e in self.elements if pred(e)]
        if bad:
            raise AssertionError('%s: unexpected %s: %s'
                                 % (self.jid, what, s(bad[0])))

    def drop(self, pred=None):
        """Forgets queued elements (matching pred)."""
        self.elements[:] = [e for e in self.elements
                            if pred is not None and not pred(e)]

    # --- roster

    def roster(self, ver=None):
        """Roster get; returns (iq, ver, {jid: item dict}); ver is None and
        items None when the result is empty (XEP-0237)."""
        attr = '' if ver is None else " ver='%s'" % xml_escape(ver)
        el = self.iq("<query xmlns='%s'%s/>" % (NS_ROSTER, attr))
        assert el.get('type') == 'result', s(el)
        qu = el.find(q(NS_ROSTER, 'query'))
        if qu is None:
            return el, None, None
        items = {}
        for it in qu.findall(q(NS_ROSTER, 'item')):
            d = roster_item_dict(it)
            assert d['jid'] not in items, 'duplicate item %s' % s(el)
            items[d['jid']] = d
        return el, qu.get('ver'), items

    def items(self):
        return self.roster()[2]

    def roster_set(self, jid, name=None, groups=(), extra_attrs=''):
        attrs = " jid='%s'" % xml_escape(jid)
        if name is not None:
            attrs += " name='%s'" % xml_escape(name)
        kids = ''.join('<group>%s</group>' % xml_escape(g) for g in groups)
        return self.iq("<query xmlns='%s'><item%s%s>%s</item></query>"
                       % (NS_ROSTER, attrs, extra_attrs, kids), 'set')

    def roster_remove(self, jid):
        return self.iq("<query xmlns='%s'><item jid='%s' "
                       "subscription='remove'/></query>"
                       % (NS_ROSTER, xml_escape(jid)), 'set')

    # --- messages

    def chat(self, to, body, mtype='chat', extra=''):
        self.message(to, body, mtype, extra)

    def expect_body(self, body, timeout=5):
        return self.expect(lambda e: e.tag == q(NS_CLIENT, 'message') and
                           body_of(e) == body, timeout,
                           'message with body %r' % body)


def expect_each(clients, pred, timeout=5, what='element'):
    """Reads all the clients in turn (so that each answers its pings)
    until each has received an element matching pred; returns them."""
    end = time.monotonic() + T(timeout)
    got = {}
    while len(got) < len(clients):
        for c in clients:
            if c in got:
                c.fill(0.0001)
                continue
            for i, e in enumerate(c.elements):
                if pred(e):
                    got[c] = e
                    del c.elements[i]
                    break
            else:
                if c.closed:
                    raise AssertionError('%s closed while waiting for %s: '
                                         '%r' % (c.jid, what,
                                                 bytes(c.received[-300:])))
                c.fill(0.02)
        if time.monotonic() > end and len(got) < len(clients):
            raise AssertionError('no %s for %s within %.1fs' % (
                what, [c.jid for c in clients if c not in got], T(timeout)))
    return [got[c] for c in clients]


def login(server, user, resource=None, **kw):
    """A new IM client, logged in (and available unless presence=False)."""
    return IM(server).start(user, resource=resource, **kw)


def error_of(el):
    """(condition, type, text) of an error stanza; asserts it is one."""
    assert el.get('type') == 'error', 'not an error: %s' % s(el)
    return stanza_error(el)


def features_after_auth(server, user, password):
    """The stream features offered after SASL (the bind step)."""
    raw = RawClient(server)
    raw.open()
    raw.starttls()
    el = raw.auth_scram(user, password)
    assert el.tag == q(NS_SASL, 'success'), s(el)
    feats = raw.open()
    raw.close()
    return feats


# --- making sure

def make_both(a, b):
    """Mutual subscription between two logged-in, available IM clients
    (both must have fetched the roster).  Leaves no stray elements."""
    a.sub(b.bare_jid, 'subscribe')
    b.expect_presence(frm_bare=a.bare_jid, ptype='subscribe')
    b.sub(a.bare_jid, 'subscribed')
    a.expect_presence(frm=b.bare_jid, ptype='subscribed')
    b.sub(a.bare_jid, 'subscribe')
    a.expect_presence(frm_bare=b.bare_jid, ptype='subscribe')
    a.sub(b.bare_jid, 'subscribed')
    b.expect_presence(frm=a.bare_jid, ptype='subscribed')
    a.ping()
    b.ping()
    assert a.items()[b.bare_jid]['subscription'] == 'both'
    assert b.items()[a.bare_jid]['subscription'] == 'both'
    a.drop()
    b.drop()


def make_from_to(watcher, owner):
    """watcher subscribes to owner's presence and owner approves:
    watcher's item 'to', owner's item 'from'."""
    watcher.sub(owner.bare_jid, 'subscribe')
    owner.expect_presence(frm_bare=watcher.bare_jid, ptype='subscribe')
    owner.sub(watcher.bare_jid, 'subscribed')
    watcher.expect_presence(frm=owner.bare_jid, ptype='subscribed')
    owner.ping()
    watcher.ping()
    watcher.drop()
    owner.drop()


# --- restart of the shared server

def restart(server, kill=False):
    """Stops parleyd (SIGTERM, or SIGKILL when kill) and starts it again on
    the same data dir, config and ports."""
    p = server.proc
    if kill:
        p.send_signal(signal.SIGKILL)
    else:
        p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=T(10))
    if not kill:
        assert rc == 0, 'parleyd exited with %s on SIGTERM' % rc
    if server._logf is not None:
        server._logf.close()
        server._logf = None
    server.term_sent = False
    server.start()


# --- no addresses in stanzas (DESIGN danger 1)

_ADDR = re.compile(r'127\.0\.0\.1|::1|\[::')


_ims = []


class IMTestCase(ServerTestCase):
    """ServerTestCase that, after each test, checks that no byte any IM
    client received contains an IP address or the client's own port."""

    def tearDown(self):
        for raw in list(_ims):
            check_no_address(raw)
            errs, raw.ver_errors = raw.ver_errors, []
            assert not errs, '%s: %s' % (raw.jid, '; '.join(errs))
            if raw.closed:
                _ims.remove(raw)
        super().tearDown()


def check_no_address(raw):
    data = bytes(raw.received).decode('utf-8', 'replace')
    m = _ADDR.search(data)
    assert m is None, 'an IP address in what the server sent: ...%s...' % (
        data[max(0, m.start() - 120):m.end() + 60])
    port = getattr(raw, 'local_port', None)
    if port:
        m = re.search(r'(?<![0-9])%d(?![0-9])' % port, data)
        assert m is None, 'the client port %d in what the server sent: ' \
            '...%s...' % (port, data[max(0, m.start() - 120):m.end() + 60])
