#ifndef BC_NODE_GATEWAY_LINK_H
#define BC_NODE_GATEWAY_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "net/link.h"

#include "node/gateway.h"

/*
 * The gateway's client links on the node daemon's link manager: one
 * struct gateway_client per open client connection (kept here, so the
 * daemon's per-connection pointer stays its own), commands answered on the
 * link.  Loop thread only.
 */
struct gateway_link;

struct gateway_link *gateway_link_new(struct gateway *gw);
void gateway_link_free(struct gateway_link *gl); /* NULL is fine */

/*
 * One command from a client connection.  *submit is set when the command
 * is a packet the caller hands to the pipeline.  Returns LINK_OK or the
 * code to close the link with.
 */
enum link_err gateway_link_cmd(struct gateway_link *gl, struct link_conn *c,
			       const struct link_cmd *cmd, bool *submit);
/* The connection closed: forget its state. */
void gateway_link_close(struct gateway_link *gl, struct link_conn *c);

#endif
