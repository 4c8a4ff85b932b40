#include <criterion/criterion.h>
#include <string.h>

#include "wire/link_cmd.h"
#include "wire/link_frame.h"

#define PL 3082
static uint8_t frame[PL + LINK_FRAME_SLACK];
static uint8_t pkt[PL];
static uint8_t doc[2 * PL];

static void
round_trip(const struct link_cmd *in, struct link_cmd *out)
{
	cr_assert_eq(link_cmd_encode(in, PL, frame, sizeof(frame)), LINK_OK,
		     "encode %s", link_cmd_name(in->type));
	cr_assert_eq(frame[0], in->type);
	cr_assert_eq(link_cmd_decode(out, PL, frame, sizeof(frame)), LINK_OK,
		     "decode %s", link_cmd_name(in->type));
	cr_assert_eq(out->type, in->type);
}

Test(link_cmd, every_simple_command_round_trips)
{
	struct link_cmd c = {0}, d;
	c.type = LINK_CMD_NOOP;
	round_trip(&c, &d);
	for (size_t i = 1; i < sizeof(frame); i++)
		cr_assert_eq(frame[i], 0, "noop is all padding");
	c.type = LINK_CMD_FETCH;
	c.u.fetch.seq = 0xdeadbeef;
	round_trip(&c, &d);
	cr_assert_eq(d.u.fetch.seq, 0xdeadbeef);
	c.type = LINK_CMD_GET_CONSENSUS;
	c.u.get_consensus.epoch = 0x0102030405060708ULL;
	c.u.get_consensus.chunk = 7;
	round_trip(&c, &d);
	cr_assert_eq(d.u.get_consensus.epoch, 0x0102030405060708ULL);
	cr_assert_eq(d.u.get_consensus.chunk, 7);
	c.type = LINK_CMD_TIME;
	c.u.time.wall_ms = 1764290000123ULL;
	round_trip(&c, &d);
	cr_assert_eq(d.u.time.wall_ms, 1764290000123ULL);
	c.type = LINK_CMD_DISCONNECT;
	c.u.disconnect.reason = LINK_ERR_TIMEOUT;
	round_trip(&c, &d);
	cr_assert_eq(d.u.disconnect.reason, LINK_ERR_TIMEOUT);
	c.type = LINK_CMD_ERROR;
	c.u.error.code = LINK_ERR_NOT_REGISTERED;
	round_trip(&c, &d);
	cr_assert_eq(d.u.error.code, LINK_ERR_NOT_REGISTERED);
}

/* FETCH with confirmations: a FETCH without any is the old encoding (seq,
 * then zeros); the count is bounded by what fits the frame. */
Test(link_cmd, fetch_carries_confirmations)
{
	struct link_cmd c = {0}, d;
	c.type = LINK_CMD_FETCH;
	c.u.fetch.seq = 9;
	round_trip(&c, &d);
	cr_assert_eq(d.u.fetch.count, 0);
	cr_assert_eq(frame[0], LINK_CMD_FETCH);
	cr_assert_eq(frame[4], 9);
	for (size_t i = 5; i < sizeof(frame); i++)
		cr_assert_eq(frame[i], 0, "no confirmations: all padding");
	c.u.fetch.count = LINK_CONFIRM_MAX;
	for (size_t i = 0; i < LINK_CONFIRM_MAX; i++)
		memset(c.u.fetch.ids[i], (int)(i + 1), LINK_ID_LEN);
	round_trip(&c, &d);
	cr_assert_eq(d.u.fetch.count, LINK_CONFIRM_MAX);
	cr_assert_eq(frame[5], LINK_CONFIRM_MAX);
	cr_assert_eq(frame[6], 1);
	cr_assert_eq(frame[6 + 31 * LINK_ID_LEN], 32);
	cr_assert_eq(memcmp(d.u.fetch.ids[31], c.u.fetch.ids[31], LINK_ID_LEN),
		     0);
	cr_assert_eq(link_cmd_fetch_confirms_fit(LINK_PACKET_LEN_DEFAULT),
		     LINK_CONFIRM_MAX);
	/* The smallest frame (128 bytes) holds 7 ids after the header. */
	size_t small = LINK_PACKET_LEN_MIN, n = link_frame_plain_len(small);
	uint8_t buf[128];
	cr_assert_eq(n, sizeof(buf));
	cr_assert_eq(link_cmd_fetch_confirms_fit(small), 7);
	cr_assert_eq(link_cmd_encode(&c, small, buf, n), LINK_ERR_FIELD);
	c.u.fetch.count = 7;
	cr_assert_eq(link_cmd_encode(&c, small, buf, n), LINK_OK);
	cr_assert_eq(link_cmd_decode(&d, small, buf, n), LINK_OK);
	cr_assert_eq(d.u.fetch.count, 7);
	buf[5] = 8; /* a count beyond what fits */
	cr_assert_eq(link_cmd_decode(&d, small, buf, n), LINK_ERR_FIELD);
	buf[5] = 7;
	buf[6 + 7 * LINK_ID_LEN - 1] = 0x5a; /* the 7th id's last byte */
	cr_assert_eq(link_cmd_decode(&d, small, buf, n), LINK_OK);
	cr_assert_eq(d.u.fetch.ids[6][LINK_ID_LEN - 1], 0x5a);
	buf[n - 1] = 1; /* padding after the 7th id */
	cr_assert_eq(link_cmd_decode(&d, small, buf, n), LINK_ERR_PADDING);
	c.u.fetch.count = 2;
	cr_assert_eq(link_cmd_encode(&c, small, buf, n), LINK_OK);
	buf[6 + 2 * LINK_ID_LEN] = 1; /* after the last id: padding */
	cr_assert_eq(link_cmd_decode(&d, small, buf, n), LINK_ERR_PADDING);
}

