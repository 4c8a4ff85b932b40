#include <criterion/criterion.h>
#include <string.h>

#include "wire/link_frame.h"

Test(link_frame, sizes_of_default_geometry)
{
	cr_assert_eq(link_frame_plain_len(3082), 3146);
	cr_assert_eq(link_frame_body_len(3082), 3162);
	cr_assert_eq(link_frame_wire_len(3082), 3164);
	cr_assert(link_frame_packet_len_ok(3082));
	cr_assert_not(link_frame_packet_len_ok(LINK_PACKET_LEN_MAX + 1));
	cr_assert_not(link_frame_packet_len_ok(LINK_PACKET_LEN_MIN - 1));
	cr_assert_eq(link_frame_body_len(LINK_PACKET_LEN_MAX),
		     LINK_FRAME_MAX_BODY);
}

Test(link_frame, header_round_trip)
{
	uint8_t buf[10] = {0};
	cr_assert_eq(link_frame_put_hdr(buf, 0x0102), 0);
	cr_assert_eq(buf[0], 1);
	cr_assert_eq(buf[1], 2);
	cr_assert_eq(link_frame_put_hdr(buf, 65535), 0);
	cr_assert_eq(link_frame_put_hdr(buf, 65536), -1);
	buf[0] = 0;
	buf[1] = 8;
	const uint8_t *body = NULL;
	size_t flen = 0;
	cr_assert_eq(link_frame_parse(buf, 10, 8, &body, &flen), LINK_OK);
	cr_assert_eq(body, buf + 2);
	cr_assert_eq(flen, 10);
}

Test(link_frame, needs_more_bytes)
{
	uint8_t buf[10] = {0, 8};
	const uint8_t *body = NULL;
	size_t flen = 0;
	for (size_t n = 0; n < 10; n++)
		cr_assert_eq(link_frame_parse(buf, n, 8, &body, &flen),
			     LINK_ERR_AGAIN, "n=%zu", n);
	cr_assert_null(body);
}

Test(link_frame, wrong_length_rejected_from_prefix_alone)
{
	/* Oversized, undersized, and a full-size but unexpected length. */
	const uint8_t big[2] = {0xff, 0xff}, small[2] = {0, 7};
	const uint8_t *body = NULL;
	size_t flen = 0;
	cr_assert_eq(link_frame_parse(big, 2, 8, &body, &flen),
		     LINK_ERR_LENGTH);
	cr_assert_eq(link_frame_parse(small, 2, 8, &body, &flen),
		     LINK_ERR_LENGTH);
	cr_assert_eq(link_frame_parse(big, 1, 8, &body, &flen),
		     LINK_ERR_AGAIN);
	cr_assert_str_eq(link_err_str(LINK_ERR_LENGTH), "length wrong");
	cr_assert_str_eq(link_err_str(999), "unknown error");
}
