/* test_policy.c - what counts as user activity for idle logoff, and how
 * often the sweep runs (xmpp/policy.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/config.h"
#include "xml/xml.h"
#include "xmpp/ns.h"
#include "xmpp/policy.h"

#define NS_CS	"http://jabber.org/protocol/chatstates"

/* A stanza kind[type] with one child {ns}name (NULL: none) holding text. */
static int activity(const char *kind, const char *type, const char *ns,
    const char *name, const char *text)
{
	struct xml_stanza *st = xml_stanza_new(NS_CLIENT, kind);
	struct xml_node *root = xml_root(st), *c;
	int r;

	if (type != NULL)
		xml_set_attr(st, root, "type", type);
	if (name != NULL) {
		c = xml_add_child(st, root, ns, name);
		if (text != NULL)
			xml_add_text(st, c, text, strlen(text));
	}
	r = policy_is_activity(root);
	xml_stanza_free(st);
	return r;
}

static void test_activity(void **state)
{
	(void)state;
	/* A person at work. */
	assert_true(activity("message", "chat", NS_CLIENT, "body", "hi"));
	assert_true(activity("message", NULL, NS_CLIENT, "subject", "s"));
	assert_true(activity("message", "chat", NS_CS, "composing", NULL));
	assert_true(activity("message", "chat", NS_CS, "paused", NULL));
	assert_true(activity("presence", NULL, NULL, NULL, NULL));
	assert_true(activity("presence", NULL, NS_CLIENT, "show", "dnd"));
	assert_true(activity("presence", "subscribe", NULL, NULL, NULL));
	assert_true(activity("presence", "unsubscribed", NULL, NULL, NULL));
	assert_true(activity("iq", "get", NS_ROSTER, "query", NULL));
	assert_true(activity("iq", "set", NS_VCARD, "vCard", NULL));
	/* Keep-alives and automatic answers. */
	assert_false(activity("iq", "get", NS_PING, "ping", NULL));
	assert_false(activity("iq", "result", NULL, NULL, NULL));
	assert_false(activity("iq", "error", NS_ROSTER, "query", NULL));
	assert_false(activity("message", "chat", "urn:xmpp:receipts",
	    "received", NULL));
	assert_false(activity("message", "chat", NS_CS, "active", NULL));
	assert_false(activity("message", "chat", NS_CS, "gone", NULL));
	assert_false(activity("message", "error", NS_CLIENT, "body", "x"));
	assert_false(activity("presence", NULL, NS_CLIENT, "show", "away"));
	assert_false(activity("presence", NULL, NS_CLIENT, "show", "xa"));
	assert_false(activity("presence", "unavailable", NULL, NULL, NULL));
	assert_false(activity("presence", "probe", NULL, NULL, NULL));
	assert_false(activity("presence", "error", NULL, NULL, NULL));
}

static void test_sweep_interval(void **state)
{
	struct config c;

	(void)state;
	config_defaults(&c);
	/* 8 h: an eighth is an hour; at most a minute. */
	assert_int_equal(policy_sweep_interval_ms(&c), 60000);
	c.idle_logoff = 0;
	assert_int_equal(policy_sweep_interval_ms(&c), 0);
	c.max_session = 80;
	assert_int_equal(policy_sweep_interval_ms(&c), 10000);
	/* The shortest anywhere counts, groups included; at least 250 ms. */
	c.ngroups = 1;
	c.groups[0].idle_logoff = 2;
	assert_int_equal(policy_sweep_interval_ms(&c), 250);
	c.groups[0].idle_logoff = 0;
	c.groups[0].max_session = 40;
	assert_int_equal(policy_sweep_interval_ms(&c), 5000);
	c.ngroups = 0;
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_activity),
		cmocka_unit_test(test_sweep_interval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
