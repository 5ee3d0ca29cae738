#!/usr/bin/env bash
# tests/ops/ensure_packages.sh: ensure_packages (ops/lib/common.sh) installs only what is
# missing, upgrades nothing, and starts or leaves enabled no system service.
#
# Runs as any user, touches nothing outside a scratch directory: apt-get, dpkg-query,
# deb-systemd-helper and systemctl are fakes on PATH that log their calls, and the
# policy-rc.d path and the systemd unit directory point into the scratch directory.
# The fake apt-get plays mariadb-server's postinst: it asks policy-rc.d whether it may start
# the service and enables mariadb.service (a .wants symlink), as the real one does.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
S="$(mktemp -d "${TMPDIR:-/tmp}/onetrip-ops-test.XXXXXX")"
trap 'rm -rf "$S"' EXIT
FAILS=0
fail() {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}
ok() { echo "ok: $*"; }

mkdir -p "$S/bin"
cat >"$S/bin/apt-get" <<'EOF'
#!/usr/bin/env bash
echo "apt-get $*" >>"$FAKE/calls.log"
install=0 pkgs=()
for a in "$@"; do
    case "$a" in
        install) install=1 ;;
        -o) ;;
        -*|*=*) ;;
        *) ((install)) && pkgs+=("$a") ;;
    esac
done
((install)) || exit 0
if [[ -x "$ONETRIP_POLICY_RC_D" ]]; then
    "$ONETRIP_POLICY_RC_D" mariadb start >/dev/null 2>&1 && rc=0 || rc=$?
    echo "policy_rc_d_exit=$rc" >>"$FAKE/calls.log"
else
    echo "policy_rc_d_exit=none" >>"$FAKE/calls.log"
fi
[[ -n "${FAKE_APT_FAIL:-}" ]] && exit 100
for p in "${pkgs[@]}"; do
    echo "$p" >>"$FAKE/installed"
    if [[ "$p" == mariadb-server ]]; then
        mkdir -p "$ONETRIP_SYSTEMD_ETC/multi-user.target.wants"
        ln -sf /lib/systemd/system/mariadb.service "$ONETRIP_SYSTEMD_ETC/multi-user.target.wants/mariadb.service"
    fi
done
EOF
cat >"$S/bin/dpkg-query" <<'EOF'
#!/usr/bin/env bash
# dpkg-query -W -f=FORMAT [PACKAGE]
pkg="${3:-}"
if [[ -z "$pkg" ]]; then
    exit 0 # the Provides listing: nothing provides anything here
fi
grep -qxF -- "$pkg" "$FAKE/installed" 2>/dev/null || exit 1
printf 'ii '
EOF
cat >"$S/bin/deb-systemd-helper" <<'EOF'
#!/usr/bin/env bash
echo "deb-systemd-helper $*" >>"$FAKE/calls.log"
if [[ "$1" == disable ]]; then
    find "$ONETRIP_SYSTEMD_ETC" -type l -name "$2" -delete
fi
EOF
cat >"$S/bin/systemctl" <<'EOF'
#!/usr/bin/env bash
echo "systemctl $*" >>"$FAKE/calls.log"
EOF
chmod +x "$S/bin/"*

