/* catalog_http.h - handlers of the catalog module. */
#ifndef ONETRIP_CATALOG_HTTP_H
#define ONETRIP_CATALOG_HTTP_H

#include "server/app.h"

/* How catalog_on_item answers (the route's data). */
typedef enum { CATALOG_VIEW_JSON = 1, CATALOG_VIEW_NOTICE } catalog_view;

void catalog_on_list(app_req *r);
void catalog_on_item(app_req *r);
void catalog_on_put(app_req *r);

#endif
