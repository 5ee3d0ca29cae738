#!/usr/bin/env bash
# Registers the demo identities after migrate and seed, through the onetripd CLI:
#   - outlets (the seed's codes; added when missing),
#   - one app backend "demo-app" with an ES256 key made here by openssl,
#   - a few demo citizens with fixed (valid) ID numbers,
#   - operators window1, supervisor1, reviewer1, admin1 with generated passwords,
#   - one partner per type, with its client certificate from VAR_DIR/tls/partner-<type>.crt
#     and an HMAC key.
# The demo citizens use region 330111, which `onetripd seed` never generates.
# Secrets go to VAR_DIR/demo/credentials.txt (mode 600) and are printed at the end.
#
#   ops/lib/demo.sh VAR_DIR [CONFIG]
#
# CONFIG defaults to $ONETRIP_CONFIG (ops/run sets it, and ONETRIPD). Re-runnable: what is
# already registered (the CLI exits 3) is kept, with the secrets from the first run.
set -euo pipefail

VAR_DIR="${1:?usage: ops/lib/demo.sh VAR_DIR [CONFIG]}"
CONFIG="${2:-${ONETRIP_CONFIG:-}}"
ONETRIPD="${ONETRIPD:-build/onetripd}"
[[ -n "$CONFIG" ]] || { echo "demo.sh: no config (give CONFIG or set ONETRIP_CONFIG)" >&2; exit 2; }
[[ -x "$ONETRIPD" ]] || { echo "demo.sh: $ONETRIPD is not executable (set ONETRIPD)" >&2; exit 2; }

DEMO="$VAR_DIR/demo"
CREDS="$DEMO/credentials.txt"
TLS="$VAR_DIR/tls"
umask 077
mkdir -p "$DEMO"
chmod 700 "$DEMO"
touch "$CREDS"
chmod 600 "$CREDS"

OUT="$(mktemp)"
ERR="$(mktemp)"
trap 'rm -f "$OUT" "$ERR"' EXIT

# otd ARGS...: run onetripd; 0 = done, 3 = already there (both fine), else fail loudly.
# stdout of the command is left in $OUT.
otd() {
    local rc=0
    "$ONETRIPD" "$@" --config "$CONFIG" >"$OUT" 2>"$ERR" || rc=$?
    if ((rc != 0 && rc != 3)); then
        echo "demo.sh: onetripd $1 $2 failed (exit $rc):" >&2
        cat "$ERR" >&2
        exit 1
    fi
    return "$rc"
}

cred_get() {
    local line
    line="$(grep -m1 "^$1=" "$CREDS" || true)"
    printf '%s' "${line#*=}"
}

cred_set() {
    local tmp
    tmp="$(mktemp "$DEMO/.cred.XXXXXX")"
    grep -v "^$1=" "$CREDS" >"$tmp" || true
    printf '%s=%s\n' "$1" "$2" >>"$tmp"
    mv "$tmp" "$CREDS"
    chmod 600 "$CREDS"
}

# ---- outlets (codes as in `onetripd seed`) --------------------------------------------------
declare -A OUTLET=(
    [window]=W-HZ-001 [post]=P-HZ-001 [insurer]=I-HZ-001 [hospital]=H-HZ-001
    [court]=C-HZ-001 [dealer]=D-HZ-001 [station]=S-HZ-001 [agency]=A-HZ-001
)
declare -A OUTLET_NAME=(
    [window]="车管所一窗口" [post]="湖滨邮政支局" [insurer]="人保财险杭州市分公司"
    [hospital]="浙大一院" [court]="杭州市中级人民法院" [dealer]="元通大众" [station]="华通机动车检测"
    [agency]="杭州市公安局交通警察支队"
)
for type in window post insurer hospital court dealer station agency; do
    otd outlet add --code "${OUTLET[$type]}" --name "${OUTLET_NAME[$type]}" --type "$type" --city 杭州 || true
done

# ---- app backend ---------------------------------------------------------------------------
APP_KEY="$DEMO/demo-app.key"
APP_PUB="$DEMO/demo-app.pub.pem"
APP_KID="demo-app-1"
if [[ ! -s "$APP_KEY" ]]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$APP_KEY" 2>/dev/null
    chmod 600 "$APP_KEY"
fi
openssl pkey -in "$APP_KEY" -pubout -out "$APP_PUB" 2>/dev/null
otd client add demo-app || true
otd client key add demo-app --kid "$APP_KID" --alg ES256 --pem "$APP_PUB" || true
cred_set app.client demo-app
cred_set app.kid "$APP_KID"
cred_set app.private_key "$APP_KEY"

