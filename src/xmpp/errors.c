/* errors.c - see errors.h. */
#include "xmpp/errors.h"

#include <string.h>

static const char *const stream_names[] = {
	[SE_BAD_FORMAT] = "bad-format",
	[SE_BAD_NAMESPACE_PREFIX] = "bad-namespace-prefix",
	[SE_CONFLICT] = "conflict",
	[SE_CONNECTION_TIMEOUT] = "connection-timeout",
	[SE_HOST_GONE] = "host-gone",
	[SE_HOST_UNKNOWN] = "host-unknown",
	[SE_IMPROPER_ADDRESSING] = "improper-addressing",
	[SE_INTERNAL_SERVER_ERROR] = "internal-server-error",
	[SE_INVALID_FROM] = "invalid-from",
	[SE_INVALID_NAMESPACE] = "invalid-namespace",
	[SE_INVALID_XML] = "invalid-xml",
	[SE_NOT_AUTHORIZED] = "not-authorized",
	[SE_NOT_WELL_FORMED] = "not-well-formed",
	[SE_POLICY_VIOLATION] = "policy-violation",
	[SE_REMOTE_CONNECTION_FAILED] = "remote-connection-failed",
	[SE_RESET] = "reset",
	[SE_RESOURCE_CONSTRAINT] = "resource-constraint",
	[SE_RESTRICTED_XML] = "restricted-xml",
	[SE_SEE_OTHER_HOST] = "see-other-host",
	[SE_SYSTEM_SHUTDOWN] = "system-shutdown",
	[SE_UNDEFINED_CONDITION] = "undefined-condition",
	[SE_UNSUPPORTED_ENCODING] = "unsupported-encoding",
	[SE_UNSUPPORTED_FEATURE] = "unsupported-feature",
	[SE_UNSUPPORTED_STANZA_TYPE] = "unsupported-stanza-type",
	[SE_UNSUPPORTED_VERSION] = "unsupported-version",
};

/* Condition name and the error type RFC 6120 8.3.3 gives it. */
static const struct {
	const char *name;
	const char *type;
} stanza_conds[] = {
	[ERR_BAD_REQUEST] = { "bad-request", "modify" },
	[ERR_CONFLICT] = { "conflict", "cancel" },
	[ERR_FEATURE_NOT_IMPLEMENTED] = { "feature-not-implemented", "cancel" },
	[ERR_FORBIDDEN] = { "forbidden", "auth" },
	[ERR_GONE] = { "gone", "cancel" },
	[ERR_INTERNAL_SERVER_ERROR] = { "internal-server-error", "cancel" },
	[ERR_ITEM_NOT_FOUND] = { "item-not-found", "cancel" },
	[ERR_JID_MALFORMED] = { "jid-malformed", "modify" },
	[ERR_NOT_ACCEPTABLE] = { "not-acceptable", "modify" },
	[ERR_NOT_ALLOWED] = { "not-allowed", "cancel" },
	[ERR_NOT_AUTHORIZED] = { "not-authorized", "auth" },
	[ERR_POLICY_VIOLATION] = { "policy-violation", "modify" },
	[ERR_RECIPIENT_UNAVAILABLE] = { "recipient-unavailable", "wait" },
	[ERR_REDIRECT] = { "redirect", "modify" },
	[ERR_REGISTRATION_REQUIRED] = { "registration-required", "auth" },
	[ERR_REMOTE_SERVER_NOT_FOUND] = { "remote-server-not-found", "cancel" },
	[ERR_REMOTE_SERVER_TIMEOUT] = { "remote-server-timeout", "wait" },
	[ERR_RESOURCE_CONSTRAINT] = { "resource-constraint", "wait" },
	[ERR_SERVICE_UNAVAILABLE] = { "service-unavailable", "cancel" },
	[ERR_SUBSCRIPTION_REQUIRED] = { "subscription-required", "auth" },
	[ERR_UNDEFINED_CONDITION] = { "undefined-condition", "cancel" },
	[ERR_UNEXPECTED_REQUEST] = { "unexpected-request", "wait" },
};

const char *stream_err_name(enum stream_err e)
{
	return stream_names[e];
}

const char *stanza_err_name(enum stanza_err e)
{
	return stanza_conds[e].name;
}

const char *stanza_err_type(enum stanza_err e)
{
	return stanza_conds[e].type;
}

void stream_error_xml(enum stream_err e, const char *text, struct buf *out)
{
	buf_printf(out, "<stream:error><%s xmlns='" NS_STREAMS "'/>",
	    stream_names[e]);
	if (text != NULL) {
		buf_puts(out, "<text xmlns='" NS_STREAMS "' xml:lang='en'>");
		buf_put_xml_escaped(out, text, strlen(text));
		buf_puts(out, "</text>");
	}
	buf_puts(out, "</stream:error>");
}

struct xml_stanza *stanza_error_reply(const struct xml_node *orig,
    enum stanza_err e, const char *text)
{
	return stanza_error_reply_type(orig, e, NULL, text);
}

struct xml_stanza *stanza_error_reply_type(const struct xml_node *orig,
    enum stanza_err e, const char *type, const char *text)
{
	struct xml_stanza *st;
	struct xml_node *root, *err, *n;
	const char *v;

	v = xml_attr(orig, "type");
	if (v != NULL && strcmp(v, "error") == 0)
		return NULL;
	st = xml_stanza_new(orig->ns, orig->name);
	root = xml_root(st);
	if ((v = xml_attr(orig, "id")) != NULL)
		xml_set_attr(st, root, "id", v);
	if ((v = xml_attr(orig, "to")) != NULL)
		xml_set_attr(st, root, "from", v);
	if ((v = xml_attr(orig, "from")) != NULL)
		xml_set_attr(st, root, "to", v);
	xml_set_attr(st, root, "type", "error");
	/* The original payload goes back so the sender can tell which
	 * request failed; an <iq/> result must not carry it (RFC 6120
	 * 8.3.1 allows it for get/set, clients cope either way). */
	for (n = orig->children; n != NULL; n = n->next)
		if (n->type == XML_ELEM && strcmp(n->name, "error") != 0)
			xml_add_copy(st, root, n);
	err = xml_add_child(st, root, orig->ns, "error");
	xml_set_attr(st, err, "type", type ? type : stanza_conds[e].type);
	xml_add_child(st, err, NS_STANZAS, stanza_conds[e].name);
	if (text != NULL) {
		n = xml_add_child(st, err, NS_STANZAS, "text");
		xml_set_attr_ns(st, n, XML_NS_XML, "lang", "en");
		xml_add_text(st, n, text, strlen(text));
	}
	return st;
}
