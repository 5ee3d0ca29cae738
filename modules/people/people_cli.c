/* people_cli.c - `onetripd outlet add` and `onetripd citizen add`.
 *
 * Both print the new row's id on stdout. A duplicate (outlet code, citizen
 * ID number) exits 3 and prints the existing id, so set-up scripts can be
 * re-run. Personal identifiers are sealed and hashed before they reach the
 * database and are never echoed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/rows.h"
#include "server/cli_util.h"
#include "modules/people/people_cli.h"
#include "modules/people/people_id.h"
#include "modules/people/people_seed.h"
#include "server/audit.h"
#include "server/date.h"
#include "server/pii.h"

static const char SQL_OUTLET_ADD[] =
    "INSERT INTO outlets (code, name, type, city, address, created_at) "
    "VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(3))";
static const char SQL_OUTLET_ID[] = "SELECT id FROM outlets WHERE code = ?";
static const char SQL_CITIZEN_ADD[] =
    "INSERT INTO citizens (name, id_number_enc, id_number_hash, phone_enc, phone_hash, birth_date, "
    "disabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))";
static const char SQL_CITIZEN_ID[] = "SELECT id FROM citizens WHERE id_number_hash = ?";

static const char *const outlet_types[] = {"window", "post", "insurer", "hospital", "court",
                                           "dealer", "station", "agency", NULL};

static int text_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

typedef struct id_row {
    int64_t id;
} id_row;
static const db_col ID_COLS[] = {DBR_I64(id_row, id)};
static const db_row_spec ID_ROW = DB_ROW_SPEC(id_row, ID_COLS);

/* Prints the id of an existing row found by one key (for exit code 3). */
static void print_existing(db_conn *c, const char *sql, db_val key)
{
    id_row r;
    bool found = false;

    if (db_query_one(c, sql, &key, 1, &ID_ROW, &r, &found) == 0 && found)
        printf("%lld\n", (long long)r.id);
}

/* ---- outlet ------------------------------------------------------------- */

typedef struct outlet_add_arg {
    const char *code, *name, *type, *city, *address;
    uint64_t id;
} outlet_add_arg;

static int outlet_add_tx(db_conn *c, void *arg)
{
    outlet_add_arg *a = arg;

    if (db_exec(c, SQL_OUTLET_ADD,
                DBP(DB_STR(a->code), DB_STR(a->name), DB_STR(a->type), DB_STR(a->city),
                    DB_STR(a->address)),
                NULL, &a->id) != 0)
        return -1;
    return audit_write_sys_id(c, NULL, "cli", "local", "outlet.add", "outlet", (int64_t)a->id, "ok",
                              json_pack("{ssss}", "code", a->code, "type", a->type));
}

#define OUTLET_USAGE                                                                               \
    "outlet add --code C --name N --type window|post|insurer|hospital|court|dealer|station|agency " \
    "[--city X] [--address A]"

static int outlet_cmd(db_conn *c, int argc, char **argv)
{
    static const char *const valued[] = {"--code", "--name", "--type", "--city", "--address", NULL};
    cli_args a;
    outlet_add_arg o = {0};
    int type_ok = 0, rc;

    if (argc < 1 || strcmp(argv[0], "add") != 0 ||
        cli_args_parse("outlet", argc - 1, argv + 1, valued, NULL, &a) != 0 || a.npos != 0)
        return cli_usage(OUTLET_USAGE);
    o.code = cli_args_get(&a, "--code");
    o.name = cli_args_get(&a, "--name");
    o.type = cli_args_get(&a, "--type");
    o.city = cli_args_get(&a, "--city");
    o.address = cli_args_get(&a, "--address");
    for (int i = 0; o.type && outlet_types[i]; i++)
        type_ok |= strcmp(o.type, outlet_types[i]) == 0;
    if (!text_ok(o.code, 32) || !text_ok(o.name, 128) || !type_ok) {
        fprintf(stderr, "onetripd outlet: --code (1-32 chars), --name (1-128) and a valid --type are required\n");
        return cli_usage(OUTLET_USAGE);
    }
    if ((o.city && !text_ok(o.city, 64)) || (o.address && !text_ok(o.address, 255)))
        return cli_usage(OUTLET_USAGE);
    if (o.city == NULL)
        o.city = "";
    if (o.address == NULL)
        o.address = "";
    rc = cli_tx(c, "outlet", "outlet with this code", outlet_add_tx, &o, NULL);
    if (rc == CLI_EXIT_OK)
        printf("%llu\n", (unsigned long long)o.id);
    else if (rc == CLI_EXIT_EXISTS)
        print_existing(c, SQL_OUTLET_ID, DB_STR(o.code));
    return rc;
}

/* ---- citizen ------------------------------------------------------------ */

typedef struct citizen_add_arg {
    const char *name, *birth;
    unsigned char *id_enc, *phone_enc;
    size_t id_len, phone_len;
    unsigned char id_hash[32], phone_hash[32];
    int has_phone, disabled;
    uint64_t id;
} citizen_add_arg;

