#ifndef BC_NODE_NODE_H
#define BC_NODE_NODE_H

#include "node/node_config.h"

/*
 * The node daemon (`backchannel node`): a mix, or the forwarding half of a
 * gateway.  Runs until SIGINT or SIGTERM (or a fatal directory condition:
 * clock skew, equivocating authorities).  Returns the process exit status:
 * 0 after a clean shutdown, 1 on a failure at run time.
 *
 * Threads: the event loop (links, drain, loops, consensus updates), the
 * pipeline's workers and committer, the directory thread (uploads,
 * fetches, key schedule; blocking HTTP), the metrics exporter.
 */
int node_run(const struct node_config *cfg);

/* The Sphinx node id of a node: its Ed25519 identity key. */
#define NODE_ID_LEN 32

#endif
