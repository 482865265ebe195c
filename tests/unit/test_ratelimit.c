/* test_ratelimit.c - per-account rate limits (xmpp/ratelimit.c), driven
 * by a clock the test moves, so every wait is predicted exactly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/limits.h"
#include "xmpp/ratelimit.h"

#define HOUR	PARLEY_NEW_RCPT_WINDOW_MS

static uint64_t now_ms;

static uint64_t fake_clock(void)
{
	return now_ms;
}

/* messages 5/s burst 3, presence 2/s burst 2, IQ 10/s burst 4, bytes
 * 1000/s burst 5000, 3 new recipients an hour. */
static struct ratelimit *mk(void)
{
	struct rl_params p = {
		.rate = { 5, 2, 10, 1000 },
		.burst = { 3, 2, 4, 5000 },
		.new_rcpt_per_hour = 3,
	};

	now_ms = 1000000;
	return ratelimit_new(&p, fake_clock);
}

static enum rl_verdict msg(struct ratelimit *rl, const char *acct,
    size_t bytes, uint64_t *wait)
{
	return ratelimit_charge(rl, acct, RL_MESSAGE, bytes, wait);
}

static void test_burst_then_rate(void **state)
{
	struct ratelimit *rl = mk();
	uint64_t w = 99;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(msg(rl, "alice", 100, &w), RL_PASS);
		assert_int_equal(w, 0);
	}
	/* Empty: one token at 5/s is 200 ms away. */
	assert_int_equal(msg(rl, "alice", 100, &w), RL_OVER_MESSAGES);
	assert_int_equal(w, 200);
	now_ms += 199;
	assert_int_equal(msg(rl, "alice", 100, &w), RL_OVER_MESSAGES);
	assert_int_equal(w, 1);
	now_ms += 1;
	assert_int_equal(msg(rl, "alice", 100, &w), RL_PASS);
	assert_int_equal(msg(rl, "alice", 100, &w), RL_OVER_MESSAGES);
	assert_int_equal(w, 200);
	ratelimit_free(rl);
}

static void test_refill_stops_at_burst(void **state)
{
	struct ratelimit *rl = mk();
	uint64_t w;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(msg(rl, "alice", 1, &w), RL_PASS);
	/* A long silence (and a large product of time and rate) gives back
	 * the burst, not more. */
	now_ms += 1000000000ull;
	for (int i = 0; i < 3; i++)
		assert_int_equal(msg(rl, "alice", 1, &w), RL_PASS);
	assert_int_equal(msg(rl, "alice", 1, &w), RL_OVER_MESSAGES);
	ratelimit_free(rl);
}

static void test_refused_charges_nothing(void **state)
{
	struct ratelimit *rl = mk();
	uint64_t w;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(msg(rl, "alice", 1, &w), RL_PASS);
	/* A flood of refused stanzas does not dig the bucket deeper: after
	 * one token's time, exactly one passes. */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(msg(rl, "alice", 1, &w), RL_OVER_MESSAGES);
	now_ms += 200;
	assert_int_equal(msg(rl, "alice", 1, &w), RL_PASS);
	assert_int_equal(msg(rl, "alice", 1, &w), RL_OVER_MESSAGES);
	ratelimit_free(rl);
}

static void test_kinds_and_accounts_apart(void **state)
{
	struct ratelimit *rl = mk();
	uint64_t w;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(msg(rl, "alice", 1, &w), RL_PASS);
	assert_int_equal(msg(rl, "alice", 1, &w), RL_OVER_MESSAGES);
	/* Other kinds of the same account, and other accounts, go on. */
	assert_int_equal(ratelimit_charge(rl, "alice", RL_PRESENCE, 1, &w),
	    RL_PASS);
	assert_int_equal(ratelimit_charge(rl, "alice", RL_PRESENCE, 1, &w),
	    RL_PASS);
	assert_int_equal(ratelimit_charge(rl, "alice", RL_PRESENCE, 1, &w),
	    RL_OVER_PRESENCE);
	assert_int_equal(w, 500);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ratelimit_charge(rl, "alice", RL_IQ, 1, &w),
		    RL_PASS);
	assert_int_equal(ratelimit_charge(rl, "alice", RL_IQ, 1, &w),
	    RL_OVER_IQ);
	assert_int_equal(w, 100);
	assert_int_equal(msg(rl, "bob", 1, &w), RL_PASS);
	assert_int_equal(ratelimit_count(rl), 2);
	ratelimit_free(rl);
}