Test(link_cmd, queue_commands_round_trip_and_refuse_short_ids)
{
	struct link_cmd c = {0}, d;
	for (size_t i = 0; i < LINK_QUEUE_ID_LEN; i++)
		c.u.queue.id[i] = (uint8_t)(0xa0 + i);
	c.type = LINK_CMD_QUEUE_CREATE;
	round_trip(&c, &d);
	cr_assert_eq(memcmp(d.u.queue.id, c.u.queue.id, LINK_QUEUE_ID_LEN),
		     0);
	cr_assert_eq(frame[1], 0xa0);
	cr_assert_eq(frame[32], 0xa0 + 31);
	cr_assert_eq(frame[33], 0, "padding right after the id");
	c.type = LINK_CMD_QUEUE_DELETE;
	round_trip(&c, &d);
	cr_assert_eq(d.u.queue.id[31], 0xa0 + 31);
	cr_assert_str_eq(link_cmd_name(LINK_CMD_QUEUE_DELETE), "queue_delete");
	cr_assert_str_eq(link_err_str(LINK_ERR_NO_QUEUE), "no such queue");
	/* A byte after the id is padding and must be zero. */
	frame[33] = 1;
	cr_assert_eq(link_cmd_decode(&d, PL, frame, sizeof(frame)),
		     LINK_ERR_PADDING);
}

Test(link_cmd, packet_register_confirm_round_trip)
{
	struct link_cmd c = {0}, d;
	for (size_t i = 0; i < PL; i++)
		pkt[i] = (uint8_t)(i * 7 + 1);
	c.type = LINK_CMD_SEND_PACKET;
	c.u.packet.data = pkt;
	c.u.packet.len = PL;
	round_trip(&c, &d);
	cr_assert_eq(d.u.packet.len, PL);
	cr_assert_eq(memcmp(d.u.packet.data, pkt, PL), 0);
	cr_assert_eq(d.u.packet.data, frame + 3, "zero copy");

	c.type = LINK_CMD_REGISTER;
	c.u.reg.token = (const uint8_t *)"invitation-token";
	c.u.reg.len = 16;
	round_trip(&c, &d);
	cr_assert_eq(d.u.reg.len, 16);
	cr_assert_eq(memcmp(d.u.reg.token, "invitation-token", 16), 0);

	c.type = LINK_CMD_CONFIRM;
	c.u.confirm.count = LINK_CONFIRM_MAX;
	for (size_t i = 0; i < LINK_CONFIRM_MAX; i++)
		memset(c.u.confirm.ids[i], (int)i + 1, LINK_ID_LEN);
	round_trip(&c, &d);
	cr_assert_eq(d.u.confirm.count, LINK_CONFIRM_MAX);
	cr_assert_eq(d.u.confirm.ids[31][15], 32);
}

