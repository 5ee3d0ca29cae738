/* registration_insurance.c - compulsory traffic accident liability
 * insurance: an insurer partner pushes each policy it issued (VIN, policy
 * number, validity); the open application of that VIN is confirmed when
 * the owner gave that number. Completion requires the confirmation and a
 * policy in force (registration_http.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/registration/registration_internal.h"
#include "modules/registration/vin.h"
#include "server/audit.h"
#include "server/date.h"

/* A compulsory policy runs one year (shorter ones exist, e.g. for
 * vehicles registered temporarily); a leap day fits in 366 days. */
#define POLICY_MAX_DAYS 366

typedef struct push_arg {
    const char *vin, *policy_no;
    char from[DATE_STR_SIZE], until[DATE_STR_SIZE];
} push_arg;

static json_t *policy_json(const reg_policy *p, const char *app_status)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s?}", "id",
                     (json_int_t)p->id, "kind", p->kind, "policy_no", p->policy_no, "vin", p->vin,
                     "valid_from", p->valid_from, "valid_until", p->valid_until,
                     "insurer_partner_id", (json_int_t)p->insurer_partner_id, "created_at",
                     p->created_at, "updated_at", p->updated_at, "application_insurance_status",
                     app_status);
}

static int tx_push(app_req *r, void *p)
{
    push_arg *v = p;
    reg_policy old = {0}, pol = {0};
    char *app_policy_no = NULL;
    bool found = false;
    const char *status = NULL;
    int64_t id = 0, app_id = 0;
    int created = 0, rc = -1;
    char target[32];
    json_t *detail = NULL;

    if (reg_sql_policy_of_insurer(r->db, r->who.id, v->policy_no, &old, &found) != 0)
        goto done;
    if (found) {
        /* The same policy again: the insurer may correct its validity, but
         * a policy never moves to another vehicle. */
        if (strcmp(old.vin, v->vin) != 0) {
            app_fail(r, "policy_vin_conflict", NULL, "vin");
            goto done;
        }
        id = old.id;
        if (reg_sql_policy_set_validity(r->db, id, v->from, v->until) != 0)
            goto done;
    } else {
        /* Two pushes of one new policy meet on the gap lock of the locking
         * read above: one deadlocks and db_tx runs it again. */
        if (reg_sql_policy_insert(r->db, r->who.id, r->who.outlet_id, v->policy_no, v->vin, v->from,
                                  v->until, &id) != 0)
            goto done;
        created = 1;
    }
    /* At most one open application per VIN (unique open_vin). */
    if (reg_sql_app_open_by_vin(r->db, v->vin, &app_id, &app_policy_no, &found) != 0)
        goto done;
    if (found) {
        if (reg_insurance_match(r->db, app_id, v->vin, app_policy_no, &status) != 0 ||
            audit_write_id(r, "registration.insurance", "registration", app_id, "ok",
                           json_pack("{s:s, s:I}", "insurance_status", status, "policy_id",
                                     (json_int_t)id)) != 0)
            goto done;
    }
    snprintf(target, sizeof target, "%" PRId64, id);
    detail = json_pack("{s:s, s:s, s:s, s:b}", "policy_no", v->policy_no, "valid_from", v->from,
                       "valid_until", v->until, "created", created);
    if (audit_write(r, "registration.insurance_policy", "insurance_policy", target, "ok", detail) != 0)
        goto done;
    if (reg_sql_policy_get(r->db, id, &pol, NULL) != 0)
        goto done;
    app_reply_json(r, created ? 201 : 200, policy_json(&pol, status));
    rc = 0;
done:
    json_decref(detail);
    reg_policy_clear(&pol);
    free(app_policy_no);
    reg_policy_clear(&old);
    return rc;
}

void reg_on_policy_push(app_req *r)
{
    push_arg v;
    const char *why = NULL;
    int32_t from = 0, until = 0;

    /* Declared: policy_no's form, kind compulsory, both dates real days. */
    memset(&v, 0, sizeof v);
    v.vin = app_json_str(r, "vin");
    v.policy_no = app_json_str(r, "policy_no");
    date_parse(app_json_str(r, "valid_from"), &from);
    date_parse(app_json_str(r, "valid_until"), &until);
    if (registration_vin_check(v.vin, &why) != 0) {
        app_fail(r, why, NULL, "vin");
        return;
    }
    if (until < from || until - from > POLICY_MAX_DAYS) {
        app_fail(r, "validity_range", NULL, "valid_until");
        return;
    }
    date_format(from, v.from);
    date_format(until, v.until);
    app_tx(r, tx_push, &v);
}