static void test_bytes(void **state)
{
	struct ratelimit *rl = mk();
	uint64_t w;

	(void)state;
	assert_int_equal(msg(rl, "alice", 3000, &w), RL_PASS);
	/* 2000 bytes left, 3000 asked: 1000 bytes at 1000/s. */
	assert_int_equal(msg(rl, "alice", 3000, &w), RL_OVER_BYTES);
	assert_int_equal(w, 1000);
	/* The refused stanza took no message token either: two left. */
	assert_int_equal(msg(rl, "alice", 10, &w), RL_PASS);
	assert_int_equal(msg(rl, "alice", 10, &w), RL_PASS);
	/* Messages and bytes both short: the kind is named, the longer
	 * wait is given. */
	assert_int_equal(msg(rl, "alice", 4000, &w), RL_OVER_MESSAGES);
	assert_int_equal(w, 2020);
	ratelimit_free(rl);
}

static void test_stanza_larger_than_burst(void **state)
{
	struct ratelimit *rl = mk();
	uint64_t w;

	(void)state;
	/* Costs the whole burst, so it passes from a full bucket only. */
	assert_int_equal(msg(rl, "alice", 100000, &w), RL_PASS);
	assert_int_equal(msg(rl, "alice", 1, &w), RL_OVER_BYTES);
	assert_int_equal(w, 1);
	now_ms += 4999;
	assert_int_equal(msg(rl, "alice", 100000, &w), RL_OVER_BYTES);
	assert_int_equal(w, 1);
	now_ms += 1;
	assert_int_equal(msg(rl, "alice", 100000, &w), RL_PASS);
	ratelimit_free(rl);
}

static int known_calls;

static int known(void *ud, const char *to)
{
	(void)ud;
	known_calls++;
	return strncmp(to, "friend", 6) == 0;
}

static enum rl_verdict rcpt(struct ratelimit *rl, const char *to,
    uint64_t *w)
{
	return ratelimit_recipient(rl, "alice", to, known, NULL, w);
}

static void test_new_recipients(void **state)
{
	struct ratelimit *rl = mk();
	uint64_t t0 = now_ms, w;

	(void)state;
	known_calls = 0;
	assert_int_equal(rcpt(rl, "r1@x", &w), RL_PASS);
	now_ms += 10;
	assert_int_equal(rcpt(rl, "r2@x", &w), RL_PASS);
	now_ms += 10;
	assert_int_equal(rcpt(rl, "r3@x", &w), RL_PASS);
	assert_int_equal(known_calls, 3);
	now_ms += 10;
	/* A fourth stranger waits until the first of the hour stops
	 * counting. */
	assert_int_equal(rcpt(rl, "r4@x", &w), RL_OVER_RECIPIENTS);
	assert_int_equal(w, HOUR - 30);
	/* Those already written to, and contacts, go on; a contact's
	 * roster is read once. */
	known_calls = 0;
	assert_int_equal(rcpt(rl, "r1@x", &w), RL_PASS);
	assert_int_equal(rcpt(rl, "r2@x", &w), RL_PASS);
	assert_int_equal(known_calls, 0);
	assert_int_equal(rcpt(rl, "friend1@x", &w), RL_PASS);
	assert_int_equal(rcpt(rl, "friend1@x", &w), RL_PASS);
	assert_int_equal(known_calls, 1);
	assert_int_equal(rcpt(rl, "r5@x", &w), RL_OVER_RECIPIENTS);
	/* An hour after r1 was new, a slot is free; r1 is still a
	 * conversation (written 30 ms after), so it passes without
	 * counting. */
	now_ms = t0 + HOUR;
	assert_int_equal(rcpt(rl, "r4@x", &w), RL_PASS);
	assert_int_equal(rcpt(rl, "r5@x", &w), RL_OVER_RECIPIENTS);
	assert_int_equal(w, 10);
	known_calls = 0;
	assert_int_equal(rcpt(rl, "r1@x", &w), RL_PASS);
	assert_int_equal(known_calls, 0);
	ratelimit_free(rl);
}

