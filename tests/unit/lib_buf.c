#include <criterion/criterion.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/bytes.h"

Test(buf, append_and_grow)
{
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < 1000; i++)
		buf_append_u8(&b, (uint8_t)i);
	buf_append_u16be(&b, 0x0102);
	buf_append_u32be(&b, 0x03040506);
	buf_append_u64be(&b, 0x0708090a0b0c0d0eULL);
	buf_printf(&b, "x=%d", 42);
	cr_assert_eq(b.len, 1000 + 2 + 4 + 8 + 4);
	cr_assert_eq(b.data[999], (uint8_t)999);
	cr_assert_eq(be16_get(b.data + 1000), 0x0102);
	cr_assert_eq(be32_get(b.data + 1002), 0x03040506);
	cr_assert_eq(be64_get(b.data + 1006), 0x0708090a0b0c0d0eULL);
	cr_assert_eq(memcmp(b.data + 1014, "x=42", 4), 0);
	buf_reset(&b);
	cr_assert_eq(b.len, 0);
	buf_wipe_free(&b);
	cr_assert_null(b.data);
}

Test(buf, reader_bounds_are_sticky)
{
	const uint8_t data[] = {1, 0, 2, 0, 0, 0, 3, 9};
	struct rd r;
	rd_init(&r, data, sizeof(data));
	cr_assert_eq(rd_u8(&r), 1);
	cr_assert_eq(rd_u16be(&r), 2);
	cr_assert_eq(rd_u32be(&r), 3);
	cr_assert_eq(rd_remaining(&r), 1);
	cr_assert(rd_ok(&r));
	cr_assert_eq(rd_u16be(&r), 0, "read past the end gives zero");
	cr_assert_not(rd_ok(&r));
	cr_assert_eq(rd_u8(&r), 0, "error is sticky");
	cr_assert_null(rd_ptr(&r, 0));
	uint8_t out[4] = {7, 7, 7, 7};
	rd_bytes(&r, out, 4);
	cr_assert_eq(out[0], 0);
	cr_assert_eq(rd_remaining(&r), 0);
}

Test(buf, reader_huge_length_does_not_wrap)
{
	const uint8_t data[4] = {0};
	struct rd r;
	rd_init(&r, data, sizeof(data));
	rd_u8(&r);
	cr_assert_null(rd_ptr(&r, SIZE_MAX));
	cr_assert_not(rd_ok(&r));
}
