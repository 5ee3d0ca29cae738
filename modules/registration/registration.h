/* registration.h - the registration module's public interface: what other
 * modules may use of it.
 *
 * Plate syntax (ordinary Chinese plates, GA 36: registration_plate_*_check,
 * registration_plate_format and the REGISTRATION_PLATE_* sizes) is public:
 * violations reads plates with it. Pure functions, no database, no state;
 * declared in plate_rules.h, which this header includes so that the rules
 * have one home. */
#ifndef ONETRIP_REGISTRATION_H
#define ONETRIP_REGISTRATION_H

#include "modules/registration/plate_rules.h"

#endif
