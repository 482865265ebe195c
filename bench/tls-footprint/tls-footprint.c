/*
 * tls-footprint - the heap one idle server-side TLS connection holds in
 * OpenSSL alone, with the settings parleyd uses (SSL_MODE_RELEASE_BUFFERS,
 * no session cache, no tickets).  It is the floor under parleyd's memory per
 * idle session: nothing parleyd does can go below it while each connection
 * keeps an SSL object.
 *
 *   tls-footprint N CERT KEY
 *
 * N socket pairs; a child process does the client handshakes (so that its
 * allocations are not counted), this process the server side.  The live
 * heap (mallinfo2) is read before SSL_new, after SSL_new + SSL_set_fd, and
 * after the handshake plus one byte of application data each way, and
 * printed per connection along with the server CPU per handshake.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static size_t live(void)
{
	struct mallinfo2 m = mallinfo2();

	return m.uordblks + m.hblkhd;
}

static double cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	    ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

int main(int argc, char **argv)
{
	int n = argc == 4 ? atoi(argv[1]) : 0;
	int (*sp)[2];
	SSL_CTX *ctx;
	SSL **ss;
	size_t a, b, c;
	double t0, t1;
	pid_t pid;
	char x;

	if (n <= 0 || n > 8000) {
		fprintf(stderr, "usage: tls-footprint N(1-8000) CERT KEY\n");
		return 2;
	}
	sp = calloc((size_t)n, sizeof(*sp));
	ss = calloc((size_t)n, sizeof(*ss));
	for (int i = 0; i < n; i++)
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp[i]) != 0) {
			perror("socketpair");
			return 1;
		}
	pid = fork();
	if (pid == 0) {
		SSL_CTX *cc = SSL_CTX_new(TLS_client_method());

		for (int i = 0; i < n; i++) {
			SSL *s = SSL_new(cc);

			SSL_set_fd(s, sp[i][1]);
			if (SSL_connect(s) != 1 || SSL_write(s, "x", 1) != 1 ||
			    SSL_read(s, &x, 1) != 1)
				_exit(1);
		}
		pause();
		_exit(0);
	}
	ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	if (SSL_CTX_use_certificate_chain_file(ctx, argv[2]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		kill(pid, SIGKILL);
		return 1;
	}
	a = live();
	for (int i = 0; i < n; i++) {
		ss[i] = SSL_new(ctx);
		SSL_set_fd(ss[i], sp[i][0]);
	}
	b = live();
	t0 = cpu_us();
	for (int i = 0; i < n; i++)
		if (SSL_accept(ss[i]) != 1 || SSL_read(ss[i], &x, 1) != 1 ||
		    SSL_write(ss[i], "y", 1) != 1) {
			ERR_print_errors_fp(stderr);
			kill(pid, SIGKILL);
			return 1;
		}
	t1 = cpu_us();
	c = live();
	printf("%s %s: per idle connection %zu bytes (SSL_new+BIO %zu, "
	    "after handshake +%zu); server CPU per handshake %.0f us\n",
	    SSL_get_version(ss[0]), SSL_get_cipher_name(ss[0]),
	    (c - a) / (size_t)n, (b - a) / (size_t)n, (c - b) / (size_t)n,
	    (t1 - t0) / n);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 0;
}
