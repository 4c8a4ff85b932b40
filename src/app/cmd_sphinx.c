/*
 * `backchannel sphinx create|unwrap|demo`: Sphinx packets from the command
 * line, JSON in and out with the field names of Katzenpost's vector files,
 * so that another implementation can be checked against ours (and ours
 * against theirs) one hop at a time. The demo is in sphinx_demo.c.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/codec.h"

#include "crypto/crypto.h"
#include "crypto/secret.h"

#include "wire/sphinx_packet.h"

#include "app/command.h"
#include "app/sphinx_demo.h"

struct sphinx_opts {
	size_t hops;     /* header slots */
	size_t user_len; /* 0: the default (create) or from the packet size */
	bool user_len_set;
	uint32_t max_delay_ms;
	const char *file; /* NULL or "-": standard input */
};

static void
sphinx_usage(FILE *f)
{
	struct sphinx_geometry g;

	sphinx_geometry_default(&g);
	fprintf(
	    f,
	    "usage: backchannel sphinx create [OPTIONS] [FILE]\n"
	    "       backchannel sphinx unwrap [OPTIONS] [FILE]\n"
	    "       backchannel sphinx demo\n\n"
	    "create: reads {\"Path\": [{\"ID\", \"PublicKey\", \"Commands\": "
	    "[hex...]}...],\n"
	    "  \"Payload\": hex} and prints the packet in hex. Commands are a "
	    "hop's routing\n"
	    "  commands other than next hop, each encoded on its own (as in "
	    "the vectors).\n"
	    "unwrap: reads {\"PrivateKey\": hex, \"Packet\": hex} and prints "
	    "what the hop\n"
	    "  learns: Kind (forward, final, surb_reply), Commands, NextHopID, "
	    "Packet (the\n"
	    "  next hop's), Payload (final: after the zero tag; reply: still "
	    "encrypted),\n"
	    "  ReplayTag; or Error, with exit status 1.\n"
	    "demo: one message through five in-process hops and back.\n\n"
	    "options:\n"
	    "  --hops N          header slots (default %d)\n"
	    "  --payload-len N   user payload bytes (create: default %zu, the "
	    "network's\n"
	    "                    forward payload; unwrap: from the packet "
	    "size)\n"
	    "  --max-delay MS    refuse a node delay above MS (unwrap; "
	    "default none)\n"
	    "FILE is the JSON input; standard input when absent or -.\n",
	    SPHINX_DEFAULT_HOPS, g.user_len);
}

static int
parse_size(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static int
parse_opts(int argc, char **argv, struct sphinx_opts *o)
{
	unsigned long v;

	memset(o, 0, sizeof(*o));
	o->hops = SPHINX_DEFAULT_HOPS;
	o->max_delay_ms = UINT32_MAX;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		bool has_val = i + 1 < argc;

		if (strcmp(a, "--hops") == 0 && has_val) {
			if (parse_size(argv[++i], SPHINX_HOPS_MAX, &v) != 0 ||
			    v == 0)
				return -1;
			o->hops = v;
		} else if (strcmp(a, "--payload-len") == 0 && has_val) {
			if (parse_size(argv[++i], SPHINX_USER_LEN_MAX, &v) != 0)
				return -1;
			o->user_len = v;
			o->user_len_set = true;
		} else if (strcmp(a, "--max-delay") == 0 && has_val) {
			if (parse_size(argv[++i], UINT32_MAX, &v) != 0)
				return -1;
			o->max_delay_ms = (uint32_t)v;
		} else if (o->file == NULL && (a[0] != '-' || a[1] == '\0')) {
			o->file = a;
		} else {
			return -1;
		}
	}
	return 0;
}

static json_t *
read_json(const char *file)
{
	json_error_t e;
	json_t *j;

	if (file == NULL || strcmp(file, "-") == 0)
		j = json_loadf(stdin, 0, &e);
	else
		j = json_load_file(file, 0, &e);
	if (j == NULL)
		fprintf(stderr, "sphinx: bad JSON input (line %d): %s\n",
			e.line, e.text);
	return j;
}

/* Decode hex field key of o into out (cap bytes); -1 with a message. */
static int
get_hex(const json_t *o, const char *key, uint8_t *out, size_t cap, size_t *len)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v) ||
	    hex_decode(out, cap, len, json_string_value(v),
		       json_string_length(v)) != 0) {
		fprintf(stderr,
			"sphinx: field %s missing, not hex or too long\n", key);
		return -1;
	}
	return 0;
}

static int
get_hex_exact(const json_t *o, const char *key, uint8_t *out, size_t n)
{
	size_t len;

	if (get_hex(o, key, out, n, &len) != 0)
		return -1;
	if (len != n) {
		fprintf(stderr, "sphinx: field %s must be %zu bytes\n", key, n);
		return -1;
	}
	return 0;
}

