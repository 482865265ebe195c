/*
 * strophe_client.c - a libstrophe client for Parley's integration tests.
 *
 *   strophe_client JID PASSWORD HOST PORT TO BODY
 *
 * Connects to HOST:PORT (STARTTLS, mandatory, self-signed certificate
 * trusted), logs in as JID, sends initial presence and a chat message with
 * BODY to TO, then waits up to 10 s for a chat message back, prints
 * "GOT <body>" and exits 0.  Exits 1 with the reason on stderr on a login
 * failure, a disconnection or a timeout; 2 on a usage error.
 * STROPHE_DEBUG=1 in the environment turns on libstrophe's debug log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <strophe.h>

#define LOGIN_TIMEOUT_S	30	/* connect, TLS, SASL and bind */
#define REPLY_TIMEOUT_S	10	/* after our message is sent */

struct state {
	xmpp_ctx_t	*ctx;
	const char	*to;
	const char	*body;
	int		 connected;	/* session established */
	int		 done;		/* got the reply */
	int		 failed;	/* disconnected or failed */
	time_t		 sent_at;
	char		 reason[256];
};

static int on_message(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
	struct state *s = ud;
	const char *type = xmpp_stanza_get_type(st);
	char *body;

	(void)conn;
	if (type != NULL && strcmp(type, "error") == 0) {
		snprintf(s->reason, sizeof(s->reason),
		    "got an error message from %s",
		    xmpp_stanza_get_from(st) ? xmpp_stanza_get_from(st) : "?");
		s->failed = 1;
		return 1;
	}
	if (type == NULL || strcmp(type, "chat") != 0)
		return 1;
	body = xmpp_message_get_body(st);
	if (body == NULL)
		return 1;
	printf("GOT %s\n", body);
	fflush(stdout);
	xmpp_free(s->ctx, body);
	s->done = 1;
	return 1;
}

static void on_conn(xmpp_conn_t *conn, xmpp_conn_event_t ev, int error,
    xmpp_stream_error_t *se, void *ud)
{
	struct state *s = ud;
	xmpp_stanza_t *st;

	if (ev == XMPP_CONN_CONNECT) {
		if (!xmpp_conn_is_secured(conn)) {
			snprintf(s->reason, sizeof(s->reason),
			    "connection is not encrypted");
			s->failed = 1;
			xmpp_disconnect(conn);
			return;
		}
		s->connected = 1;
		xmpp_handler_add(conn, on_message, NULL, "message", NULL, s);
		st = xmpp_presence_new(s->ctx);
		xmpp_send(conn, st);
		xmpp_stanza_release(st);
		st = xmpp_message_new(s->ctx, "chat", s->to, "strophe-1");
		xmpp_message_set_body(st, s->body);
		xmpp_send(conn, st);
		xmpp_stanza_release(st);
		s->sent_at = time(NULL);
		return;
	}
	if (s->done)
		return;
	if (s->reason[0] == '\0') {
		if (se != NULL)
			snprintf(s->reason, sizeof(s->reason),
			    "stream error %d: %s", (int)se->type,
			    se->text ? se->text : "(no text)");
		else if (!s->connected)
			snprintf(s->reason, sizeof(s->reason),
			    "disconnected before the session started "
			    "(authentication failure or refused; error %d)",
			    error);
		else
			snprintf(s->reason, sizeof(s->reason),
			    "disconnected (error %d)", error);
	}
	s->failed = 1;
}

int main(int argc, char **argv)
{
	struct state s;
	xmpp_conn_t *conn;
	xmpp_log_t *log;
	unsigned long port;
	char *end;
	time_t start;
	int rc = 1;

	if (argc != 7) {
		fprintf(stderr, "usage: %s JID PASSWORD HOST PORT TO BODY\n",
		    argv[0]);
		return 2;
	}
	port = strtoul(argv[4], &end, 10);
	if (*argv[4] == '\0' || *end != '\0' || port == 0 || port > 65535) {
		fprintf(stderr, "strophe_client: bad port %s\n", argv[4]);
		return 2;
	}
	memset(&s, 0, sizeof(s));
	s.to = argv[5];
	s.body = argv[6];

	xmpp_initialize();
	log = xmpp_get_default_logger(getenv("STROPHE_DEBUG") != NULL ?
	    XMPP_LEVEL_DEBUG : XMPP_LEVEL_ERROR);
	s.ctx = xmpp_ctx_new(NULL, log);
	conn = xmpp_conn_new(s.ctx);
	xmpp_conn_set_flags(conn, XMPP_CONN_FLAG_MANDATORY_TLS |
	    XMPP_CONN_FLAG_TRUST_TLS);
	xmpp_conn_set_jid(conn, argv[1]);
	xmpp_conn_set_pass(conn, argv[2]);
	if (xmpp_connect_client(conn, argv[3], (unsigned short)port, on_conn,
	    &s) != XMPP_EOK) {
		fprintf(stderr, "strophe_client: cannot start connecting to "
		    "%s:%lu\n", argv[3], port);
		goto out;
	}
	start = time(NULL);
	while (!s.done && !s.failed) {
		time_t now = time(NULL);

		if (!s.connected && now - start > LOGIN_TIMEOUT_S) {
			snprintf(s.reason, sizeof(s.reason),
			    "no session within %d s", LOGIN_TIMEOUT_S);
			break;
		}
		if (s.connected && now - s.sent_at > REPLY_TIMEOUT_S) {
			snprintf(s.reason, sizeof(s.reason),
			    "no reply within %d s", REPLY_TIMEOUT_S);
			break;
		}
		xmpp_run_once(s.ctx, 100);
	}
	if (s.done) {
		rc = 0;
		xmpp_disconnect(conn);
		/* Let the closing </stream:stream> go out (bounded). */
		for (int i = 0; i < 20 && xmpp_conn_is_connected(conn); i++)
			xmpp_run_once(s.ctx, 50);
	} else {
		fprintf(stderr, "strophe_client: %s\n", s.reason[0] ?
		    s.reason : "failed");
	}
out:
	xmpp_conn_release(conn);
	xmpp_ctx_free(s.ctx);
	xmpp_shutdown();
	return rc;
}
