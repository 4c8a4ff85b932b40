/* Descriptions of the link error codes (wire/link_err.h). */
#include "wire/link_err.h"

#include <stddef.h>

static const char *const link_err_names[LINK_ERR_COUNT_] = {
    [LINK_OK] = "ok",
    [LINK_ERR_AGAIN] = "need more bytes",
    [LINK_ERR_LENGTH] = "length wrong",
    [LINK_ERR_TRUNCATED] = "input truncated",
    [LINK_ERR_TYPE] = "unknown command type",
    [LINK_ERR_PADDING] = "padding not zero",
    [LINK_ERR_FIELD] = "field out of range",
    [LINK_ERR_HANDSHAKE] = "handshake failed",
    [LINK_ERR_AUTH] = "peer key not accepted",
    [LINK_ERR_DECRYPT] = "frame failed authentication",
    [LINK_ERR_TIMEOUT] = "timeout",
    [LINK_ERR_LIMIT] = "connection limit",
    [LINK_ERR_QUEUE] = "write queue full",
    [LINK_ERR_CLOSED] = "closed by peer",
    [LINK_ERR_IO] = "socket error",
    [LINK_ERR_SHUTDOWN] = "shutting down",
    [LINK_ERR_VERSION] = "version or geometry mismatch",
    [LINK_ERR_STATE] = "command not allowed now",
    [LINK_ERR_NOT_REGISTERED] = "not registered",
    [LINK_ERR_DENIED] = "registration refused",
    [LINK_ERR_NONCE] = "nonce exhausted",
    [LINK_ERR_NO_QUEUE] = "no such queue",
    [LINK_ERR_EXISTS] = "queue id in use",
    [LINK_ERR_QUOTA] = "quota reached",
    [LINK_ERR_UNAVAILABLE] = "storage unavailable",
};

const char *
link_err_str(int err)
{
	if (err < 0 || err >= LINK_ERR_COUNT_ || link_err_names[err] == NULL)
		return "unknown error";
	return link_err_names[err];
}