Test(link_cmd, fetch_response_zero_and_many_items)
{
	struct link_cmd c = {0}, d;
	c.type = LINK_CMD_FETCH_RESPONSE;
	c.u.fetch_resp.seq = 5;
	c.u.fetch_resp.remaining = 0;
	c.u.fetch_resp.count = 0;
	round_trip(&c, &d);
	cr_assert_eq(d.u.fetch_resp.count, 0);
	/* One full-size item fits: that is what the frame slack is for. */
	cr_assert_eq(link_cmd_items_fit(PL, PL), 1);
	c.u.fetch_resp.count = 1;
	c.u.fetch_resp.remaining = 9;
	memset(c.u.fetch_resp.items[0].id, 0xab, LINK_ID_LEN);
	c.u.fetch_resp.items[0].data = pkt;
	c.u.fetch_resp.items[0].len = PL;
	round_trip(&c, &d);
	cr_assert_eq(d.u.fetch_resp.remaining, 9);
	cr_assert_eq(d.u.fetch_resp.items[0].len, PL);
	cr_assert_eq(memcmp(d.u.fetch_resp.items[0].data, pkt, PL), 0);
	/* Many small items. */
	size_t n = link_cmd_items_fit(PL, 100);
	cr_assert_eq(n, LINK_FETCH_MAX_ITEMS);
	c.u.fetch_resp.count = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		c.u.fetch_resp.items[i].data = pkt + i;
		c.u.fetch_resp.items[i].len = 100;
		memset(c.u.fetch_resp.items[i].id, (int)i, LINK_ID_LEN);
	}
	round_trip(&c, &d);
	cr_assert_eq(d.u.fetch_resp.count, n);
	cr_assert_eq(memcmp(d.u.fetch_resp.items[n - 1].data, pkt + n - 1,
			    100), 0);
	/* Two full-size items do not fit. */
	c.u.fetch_resp.count = 2;
	c.u.fetch_resp.items[0].len = PL;
	c.u.fetch_resp.items[1].len = PL;
	c.u.fetch_resp.items[0].data = pkt;
	c.u.fetch_resp.items[1].data = pkt;
	cr_assert_eq(link_cmd_encode(&c, PL, frame, sizeof(frame)),
		     LINK_ERR_LENGTH);
}

Test(link_cmd, consensus_chunks)
{
	struct link_cmd c = {0}, d;
	size_t max = link_cmd_chunk_max(PL);
	cr_assert_eq(max, PL + LINK_FRAME_SLACK - 21);
	c.type = LINK_CMD_CONSENSUS;
	c.u.consensus.epoch = 42;
	c.u.consensus.chunk = 2;
	c.u.consensus.nchunks = 3;
	c.u.consensus.total = 10000;
	for (size_t i = 0; i < sizeof(doc); i++)
		doc[i] = (uint8_t)(i * 13);
	c.u.consensus.data = doc;
	c.u.consensus.len = max;
	round_trip(&c, &d);
	cr_assert_eq(d.u.consensus.len, max);
	cr_assert_eq(d.u.consensus.nchunks, 3);
	cr_assert_eq(memcmp(d.u.consensus.data, doc, max), 0);
	c.u.consensus.len = max + 1;
	cr_assert_eq(link_cmd_encode(&c, PL, frame, sizeof(frame)),
		     LINK_ERR_FIELD);
	c.u.consensus.len = 10;
	c.u.consensus.chunk = 3;
	cr_assert_eq(link_cmd_encode(&c, PL, frame, sizeof(frame)),
		     LINK_ERR_FIELD, "chunk index must be < count");
}

