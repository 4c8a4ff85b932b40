#include "lib/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/codec.h"

#define KEYFILE_MAX_BYTES 1024

static void
wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;
	while (n--)
		*v++ = 0;
}

static int
fail(char *err, size_t errlen, const char *path, const char *why)
{
	snprintf(err, errlen, "key file %s: %s", path, why);
	return -1;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Makes the rename itself durable: fsync the directory that holds path. */
static void
sync_parent(const char *path)
{
	char copy[4096];
	snprintf(copy, sizeof(copy), "%s", path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int
keyfile_write(const char *path, const char *type, const char *kind,
	      const uint8_t *key, size_t len, mode_t mode, char *err,
	      size_t errlen)
{
	char text[KEYFILE_MAX_BYTES],
	    b64[BASE64_ENCODED_LEN(KEYFILE_MAX_KEY) + 1];
	char tmp[4096];
	int rc = -1, fd = -1;
	if (len == 0 || len > KEYFILE_MAX_KEY ||
	    base64_encode(b64, sizeof(b64), key, len) != 0)
		return fail(err, errlen, path, "bad key length");
	if (access(path, F_OK) == 0)
		return fail(err, errlen, path,
			    "exists already (remove it first to replace it)");
	int n = snprintf(text, sizeof(text),
			 "# backchannel %s key%s\ntype %s\n%s %s\n", kind,
			 mode == 0600 ? ": keep secret" : "", type, kind, b64);
	if (n < 0 || (size_t)n >= sizeof(text) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		fail(err, errlen, path, "path or type too long");
		goto done;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || fchmod(fd, mode) != 0 ||
	    write_all(fd, text, (size_t)n) != 0 || fsync(fd) != 0) {
		fail(err, errlen, path, strerror(errno));
		goto done;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		fail(err, errlen, path, strerror(errno));
		goto done;
	}
	sync_parent(path);
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlink(tmp);
	wipe(text, sizeof(text));
	wipe(b64, sizeof(b64));
	return rc;
}

int
keyfile_write_private(const char *path, const char *type, const uint8_t *key,
		      size_t len, char *err, size_t errlen)
{
	return keyfile_write(path, type, "private", key, len, 0600, err,
			     errlen);
}

int
keyfile_write_public(const char *path, const char *type, const uint8_t *key,
		     size_t len, char *err, size_t errlen)
{
	return keyfile_write(path, type, "public", key, len, 0644, err, errlen);
}

/* Reads the whole file (bounded) into text; checks the mode for secrets. */
static int
keyfile_slurp(const char *path, bool secret, char *text, size_t cap, char *err,
	      size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, errlen, path, "not a regular file");
	}
	if (secret && (st.st_mode & 077) != 0) {
		close(fd);
		char why[128];
		snprintf(why, sizeof(why),
			 "readable by others (mode %03o); run chmod 600 on it",
			 (unsigned)(st.st_mode & 0777));
		return fail(err, errlen, path, why);
	}
	size_t len = 0;
	for (;;) {
		ssize_t r = read(fd, text + len, cap - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return fail(err, errlen, path, strerror(errno));
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == cap - 1) {
			close(fd);
			return fail(err, errlen, path, "too large");
		}
	}
	close(fd);
	text[len] = '\0';
	return 0;
}

static int
keyfile_parse(const char *path, char *text, const char *type, const char *kind,
	      uint8_t *key, size_t len, char *err, size_t errlen)
{
	bool have_type = false, have_key = false;
	size_t kindlen = strlen(kind);
	for (char *line = text; line != NULL && *line != '\0';) {
		char *nl = strchr(line, '\n');
		if (nl != NULL)
			*nl = '\0';
		size_t ll = strlen(line);
		if (ll > 0 && line[ll - 1] == '\r')
			line[--ll] = '\0';
		if (ll == 0 || line[0] == '#') {
			/* comment or blank */
		} else if (strncmp(line, "type ", 5) == 0) {
			if (have_type || strcmp(line + 5, type) != 0)
				return fail(err, errlen, path,
					    "wrong key type");
			have_type = true;
		} else if (strncmp(line, kind, kindlen) == 0 &&
			   line[kindlen] == ' ' && !have_key) {
			const char *b = line + kindlen + 1;
			size_t got;
			if (base64_decode(key, len, &got, b, strlen(b)) != 0 ||
			    got != len)
				return fail(err, errlen, path,
					    "malformed key (bad base64 or "
					    "wrong length)");
			have_key = true;
		} else {
			return fail(err, errlen, path, "unexpected line");
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!have_type || !have_key)
		return fail(err, errlen, path,
			    have_type ? "no key line" : "no type line");
	return 0;
}

static int
keyfile_read(const char *path, const char *type, const char *kind, uint8_t *key,
	     size_t len, char *err, size_t errlen)
{
	char text[KEYFILE_MAX_BYTES];
	int rc = -1;
	if (len == 0 || len > KEYFILE_MAX_KEY)
		return fail(err, errlen, path, "bad key length");
	bool secret = strcmp(kind, "private") == 0;
	if (keyfile_slurp(path, secret, text, sizeof(text), err, errlen) == 0)
		rc = keyfile_parse(path, text, type, kind, key, len, err,
				   errlen);
	if (rc != 0)
		wipe(key, len);
	wipe(text, sizeof(text));
	return rc;
}

int
keyfile_read_private(const char *path, const char *type, uint8_t *key,
		     size_t len, char *err, size_t errlen)
{
	return keyfile_read(path, type, "private", key, len, err, errlen);
}

int
keyfile_read_public(const char *path, const char *type, uint8_t *key,
		    size_t len, char *err, size_t errlen)
{
	return keyfile_read(path, type, "public", key, len, err, errlen);
}
