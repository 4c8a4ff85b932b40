/*
 * Node descriptor: what a mix or gateway tells the directory authorities
 * about itself for one epoch, signed by its Ed25519 identity key. Format and
 * limits: docs/directory.md. Pure codec: signing and verifying live in
 * src/dir (the signed bytes are the encoded body, see body_len).
 */
#ifndef BC_WIRE_DIR_DESCRIPTOR_H
#define BC_WIRE_DIR_DESCRIPTOR_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define DIR_KEY_LEN        32
#define DIR_SIG_LEN        64
#define DIR_PACKET_KEYS    3   /* current epoch and the next two */
#define DIR_ADDRESS_MAX    128 /* host:port */
#define DIR_VERSION_MAX    32
#define DIR_DESCRIPTOR_MAX 2048        /* bytes of one encoded descriptor */
#define DIR_EPOCH_MAX      0xffffffffu /* epochs fit in 32 bits */

enum dir_role {
	DIR_ROLE_MIX = 1,
	DIR_ROLE_GATEWAY = 2,
};

/* Gateway service ids (a bit set). */
#define DIR_SERVICE_ECHO 0x1u
#define DIR_SERVICE_DROP 0x2u

struct dir_descriptor {
	uint64_t epoch; /* first epoch of packet_keys */
	uint8_t identity[DIR_KEY_LEN];
	uint8_t link_key[DIR_KEY_LEN];
	uint8_t packet_keys[DIR_PACKET_KEYS][DIR_KEY_LEN]; /* epoch + i */
	char address[DIR_ADDRESS_MAX + 1];
	enum dir_role role;
	uint32_t services;
	char version[DIR_VERSION_MAX + 1];
	uint8_t signature[DIR_SIG_LEN];
};

struct dir_cursor;

/* Appends the signed body (every line but the signature). -1 if a field is
 * out of range (then nothing useful was written). */
int dir_descriptor_encode_body(const struct dir_descriptor *d, struct buf *b);

/* Appends body and signature line. */
int dir_descriptor_encode(const struct dir_descriptor *d, struct buf *b);

/* Parses exactly one descriptor filling the whole input. *body_len receives
 * the length of the signed part. -1 with a message in err on any defect. */
int dir_descriptor_parse(const char *text, size_t len,
			 struct dir_descriptor *out, size_t *body_len,
			 char *err, size_t errlen);

/* Parses one descriptor embedded in a larger document at the cursor (used
 * by the vote and consensus parsers); *body_end (may be NULL) receives
 * the cursor offset where the signed body ends. */
int dir_descriptor_parse_at(struct dir_cursor *c, struct dir_descriptor *out,
			    size_t *body_end);

/* Field checks shared with config code: 0 if valid. */
int dir_address_check(const char *s, size_t n);

const char *dir_role_name(enum dir_role r);

#endif /* BC_WIRE_DIR_DESCRIPTOR_H */
