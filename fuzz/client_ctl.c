/*
 * Fuzz target: the client's control-socket request handler (JSON lines,
 * docs/client-api.md) on a daemon with no link and no consensus. Every
 * input must get exactly one answer that is a JSON object with "ok".
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/daemon_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct daemon d;
	struct buf reply;
	json_error_t je;

	buf_init(&reply);
	daemon_ctl_handle(&d, (const char *)data, size, &reply);
	json_t *j = json_loadb((const char *)reply.data, reply.len, 0, &je);
	if (j == NULL || !json_is_boolean(json_object_get(j, "ok")) ||
	    memchr(reply.data, '\n', reply.len) != NULL)
		abort();
	json_decref(j);
	buf_free(&reply);
	return 0;
}
