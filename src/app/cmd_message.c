/*
 * `backchannel send NAME [TEXT...]` (the text from stdin when absent) and
 * `backchannel inbox [--follow] [--contact NAME]`: the conversation, with
 * each outgoing message's state (queued, sent, acknowledged, delivered,
 * read), through the running client's control socket.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/time.h"

#include "app/command.h"
#include "app/msgctl.h"
#include "app/msgfmt.h"

/* The daemon lists at most this many rows per answer. */
#define PAGE_MAX       500
#define FOLLOW_POLL_MS 300

static void
send_usage(FILE *f)
{
	fprintf(f,
		"usage: backchannel send NAME [TEXT...] [--socket PATH | "
		"--config FILE] [--json]\n\n"
		"Queues a message to a contact (state accepting or ready); "
		"without TEXT it is\nread from stdin (one trailing newline "
		"dropped). Up to %d bytes of UTF-8.\nThe message is stored "
		"before this returns; `backchannel inbox` shows its state.\n"
		"Words after `--` are text even when they start with '-'.\n\n"
		"%s",
		MSGFMT_TEXT_MAX, msgctl_usage);
}

/* All of stdin, up to one byte more than allowed (to see it is too long). */
static int
read_stdin(struct buf *b)
{
	char chunk[4096];
	if (isatty(STDIN_FILENO))
		fprintf(stderr, "send: type the message, then Ctrl-D\n");
	while (b->len <= MSGFMT_TEXT_MAX) {
		size_t n = fread(chunk, 1, sizeof(chunk), stdin);
		buf_append(b, chunk, n);
		if (n < sizeof(chunk))
			break;
	}
	if (ferror(stdin))
		return -1;
	if (b->len > 0 && b->len <= MSGFMT_TEXT_MAX &&
	    b->data[b->len - 1] == '\n')
		b->len--;
	return 0;
}

static int
send_args(struct msgctl *c, int argc, char **argv, const char **name,
	  struct buf *text, bool *have_text)
{
	bool words = false;
	for (int i = 1; i < argc; i++) {
		if (!words && strcmp(argv[i], "--") == 0) {
			words = true;
			continue;
		}
		int r = words ? 0 : msgctl_option(c, argc, argv, &i);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		if (!words && argv[i][0] == '-')
			return -1;
		if (*name == NULL) {
			*name = argv[i];
			continue;
		}
		if (*have_text)
			buf_append_u8(text, ' ');
		buf_append(text, argv[i], strlen(argv[i]));
		*have_text = true;
	}
	return *name ? 0 : -1;
}

static int
cmd_send(int argc, char **argv)
{
	struct msgctl c;
	const char *name = NULL, *why;
	struct buf text;
	bool have = false;
	int rc = EXIT_USAGE;
	json_t *a = NULL;
	msgctl_init(&c, "send");
	buf_init(&text);
	if (command_wants_help(argc, argv)) {
		send_usage(stdout);
		rc = 0;
		goto done;
	}
	if (send_args(&c, argc, argv, &name, &text, &have) != 0) {
		fprintf(stderr, "send: usage: backchannel send NAME [TEXT...] "
				"(see --help)\n");
		goto done;
	}
	if (!msgfmt_name_ok(name, &why)) {
		fprintf(stderr, "send: %s\n", why);
		goto done;
	}
	if (!have && read_stdin(&text) != 0) {
		fprintf(stderr, "send: cannot read the text from stdin\n");
		goto done;
	}
	if (text.len > MSGFMT_TEXT_MAX) {
		fprintf(stderr,
			"send: the text is too long (more than %d "
			"bytes)\n",
			MSGFMT_TEXT_MAX);
		goto done;
	}
	rc = 1;
	a = msgctl_call(
	    &c,
	    json_pack("{s:s, s:s, s:s%}", "cmd", "send", "to", name, "text",
		      text.len ? (const char *)text.data : "", text.len),
	    10000);
	if (a == NULL)
		goto done;
	if (!c.json)
		printf("queued %zu bytes to %s (message %s)\n", text.len, name,
		       json_string_value(json_object_get(a, "id")));
	json_decref(a);
	rc = 0;
done:
	buf_free(&text);
	return rc;
}

