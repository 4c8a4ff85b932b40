/*
 * `backchannel contacts`: the running client's contacts with their state
 * and safety number. `backchannel block NAME`, `backchannel receipts NAME
 * on|off`: change one.
 */
#include <stdio.h>
#include <string.h>

#include "app/command.h"
#include "app/msgctl.h"
#include "app/msgfmt.h"

static int
cmd_contacts(int argc, char **argv)
{
	struct msgctl c;
	msgctl_init(&c, "contacts");
	for (int i = 1; i < argc; i++) {
		int r = msgctl_option(&c, argc, argv, &i);
		if (r > 0)
			continue;
		if (!command_wants_help(argc, argv))
			return msgctl_bad_arg("contacts", argv[i]);
		printf("usage: backchannel contacts [--socket PATH | --config "
		       "FILE] [--json]\n\nLists the contacts: name, state "
		       "(invited, accepting, ready, blocked),\nread receipts "
		       "on or off, and the safety number: compare it with "
		       "your\ncontact's over a channel you trust (the same "
		       "60 digits on both sides).\n\n%s",
		       msgctl_usage);
		return 0;
	}
	json_t *a =
	    msgctl_call(&c, json_pack("{s:s}", "cmd", "contacts"), 5000);
	if (a == NULL)
		return 1;
	int rc = 0;
	if (!c.json && msgfmt_contacts(stdout, a) != 0) {
		fprintf(stderr, "contacts: the client's answer has no "
				"contact list\n");
		rc = 1;
	}
	json_decref(a);
	return rc;
}

COMMAND(contacts, "list contacts, their state and safety numbers", cmd_contacts)

/* NAME and, for receipts, on|off; the shared options anywhere. */
static int
name_args(struct msgctl *c, int argc, char **argv, const char **name,
	  const char **value)
{
	const char *why;
	for (int i = 1; i < argc; i++) {
		int r = msgctl_option(c, argc, argv, &i);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		if (argv[i][0] == '-' ||
		    (*name != NULL && (value == NULL || *value != NULL))) {
			msgctl_bad_arg(c->cmd, argv[i]);
			return -1;
		}
		if (*name == NULL)
			*name = argv[i];
		else
			*value = argv[i];
	}
	if (*name == NULL || (value != NULL && *value == NULL)) {
		msgctl_bad_arg(c->cmd, NULL);
		return -1;
	}
	if (!msgfmt_name_ok(*name, &why)) {
		fprintf(stderr, "%s: %s\n", c->cmd, why);
		return -1;
	}
	return 0;
}

static int
cmd_block(int argc, char **argv)
{
	struct msgctl c;
	const char *name = NULL;
	msgctl_init(&c, "block");
	if (!command_wants_help(argc, argv) &&
	    name_args(&c, argc, argv, &name, NULL) != 0)
		return EXIT_USAGE;
	if (command_wants_help(argc, argv)) {
		printf("usage: backchannel block NAME [--socket PATH | "
		       "--config FILE] [--json]\n\nBlocks a contact: their "
		       "queue at our gateway is deleted, nothing more is\n"
		       "sent to them or accepted from them.\n\n%s",
		       msgctl_usage);
		return 0;
	}
	json_t *a = msgctl_call(
	    &c, json_pack("{s:s, s:s}", "cmd", "block", "name", name), 10000);
	if (a == NULL)
		return 1;
	if (!c.json)
		printf("%s is blocked\n", name);
	json_decref(a);
	return 0;
}

COMMAND(block, "block a contact (deletes their queue)", cmd_block)

static int
cmd_receipts(int argc, char **argv)
{
	struct msgctl c;
	const char *name = NULL, *v = NULL;
	bool on = true;
	msgctl_init(&c, "receipts");
	if (!command_wants_help(argc, argv)) {
		if (name_args(&c, argc, argv, &name, &v) != 0)
			return EXIT_USAGE;
		if (msgfmt_onoff(v, &on) != 0) {
			fprintf(stderr, "receipts: '%s': say on or off\n", v);
			return EXIT_USAGE;
		}
	}
	if (command_wants_help(argc, argv)) {
		printf("usage: backchannel receipts NAME on|off [--socket "
		       "PATH | --config FILE]\n                          "
		       "[--json]\n\nWhether this contact is told when you "
		       "have read their messages (default\non). Delivery "
		       "receipts are always sent.\n\n%s",
		       msgctl_usage);
		return 0;
	}
	json_t *a = msgctl_call(&c,
				json_pack("{s:s, s:s, s:b}", "cmd", "receipts",
					  "name", name, "on", on),
				5000);
	if (a == NULL)
		return 1;
	if (!c.json)
		printf("read receipts to %s: %s\n", name, on ? "on" : "off");
	json_decref(a);
	return 0;
}

COMMAND(receipts, "turn read receipts to a contact on or off", cmd_receipts)
