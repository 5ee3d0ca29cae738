/* catalog_http.h - handlers of the catalog module. */
#ifndef ONETRIP_CATALOG_HTTP_H
#define ONETRIP_CATALOG_HTTP_H

#include "server/app.h"

void catalog_on_list(app_req *r);
void catalog_on_get(app_req *r);
void catalog_on_notice(app_req *r);
void catalog_on_put(app_req *r);

#endif