COMMAND(send, "send a message to a contact", cmd_send)

struct inbox_opts {
	struct msgctl c;
	const char *contact;
	bool follow, json, times, peek;
	size_t max;
};

static void
inbox_usage(FILE *f)
{
	fprintf(
	    f, "usage: backchannel inbox [--contact NAME] [--follow] [--times] "
	       "[--brief] [--peek]\n"
	       "                         [--socket PATH | --config FILE] "
	       "[--json]\n\n"
	       "The conversation: messages received and sent, oldest first, "
	       "with the state of\neach: queued, sent, acknowledged (stored at "
	       "the contact's gateway), delivered\n(their client has it), "
	       "read; received, read. Incoming messages shown are\nmarked "
	       "read, which sends a read receipt if receipts are on for that "
	       "contact.\n\n"
	       "  --contact NAME  only the conversation with NAME\n"
	       "  --follow        then print new messages and changes of "
	       "state until ^C\n"
	       "  --times         each state's time after the first\n"
	       "  --brief         texts cut at 60 bytes\n"
	       "  --peek          do not mark anything read\n"
	       "  --json          one JSON object per message row (the "
	       "daemon's rows)\n"
	       "  --socket PATH   the client's control socket (default "
	       "client.sock)\n"
	       "  --config FILE   or: the client's config (its "
	       "control_socket)\n");
}

/* Appends the rows after *since to rows; *since becomes the last rev. */
static int
fetch_rows(const struct inbox_opts *o, json_int_t *since, json_t *rows)
{
	for (;;) {
		json_t *req =
		    json_pack("{s:s, s:I}", "cmd", "messages", "since", *since);
		if (req && o->contact)
			json_object_set_new(req, "contact",
					    json_string(o->contact));
		json_t *a = msgctl_call(&o->c, req, 10000);
		json_t *m = json_object_get(a, "messages");
		json_t *next = json_object_get(a, "next");
		if (a == NULL)
			return -1;
		if (!json_is_array(m) || !json_is_integer(next)) {
			fprintf(stderr, "inbox: the client's answer has no "
					"message list\n");
			json_decref(a);
			return -1;
		}
		size_t n = json_array_size(m);
		json_array_extend(rows, m);
		bool more = n >= PAGE_MAX && json_integer_value(next) > *since;
		*since = json_integer_value(next);
		json_decref(a);
		if (!more)
			return 0;
	}
}

static int
by_time(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int64_t tx = msgfmt_msg_time(x), ty = msgfmt_msg_time(y);
	json_int_t rx = json_integer_value(json_object_get(x, "rev"));
	json_int_t ry = json_integer_value(json_object_get(y, "rev"));
	if (tx != ty)
		return tx < ty ? -1 : 1;
	return (rx > ry) - (rx < ry);
}

/* Marks the incoming rows in state "received" read. */
static int
mark_read(const struct inbox_opts *o, json_t *rows)
{
	json_t *ids = json_array(), *r;
	size_t i;
	json_array_foreach(rows, i, r)
	{
		const char *d = json_string_value(json_object_get(r, "dir"));
		const char *s = json_string_value(json_object_get(r, "state"));
		if (d && s && strcmp(d, "in") == 0 &&
		    strcmp(s, "received") == 0)
			json_array_append(ids, json_object_get(r, "id"));
	}
	if (o->peek || json_array_size(ids) == 0) {
		json_decref(ids);
		return 0;
	}
	struct msgctl quiet = o->c;
	quiet.json = false;
	json_t *a = msgctl_call(
	    &quiet, json_pack("{s:s, s:o}", "cmd", "read", "ids", ids), 10000);
	int ok = a != NULL;
	json_decref(a);
	return ok ? 0 : -1;
}

