/*
 * The recipient ids of a gateway's services (docs/gateway.md).  A gateway
 * whose descriptor lists `echo` (`drop`) answers (discards) every packet
 * whose recipient command names SERVICE_ID_ECHO (SERVICE_ID_DROP); the ids
 * are the same at every gateway, so publishing the service in the
 * descriptor publishes its id.  A client never creates a queue with one of
 * these ids (the gateway refuses it).
 */
#ifndef BC_WIRE_SERVICE_ID_H
#define BC_WIRE_SERVICE_ID_H

#include <stdbool.h>
#include <stdint.h>

#define SERVICE_ID_LEN 32

/* "backchannel-service-echo" and "...-drop", zero-padded to 32 bytes. */
extern const uint8_t SERVICE_ID_ECHO[SERVICE_ID_LEN];
extern const uint8_t SERVICE_ID_DROP[SERVICE_ID_LEN];

/* True if id is one of the service ids. */
bool service_id_is_service(const uint8_t id[SERVICE_ID_LEN]);

#endif /* BC_WIRE_SERVICE_ID_H */
