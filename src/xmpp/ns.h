/*
 * ns.h - XML namespaces Parley speaks, in one list.
 */
#ifndef PARLEY_XMPP_NS_H
#define PARLEY_XMPP_NS_H

#define NS_CLIENT	"jabber:client"
#define NS_TLS		"urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL		"urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_BIND		"urn:ietf:params:xml:ns:xmpp-bind"
#define NS_SESSION	"urn:ietf:params:xml:ns:xmpp-session"
#define NS_PING		"urn:xmpp:ping"
#define NS_DISCO_INFO	"http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS	"http://jabber.org/protocol/disco#items"
#define NS_VERSION	"jabber:iq:version"

#endif
