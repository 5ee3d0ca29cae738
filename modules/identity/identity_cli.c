/* identity_cli.c - managing callers from the command line:
 *   onetripd client add NAME | client key add NAME --kid K --alg ES256|RS256 --pem FILE
 *            | client key revoke KID | client disable NAME
 *   onetripd operator add USERNAME --name N --roles R[,R] --outlet CODE [--password-file F]
 *            | operator disable|enable|unlock USERNAME (unlock: forget the
 *              username's failed logins at every address)
 *   onetripd partner add NAME --type T --outlet CODE | partner cert add NAME --cert FILE
 *            | partner cert revoke SHA256 | partner hmac NAME [--rotate]
 *
 * Each change is one transaction with its audit record (caller "system",
 * request id "cli"). Secrets never travel in argv: operator passwords come
 * from ONETRIP_OPERATOR_PASSWORD or a file; an HMAC secret is generated here
 * and printed once. Exit codes: see server/cli_util.h. */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/identity/identity_cli.h"
#include "server/cli_util.h"
#include "db/rows.h"
#include "server/audit.h"
#include "server/auth_token.h"
#include "server/crypto.h"
#include "server/pii.h"

#define PARTNER_HMAC_PURPOSE "partner.hmac"

static const char SQL_CLIENT_ADD[] =
    "INSERT INTO app_clients (name, status, created_at) VALUES (?, 'active', UTC_TIMESTAMP(3))";
/* Lookups for find_id: the row's id, and for SQL_PARTNER_ID_HMAC a flag. */
static const char SQL_CLIENT_ID[] = "SELECT id FROM app_clients WHERE name = ? FOR UPDATE";
static const char SQL_KEY_ADD[] =
    "INSERT INTO app_client_keys (client_id, kid, alg, public_pem, status, created_at) "
    "VALUES (?, ?, ?, ?, 'active', UTC_TIMESTAMP(3))";
static const char SQL_KEY_REVOKE[] = "UPDATE app_client_keys SET status = 'revoked' WHERE kid = ?";
static const char SQL_KEY_ID[] = "SELECT id FROM app_client_keys WHERE kid = ? FOR UPDATE";
static const char SQL_CLIENT_DISABLE[] = "UPDATE app_clients SET status = 'disabled' WHERE id = ?";
static const char SQL_OUTLET_ID[] = "SELECT id FROM outlets WHERE code = ?";
static const char SQL_OPERATOR_ADD[] =
    "INSERT INTO operators (username, display_name, password_hash, roles, outlet_id, status, "
    "created_at) VALUES (?, ?, ?, ?, ?, 'active', UTC_TIMESTAMP(3))";
static const char SQL_OPERATOR_ID[] = "SELECT id FROM operators WHERE username = ? FOR UPDATE";
static const char SQL_OPERATOR_DISABLE[] =
    "UPDATE operators SET status = 'disabled', token_version = token_version + 1 WHERE id = ?";
static const char SQL_OPERATOR_ENABLE[] = "UPDATE operators SET status = 'active' WHERE id = ?";
/* Failed logins lock out sources, not accounts (login_policy.h): unlocking
 * an operator forgets their username's failures at every address. */
static const char SQL_OPERATOR_UNLOCK[] =
    "DELETE FROM login_sources WHERE scope = 'username' AND username = ?";
static const char SQL_SESSIONS_REVOKE[] =
    "UPDATE operator_sessions SET revoked = 1 WHERE operator_id = ? AND revoked = 0";
static const char SQL_PARTNER_ADD[] =
    "INSERT INTO partners (name, type, outlet_id, status, created_at) "
    "VALUES (?, ?, ?, 'active', UTC_TIMESTAMP(3))";
static const char SQL_PARTNER_ID[] = "SELECT id FROM partners WHERE name = ? FOR UPDATE";
/* flag: the partner has an HMAC key already. */
static const char SQL_PARTNER_ID_HMAC[] =
    "SELECT id, hmac_key_id IS NOT NULL AS flag FROM partners WHERE name = ? FOR UPDATE";
static const char SQL_CERT_ADD[] =
    "INSERT INTO partner_certs (sha256, partner_id, status, created_at) "
    "VALUES (?, ?, 'active', UTC_TIMESTAMP(3))";
