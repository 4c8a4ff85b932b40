/* Link frame prefix codec (wire/link_frame.h, docs/link.md "Framing"). */
#include "wire/link_frame.h"

size_t
link_frame_plain_len(size_t packet_len)
{
	return packet_len + LINK_FRAME_SLACK;
}

size_t
link_frame_body_len(size_t packet_len)
{
	return link_frame_plain_len(packet_len) + LINK_FRAME_TAG_LEN;
}

size_t
link_frame_wire_len(size_t packet_len)
{
	return LINK_FRAME_HDR_LEN + link_frame_body_len(packet_len);
}

int
link_frame_packet_len_ok(size_t packet_len)
{
	return packet_len >= LINK_PACKET_LEN_MIN &&
	       packet_len <= LINK_PACKET_LEN_MAX;
}

int
link_frame_put_hdr(uint8_t out[static LINK_FRAME_HDR_LEN], size_t body_len)
{
	if (body_len > LINK_FRAME_MAX_BODY)
		return -1;
	out[0] = (uint8_t)(body_len >> 8);
	out[1] = (uint8_t)body_len;
	return 0;
}

enum link_err
link_frame_parse(const uint8_t *in, size_t in_len, size_t want_len,
		 const uint8_t **body, size_t *frame_len)
{
	if (in_len < LINK_FRAME_HDR_LEN)
		return LINK_ERR_AGAIN;
	size_t len = (size_t)in[0] << 8 | in[1];
	/* Decided on the prefix alone: garbage costs no buffering. */
	if (len != want_len)
		return LINK_ERR_LENGTH;
	if (in_len - LINK_FRAME_HDR_LEN < len)
		return LINK_ERR_AGAIN;
	*body = in + LINK_FRAME_HDR_LEN;
	*frame_len = LINK_FRAME_HDR_LEN + len;
	return LINK_OK;
}