static void
print_row(const struct inbox_opts *o, json_t *r, bool change)
{
	if (o->json) {
		char *line = json_dumps(r, JSON_COMPACT);
		if (line)
			printf("%s\n", line);
		free(line);
	} else if ((change
			? msgfmt_state_change(stdout, r)
			: msgfmt_message(stdout, r, o->times, o->max)) != 0) {
		fprintf(stderr, "inbox: skipped a malformed message row\n");
	}
}

/*
 * Prints rows: a message not seen before in full, one seen in another
 * state as a change of state; seen maps id -> state.
 */
static void
print_rows(const struct inbox_opts *o, json_t *rows, json_t *seen)
{
	json_t *r;
	size_t i;
	json_array_foreach(rows, i, r)
	{
		const char *id = json_string_value(json_object_get(r, "id"));
		json_t *st = json_object_get(r, "state");
		if (id == NULL || !json_is_string(st))
			continue;
		json_t *old = json_object_get(seen, id);
		if (old && json_equal(old, st))
			continue;
		print_row(o, r, old != NULL);
		json_object_set(seen, id, st);
	}
	fflush(stdout);
}

/* The conversation in time order, not in order of last change. */
static void
print_sorted(const struct inbox_opts *o, json_t *rows, json_t *seen)
{
	size_t n = json_array_size(rows);
	json_t **v = bc_calloc(n ? n : 1, sizeof(*v));
	json_t *sorted = json_array();
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(rows, i);
	qsort(v, n, sizeof(*v), by_time);
	for (size_t i = 0; i < n; i++)
		json_array_append(sorted, v[i]);
	free(v);
	print_rows(o, sorted, seen);
	json_decref(sorted);
}

static volatile sig_atomic_t stop_follow;

static void
on_sigint(int sig)
{
	(void)sig;
	stop_follow = 1;
}

static int
inbox_run(const struct inbox_opts *o)
{
	json_int_t since = 0;
	json_t *rows = json_array(), *seen = json_object();
	int rc = 1;
	if (fetch_rows(o, &since, rows) != 0)
		goto done;
	if (json_array_size(rows) == 0 && !o->json && !o->follow)
		printf("no messages\n");
	print_sorted(o, rows, seen);
	if (mark_read(o, rows) != 0)
		goto done;
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	while (o->follow && !stop_follow) {
		time_sleep_ms(FOLLOW_POLL_MS);
		json_array_clear(rows);
		if (fetch_rows(o, &since, rows) != 0)
			goto done;
		print_rows(o, rows, seen);
		if (mark_read(o, rows) != 0)
			goto done;
	}
	rc = 0;
done:
	json_decref(rows);
	json_decref(seen);
	return rc;
}

static int
cmd_inbox(int argc, char **argv)
{
	struct inbox_opts o;
	const char *why;
	memset(&o, 0, sizeof(o));
	msgctl_init(&o.c, "inbox");
	if (command_wants_help(argc, argv)) {
		inbox_usage(stdout);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int r = msgctl_option(&o.c, argc, argv, &i);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		if (strcmp(a, "--follow") == 0 || strcmp(a, "-f") == 0) {
			o.follow = true;
		} else if (strcmp(a, "--times") == 0) {
			o.times = true;
		} else if (strcmp(a, "--brief") == 0) {
			o.max = 60;
		} else if (strcmp(a, "--peek") == 0) {
			o.peek = true;
		} else if (strcmp(a, "--contact") == 0 && i + 1 < argc) {
			o.contact = argv[++i];
			if (!msgfmt_name_ok(o.contact, &why)) {
				fprintf(stderr, "inbox: %s\n", why);
				return EXIT_USAGE;
			}
		} else {
			return msgctl_bad_arg("inbox", a);
		}
	}
	/* Our own rows, not the daemon's raw answers, in JSON mode. */
	o.json = o.c.json;
	o.c.json = false;
	return inbox_run(&o);
}

COMMAND(inbox, "show the conversation and the state of each message", cmd_inbox)