static const char SQL_CERT_ID[] =
    "SELECT partner_id AS id FROM partner_certs WHERE sha256 = ? FOR UPDATE";
static const char SQL_CERT_REVOKE[] = "UPDATE partner_certs SET status = 'revoked' WHERE sha256 = ?";
static const char SQL_PARTNER_HMAC[] =
    "UPDATE partners SET hmac_key_id = ?, hmac_secret_enc = ? WHERE id = ?";

/* ---- pure helpers -------------------------------------------------------- */

unsigned identity_roles_parse(const char *list)
{
    static const char *names[] = {"window", "supervisor", "reviewer", "auditor", "admin", "inspector"};
    unsigned mask = 0;
    const char *p = list;

    if (list == NULL || *list == '\0')
        return 0;
    while (*p) {
        size_t n = strcspn(p, ",");
        unsigned bit = 0;
        for (unsigned i = 0; i < 6; i++)
            if (strlen(names[i]) == n && strncmp(p, names[i], n) == 0)
                bit = 1u << i;
        if (bit == 0)
            return 0;
        mask |= bit;
        p += n;
        if (*p == ',' && *++p == '\0')
            return 0; /* trailing comma */
    }
    return mask;
}

int identity_name_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

char *identity_pubkey_check(const char *pem, size_t len, const char *alg, const char **why)
{
    BIO *in = NULL, *out = NULL;
    EVP_PKEY *k = NULL;
    char group[64] = "";
    char *res = NULL, *data = NULL;
    size_t glen = 0;
    long n;

    *why = "not a PEM public key (-----BEGIN PUBLIC KEY-----)";
    in = BIO_new_mem_buf(pem, (int)len);
    if (in == NULL || (k = PEM_read_bio_PUBKEY(in, NULL, NULL, NULL)) == NULL)
        goto fail;
    if (strcmp(alg, "ES256") == 0) {
        *why = "ES256 needs an EC key on curve P-256";
        if (!EVP_PKEY_is_a(k, "EC") ||
            EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen) != 1 ||
            strcmp(group, "prime256v1") != 0)
            goto fail;
    } else if (strcmp(alg, "RS256") == 0) {
        *why = "RS256 needs an RSA key of at least 2048 bits";
        if (!EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_get_bits(k) < 2048)
            goto fail;
    } else {
        *why = "alg must be ES256 or RS256";
        goto fail;
    }
    *why = "cannot encode the key";
    out = BIO_new(BIO_s_mem());
    if (out == NULL || PEM_write_bio_PUBKEY(out, k) != 1)
        goto fail;
    n = BIO_get_mem_data(out, &data);
    if (n <= 0)
        goto fail;
    res = app_strndup(data, (size_t)n);
    *why = NULL;
fail:
    EVP_PKEY_free(k);
    BIO_free(in);
    BIO_free(out);
    return res;
}

int identity_cert_sha256(const char *pem, size_t len, char out[65])
{
    BIO *in = BIO_new_mem_buf(pem, (int)len);
    X509 *x = NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    int rc = -1;

    if (in == NULL || (x = PEM_read_bio_X509(in, NULL, NULL, NULL)) == NULL)
        goto fail;
    if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32)
        goto fail;
    crypto_hex(md, 32, out);
    rc = 0;
fail:
    X509_free(x);
    BIO_free(in);
    return rc;
}

/* ---- shared pieces ------------------------------------------------------- */

typedef struct cli_op {
    const char *cmd;      /* "client", "operator", "partner" */
    const char *a, *b, *c, *d; /* operation-specific strings */
    int64_t i;            /* operation-specific number */
    int64_t id;           /* out: the row made or changed */
    int exit;             /* fn's exit code when it rolls back */
    char msg[160];        /* fn's message when it rolls back */
} cli_op;

typedef struct id_row {
    int64_t id;
    bool flag;
} id_row;
static const db_col ID_COLS[] = {DBR_I64(id_row, id)};
static const db_row_spec ID_ROW = DB_ROW_SPEC(id_row, ID_COLS);
static const db_col ID_FLAG_COLS[] = {DBR_I64(id_row, id), DBR_BOOL(id_row, flag)};
static const db_row_spec ID_FLAG_ROW = DB_ROW_SPEC(id_row, ID_FLAG_COLS);