Test(link_cmd, decoder_rejections)
{
	struct link_cmd c = {0}, d;
	memset(frame, 0, sizeof(frame));
	/* Wrong frame size, unknown type, nonzero padding. */
	cr_assert_eq(link_cmd_decode(&d, PL, frame, sizeof(frame) - 1),
		     LINK_ERR_LENGTH);
	frame[0] = 0x0d;
	cr_assert_eq(link_cmd_decode(&d, PL, frame, sizeof(frame)),
		     LINK_ERR_TYPE);
	frame[0] = 0xff;
	cr_assert_eq(link_cmd_decode(&d, PL, frame, sizeof(frame)),
		     LINK_ERR_TYPE);
	frame[0] = LINK_CMD_NOOP;
	frame[sizeof(frame) - 1] = 1;
	cr_assert_eq(link_cmd_decode(&d, PL, frame, sizeof(frame)),
		     LINK_ERR_PADDING);
	/* A packet of another length. */
	memset(frame, 0, sizeof(frame));
	frame[0] = LINK_CMD_SEND_PACKET;
	frame[1] = 0x0c;
	frame[2] = 0x09; /* 3081 */
	cr_assert_eq(link_cmd_decode(&d, PL, frame, sizeof(frame)),
		     LINK_ERR_LENGTH);
	/* Counts and codes out of range. */
	memset(frame, 0, sizeof(frame));
	frame[0] = LINK_CMD_CONFIRM;
	cr_assert_eq(link_cmd_decode(&d, PL, frame, sizeof(frame)),
		     LINK_ERR_FIELD, "confirm of nothing");
	frame[1] = LINK_CONFIRM_MAX + 1;
	cr_assert_eq(link_cmd_decode(&d, PL, frame, sizeof(frame)),
		     LINK_ERR_FIELD);
	memset(frame, 0, sizeof(frame));
	frame[0] = LINK_CMD_FETCH_RESPONSE;
	frame[9] = LINK_FETCH_MAX_ITEMS + 1;
	cr_assert_eq(link_cmd_decode(&d, PL, frame, sizeof(frame)),
		     LINK_ERR_FIELD);
	frame[9] = 1; /* one item of length 0 */
	cr_assert_eq(link_cmd_decode(&d, PL, frame, sizeof(frame)),
		     LINK_ERR_FIELD);
	frame[9] = 2; /* item lengths run past the frame */
	frame[10 + 16] = 0x0c;
	frame[10 + 17] = 0x0a; /* 3082 */
	frame[10 + 18 + PL + 16] = 0x0c;
	frame[10 + 18 + PL + 17] = 0x0a; /* the second one again 3082 */
	cr_assert_eq(link_cmd_decode(&d, PL, frame, sizeof(frame)),
		     LINK_ERR_TRUNCATED);
	memset(frame, 0, sizeof(frame));
	frame[0] = LINK_CMD_ERROR;
	frame[1] = LINK_ERR_COUNT_;
	cr_assert_eq(link_cmd_decode(&d, PL, frame, sizeof(frame)),
		     LINK_ERR_FIELD);
	frame[0] = LINK_CMD_REGISTER;
	frame[1] = 0x01;
	frame[2] = 0x01; /* 257 > LINK_TOKEN_MAX */
	cr_assert_eq(link_cmd_decode(&d, PL, frame, sizeof(frame)),
		     LINK_ERR_FIELD);
	memset(frame, 0, sizeof(frame));
	frame[0] = LINK_CMD_CONSENSUS; /* nchunks 0 */
	cr_assert_eq(link_cmd_decode(&d, PL, frame, sizeof(frame)),
		     LINK_ERR_FIELD);
	/* Encoder refuses a packet of the wrong size. */
	c.type = LINK_CMD_SEND_PACKET;
	c.u.packet.data = pkt;
	c.u.packet.len = PL - 1;
	cr_assert_eq(link_cmd_encode(&c, PL, frame, sizeof(frame)),
		     LINK_ERR_LENGTH);
}

Test(link_cmd, truncation_on_small_geometry)
{
	/* At the smallest geometry a full confirm no longer fits. */
	uint8_t small[LINK_PACKET_LEN_MIN + LINK_FRAME_SLACK];
	struct link_cmd c = {0}, d;
	c.type = LINK_CMD_CONFIRM;
	c.u.confirm.count = LINK_CONFIRM_MAX;
	cr_assert_eq(link_cmd_encode(&c, LINK_PACKET_LEN_MIN, small,
				     sizeof(small)),
		     LINK_ERR_LENGTH);
	memset(small, 0, sizeof(small));
	small[0] = LINK_CMD_CONFIRM;
	small[1] = LINK_CONFIRM_MAX;
	cr_assert_eq(link_cmd_decode(&d, LINK_PACKET_LEN_MIN, small,
				     sizeof(small)),
		     LINK_ERR_TRUNCATED);
	cr_assert_str_eq(link_cmd_name(LINK_CMD_FETCH_RESPONSE),
			 "fetch_response");
	cr_assert_str_eq(link_cmd_name(77), "unknown");
}