static json_t *
hex_json(const uint8_t *p, size_t n)
{
	char *s = bc_malloc(2 * n + 1);
	json_t *j;

	if (hex_encode(s, 2 * n + 1, p, n) != 0)
		s[0] = '\0';
	j = json_string(s);
	free(s);
	return j;
}

/* One hop of the input path: IDs, key and its separately encoded commands. */
static int
read_hop(const json_t *h, struct sphinx_path_hop *hop)
{
	const json_t *cmds = json_object_get(h, "Commands"), *c;
	size_t k;

	memset(hop, 0, sizeof(*hop));
	if (get_hex_exact(h, "ID", hop->id, sizeof(hop->id)) != 0 ||
	    get_hex_exact(h, "PublicKey", hop->pub, sizeof(hop->pub)) != 0)
		return -1;
	if (cmds != NULL && !json_is_array(cmds))
		return -1;
	json_array_foreach(cmds, k, c)
	{
		uint8_t b[SPHINX_PER_HOP_RI_LEN];
		size_t len;
		struct sphinx_commands one;
		if (!json_is_string(c) ||
		    hex_decode(b, sizeof(b), &len, json_string_value(c),
			       json_string_length(c)) != 0 ||
		    sphinx_commands_parse(&one, b, len) != SPHINX_CMD_OK) {
			fprintf(stderr, "sphinx: bad command %zu\n", k);
			return -1;
		}
		if (one.has_recipient) {
			hop->cmds.has_recipient = true;
			memcpy(hop->cmds.recipient_id, one.recipient_id, 32);
		}
		if (one.has_surb_reply) {
			hop->cmds.has_surb_reply = true;
			memcpy(hop->cmds.surb_id, one.surb_id, 16);
		}
		if (one.has_delay) {
			hop->cmds.has_delay = true;
			hop->cmds.delay_ms = one.delay_ms;
		}
		hop->cmds.has_next_hop |= one.has_next_hop;
	}
	return 0;
}