/* Looks up one id (and, with flag != NULL, the query's flag column):
 * 0 found, 1 absent (op->exit/msg set), -1 db error. */
static int find_id(db_conn *c, cli_op *op, const char *sql, db_val key, const char *what,
                   const char *name, int64_t *id, bool *flag)
{
    id_row row;
    bool found = false;

    if (db_query_one(c, sql, &key, 1, flag ? &ID_FLAG_ROW : &ID_ROW, &row, &found) != 0)
        return -1;
    if (!found) {
        op->exit = CLI_EXIT_FAIL;
        snprintf(op->msg, sizeof op->msg, "no %s named %s", what, name);
        return 1;
    }
    *id = row.id;
    if (flag)
        *flag = row.flag;
    return 0;
}

static int audit_cli(db_conn *c, const char *action, const char *ttype, int64_t id, json_t *det)
{
    return audit_write_sys_id(c, NULL, "cli", "local", action, ttype, id, "ok", det);
}

static int run(db_conn *c, cli_op *op, const char *what, db_tx_fn fn)
{
    int rc = cli_tx(c, op->cmd, what, fn, op, &op->exit);
    if (rc != CLI_EXIT_OK && op->msg[0])
        fprintf(stderr, "onetripd %s: %s\n", op->cmd, op->msg);
    return rc;
}

/* ---- client -------------------------------------------------------------- */

static int client_add_tx(db_conn *c, void *arg)
{
    cli_op *op = arg;
    uint64_t id = 0;
    if (db_exec(c, SQL_CLIENT_ADD, DBP(DB_STR(op->a)), NULL, &id) != 0)
        return -1;
    op->id = (int64_t)id;
    return audit_cli(c, "client.add", "app_client", op->id, json_pack("{ss}", "name", op->a));
}

/* a = client name, b = kid, c = alg, d = public key PEM */
static int key_add_tx(db_conn *c, void *arg)
{
    cli_op *op = arg;
    int64_t cid = 0;
    uint64_t id = 0;
    int f = find_id(c, op, SQL_CLIENT_ID, DB_STR(op->a), "client", op->a, &cid, NULL);
    if (f != 0)
        return -1;
    if (db_exec(c, SQL_KEY_ADD, DBP(DB_I64(cid), DB_STR(op->b), DB_STR(op->c), DB_STR(op->d)), NULL,
                &id) != 0)
        return -1;
    op->id = (int64_t)id;
    return audit_cli(c, "client.key_add", "app_client", cid,
                     json_pack("{ssss}", "kid", op->b, "alg", op->c));
}

static int key_revoke_tx(db_conn *c, void *arg)
{
    cli_op *op = arg;
    int64_t id = 0;
    if (find_id(c, op, SQL_KEY_ID, DB_STR(op->a), "key", op->a, &id, NULL) != 0)
        return -1;
    if (db_exec(c, SQL_KEY_REVOKE, DBP(DB_STR(op->a)), NULL, NULL) != 0)
        return -1;
    return audit_cli(c, "client.key_revoke", "app_client_key", id, json_pack("{ss}", "kid", op->a));
}

static int client_disable_tx(db_conn *c, void *arg)
{
    cli_op *op = arg;
    int64_t id = 0;
    if (find_id(c, op, SQL_CLIENT_ID, DB_STR(op->a), "client", op->a, &id, NULL) != 0)
        return -1;
    if (db_exec(c, SQL_CLIENT_DISABLE, DBP(DB_I64(id)), NULL, NULL) != 0)
        return -1;
    return audit_cli(c, "client.disable", "app_client", id, NULL);
}

#define CLIENT_USAGE                                                                               \
    "client add NAME | client key add NAME --kid KID --alg ES256|RS256 --pem FILE | "             \
    "client key revoke KID | client disable NAME"

