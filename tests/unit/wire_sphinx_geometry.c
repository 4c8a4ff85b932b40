/* Sphinx geometry and the forward payload layout, plus the command codec. */
#include <criterion/criterion.h>
#include <string.h>

#include "wire/sphinx_commands.h"
#include "wire/sphinx_geometry.h"

Test(sphinx_geometry, default_is_katzenpost_deployment)
{
	struct sphinx_geometry g;

	sphinx_geometry_default(&g);
	cr_assert_eq(g.hops, 5);
	cr_assert_eq(g.routing_info_len, 410);
	cr_assert_eq(g.header_len, 476);
	cr_assert_eq(g.surb_len, 572);
	cr_assert_eq(g.user_len, 2 + 572 + 2000);
	cr_assert_eq(g.payload_len, 32 + 2 + 572 + 2000);
	cr_assert_eq(g.packet_len, 3082);
	cr_assert(g.has_layout && g.with_reply);
	cr_assert_eq(g.reply_off, 2);
	cr_assert_eq(g.blob_off, 574);
	cr_assert_eq(g.blob_len, 2000);
}

Test(sphinx_geometry, vector_geometry_and_bounds)
{
	struct sphinx_geometry g;

	cr_assert_eq(sphinx_geometry_init(&g, 5, 103), 0);
	cr_assert_eq(g.packet_len, 611);
	cr_assert(!g.has_layout);
	cr_assert_eq(sphinx_geometry_init(&g, 1, 0), 0);
	cr_assert_eq(g.header_len, 2 + 32 + 82 + 32);
	cr_assert_eq(sphinx_geometry_init(&g, 0, 10), -1);
	cr_assert_eq(sphinx_geometry_init(&g, SPHINX_HOPS_MAX + 1, 10), -1);
	cr_assert_eq(sphinx_geometry_init(&g, 3, SPHINX_USER_LEN_MAX + 1), -1);
	cr_assert_eq(sphinx_geometry_forward(&g, 3, 100, false), 0);
	cr_assert_eq(g.user_len, 102);
	cr_assert_eq(g.blob_off, 2);
	/* A reply block for 3 hops is a 3-hop header plus 96 bytes. */
	cr_assert_eq(sphinx_geometry_forward(&g, 3, 100, true), 0);
	cr_assert_eq(g.surb_len, g.header_len + 96);
	cr_assert_eq(g.user_len, 2 + g.surb_len + 100);
}

Test(sphinx_geometry, forward_layout_round_trip)
{
	struct sphinx_geometry g;
	struct sphinx_fwd_view v;
	uint8_t surb[572], blob[2000], user[2574];

	sphinx_geometry_default(&g);
	memset(surb, 0xa5, sizeof(surb));
	memset(blob, 0x5a, sizeof(blob));
	cr_assert_eq(sphinx_fwd_encode(&g, user, surb, blob, 1500), 0);
	cr_assert_eq(sphinx_fwd_decode(&g, user, &v), 0);
	cr_assert_not_null(v.surb);
	cr_assert_arr_eq(v.surb, surb, sizeof(surb));
	cr_assert_arr_eq(v.blob, blob, 1500);
	cr_assert_eq(v.blob[1500], 0, "blob zero-padded");

	cr_assert_eq(sphinx_fwd_encode(&g, user, NULL, blob, 2000), 0);
	cr_assert_eq(sphinx_fwd_decode(&g, user, &v), 0);
	cr_assert_null(v.surb);
	cr_assert_eq(sphinx_fwd_encode(&g, user, NULL, blob, 2001), -1);

	user[0] = 0x02; /* unknown flag */
	cr_assert_eq(sphinx_fwd_decode(&g, user, &v), -1);
	user[0] = 0;
	user[1] = 1; /* reserved */
	cr_assert_eq(sphinx_fwd_decode(&g, user, &v), -1);
	user[1] = 0;
	user[10] = 1; /* junk in the unused reply room */
	cr_assert_eq(sphinx_fwd_decode(&g, user, &v), -1);
}

Test(sphinx_commands, errors_are_distinct_and_leave_nothing)
{
	uint8_t b[82];
	struct sphinx_commands c, zero;

	memset(&zero, 0, sizeof(zero));
	memset(b, 0, sizeof(b));
	b[0] = 0x7f;
	cr_assert_eq(sphinx_commands_parse(&c, b, sizeof(b)),
		     SPHINX_CMD_ERR_UNKNOWN);
	cr_assert_arr_eq(&c, &zero, sizeof(c));
	memset(b, 0, sizeof(b));
	b[0] = SPHINX_CMD_NODE_DELAY;
	b[5] = SPHINX_CMD_NODE_DELAY;
	cr_assert_eq(sphinx_commands_parse(&c, b, sizeof(b)),
		     SPHINX_CMD_ERR_DUPLICATE);
	cr_assert_arr_eq(&c, &zero, sizeof(c));
	memset(b, 0, sizeof(b));
	b[0] = SPHINX_CMD_NODE_DELAY;
	b[40] = 1;
	cr_assert_eq(sphinx_commands_parse(&c, b, sizeof(b)),
		     SPHINX_CMD_ERR_PADDING);
	memset(b, 0, sizeof(b));
	b[30] = SPHINX_CMD_RECIPIENT;
	cr_assert_eq(sphinx_commands_parse(&c, b, sizeof(b)),
		     SPHINX_CMD_ERR_PADDING);
	b[0] = SPHINX_CMD_SURB_REPLY;
	b[17] = SPHINX_CMD_NEXT_HOP; /* needs 65 bytes, 65 left: fits */
	b[30] = 0;
	cr_assert_eq(sphinx_commands_parse(&c, b, sizeof(b)), SPHINX_CMD_OK);
	cr_assert(c.has_surb_reply && c.has_next_hop);
	cr_assert_eq(sphinx_commands_parse(&c, b, sizeof(b) - 1),
		     SPHINX_CMD_ERR_TRUNCATED);
}

Test(sphinx_commands, encode_refuses_overflow)
{
	struct sphinx_commands c;
	uint8_t b[82];

	memset(&c, 0, sizeof(c));
	c.has_next_hop = true;
	c.has_recipient = true; /* 65 + 33 > 82 */
	cr_assert_eq(sphinx_commands_encode(b, sizeof(b), &c), -1);
	c.has_recipient = false;
	c.has_surb_reply = true; /* 65 + 17 = 82: exactly fits */
	cr_assert_eq(sphinx_commands_encode(b, sizeof(b), &c), 0);
	c.has_delay = true;
	cr_assert_eq(sphinx_commands_encode(b, sizeof(b), &c), -1);
	cr_assert_str_eq(sphinx_cmd_strerror(SPHINX_CMD_ERR_PADDING),
			 "nonzero padding after routing commands");
}
