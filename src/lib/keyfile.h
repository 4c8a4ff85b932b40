#ifndef BC_LIB_KEYFILE_H
#define BC_LIB_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Key files: small text files an operator can recognise, holding one key.
 *
 *   # backchannel private key: keep secret
 *   type x25519
 *   private <base64>
 *
 * A public key file holds `public <base64>` instead.  The type is a short
 * word naming the algorithm (x25519, ed25519); a file of another type is
 * refused, so a link key cannot be loaded as an identity key by mistake.
 *
 * Private key files are created mode 0600 (written to a temporary file,
 * fsynced and renamed, so a crash leaves the old file or the new one) and
 * refused at load when the group or others may read them, as ssh does.
 * Readers decode straight into the caller's buffer (locked memory, for a
 * secret) and wipe their own copies.  Every function returns 0, or -1 with a
 * one-line reason in err.
 */
#define KEYFILE_MAX_KEY 64

int keyfile_write_private(const char *path, const char *type,
			  const uint8_t *key, size_t len, char *err,
			  size_t errlen);
int keyfile_write_public(const char *path, const char *type, const uint8_t *key,
			 size_t len, char *err, size_t errlen);
int keyfile_read_private(const char *path, const char *type, uint8_t *key,
			 size_t len, char *err, size_t errlen);
int keyfile_read_public(const char *path, const char *type, uint8_t *key,
			size_t len, char *err, size_t errlen);

#endif