static int client_cmd(db_conn *c, int argc, char **argv)
{
    static const char *const valued[] = {"--kid", "--alg", "--pem", NULL};
    cli_args a;
    cli_op op = {.cmd = "client"};
    char *raw = NULL, *pem = NULL;
    const char *why = NULL;
    size_t len = 0;
    int rc = CLI_EXIT_USAGE;

    if (cli_args_parse("client", argc, argv, valued, NULL, &a) != 0)
        return cli_usage(CLIENT_USAGE);
    if (a.npos == 2 && a.nopt == 0 && strcmp(a.pos[0], "add") == 0) {
        if (!identity_name_ok(a.pos[1], 64))
            return cli_usage(CLIENT_USAGE);
        op.a = a.pos[1];
        rc = run(c, &op, "client with this name", client_add_tx);
        if (rc == 0)
            printf("%lld\n", (long long)op.id);
        return rc;
    }
    if (a.npos == 2 && a.nopt == 0 && strcmp(a.pos[0], "disable") == 0) {
        op.a = a.pos[1];
        rc = run(c, &op, "client", client_disable_tx);
        if (rc == 0)
            printf("client %s disabled\n", op.a);
        return rc;
    }
    if (a.npos == 3 && a.nopt == 0 && strcmp(a.pos[0], "key") == 0 && strcmp(a.pos[1], "revoke") == 0) {
        op.a = a.pos[2];
        rc = run(c, &op, "key", key_revoke_tx);
        if (rc == 0)
            printf("key %s revoked\n", op.a);
        return rc;
    }
    if (a.npos == 3 && strcmp(a.pos[0], "key") == 0 && strcmp(a.pos[1], "add") == 0) {
        op.a = a.pos[2];
        op.b = cli_args_get(&a, "--kid");
        op.c = cli_args_get(&a, "--alg");
        if (!identity_name_ok(op.b, 64) || op.c == NULL || cli_args_get(&a, "--pem") == NULL ||
            strcmp(op.b, AUTH_OPERATOR_KID) == 0)
            return cli_usage(CLIENT_USAGE);
        if (strcmp(op.c, "ES256") != 0 && strcmp(op.c, "RS256") != 0) {
            fprintf(stderr, "onetripd client: --alg must be ES256 or RS256\n");
            return CLI_EXIT_USAGE;
        }
        raw = cli_read_file("client", cli_args_get(&a, "--pem"), 65536, &len);
        if (raw == NULL)
            return CLI_EXIT_FAIL;
        pem = identity_pubkey_check(raw, len, op.c, &why);
        if (pem == NULL) {
            fprintf(stderr, "onetripd client: %s: %s\n", cli_args_get(&a, "--pem"), why);
            rc = CLI_EXIT_USAGE;
        } else {
            op.d = pem;
            rc = run(c, &op, "key with this kid", key_add_tx);
            if (rc == 0)
                printf("%lld\n", (long long)op.id);
        }
        free(raw);
        free(pem);
        return rc;
    }
    return cli_usage(CLIENT_USAGE);
}

/* ---- operator ------------------------------------------------------------ */

static int operator_add_tx(db_conn *c, void *arg)
{
    cli_op *op = arg;
    int64_t outlet = 0;
    uint64_t id = 0;
    /* a = username, b = display name, c = password hash, d = outlet code,
     * i = roles */
    if (find_id(c, op, SQL_OUTLET_ID, DB_STR(op->d), "outlet", op->d, &outlet, NULL) != 0)
        return -1;
    if (db_exec(c, SQL_OPERATOR_ADD,
                DBP(DB_STR(op->a), DB_STR(op->b), DB_STR(op->c), DB_I64(op->i), DB_I64(outlet)), NULL,
                &id) != 0)
        return -1;
    op->id = (int64_t)id;
    return audit_cli(c, "operator.add", "operator", op->id,
                     json_pack("{sssIsI}", "username", op->a, "roles", (json_int_t)op->i, "outlet_id",
                               (json_int_t)outlet));
}

