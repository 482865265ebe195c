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
#define NS_ROSTER	"jabber:iq:roster"
#define NS_ROSTERVER	"urn:xmpp:features:rosterver"
#define NS_PREAPPROVAL	"urn:xmpp:features:pre-approval"
#define NS_CSI		"urn:xmpp:csi:0"
#define NS_DELAY	"urn:xmpp:delay"
#define NS_CARBONS	"urn:xmpp:carbons:2"
#define NS_FORWARD	"urn:xmpp:forward:0"
#define NS_HINTS	"urn:xmpp:hints"
#define NS_PUBSUB	"http://jabber.org/protocol/pubsub"
#define NS_PUBSUB_EVENT	"http://jabber.org/protocol/pubsub#event"
#define NS_PUBSUB_OWNER	"http://jabber.org/protocol/pubsub#owner"
#define NS_PUBSUB_ERRORS "http://jabber.org/protocol/pubsub#errors"
#define NS_CAPS		"http://jabber.org/protocol/caps"
#define NS_DATA		"jabber:x:data"
#define NS_PRIVATE	"jabber:iq:private"
#define NS_VCARD	"vcard-temp"
#define NS_OFFLINE	"msgoffline"
#define NS_BLOCKING	"urn:xmpp:blocking"
#define NS_BLOCKING_ERRORS "urn:xmpp:blocking:errors"
#define NS_REPORTING	"urn:xmpp:reporting:1"
/* XEP-0377 0.1, still accepted */
#define NS_REPORTING_0	"urn:xmpp:reporting:0"
#define NS_SID		"urn:xmpp:sid:0"
/* Parley's own: first-contact consent (im/consent.c, docs/FEATURES.md). */
#define NS_CONSENT	"urn:parley:consent:0"
/* Parley's own: notices of access to a user's data (im/notice.c). */
#define NS_NOTICE	"urn:parley:notice:0"
/* Message archives (XEP-0313), result set management (XEP-0059), and
 * Parley's own archiving disclosure and purge (im/mam.c). */
#define NS_MAM		"urn:xmpp:mam:2"
#define NS_MAM_EXT	"urn:xmpp:mam:2#extended"
#define NS_RSM		"http://jabber.org/protocol/rsm"
#define NS_ARCHIVE	"urn:parley:archive:0"

/* In-band registration (XEP-0077) and invitation tokens (XEP-0445). */
#define NS_REGISTER	"jabber:iq:register"
#define NS_REGISTER_FEATURE "http://jabber.org/features/iq-register"
#define NS_IBR_TOKEN	"urn:xmpp:ibr-token:0"
#define NS_PARS		"urn:xmpp:pars:0"

/* Ad-hoc commands (XEP-0050) for service administration (XEP-0133),
 * im/adhoc.c. */
#define NS_COMMANDS	"http://jabber.org/protocol/commands"

/* HTTP File Upload (XEP-0363, im/upload.c and http/upload.c). */
#define NS_HTTP_UPLOAD	"urn:xmpp:http:upload:0"

#endif
