/*
 * errors.h - RFC 6120 stream errors (4.9.3) and stanza errors (8.3.3) as
 * numbered conditions backed by one table each.
 *
 * Every error Parley sends carries a human <text/>; the builders here make
 * the XML so that no handler writes error markup by hand.
 */
#ifndef PARLEY_XMPP_ERRORS_H
#define PARLEY_XMPP_ERRORS_H

#include "core/buf.h"
#include "xml/xml.h"

#define NS_STREAMS	"urn:ietf:params:xml:ns:xmpp-streams"
#define NS_STANZAS	"urn:ietf:params:xml:ns:xmpp-stanzas"

enum stream_err {
	SE_BAD_FORMAT, SE_BAD_NAMESPACE_PREFIX, SE_CONFLICT,
	SE_CONNECTION_TIMEOUT, SE_HOST_GONE, SE_HOST_UNKNOWN,
	SE_IMPROPER_ADDRESSING, SE_INTERNAL_SERVER_ERROR, SE_INVALID_FROM,
	SE_INVALID_NAMESPACE, SE_INVALID_XML, SE_NOT_AUTHORIZED,
	SE_NOT_WELL_FORMED, SE_POLICY_VIOLATION, SE_REMOTE_CONNECTION_FAILED,
	SE_RESET, SE_RESOURCE_CONSTRAINT, SE_RESTRICTED_XML, SE_SEE_OTHER_HOST,
	SE_SYSTEM_SHUTDOWN, SE_UNDEFINED_CONDITION, SE_UNSUPPORTED_ENCODING,
	SE_UNSUPPORTED_FEATURE, SE_UNSUPPORTED_STANZA_TYPE,
	SE_UNSUPPORTED_VERSION,
};

enum stanza_err {
	ERR_BAD_REQUEST, ERR_CONFLICT, ERR_FEATURE_NOT_IMPLEMENTED,
	ERR_FORBIDDEN, ERR_GONE, ERR_INTERNAL_SERVER_ERROR, ERR_ITEM_NOT_FOUND,
	ERR_JID_MALFORMED, ERR_NOT_ACCEPTABLE, ERR_NOT_ALLOWED,
	ERR_NOT_AUTHORIZED, ERR_POLICY_VIOLATION, ERR_RECIPIENT_UNAVAILABLE,
	ERR_REDIRECT, ERR_REGISTRATION_REQUIRED, ERR_REMOTE_SERVER_NOT_FOUND,
	ERR_REMOTE_SERVER_TIMEOUT, ERR_RESOURCE_CONSTRAINT,
	ERR_SERVICE_UNAVAILABLE, ERR_SUBSCRIPTION_REQUIRED,
	ERR_UNDEFINED_CONDITION, ERR_UNEXPECTED_REQUEST,
};

const char *stream_err_name(enum stream_err e);
const char *stanza_err_name(enum stanza_err e);
/* RFC 6120 8.3.2 error type for the condition: cancel, modify, auth, wait. */
const char *stanza_err_type(enum stanza_err e);

/* Appends <stream:error>...</stream:error> (with text) to out. */
void	 stream_error_xml(enum stream_err e, const char *text, struct buf *out);

/*
 * Builds the error reply to orig (RFC 6120 8.3.1): same kind and id, from
 * and to swapped, type='error', the original children kept, plus an
 * <error/> with the condition and text.  Returns NULL when orig is itself
 * an error (errors are never answered with errors).
 */
struct xml_stanza *stanza_error_reply(const struct xml_node *orig,
	    enum stanza_err e, const char *text);
/* The same with an error type other than the condition's usual one
 * (RFC 6120 8.3.3.12: policy-violation is "modify", or "wait" when
 * waiting helps, as for a rate limit). */
struct xml_stanza *stanza_error_reply_type(const struct xml_node *orig,
	    enum stanza_err e, const char *type, const char *text);

#endif
