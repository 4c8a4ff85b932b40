/*
 * Checker for Katzenpost's routing-command encodings
 * (katzenpost/sphinx_commands_vectors.json): for each command kind, our
 * encoder must produce the wanted bytes followed by zero padding, and our
 * parser must read the wanted bytes back into the same command.
 *   sphinx_commands_vectors FILE
 * One line per failure, then `N passed, M failed`.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vecfile.h"
#include "wire/sphinx_commands.h"

static struct vec_tally tally;

static void
result(bool ok, const char *what, const char *why)
{
	vec_check(&tally, ok, "%s: %s", what, why);
}

/* Encode want_cmd, compare with the wanted bytes, and parse them back. */
static void
check_one(const json_t *v, const char *field,
	  const struct sphinx_commands *want)
{
	uint8_t enc[SPHINX_PER_HOP_RI_LEN], padded[SPHINX_PER_HOP_RI_LEN];
	uint8_t *bytes;
	size_t len;
	struct sphinx_commands got;

	if (vec_hex(v, field, &bytes, &len) != 0) {
		result(false, field, "missing field");
		return;
	}
	if (len == 0 || len > sizeof(enc)) {
		result(false, field, "bad length");
		goto done;
	}
	memset(padded, 0, sizeof(padded));
	memcpy(padded, bytes, len);
	if (sphinx_commands_encode(enc, sizeof(enc), want) != 0 ||
	    memcmp(enc, padded, sizeof(enc)) != 0) {
		result(false, field, "encoding differs");
		goto done;
	}
	if (sphinx_commands_encoded_len(want) != len) {
		result(false, field, "encoded length differs");
		goto done;
	}
	/* Parse both the bare command and the padded slot. */
	if (sphinx_commands_parse(&got, bytes, len) != SPHINX_CMD_OK ||
	    memcmp(&got, want, sizeof(got)) != 0) {
		result(false, field, "bare command parses differently");
		goto done;
	}
	if (sphinx_commands_parse(&got, padded, sizeof(padded)) !=
		    SPHINX_CMD_OK ||
	    memcmp(&got, want, sizeof(got)) != 0) {
		result(false, field, "padded command parses differently");
		goto done;
	}
	result(true, field, "");
done:
	free(bytes);
}

static void
check_object(const json_t *v)
{
	struct sphinx_commands c;

	memset(&c, 0, sizeof(c));
	c.has_next_hop = true;
	if (vec_hex_fixed(v, "NextHopID", c.next_hop_id,
				 sizeof(c.next_hop_id)) != 0 ||
	    vec_hex_fixed(v, "NextHopMAC", c.next_hop_mac,
				 sizeof(c.next_hop_mac)) != 0)
		result(false, "NextHopCmdWant", "bad inputs");
	else
		check_one(v, "NextHopCmdWant", &c);

	memset(&c, 0, sizeof(c));
	c.has_recipient = true;
	if (vec_hex_fixed(v, "RecipientID", c.recipient_id,
				 sizeof(c.recipient_id)) != 0)
		result(false, "RecipientCmdWant", "bad inputs");
	else
		check_one(v, "RecipientCmdWant", &c);

	memset(&c, 0, sizeof(c));
	c.has_surb_reply = true;
	if (vec_hex_fixed(v, "SURBReplyID", c.surb_id,
				 sizeof(c.surb_id)) != 0)
		result(false, "SURBReplyCmdWant", "bad inputs");
	else
		check_one(v, "SURBReplyCmdWant", &c);

	memset(&c, 0, sizeof(c));
	c.has_delay = true;
	const json_t *d = json_object_get(v, "NodeDelay");
	if (!json_is_integer(d) || json_integer_value(d) < 0 ||
	    json_integer_value(d) > UINT32_MAX) {
		result(false, "NodeDelayCmdWant", "bad NodeDelay");
	} else {
		c.delay_ms = (uint32_t)json_integer_value(d);
		check_one(v, "NodeDelayCmdWant", &c);
	}
}

int
main(int argc, char **argv)
{
	json_t *root = vec_start(argc, argv);
	if (root == NULL)
		return 2;
	/* One object, or a list of them. */
	if (json_is_array(root)) {
		size_t i;
		json_t *v;
		json_array_foreach(root, i, v)
			check_object(v);
	} else {
		check_object(root);
	}
	json_decref(root);
	return vec_finish(&tally);
}