static int
sphinx_create_cmd(const struct sphinx_opts *o)
{
	struct sphinx_path_hop path[SPHINX_HOPS_MAX];
	struct sphinx_geometry g;
	uint8_t *user = NULL, *pkt = NULL;
	char *hex = NULL;
	size_t n, ulen = 0;
	int rc = 1;
	enum sphinx_err err;
	json_t *in = read_json(o->file);
	const json_t *jp = json_object_get(in, "Path");

	if (in == NULL)
		return 1;
	sphinx_geometry_default(&g);
	if (sphinx_geometry_init(
		&g, o->hops, o->user_len_set ? o->user_len : g.user_len) != 0) {
		fprintf(stderr, "sphinx: bad geometry\n");
		goto done;
	}
	n = json_array_size(jp);
	if (n == 0 || n > g.hops) {
		fprintf(stderr, "sphinx: Path must have 1..%zu hops\n", g.hops);
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		if (read_hop(json_array_get(jp, i), &path[i]) != 0)
			goto done;
	user = bc_malloc(g.user_len + 1);
	if (json_object_get(in, "Payload") != NULL &&
	    get_hex(in, "Payload", user, g.user_len, &ulen) != 0)
		goto done;
	pkt = bc_malloc(g.packet_len);
	err = sphinx_packet_create(&g, path, n, user, ulen, pkt, g.packet_len);
	if (err != SPHINX_OK) {
		fprintf(stderr, "sphinx: create: %s\n", sphinx_strerror(err));
		goto done;
	}
	hex = bc_malloc(2 * g.packet_len + 1);
	(void)hex_encode(hex, 2 * g.packet_len + 1, pkt, g.packet_len);
	printf("%s\n", hex);
	rc = 0;
done:
	free(user);
	free(pkt);
	free(hex);
	json_decref(in);
	return rc;
}

/* Each command on its own, encoded as in the vectors' Commands lists. */
static json_t *
commands_json(const struct sphinx_commands *c)
{
	json_t *a = json_array();
	struct sphinx_commands one;
	uint8_t b[SPHINX_PER_HOP_RI_LEN];

	for (int kind = 0; kind < 4; kind++) {
		memset(&one, 0, sizeof(one));
		if (kind == 0 && c->has_next_hop) {
			one.has_next_hop = true;
			memcpy(one.next_hop_id, c->next_hop_id, 32);
			memcpy(one.next_hop_mac, c->next_hop_mac, 32);
		} else if (kind == 1 && c->has_recipient) {
			one.has_recipient = true;
			memcpy(one.recipient_id, c->recipient_id, 32);
		} else if (kind == 2 && c->has_surb_reply) {
			one.has_surb_reply = true;
			memcpy(one.surb_id, c->surb_id, 16);
		} else if (kind == 3 && c->has_delay) {
			one.has_delay = true;
			one.delay_ms = c->delay_ms;
		} else {
			continue;
		}
		size_t len = sphinx_commands_encoded_len(&one);
		(void)sphinx_commands_encode(b, sizeof(b), &one);
		json_array_append_new(a, hex_json(b, len));
	}
	return a;
}

static json_t *
unwrap_json(const struct sphinx_geometry *g,
	    const struct sphinx_unwrap_result *res, const uint8_t *pkt)
{
	static const char *const kinds[] = {"forward", "final", "surb_reply"};
	const struct sphinx_commands *c = &res->cmds;
	json_t *o = json_object();

	json_object_set_new(o, "Kind", json_string(kinds[res->kind]));
	json_object_set_new(o, "Commands", commands_json(c));
	if (c->has_next_hop)
		json_object_set_new(o, "NextHopID",
				    hex_json(c->next_hop_id, 32));
	if (c->has_recipient)
		json_object_set_new(o, "RecipientID",
				    hex_json(c->recipient_id, 32));
	if (c->has_surb_reply)
		json_object_set_new(o, "SURBReplyID", hex_json(c->surb_id, 16));
	if (c->has_delay)
		json_object_set_new(o, "NodeDelay", json_integer(c->delay_ms));
	if (res->kind == SPHINX_HOP_FORWARD)
		json_object_set_new(o, "Packet", hex_json(pkt, g->packet_len));
	else
		json_object_set_new(
		    o, "Payload",
		    hex_json(pkt + res->payload_off, res->payload_len));
	json_object_set_new(o, "ReplayTag",
			    hex_json(res->replay_tag, SPHINX_REPLAY_TAG_LEN));
	return o;
}

/* The geometry of a packet of len bytes with o->hops header slots. */
static int
unwrap_geometry(const struct sphinx_opts *o, size_t len,
		struct sphinx_geometry *g)
{
	struct sphinx_geometry probe;

	if (o->user_len_set)
		return sphinx_geometry_init(g, o->hops, o->user_len);
	if (sphinx_geometry_init(&probe, o->hops, 0) != 0 ||
	    len < probe.packet_len)
		return -1;
	return sphinx_geometry_init(g, o->hops, len - probe.packet_len);
}

static int
sphinx_unwrap_cmd(const struct sphinx_opts *o)
{
	struct sphinx_geometry g;
	struct sphinx_unwrap_result res;
	struct sphinx_unwrap_ctx *ctx = NULL;
	struct secret32 *priv = secret32_new();
	size_t cap = 2 * (SPHINX_USER_LEN_MAX + 2048), len = 0;
	uint8_t *pkt = bc_malloc(cap);
	json_t *out = NULL, *in = read_json(o->file);
	enum sphinx_err err;
	char *s = NULL;
	int rc = 1;

	if (in == NULL ||
	    get_hex_exact(in, "PrivateKey", priv->b, sizeof(priv->b)) != 0 ||
	    get_hex(in, "Packet", pkt, cap, &len) != 0)
		goto done;
	if (unwrap_geometry(o, len, &g) != 0) {
		fprintf(stderr, "sphinx: no geometry fits a %zu-byte packet\n",
			len);
		goto done;
	}
	ctx = sphinx_unwrap_ctx_new(&g);
	err = sphinx_unwrap(ctx, priv->b, pkt, len, o->max_delay_ms, &res);
	if (err != SPHINX_OK) {
		out = json_pack("{s:s}", "Error", sphinx_strerror(err));
	} else {
		out = unwrap_json(&g, &res, pkt);
		rc = 0;
	}
	s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s != NULL)
		printf("%s\n", s);
done:
	free(s);
	SPHINX_UNWRAP_CTX_FREE(ctx);
	SECRET_FREE(priv);
	free(pkt);
	json_decref(in);
	json_decref(out);
	return rc;
}

static int
cmd_sphinx(int argc, char **argv)
{
	struct sphinx_opts o;

	if (command_wants_help(argc, argv)) {
		sphinx_usage(stdout);
		return 0;
	}
	if (argc < 2 || parse_opts(argc, argv, &o) != 0) {
		sphinx_usage(stderr);
		return EXIT_USAGE;
	}
	if (crypto_init() != 0) {
		fprintf(stderr, "sphinx: cannot initialise crypto\n");
		return 1;
	}
	if (strcmp(argv[1], "create") == 0)
		return sphinx_create_cmd(&o);
	if (strcmp(argv[1], "unwrap") == 0)
		return sphinx_unwrap_cmd(&o);
	if (strcmp(argv[1], "demo") == 0 && argc == 2)
		return sphinx_demo_run(stdout) == 0 ? 0 : 1;
	sphinx_usage(stderr);
	return EXIT_USAGE;
}

COMMAND(sphinx, "create, unwrap and demonstrate Sphinx packets", cmd_sphinx)
