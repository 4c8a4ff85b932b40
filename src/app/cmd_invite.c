/*
 * `backchannel invite --name NAME [--expires DURATION] [--no-qr]`: a
 * one-time invitation from the running client, one pasteable line (and on
 * a terminal a QR code of it).
 * `backchannel accept CODE --name NAME`: make a contact from one.
 */
#include <qrencode.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/command.h"
#include "app/msgctl.h"
#include "app/msgfmt.h"

/* The daemon may wait up to 20 s for its gateway link (docs/client-api.md). */
#define INVITE_TIMEOUT_MS 30000
#define EXPIRES_MAX_S     (30 * 86400)

static void
invite_usage(FILE *f)
{
	fprintf(f,
		"usage: backchannel invite --name NAME [--expires DURATION] "
		"[--no-qr]\n                         [--socket PATH | --config "
		"FILE] [--json]\n\n"
		"Asks the running client for a one-time invitation and prints "
		"it as one line\nto paste to the person invited (and, on a "
		"terminal, as a QR code). NAME is\nwhat you will call whoever "
		"accepts it. DURATION: 90s, 30m, 12h, 7d (default\n7d, at most "
		"30d). Pass the line over a channel you trust to reach that\n"
		"person only; compare safety numbers later (backchannel "
		"contacts).\n\n  --no-qr         never print the QR code\n%s",
		msgctl_usage);
}

static void
qr_print(const char *code)
{
	QRcode *q = QRcode_encodeString(code, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	if (q == NULL) {
		fprintf(stderr, "invite: no QR code (the line above is the "
				"invitation)\n");
		return;
	}
	msgfmt_qr(stdout, q->data, q->width);
	QRcode_free(q);
}

static int
invite_print(json_t *a, const char *name, bool qr)
{
	const char *code = json_string_value(json_object_get(a, "code"));
	json_t *ex = json_object_get(a, "expires");
	if (code == NULL) {
		fprintf(stderr, "invite: the client's answer has no code\n");
		return 1;
	}
	if (!isatty(STDOUT_FILENO)) {
		/* Piped: the line alone, for $(backchannel invite ...). */
		printf("%s\n", code);
		return 0;
	}
	time_t t = (time_t)json_integer_value(ex);
	struct tm tm;
	char when[64] = "?";
	if (json_is_integer(ex) && gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	printf("invitation for %s, valid once, until %s:\n\n%s\n\n", name, when,
	       code);
	if (qr)
		qr_print(code);
	printf("\nThe other side runs: backchannel accept CODE --name "
	       "YOUR-NAME\n");
	return 0;
}

static int
cmd_invite(int argc, char **argv)
{
	struct msgctl c;
	const char *name = NULL, *why;
	int64_t expires = 7 * 86400;
	bool qr = true;
	msgctl_init(&c, "invite");
	if (command_wants_help(argc, argv)) {
		invite_usage(stdout);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		int r = msgctl_option(&c, argc, argv, &i);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		if (strcmp(argv[i], "--no-qr") == 0) {
			qr = false;
		} else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
			name = argv[++i];
		} else if (strcmp(argv[i], "--expires") == 0 && i + 1 < argc) {
			if (msgfmt_duration_s(argv[++i], EXPIRES_MAX_S,
					      &expires) < 0) {
				fprintf(stderr,
					"invite: bad --expires '%s' (90s, "
					"30m, 12h, 7d; at most 30d)\n",
					argv[i]);
				return EXIT_USAGE;
			}
		} else {
			return msgctl_bad_arg("invite", argv[i]);
		}
	}
	if (name == NULL) {
		fprintf(stderr, "invite: --name NAME is required (what you "
				"will call the person invited)\n");
		return EXIT_USAGE;
	}
	if (!msgfmt_name_ok(name, &why)) {
		fprintf(stderr, "invite: %s\n", why);
		return EXIT_USAGE;
	}
	json_t *a =
	    msgctl_call(&c,
			json_pack("{s:s, s:s, s:I}", "cmd", "invite", "name",
				  name, "expires_s", (json_int_t)expires),
			INVITE_TIMEOUT_MS);
	if (a == NULL)
		return 1;
	int rc = c.json ? 0 : invite_print(a, name, qr);
	json_decref(a);
	return rc;
}

COMMAND(invite, "make a one-time invitation for a new contact", cmd_invite)

static void
accept_usage(FILE *f)
{
	fprintf(f,
		"usage: backchannel accept CODE --name NAME [--socket PATH | "
		"--config FILE]\n                          [--json]\n\n"
		"Makes a contact from an invitation (the line `backchannel "
		"invite` printed at\nthe other side). NAME is what you will "
		"call them. The contact is 'accepting'\nuntil their answer "
		"arrives, then 'ready'; messages sent meanwhile wait.\n\n%s",
		msgctl_usage);
}

static int
cmd_accept(int argc, char **argv)
{
	struct msgctl c;
	const char *name = NULL, *code = NULL, *why;
	msgctl_init(&c, "accept");
	if (command_wants_help(argc, argv)) {
		accept_usage(stdout);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		int r = msgctl_option(&c, argc, argv, &i);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
			name = argv[++i];
		} else if (argv[i][0] != '-' && code == NULL) {
			code = argv[i];
		} else {
			return msgctl_bad_arg("accept", argv[i]);
		}
	}
	if (code == NULL || name == NULL) {
		fprintf(stderr, "accept: CODE and --name NAME are required\n");
		return EXIT_USAGE;
	}
	if (!msgfmt_name_ok(name, &why)) {
		fprintf(stderr, "accept: %s\n", why);
		return EXIT_USAGE;
	}
	json_t *a = msgctl_call(&c,
				json_pack("{s:s, s:s, s:s}", "cmd", "accept",
					  "code", code, "name", name),
				10000);
	if (a == NULL)
		return 1;
	if (!c.json)
		printf("%s is a contact now (accepting: the handshake "
		       "completes when their answer arrives)\n",
		       name);
	json_decref(a);
	return 0;
}

COMMAND(accept, "make a contact from an invitation", cmd_accept)