static int citizen_add_tx(db_conn *c, void *arg)
{
    citizen_add_arg *a = arg;

    if (db_exec(c, SQL_CITIZEN_ADD,
                DBP(DB_STR(a->name), DB_BLOB(a->id_enc, a->id_len), DB_BLOB(a->id_hash, 32),
                    a->has_phone ? DB_BLOB(a->phone_enc, a->phone_len) : DB_NULL,
                    a->has_phone ? DB_BLOB(a->phone_hash, 32) : DB_NULL, DB_STR(a->birth),
                    DB_I64(a->disabled)),
                NULL, &a->id) != 0)
        return -1;
    /* No personal identifier in the record: the id is enough to find them. */
    return audit_write_sys_id(c, NULL, "cli", "local", "citizen.add", "citizen", (int64_t)a->id, "ok",
                              NULL);
}

#define CITIZEN_USAGE                                                                          \
    "citizen add --name N --id-number X --birth YYYY-MM-DD [--phone P] [--disabled]\n"           \
    "       citizen seed-ids --seed S --count N   (ID numbers of the demo city's first N citizens)"

/* The ID numbers `onetripd seed --seed S` gives its citizens 0..N-1 (rows
 * cit_off+1.. of a fresh database), one a line: what ops/bench signs its
 * app tokens for. Pure: reads nothing. */
static int citizen_seed_ids(int argc, char **argv)
{
    static const char *const valued[] = {"--seed", "--count", NULL};
    cli_args a;
    const char *sv, *nv;
    char *end = NULL, idn[19];
    unsigned long long seed = 0;
    long long n = 0;

    if (cli_args_parse("citizen", argc, argv, valued, NULL, &a) != 0 || a.npos != 0 ||
        (sv = cli_args_get(&a, "--seed")) == NULL || (nv = cli_args_get(&a, "--count")) == NULL)
        return cli_usage(CITIZEN_USAGE);
    seed = strtoull(sv, &end, 10);
    if (*sv == '\0' || *end != '\0')
        return cli_usage(CITIZEN_USAGE);
    n = strtoll(nv, &end, 10);
    if (*nv == '\0' || *end != '\0' || n < 0 || n > 100000000)
        return cli_usage(CITIZEN_USAGE);
    for (long long i = 0; i < n; i++) {
        if (people_seed_id_number(seed, (uint64_t)i, idn) != 0)
            return CLI_EXIT_FAIL;
        if (puts(idn) == EOF)
            return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

static int citizen_cmd(db_conn *c, int argc, char **argv)
{
    static const char *const valued[] = {"--name", "--id-number", "--birth", "--phone", NULL};
    static const char *const flags[] = {"--disabled", NULL};
    cli_args a;
    citizen_add_arg o = {0};
    const char *idn, *phone, *why = NULL;
    char norm[PEOPLE_ID_LEN + 1];
    int32_t id_birth = 0, birth = 0;
    int rc = CLI_EXIT_USAGE;

    if (argc >= 1 && strcmp(argv[0], "seed-ids") == 0)
        return citizen_seed_ids(argc - 1, argv + 1);
    if (argc < 1 || strcmp(argv[0], "add") != 0 ||
        cli_args_parse("citizen", argc - 1, argv + 1, valued, flags, &a) != 0 || a.npos != 0)
        return cli_usage(CITIZEN_USAGE);
    o.name = cli_args_get(&a, "--name");
    o.birth = cli_args_get(&a, "--birth");
    idn = cli_args_get(&a, "--id-number");
    phone = cli_args_get(&a, "--phone");
    o.disabled = cli_args_get(&a, "--disabled") != NULL;
    if (!text_ok(o.name, 64) || idn == NULL || o.birth == NULL)
        return cli_usage(CITIZEN_USAGE);
    if (people_id_number_check(idn, norm, &id_birth, &why) != 0) {
        /* The reason only: the number itself is personal data. */
        fprintf(stderr, "onetripd citizen: invalid ID number (%s)\n", why);
        return CLI_EXIT_USAGE;
    }
    if (date_parse(o.birth, &birth) != 0 || birth != id_birth) {
        fprintf(stderr, "onetripd citizen: --birth must be YYYY-MM-DD and match the birth date in the ID number\n");
        return CLI_EXIT_USAGE;
    }
    if (phone != NULL && people_phone_check(phone) != 0) {
        fprintf(stderr, "onetripd citizen: --phone must be an 11-digit mobile number (1[3-9]xxxxxxxxx)\n");
        return CLI_EXIT_USAGE;
    }
    pii_hash(PII_ID_NUMBER, norm, o.id_hash);
    if (pii_seal(PII_ID_NUMBER, norm, &o.id_enc, &o.id_len) != 0)
        goto seal_fail;
    if (phone != NULL) {
        o.has_phone = 1;
        pii_hash(PII_PHONE, phone, o.phone_hash);
        if (pii_seal(PII_PHONE, phone, &o.phone_enc, &o.phone_len) != 0)
            goto seal_fail;
    }
    rc = cli_tx(c, "citizen", "a citizen with this ID number", citizen_add_tx, &o, NULL);
    if (rc == CLI_EXIT_OK)
        printf("%llu\n", (unsigned long long)o.id);
    else if (rc == CLI_EXIT_EXISTS)
        print_existing(c, SQL_CITIZEN_ID, DB_BLOB(o.id_hash, 32));
    goto done;
seal_fail:
    fprintf(stderr, "onetripd citizen: cannot seal personal data (check pii.keys)\n");
    rc = CLI_EXIT_FAIL;
done:
    free(o.id_enc);
    free(o.phone_enc);
    return rc;
}

const app_cmd people_cmds[PEOPLE_NCMDS] = {
    {"outlet", OUTLET_USAGE, outlet_cmd},
    {"citizen", CITIZEN_USAGE, citizen_cmd},
};
