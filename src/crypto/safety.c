/* Safety numbers from two identity keys (derivation in safety.h). */
#include "crypto/safety.h"

#include <string.h>

#include "crypto/hash.h"

#define SAFETY_LABEL "backchannel safety number v1"

void
safety_half(char out[31], const uint8_t key[static 32])
{
	struct blake2b_ctx c;
	uint8_t d[BLAKE2B_LEN];

	blake2b_init(&c, BLAKE2B_LEN);
	blake2b_update(&c, SAFETY_LABEL, strlen(SAFETY_LABEL));
	blake2b_update(&c, key, 32);
	blake2b_final(&c, d);
	for (int i = 1; i < SAFETY_ITERATIONS; i++) {
		blake2b_init(&c, BLAKE2B_LEN);
		blake2b_update(&c, d, sizeof(d));
		blake2b_update(&c, key, 32);
		blake2b_final(&c, d);
	}
	for (int g = 0; g < 6; g++) {
		uint64_t v = 0;

		for (int k = 0; k < 5; k++)
			v = v << 8 | d[5 * g + k];
		v %= 100000;
		for (int k = 4; k >= 0; k--) {
			out[5 * g + k] = (char)('0' + v % 10);
			v /= 10;
		}
	}
	out[30] = '\0';
}

void
safety_number(char out[static SAFETY_STR_LEN], const uint8_t a[static 32],
	      const uint8_t b[static 32])
{
	char ha[31], hb[31], all[SAFETY_DIGITS + 1];
	size_t o = 0;

	safety_half(ha, a);
	safety_half(hb, b);
	if (strcmp(ha, hb) <= 0) {
		memcpy(all, ha, 30);
		memcpy(all + 30, hb, 30);
	} else {
		memcpy(all, hb, 30);
		memcpy(all + 30, ha, 30);
	}
	for (int g = 0; g < SAFETY_GROUPS; g++) {
		if (g > 0)
			out[o++] = ' ';
		memcpy(out + o, all + 5 * g, 5);
		o += 5;
	}
	out[o] = '\0';
}
