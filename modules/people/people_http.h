/* people_http.h - handlers of the people module (worker threads). */
#ifndef ONETRIP_PEOPLE_HTTP_H
#define ONETRIP_PEOPLE_HTTP_H

#include "server/app.h"

void people_on_my_licence(app_req *r);
void people_on_my_vehicles(app_req *r);
void people_on_vehicle(app_req *r);
void people_on_citizen(app_req *r);
void people_on_citizen_lookup(app_req *r);

#endif
