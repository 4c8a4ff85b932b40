/* The control socket (net/ctlsock.h): lines in, one answer each, stale
 * socket files replaced, live ones refused, over-long lines cut off. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <uv.h>

#include "net/ctlsock.h"

static char dir[64], path[128];
static uv_loop_t loop;
static uv_async_t stop;
static struct ctlsock *srv;
static int handled;

static void echo(void *ctx, const char *line, size_t len, struct buf *reply)
{
	(void)ctx;
	handled++;
	buf_printf(reply, "{\"got\":%zu,\"line\":\"%s\"}", len, line);
}

static void on_stop(uv_async_t *a)
{
	ctlsock_close(srv);
	uv_close((uv_handle_t *)a, NULL);
}

static void *run(void *arg)
{
	(void)arg;
	uv_run(&loop, UV_RUN_DEFAULT);
	return NULL;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/bc-ctlsock-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/c.sock", dir);
	handled = 0;
}

static void teardown(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(net_ctlsock, .init = setup, .fini = teardown);

Test(net_ctlsock, request_answer_stale_and_live)
{
	char err[256];
	struct buf r;
	pthread_t th;

	/* A stale socket file (nobody listening) is replaced. */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path, path, strlen(path));
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
	uv_loop_init(&loop);
	uv_async_init(&loop, &stop, on_stop);
	srv = ctlsock_listen(&loop, path, echo, NULL, err, sizeof(err));
	cr_assert_not_null(srv, "%s", err);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 077, 0, "socket readable by others");
	/* A second listener on a live socket is refused. */
	cr_assert_null(ctlsock_listen(&loop, path, echo, NULL, err,
				      sizeof(err)));
	cr_assert(strstr(err, "another process") != NULL, "%s", err);
	cr_assert_eq(pthread_create(&th, NULL, run, NULL), 0);

	buf_init(&r);
	cr_assert_eq(ctlsock_request(path, "status", &r, 2000, err,
				     sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.len, strlen("{\"got\":6,\"line\":\"status\"}"));
	cr_assert(memcmp(r.data, "{\"got\":6,\"line\":\"status\"}", r.len) ==
		  0);
	buf_reset(&r);
	/* A line longer than the limit closes that connection only. */
	size_t big = CTLSOCK_LINE_MAX + 10000;
	char *junk = malloc(big + 1);
	memset(junk, 'x', big);
	junk[big] = 0;
	cr_assert_eq(ctlsock_request(path, junk, &r, 2000, err, sizeof(err)),
		     -1);
	free(junk);
	buf_reset(&r);
	cr_assert_eq(ctlsock_request(path, "again", &r, 2000, err,
				     sizeof(err)), 0, "%s", err);
	cr_assert_eq(handled, 2);
	buf_free(&r);
	uv_async_send(&stop);
	pthread_join(th, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0, "handles left open");
	cr_assert_neq(access(path, F_OK), 0, "socket file not removed");
	/* Nobody listening: a clear error. */
	cr_assert_eq(ctlsock_request(path, "status", &r, 500, err,
				     sizeof(err)), -1);
	cr_assert(strstr(err, "is `backchannel client` running?") != NULL,
		  "%s", err);
}
