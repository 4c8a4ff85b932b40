/* The gateway's client links (gateway_link.h). */
#include "node/gateway_link.h"

#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/log.h"

struct gl_slot {
	struct link_conn *conn; /* NULL: free */
	struct gateway_client cl;
};

struct gateway_link {
	struct gateway *gw;
	struct gl_slot *slots;
	size_t n, cap;
};

struct gateway_link *
gateway_link_new(struct gateway *gw)
{
	struct gateway_link *gl = bc_calloc(1, sizeof(*gl));
	gl->gw = gw;
	return gl;
}

void
gateway_link_free(struct gateway_link *gl)
{
	if (!gl)
		return;
	free(gl->slots);
	free(gl);
}

/* The client state of c, created on its first command. */
static struct gateway_client *
client_of(struct gateway_link *gl, struct link_conn *c)
{
	size_t free_slot = gl->n;
	for (size_t i = 0; i < gl->n; i++) {
		if (gl->slots[i].conn == c)
			return &gl->slots[i].cl;
		if (!gl->slots[i].conn && free_slot == gl->n)
			free_slot = i;
	}
	if (free_slot == gl->n) {
		if (gl->n == gl->cap) {
			gl->cap = gl->cap ? 2 * gl->cap : 64;
			gl->slots =
			    bc_realloc(gl->slots, gl->cap * sizeof(*gl->slots));
		}
		gl->n++;
	}
	struct gl_slot *s = &gl->slots[free_slot];
	s->conn = c;
	gateway_client_admit(gl->gw, link_conn_peer_key(c), &s->cl);
	return &s->cl;
}

enum link_err
gateway_link_cmd(struct gateway_link *gl, struct link_conn *c,
		 const struct link_cmd *cmd, bool *submit)
{
	struct link_cmd out;
	enum link_err why = LINK_OK;
	*submit = false;
	struct gateway_client *cl = client_of(gl, c);
	switch (gateway_client_cmd(gl->gw, cl, cmd, &out, &why)) {
	case GATEWAY_NOTHING:
		return LINK_OK;
	case GATEWAY_SUBMIT:
		*submit = true;
		return LINK_OK;
	case GATEWAY_CLOSE:
		return why;
	case GATEWAY_ANSWER:
		break;
	}
	/* A full write queue loses this answer; the client asks again
	 * (fetch and confirm are idempotent, items stay until confirmed). */
	enum link_err e = link_conn_send(c, &out);
	if (e != LINK_OK) {
		static struct log_ratelim rl = LOG_RATELIM_INIT(10000);
		log_ratelim(&rl, LOG_LVL_WARN, "gateway: answer not sent: %s",
			    link_err_str((int)e));
	}
	return LINK_OK;
}

void
gateway_link_close(struct gateway_link *gl, struct link_conn *c)
{
	for (size_t i = 0; gl && i < gl->n; i++) {
		if (gl->slots[i].conn == c) {
			memset(&gl->slots[i], 0, sizeof(gl->slots[i]));
			return;
		}
	}
}