/* i: 0 disable (and end every session), 1 enable, 2 unlock. */
static int operator_change_tx(db_conn *c, void *arg)
{
    static const char *actions[] = {"operator.disable", "operator.enable", "operator.unlock"};
    cli_op *op = arg;
    int64_t id = 0;
    if (find_id(c, op, SQL_OPERATOR_ID, DB_STR(op->a), "operator", op->a, &id, NULL) != 0)
        return -1;
    if (op->i == 0) {
        if (db_exec(c, SQL_OPERATOR_DISABLE, DBP(DB_I64(id)), NULL, NULL) != 0 ||
            db_exec(c, SQL_SESSIONS_REVOKE, DBP(DB_I64(id)), NULL, NULL) != 0)
            return -1;
    } else if (op->i == 1 ? db_exec(c, SQL_OPERATOR_ENABLE, DBP(DB_I64(id)), NULL, NULL)
                          : db_exec(c, SQL_OPERATOR_UNLOCK, DBP(DB_STR(op->a)), NULL, NULL)) {
        return -1;
    }
    return audit_cli(c, actions[op->i], "operator", id, NULL);
}

/* The password: --password-file F (first line) or ONETRIP_OPERATOR_PASSWORD.
 * Never argv, which other users can read in /proc. */
static char *read_password(const char *file)
{
    char *pw = NULL;
    const char *env = getenv("ONETRIP_OPERATOR_PASSWORD");
    size_t n;

    if (file != NULL) {
        pw = cli_read_file("operator", file, 1024, NULL);
        if (pw == NULL)
            return NULL;
        pw[strcspn(pw, "\r\n")] = '\0';
    } else if (env != NULL) {
        pw = app_strdup(env);
    } else {
        fprintf(stderr, "onetripd operator: give the password in ONETRIP_OPERATOR_PASSWORD or --password-file\n");
        return NULL;
    }
    n = strlen(pw);
    if (n < 8 || n > 256) {
        fprintf(stderr, "onetripd operator: the password must be 8 to 256 characters\n");
        memset(pw, 0, n);
        free(pw);
        return NULL;
    }
    return pw;
}

#define OPERATOR_USAGE                                                                             \
    "operator add USERNAME --name N --roles window,supervisor,reviewer,auditor,admin,inspector "  \
    "--outlet CODE [--password-file F] (or env ONETRIP_OPERATOR_PASSWORD) | "                     \
    "operator disable|enable|unlock USERNAME"

