/* cases_http.h - handlers of the cases module (routes in cases_module.c). */
#ifndef ONETRIP_CASES_HTTP_H
#define ONETRIP_CASES_HTTP_H

#include "server/app.h"

void cases_on_my_cases(app_req *r);
void cases_on_get_case(app_req *r);
void cases_on_progress(app_req *r);
void cases_on_trip(app_req *r);
void cases_on_transition(app_req *r);
void cases_on_supplement(app_req *r);
void cases_on_rating(app_req *r);
void cases_on_rect_list(app_req *r);
void cases_on_rect_answer(app_req *r);
void cases_on_alerts(app_req *r);
void cases_on_figures(app_req *r);

#endif