static void test_recipient_forgotten_after_an_hour(void **state)
{
	struct ratelimit *rl = mk();
	uint64_t w;

	(void)state;
	known_calls = 0;
	assert_int_equal(rcpt(rl, "r1@x", &w), RL_PASS);
	now_ms += HOUR;
	/* Not written to within the hour: new again (and asked about). */
	assert_int_equal(rcpt(rl, "r1@x", &w), RL_PASS);
	assert_int_equal(known_calls, 2);
	assert_int_equal(rcpt(rl, "r2@x", &w), RL_PASS);
	assert_int_equal(rcpt(rl, "r3@x", &w), RL_PASS);
	assert_int_equal(rcpt(rl, "r4@x", &w), RL_OVER_RECIPIENTS);
	ratelimit_free(rl);
}

static void test_known_contacts_bounded(void **state)
{
	struct ratelimit *rl = mk();
	char to[32];
	uint64_t w;

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(to, sizeof(to), "friend%d@x", i);
		assert_int_equal(rcpt(rl, to, &w), RL_PASS);
		now_ms++;
	}
	/* The least recently written were forgotten, the recent kept. */
	known_calls = 0;
	assert_int_equal(rcpt(rl, "friend99@x", &w), RL_PASS);
	assert_int_equal(known_calls, 0);
	assert_int_equal(rcpt(rl, "friend0@x", &w), RL_PASS);
	assert_int_equal(known_calls, 1);
	/* None of them counted as new. */
	assert_int_equal(rcpt(rl, "r1@x", &w), RL_PASS);
	assert_int_equal(rcpt(rl, "r2@x", &w), RL_PASS);
	assert_int_equal(rcpt(rl, "r3@x", &w), RL_PASS);
	assert_int_equal(rcpt(rl, "r4@x", &w), RL_OVER_RECIPIENTS);
	ratelimit_free(rl);
}

