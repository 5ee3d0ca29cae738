/* supervision_internal.h - shared inside modules/supervision only. */
#ifndef ONETRIP_SUPERVISION_INTERNAL_H
#define ONETRIP_SUPERVISION_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "server/app.h"

/* The outbox consumer (app_module.consumers): evaluates every enabled rule
 * on ev inside the consumer's transaction. 0, or -1 (db error in c). */
int sup_consume(db_conn *c, const app_event *ev);
int sup_shanghai_hour(const char *utc);
/* hour in [start, end), wrapping past midnight when start > end. */
bool sup_working_hour(int hour, int start, int end);

void sup_on_rules(app_req *r);
void sup_on_rule_update(app_req *r);
void sup_on_rule_versions(app_req *r);
void sup_on_alerts(app_req *r);
void sup_on_alerts_csv(app_req *r);
void sup_on_alert(app_req *r);
void sup_on_alert_step(app_req *r);

#endif
