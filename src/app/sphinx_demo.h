#ifndef BC_APP_SPHINX_DEMO_H
#define BC_APP_SPHINX_DEMO_H

#include <stdio.h>

/*
 * `backchannel sphinx demo` (and `make demo`): one message from client A
 * through five in-process hops (gateway, three mixes, gateway) to B's queue,
 * and its acknowledgement back through the reply block it carried; each hop's
 * unwrap timed, and what it learns printed. Returns 0, or -1 if a step fails.
 */
int sphinx_demo_run(FILE *out);

#endif /* BC_APP_SPHINX_DEMO_H */