# run_case NAME INSTALLED... -- WANTED...: a fresh fake host, then ensure_packages WANTED.
# Leaves the exit status in $S/rc and the host in $FAKE.
run_case() {
    local name="$1" installed=() wanted=()
    shift
    while [[ $# -gt 0 && "$1" != -- ]]; do installed+=("$1"); shift; done
    shift
    wanted=("$@")
    export FAKE="$S/$name"
    mkdir -p "$FAKE/systemd/multi-user.target.wants" "$FAKE/sbin"
    : >"$FAKE/calls.log"
    printf '%s\n' "${installed[@]}" >"$FAKE/installed"
    # a service the host had enabled before: must stay enabled
    ln -sf /lib/systemd/system/ssh.service "$FAKE/systemd/multi-user.target.wants/ssh.service"
    export ONETRIP_POLICY_RC_D="$FAKE/sbin/policy-rc.d" ONETRIP_SYSTEMD_ETC="$FAKE/systemd"
    set +e
    (
        PATH="$S/bin:$PATH"
        # shellcheck source=ops/lib/common.sh
        source "$ROOT/ops/lib/common.sh"
        ensure_packages "${wanted[@]}"
    ) >"$FAKE/out.log" 2>&1
    echo $? >"$S/rc"
    set -e
}

# 1. Everything present: apt-get is not run at all.
run_case present cmake mariadb-server -- cmake mariadb-server
[[ "$(cat "$S/rc")" == 0 ]] || fail "present: exit $(cat "$S/rc")"
if [[ -s "$FAKE/calls.log" ]]; then fail "present: ran $(cat "$FAKE/calls.log")"; else ok "nothing missing: apt-get not run"; fi

# 2. Two missing: only they are installed, without upgrades, with no service started or
#    left enabled; the host's own enabled service is untouched.
run_case missing cmake -- cmake mariadb-server curl
[[ "$(cat "$S/rc")" == 0 ]] || fail "missing: exit $(cat "$S/rc"): $(cat "$FAKE/out.log")"
inst="$(grep -E '^apt-get .*\binstall\b' "$FAKE/calls.log" || true)"
[[ "$(grep -c '' <<<"$inst")" == 1 && -n "$inst" ]] || fail "missing: expected one install call, got: $inst"
[[ "$inst" == *" --no-upgrade "* ]] || fail "missing: install without --no-upgrade: $inst"
[[ "$inst" == *" --no-install-recommends "* ]] || fail "missing: install with recommends: $inst"
[[ "$inst" == *" mariadb-server curl" ]] || fail "missing: installed the wrong list: $inst"
[[ "$inst" != *" cmake"* ]] || fail "missing: reinstalled a present package: $inst"
if grep -Eq '^apt-get( .*)? (upgrade|dist-upgrade|full-upgrade)( |$)' "$FAKE/calls.log"; then
    fail "missing: ran an upgrade: $(cat "$FAKE/calls.log")"
fi
grep -qx 'policy_rc_d_exit=101' "$FAKE/calls.log" \
    || fail "missing: services could start during the install ($(grep policy_rc_d "$FAKE/calls.log"))"
[[ ! -e "$ONETRIP_POLICY_RC_D" ]] || fail "missing: policy-rc.d left behind"
[[ ! -e "$FAKE/systemd/multi-user.target.wants/mariadb.service" ]] \
    || fail "missing: mariadb.service left enabled"
grep -qx 'deb-systemd-helper disable mariadb.service' "$FAKE/calls.log" \
    || fail "missing: mariadb.service not disabled through deb-systemd-helper"
[[ -L "$FAKE/systemd/multi-user.target.wants/ssh.service" ]] || fail "missing: touched ssh.service"
if grep -Eq '^systemctl .*\b(enable|start|restart)\b' "$FAKE/calls.log"; then
    fail "missing: enabled or started a unit: $(cat "$FAKE/calls.log")"
fi
((FAILS)) || ok "missing packages: installed alone, --no-upgrade, nothing started or enabled"

# 3. The host's own policy-rc.d is left exactly as it was.
export FAKE="$S/hostpolicy"
mkdir -p "$FAKE/sbin"
printf '#!/bin/sh\n# the host policy\nexit 101\n' >"$FAKE/sbin/policy-rc.d"
chmod 755 "$FAKE/sbin/policy-rc.d"
cp "$FAKE/sbin/policy-rc.d" "$S/policy.orig"
run_case hostpolicy -- curl
[[ "$(cat "$S/rc")" == 0 ]] || fail "hostpolicy: exit $(cat "$S/rc")"
cmp -s "$S/policy.orig" "$ONETRIP_POLICY_RC_D" || fail "hostpolicy: the host's policy-rc.d changed"
if grep -q '^apt-get .*install' "$FAKE/calls.log"; then ok "an existing policy-rc.d is kept"; else fail "hostpolicy: nothing installed"; fi

# 4. A failed install still removes the temporary policy-rc.d and fails.
FAKE_APT_FAIL=1 run_case aptfail -- mariadb-server
[[ "$(cat "$S/rc")" != 0 ]] || fail "aptfail: a failed install returned 0"
[[ ! -e "$ONETRIP_POLICY_RC_D" ]] || fail "aptfail: policy-rc.d left behind"
grep -q 'apt-get install mariadb-server failed' "$FAKE/out.log" || fail "aptfail: no message: $(cat "$FAKE/out.log")"
((FAILS)) || ok "a failed install cleans up and fails"

# 5. Static: no script upgrades packages or enables/starts a system service (comments aside).
bad="$(grep -rEn '(^|[;&|( ])apt(-get)?( +-o +[^ ]+| +-[^ ]+)* +(upgrade|dist-upgrade|full-upgrade)( |$)|systemctl +(enable|start|restart)( |$)' \
    "$ROOT/ops" "$ROOT/.ci" | grep -Ev '^[^:]+:[0-9]+: *#' || true)"
if [[ -n "$bad" ]]; then
    fail "static: an ops script upgrades packages or enables/starts a service: $bad"
else
    ok "no apt-get upgrade, no systemctl enable/start in ops/ and .ci/"
fi
if command -v shellcheck >/dev/null; then
    if shellcheck -x -P "$ROOT" "$ROOT/ops/run" "$ROOT/ops/test" "$ROOT"/ops/lib/*.sh "${BASH_SOURCE[0]}"; then
        ok "shellcheck ops/"
    else
        fail "shellcheck ops/"
    fi
else
    echo "skip: shellcheck not installed"
fi

if ((FAILS)); then
    echo "$FAILS check(s) failed" >&2
    exit 1
fi
echo "all ensure_packages checks passed"