static int operator_cmd(db_conn *c, int argc, char **argv)
{
    static const char *const valued[] = {"--name", "--roles", "--outlet", "--password-file", NULL};
    cli_args a;
    cli_op op = {.cmd = "operator"};
    const char *outlet;
    char *pw = NULL, *hash = NULL;
    int rc = CLI_EXIT_USAGE;

    if (cli_args_parse("operator", argc, argv, valued, NULL, &a) != 0 || a.npos != 2)
        return cli_usage(OPERATOR_USAGE);
    op.a = a.pos[1];
    if (a.nopt == 0 && (strcmp(a.pos[0], "disable") == 0 || strcmp(a.pos[0], "enable") == 0 ||
                        strcmp(a.pos[0], "unlock") == 0)) {
        op.i = a.pos[0][0] == 'd' ? 0 : a.pos[0][0] == 'e' ? 1 : 2;
        rc = run(c, &op, "operator", operator_change_tx);
        if (rc == 0)
            printf("operator %s %sd\n", op.a, a.pos[0][0] == 'u' ? "unlocke" : a.pos[0]);
        return rc;
    }
    if (strcmp(a.pos[0], "add") != 0)
        return cli_usage(OPERATOR_USAGE);
    op.b = cli_args_get(&a, "--name");
    op.i = identity_roles_parse(cli_args_get(&a, "--roles"));
    outlet = cli_args_get(&a, "--outlet");
    if (!identity_name_ok(op.a, 64) || op.b == NULL || op.b[0] == '\0' || strlen(op.b) > 64 ||
        op.i == 0 || outlet == NULL || strlen(outlet) > 32) {
        fprintf(stderr, "onetripd operator: USERNAME ([A-Za-z0-9._-]), --name, known --roles and "
                        "--outlet are required\n");
        return cli_usage(OPERATOR_USAGE);
    }
    pw = read_password(cli_args_get(&a, "--password-file"));
    if (pw == NULL)
        return CLI_EXIT_USAGE;
    if (crypto_password_hash(pw, CRYPTO_PBKDF2_ITERATIONS, &hash) != 0) {
        fprintf(stderr, "onetripd operator: cannot hash the password\n");
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    op.c = hash;
    op.d = outlet;
    rc = run(c, &op, "operator with this username", operator_add_tx);
    if (rc == CLI_EXIT_OK)
        printf("%lld\n", (long long)op.id);
done:
    memset(pw, 0, strlen(pw));
    free(pw);
    free(hash);
    return rc;
}

/* ---- partner ------------------------------------------------------------- */

static int partner_add_tx(db_conn *c, void *arg)
{
    cli_op *op = arg;
    int64_t outlet = 0;
    uint64_t id = 0;
    /* a = name, b = type, c = outlet code */
    if (find_id(c, op, SQL_OUTLET_ID, DB_STR(op->c), "outlet", op->c, &outlet, NULL) != 0)
        return -1;
    if (db_exec(c, SQL_PARTNER_ADD, DBP(DB_STR(op->a), DB_STR(op->b), DB_I64(outlet)), NULL, &id) != 0)
        return -1;
    op->id = (int64_t)id;
    return audit_cli(c, "partner.add", "partner", op->id,
                     json_pack("{sssssI}", "name", op->a, "type", op->b, "outlet_id", (json_int_t)outlet));
}

static int cert_add_tx(db_conn *c, void *arg)
{
    cli_op *op = arg;
    int64_t pid = 0;
    /* a = partner name, b = fingerprint */
    if (find_id(c, op, SQL_PARTNER_ID, DB_STR(op->a), "partner", op->a, &pid, NULL) != 0)
        return -1;
    if (db_exec(c, SQL_CERT_ADD, DBP(DB_STR(op->b), DB_I64(pid)), NULL, NULL) != 0)
        return -1;
    op->id = pid;
    return audit_cli(c, "partner.cert_add", "partner", pid, json_pack("{ss}", "sha256", op->b));
}

static int cert_revoke_tx(db_conn *c, void *arg)
{
    cli_op *op = arg;
    int64_t pid = 0;
    if (find_id(c, op, SQL_CERT_ID, DB_STR(op->a), "certificate", op->a, &pid, NULL) != 0)
        return -1;
    if (db_exec(c, SQL_CERT_REVOKE, DBP(DB_STR(op->a)), NULL, NULL) != 0)
        return -1;
    return audit_cli(c, "partner.cert_revoke", "partner", pid, json_pack("{ss}", "sha256", op->a));
}

typedef struct hmac_op {
    cli_op op;
    char key_id[40];
    char secret[65];
} hmac_op;

static int hmac_tx(db_conn *c, void *arg)
{
    hmac_op *h = arg;
    cli_op *op = &h->op;
    int64_t pid = 0;
    bool has = false;
    unsigned char *sealed = NULL;
    size_t slen = 0;
    int rc = -1;

    if (find_id(c, op, SQL_PARTNER_ID_HMAC, DB_STR(op->a), "partner", op->a, &pid, &has) != 0)
        return -1;
    if (has && op->i == 0) {
        op->exit = CLI_EXIT_EXISTS;
        snprintf(op->msg, sizeof op->msg, "partner %s already has an HMAC key (use --rotate to replace it)",
                 op->a);
        return -1;
    }
    if (pii_seal(PARTNER_HMAC_PURPOSE, h->secret, &sealed, &slen) != 0) {
        snprintf(op->msg, sizeof op->msg, "cannot seal the secret (check pii.keys)");
        return -1;
    }
    if (db_exec(c, SQL_PARTNER_HMAC, DBP(DB_STR(h->key_id), DB_BLOB(sealed, slen), DB_I64(pid)), NULL,
                NULL) != 0)
        goto done;
    op->id = pid;
    /* The key id only: the secret is never written anywhere in clear. */
    rc = audit_cli(c, has ? "partner.hmac_rotate" : "partner.hmac_set", "partner", pid,
                   json_pack("{ss}", "key_id", h->key_id));
done:
    free(sealed);
    return rc;
}

#define PARTNER_USAGE                                                                              \
    "partner add NAME --type post|insurer|hospital|court|dealer|agency|station --outlet CODE | "  \
    "partner cert add NAME --cert FILE.pem | partner cert revoke SHA256 | partner hmac NAME [--rotate]"

static int partner_cmd(db_conn *c, int argc, char **argv)
{
    static const char *const valued[] = {"--type", "--outlet", "--cert", NULL};
    static const char *const flags[] = {"--rotate", NULL};
    cli_args a;
    cli_op op = {.cmd = "partner"};
    hmac_op h = {.op = {.cmd = "partner"}};
    char fp[65], *pem = NULL;
    size_t len = 0;
    int rc = CLI_EXIT_USAGE;

    if (cli_args_parse("partner", argc, argv, valued, flags, &a) != 0 || a.npos < 2)
        return cli_usage(PARTNER_USAGE);
    if (a.npos == 2 && strcmp(a.pos[0], "add") == 0 && cli_args_get(&a, "--cert") == NULL &&
        cli_args_get(&a, "--rotate") == NULL) {
        op.a = a.pos[1];
        op.b = cli_args_get(&a, "--type");
        op.c = cli_args_get(&a, "--outlet");
        if (!identity_name_ok(op.a, 64) || auth_partner_type_bit(op.b) == 0 || op.c == NULL ||
            strlen(op.c) > 32)
            return cli_usage(PARTNER_USAGE);
        rc = run(c, &op, "partner with this name", partner_add_tx);
        if (rc == 0)
            printf("%lld\n", (long long)op.id);
        return rc;
    }
    if (a.npos == 2 && strcmp(a.pos[0], "hmac") == 0 && cli_args_get(&a, "--cert") == NULL &&
        cli_args_get(&a, "--type") == NULL && cli_args_get(&a, "--outlet") == NULL) {
        unsigned char kid[8];
        h.op.a = a.pos[1];
        h.op.i = cli_args_get(&a, "--rotate") != NULL;
        if (crypto_random(kid, sizeof kid) != 0 || crypto_random_hex(32, h.secret) != 0) {
            fprintf(stderr, "onetripd partner: no randomness\n");
            return CLI_EXIT_FAIL;
        }
        memcpy(h.key_id, "pk_", 3);
        crypto_hex(kid, sizeof kid, h.key_id + 3);
        rc = run(c, &h.op, "key id", hmac_tx);
        if (rc == 0)
            printf("key_id=%s secret=%s\n", h.key_id, h.secret);
        memset(h.secret, 0, sizeof h.secret);
        return rc;
    }
    if (a.npos == 3 && strcmp(a.pos[0], "cert") == 0 && strcmp(a.pos[1], "add") == 0 &&
        cli_args_get(&a, "--cert") != NULL && cli_args_get(&a, "--type") == NULL &&
        cli_args_get(&a, "--outlet") == NULL && cli_args_get(&a, "--rotate") == NULL) {
        pem = cli_read_file("partner", cli_args_get(&a, "--cert"), 65536, &len);
        if (pem == NULL)
            return CLI_EXIT_FAIL;
        if (identity_cert_sha256(pem, len, fp) != 0) {
            fprintf(stderr, "onetripd partner: %s is not a PEM certificate\n", cli_args_get(&a, "--cert"));
            free(pem);
            return CLI_EXIT_USAGE;
        }
        free(pem);
        op.a = a.pos[2];
        op.b = fp;
        rc = run(c, &op, "certificate", cert_add_tx);
        if (rc == 0)
            printf("%s\n", fp);
        return rc;
    }
    if (a.npos == 3 && a.nopt == 0 && strcmp(a.pos[0], "cert") == 0 && strcmp(a.pos[1], "revoke") == 0) {
        if (strlen(a.pos[2]) != 64)
            return cli_usage(PARTNER_USAGE);
        op.a = a.pos[2];
        rc = run(c, &op, "certificate", cert_revoke_tx);
        if (rc == 0)
            printf("certificate %s revoked\n", op.a);
        return rc;
    }
    return cli_usage(PARTNER_USAGE);
}

const app_cmd identity_cmds[IDENTITY_NCMDS] = {
    {"client", CLIENT_USAGE, client_cmd},
    {"operator", OPERATOR_USAGE, operator_cmd},
    {"partner", PARTNER_USAGE, partner_cmd},
};
