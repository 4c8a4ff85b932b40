/* Gateway service ids (wire/service_id.h). */
#include "wire/service_id.h"

#include <string.h>

const uint8_t SERVICE_ID_ECHO[SERVICE_ID_LEN] = "backchannel-service-echo";
const uint8_t SERVICE_ID_DROP[SERVICE_ID_LEN] = "backchannel-service-drop";

bool
service_id_is_service(const uint8_t id[SERVICE_ID_LEN])
{
	return memcmp(id, SERVICE_ID_ECHO, SERVICE_ID_LEN) == 0 ||
	       memcmp(id, SERVICE_ID_DROP, SERVICE_ID_LEN) == 0;
}
