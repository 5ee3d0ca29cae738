/* payments_http.h - the payments module's handlers (routes in
 * payments_module.c; contracts in openapi.yaml). */
#ifndef ONETRIP_PAYMENTS_HTTP_H
#define ONETRIP_PAYMENTS_HTTP_H

#include "server/app.h"

/* Declared limits the handlers rely on (payments_module.c). */
#define PAY_ORDER_MAX_ITEMS 20 /* violations in one order */
#define PAY_PAGE_DEFAULT 20
#define PAY_PAGE_MAX 100

void payments_on_order_create(app_req *r);
void payments_on_order_get(app_req *r);
void payments_on_order_returned(app_req *r);
void payments_on_notify(app_req *r);
/* WeChat Pay refund callbacks (payments.wechat_refund_notify_url). */
void payments_on_refund_notify(app_req *r);
void payments_on_receipt_verify(app_req *r);
void payments_on_refund_create(app_req *r);
void payments_on_refund_approve(app_req *r);
void payments_on_refund_get(app_req *r);
/* payments_recon_http.c */
void payments_on_reports(app_req *r);
/* GET a report; route data "json" (with its lines) or "csv" (its lines). */
void payments_on_report(app_req *r);
void payments_on_reconcile(app_req *r);
void payments_on_alerts(app_req *r);
void payments_on_alert_get(app_req *r);

#endif