# ---- citizens (fixed, valid GB 11643 numbers; demo data only) ----------------------------------
CITIZENS=(
    "张三|330111198503150017|1985-03-15|13800000001"
    "李四|330111199007220025|1990-07-22|13800000002"
    "王五|330111197801010034|1978-01-01|13800000003"
    "赵六|330111200002290046|2000-02-29|13800000004"
)
for entry in "${CITIZENS[@]}"; do
    IFS='|' read -r name idn birth phone <<<"$entry"
    otd citizen add --name "$name" --id-number "$idn" --birth "$birth" --phone "$phone" || true
    cred_set "citizen.$idn" "$name (id $(tr -d '\n' <"$OUT"))"
done

# ---- the first demo citizen drives: a licence and a car, for the tour ------------------------
# (no CLI for these yet: plain SQL as root, only when ops/run passes the socket; DEMO_DB_NAME
# names the database when it is not onetrip, as for the README tour's test)
if [[ -n "${DEMO_DB_SOCKET:-}" ]]; then
    cid="$(cred_get citizen.330111198503150017 | sed -E 's/.*\(id ([0-9]+)\).*/\1/')"
    if [[ "$cid" =~ ^[0-9]+$ ]]; then
        mariadb -S "$DEMO_DB_SOCKET" -uroot "${DEMO_DB_NAME:-onetrip}" <<SQL
INSERT IGNORE INTO licences (citizen_id, file_no, classes, points, cycle_start, status, valid_from,
  valid_until, created_at)
VALUES ($cid, '330111000001', 'C1', 0, '2026-03-15', 'valid', '2020-03-15', '2030-03-15', UTC_TIMESTAMP(3));
INSERT IGNORE INTO vehicles (plate, vin, engine_no, vehicle_type, class_required, brand, model,
  owner_citizen_id, status, next_inspection_date, registered_at)
VALUES ('浙A0D001', '1M8GDM9AXKP042788', 'EDEMO00001', 'K33', 'C1', '大众', '朗逸', $cid, 'normal',
  '2027-06-01', UTC_TIMESTAMP(3));
SQL
    fi
fi

# ---- operators -------------------------------------------------------------------------------
declare -A OP_ROLES=([window1]=window [supervisor1]=supervisor [reviewer1]=reviewer [admin1]=admin)
for user in window1 supervisor1 reviewer1 admin1; do
    pw="$(cred_get "operator.$user")"
    [[ -n "$pw" ]] || pw="$(openssl rand -hex 12)"
    if ONETRIP_OPERATOR_PASSWORD="$pw" otd operator add "$user" --name "$user" \
        --roles "${OP_ROLES[$user]}" --outlet "${OUTLET[window]}"; then
        cred_set "operator.$user" "$pw"
    elif [[ -z "$(cred_get "operator.$user")" ]]; then
        echo "demo.sh: operator $user exists but its password is not in $CREDS" >&2
    fi
done

# ---- partners ----------------------------------------------------------------------------------
for type in post insurer hospital court dealer agency station; do
    pname="demo-$type"
    otd partner add "$pname" --type "$type" --outlet "${OUTLET[$type]}" || true
    if [[ -s "$TLS/partner-$type.crt" ]]; then
        otd partner cert add "$pname" --cert "$TLS/partner-$type.crt" || true
        cred_set "partner.$type.cert" "$TLS/partner-$type.crt"
        cred_set "partner.$type.key" "$TLS/partner-$type.key"
    fi
    if [[ -z "$(cred_get "partner.$type.hmac_secret")" ]]; then
        # A key made by an earlier run whose secret was lost is replaced.
        rotate=()
        otd partner hmac "$pname" || rotate=(--rotate)
        if ((${#rotate[@]})); then
            otd partner hmac "$pname" --rotate
        fi
        line="$(cat "$OUT")"
        key_id="${line#key_id=}"
        key_id="${key_id%% *}"
        cred_set "partner.$type.hmac_key_id" "$key_id"
        cred_set "partner.$type.hmac_secret" "${line##*secret=}"
    fi
done

# ---- summary -----------------------------------------------------------------------------------
cat >&2 <<EOT

onetrip demo identities (kept in $CREDS, mode 600):
  app backend  demo-app, kid $APP_KID, ES256 private key $APP_KEY
               (tokens: iss=demo-app aud=onetrip sub=<citizen ID number>, exp <= 10 min)
$(for entry in "${CITIZENS[@]}"; do IFS='|' read -r n i _ _ <<<"$entry"; printf '  citizen      %s  %s\n' "$n" "$i"; done)
$(for u in window1 supervisor1 reviewer1 admin1; do printf '  operator     %-12s password %s\n' "$u" "$(cred_get "operator.$u")"; done)
$(for t in post insurer hospital court dealer agency station; do printf '  partner      demo-%-9s cert %s  hmac key %s\n' "$t" "$TLS/partner-$t.crt" "$(cred_get "partner.$t.hmac_key_id")"; done)
  partner HMAC secrets: in $CREDS (partner.<type>.hmac_secret)
EOT