static void test_gc(void **state)
{
	struct ratelimit *rl = mk();
	uint64_t w;

	(void)state;
	assert_int_equal(msg(rl, "alice", 100, &w), RL_PASS);
	assert_int_equal(msg(rl, "bob", 100, &w), RL_PASS);
	assert_int_equal(ratelimit_recipient(rl, "bob", "r1@x", NULL, NULL,
	    &w), RL_PASS);
	ratelimit_gc(rl);
	assert_int_equal(ratelimit_count(rl), 2);	/* buckets not full */
	/* 100 bytes at 1000/s and one message at 5/s: full after 200 ms. */
	now_ms += 199;
	ratelimit_gc(rl);
	assert_int_equal(ratelimit_count(rl), 2);
	now_ms += 1;
	ratelimit_gc(rl);
	/* bob's new conversation counts for the hour, so he stays. */
	assert_int_equal(ratelimit_count(rl), 1);
	now_ms += HOUR;
	ratelimit_gc(rl);
	assert_int_equal(ratelimit_count(rl), 0);
	/* Dropped means full: the next stanza starts from a full burst. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(msg(rl, "alice", 1, &w), RL_PASS);
	assert_int_equal(msg(rl, "alice", 1, &w), RL_OVER_MESSAGES);
	ratelimit_free(rl);
}

static void test_explain(void **state)
{
	struct ratelimit *rl = mk();
	char text[256];

	(void)state;
	ratelimit_explain(rl, RL_OVER_MESSAGES, text, sizeof(text));
	assert_non_null(strstr(text, "rate limited"));
	assert_non_null(strstr(text, "5 messages a second"));
	assert_non_null(strstr(text, "bursts of 3"));
	ratelimit_explain(rl, RL_OVER_BYTES, text, sizeof(text));
	assert_non_null(strstr(text, "1000 bytes a second"));
	ratelimit_explain(rl, RL_OVER_RECIPIENTS, text, sizeof(text));
	assert_non_null(strstr(text, "3 new recipients an hour"));
	assert_string_equal(ratelimit_name(RL_OVER_PRESENCE), "presence");
	assert_string_equal(ratelimit_name(RL_OVER_RECIPIENTS),
	    "new recipients");
	ratelimit_free(rl);
}

/* Group budgets (xmpp/policy.h): "intern" has its own, everyone else the
 * defaults; a change of group applies to the next stanza. */
static struct rl_params intern_p = {
	.rate = { 1, 1, 1, 1000 },
	.burst = { 1, 1, 1, 5000 },
	.new_rcpt_per_hour = 1,
};
static int intern_in_group = 1;

static const struct rl_params *lookup(void *ud, const char *account)
{
	assert_ptr_equal(ud, &intern_p);
	return intern_in_group && strcmp(account, "intern") == 0 ?
	    &intern_p : NULL;
}

static void test_per_account_budgets(void **state)
{
	struct ratelimit *rl = mk();
	uint64_t w;
	char text[256];

	(void)state;
	intern_in_group = 1;
	ratelimit_set_lookup(rl, lookup, &intern_p);
	assert_int_equal(msg(rl, "intern", 10, &w), RL_PASS);
	assert_int_equal(msg(rl, "intern", 10, &w), RL_OVER_MESSAGES);
	assert_int_equal(w, 1000);
	for (int i = 0; i < 3; i++)
		assert_int_equal(msg(rl, "staff", 10, &w), RL_PASS);
	assert_int_equal(msg(rl, "staff", 10, &w), RL_OVER_MESSAGES);
	ratelimit_explain_for(rl, "intern", RL_OVER_MESSAGES, text,
	    sizeof(text));
	assert_non_null(strstr(text, "more than 1 messages a second "
	    "(bursts of 1)"));
	ratelimit_explain_for(rl, "staff", RL_OVER_MESSAGES, text,
	    sizeof(text));
	assert_non_null(strstr(text, "more than 5 messages a second "
	    "(bursts of 3)"));
	/* New recipients: one an hour for the group. */
	assert_int_equal(ratelimit_recipient(rl, "intern", "a@x", NULL, NULL,
	    &w), RL_PASS);
	assert_int_equal(ratelimit_recipient(rl, "intern", "b@x", NULL, NULL,
	    &w), RL_OVER_RECIPIENTS);
	/* Out of the group: the default budgets from the next stanza. */
	intern_in_group = 0;
	now_ms += 1000;
	for (int i = 0; i < 3; i++)
		assert_int_equal(msg(rl, "intern", 10, &w), RL_PASS);
	/* Back in: a bucket fuller than the group's burst is cut to it. */
	now_ms += 10000;
	intern_in_group = 1;
	assert_int_equal(msg(rl, "intern", 10, &w), RL_PASS);
	assert_int_equal(msg(rl, "intern", 10, &w), RL_OVER_MESSAGES);
	ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_refill_stops_at_burst),
		cmocka_unit_test(test_refused_charges_nothing),
		cmocka_unit_test(test_kinds_and_accounts_apart),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_stanza_larger_than_burst),
		cmocka_unit_test(test_new_recipients),
		cmocka_unit_test(test_recipient_forgotten_after_an_hour),
		cmocka_unit_test(test_known_contacts_bounded),
		cmocka_unit_test(test_gc),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_per_account_budgets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
