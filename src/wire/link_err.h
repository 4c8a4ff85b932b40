/*
 * Error codes of the link protocol. The same numbers travel in ERROR and
 * DISCONNECT commands (docs/link.md, "Error codes"), so they are part of the
 * wire format: never renumber, only append.
 */
#ifndef BC_WIRE_LINK_ERR_H
#define BC_WIRE_LINK_ERR_H

enum link_err {
	LINK_OK = 0,            /* success / normal close */
	LINK_ERR_AGAIN = 1,     /* local only: need more input bytes */
	LINK_ERR_LENGTH = 2,    /* length prefix or field length wrong */
	LINK_ERR_TRUNCATED = 3, /* input ends inside a field */
	LINK_ERR_TYPE = 4,      /* unknown command type */
	LINK_ERR_PADDING = 5,   /* padding bytes not all zero */
	LINK_ERR_FIELD = 6,     /* a field value out of range */
	LINK_ERR_HANDSHAKE = 7, /* Noise handshake message did not verify */
	LINK_ERR_AUTH = 8,      /* initiator's static key not accepted */
	LINK_ERR_DECRYPT = 9,   /* transport frame failed authentication */
	LINK_ERR_TIMEOUT = 10,  /* handshake or idle timeout */
	LINK_ERR_LIMIT = 11,    /* too many connections (total/per address) */
	LINK_ERR_QUEUE = 12,    /* write queue full */
	LINK_ERR_CLOSED = 13,   /* peer closed the connection */
	LINK_ERR_IO = 14,       /* socket error */
	LINK_ERR_SHUTDOWN = 15, /* we are shutting down */
	LINK_ERR_VERSION = 16,  /* peer speaks another link version/geometry */
	LINK_ERR_STATE = 17,    /* command not allowed in this state */
	LINK_ERR_NOT_REGISTERED = 18, /* gateway: unknown client, register */
	LINK_ERR_DENIED = 19,         /* gateway: registration refused */
	LINK_ERR_NONCE = 20,          /* local only: nonce space exhausted */
	LINK_ERR_NO_QUEUE = 21,       /* gateway: no such queue, or not yours */
	LINK_ERR_EXISTS = 22,         /* gateway: queue id in use or blocked */
	LINK_ERR_QUOTA = 23,          /* gateway: account quota reached */
	LINK_ERR_UNAVAILABLE = 24,    /* gateway: storage failed; retry later */
	LINK_ERR_COUNT_               /* number of codes; not a code */
};

/* A short constant English description ("frame length wrong"). */
const char *link_err_str(int err);

#endif /* BC_WIRE_LINK_ERR_H */
