/*
 * Blocking HTTP for the directory (libcurl): fetching documents and the
 * authorities' time, uploading descriptors. Nodes and clients call these at
 * start-up or from a worker thread; authorities from their timer loop.
 */
#ifndef BC_DIR_FETCH_H
#define BC_DIR_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

/* Once per process, before any thread uses the functions below. */
int dir_http_init(void);

/* GET http://addr/path; the body (at most max bytes, else an error) is
 * appended to out, the HTTP status set. -1 only if no HTTP answer came. */
int dir_http_get(const char *addr, const char *path, size_t max,
		 long timeout_ms, struct buf *out, long *status, char *err,
		 size_t errlen);

/* POST body to http://addr/path; the answer is handled as for GET. */
int dir_http_post(const char *addr, const char *path, const void *body,
		  size_t len, long timeout_ms, struct buf *out, long *status,
		  char *err, size_t errlen);

/* GET /time of one authority. */
int dir_fetch_time(const char *addr, int64_t *t, char *err, size_t errlen);

#endif /* BC_DIR_FETCH_H */
