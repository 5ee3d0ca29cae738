# shellcheck shell=bash
# Common helpers for the onetrip operations scripts. Source it; it sets no shell options.
#
#   log MSG...                 message to stderr, prefixed "onetrip:"
#   die MSG...                 log and exit 1
#   need_root                  die unless running as root
#   ensure_packages PKG...     install the Debian packages that are missing (fast when none is),
#                              without upgrades, starting or enabling no system service
#   ensure_test_packages       ensure_packages for the test-only set, then make sure the install
#                              did not leave a prometheus server running
#   build_dir DIR [CMAKE_ARG...]  configure (RelWithDebInfo) and build the repository into DIR
#   npm_install_tests          npm ci in tests/ unless node_modules matches package-lock.json
#                              (serialised between concurrent runs by tests/.npm.lock)
#   gen_secret_hex N           N random bytes as 2N lower-case hex characters (openssl rand -hex N)
#
# ONETRIP_ROOT is the repository root (derived from this file's location).

if [[ -n "${_ONETRIP_COMMON_SH:-}" ]]; then
    return 0
fi
_ONETRIP_COMMON_SH=1

ONETRIP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Packages needed to build and run onetripd.
# shellcheck disable=SC2034 # used by the scripts that source this file
ONETRIP_BASE_PACKAGES=(
    build-essential cmake pkg-config libevent-dev libmariadb-dev mariadb-server mariadb-client
    libjwt-dev libjansson-dev check libssl-dev openssl curl ca-certificates libcurl4-openssl-dev zlib1g-dev
)
# Extra packages needed by ops/test (node test runner, redocly, promtool, jq for the README
# tour's test; clang and its runtime libraries, libFuzzer included, for tests/fuzz).
# shellcheck disable=SC2034
ONETRIP_TEST_PACKAGES=(nodejs npm prometheus jq clang libclang-rt-14-dev)

log() {
    printf 'onetrip: %s\n' "$*" >&2 || true # never fatal: stderr may be a closed pipe
}

die() {
    log "error: $*"
    exit 1
}

need_root() {
    [[ "$(id -u)" -eq 0 ]] || die "this must run as root (try: sudo $0)"
}

# _pkg_present NAME: installed, or provided by an installed package (e.g. nodesource's nodejs
# provides npm; installing Debian's npm over it would replace that nodejs).
_pkg_present() {
    local status
    status="$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null || true)"
    [[ "$status" == ii* ]] && return 0
    if [[ -z "${_ONETRIP_PROVIDED+x}" ]]; then
        _ONETRIP_PROVIDED="$(dpkg-query -W -f='${db:Status-Abbrev}|${Provides}\n' 2>/dev/null \
            | awk -F'|' '$1 ~ /^ii/ { n = split($2, a, /, */); for (i = 1; i <= n; i++) { sub(/ .*/, "", a[i]); if (a[i] != "") print a[i] } }' \
            | sort -u || true)"
    fi
    grep -qxF -- "$1" <<<"$_ONETRIP_PROVIDED"
}

# Where the install helpers look (overridable for tests/ops/ensure_packages.sh only).
_ONETRIP_POLICY_RC_D="${ONETRIP_POLICY_RC_D:-/usr/sbin/policy-rc.d}"
_ONETRIP_SYSTEMD_ETC="${ONETRIP_SYSTEMD_ETC:-/etc/systemd/system}"
_ONETRIP_POLICY_MARK='# onetrip: temporary, removed after the install'

# _unit_links: the enablement symlinks of system units ("<dir>.wants/<unit>" and the like).
_unit_links() {
    [[ -d "$_ONETRIP_SYSTEMD_ETC" ]] || return 0
    find "$_ONETRIP_SYSTEMD_ETC" -mindepth 2 -maxdepth 2 -type l 2>/dev/null | sort
}

# _policy_rc_d_install: make invoke-rc.d and deb-systemd-invoke refuse to start anything (101)
# while packages install; mariadb-server's postinst would otherwise start mariadb.service. An
# existing policy-rc.d is the host's own policy and is left as it is. Prints 1 when it wrote
# the file (the caller removes it), 0 otherwise.
_policy_rc_d_install() {
    local f="$_ONETRIP_POLICY_RC_D"
    if [[ -e "$f" ]] && ! grep -qxF -- "$_ONETRIP_POLICY_MARK" "$f" 2>/dev/null; then
        echo 0
        return 0
    fi
    if ! printf '#!/bin/sh\n%s\nexit 101\n' "$_ONETRIP_POLICY_MARK" >"$f.onetrip.tmp" \
        || ! chmod 755 "$f.onetrip.tmp" || ! mv -f "$f.onetrip.tmp" "$f"; then
        rm -f "$f.onetrip.tmp"
        return 1
    fi
    echo 1
}

_policy_rc_d_remove() {
    local f="$_ONETRIP_POLICY_RC_D"
    grep -qxF -- "$_ONETRIP_POLICY_MARK" "$f" 2>/dev/null && rm -f -- "$f"
    return 0
}

# _disable_new_units BEFORE AFTER: a package's postinst enables its units
# (deb-systemd-helper enable) even when policy-rc.d keeps them from starting. Disable every
# unit whose enablement link appeared during the install, so system services stay as they
# were (a private MariaDB needs no mariadb.service). deb-systemd-helper also records the
# unit as disabled, so a later upgrade of the package does not enable it again.
_disable_new_units() {
    local link unit
    local -A seen=()
    while IFS= read -r link; do
        [[ -n "$link" ]] || continue
        unit="$(basename -- "$link")"
        [[ -z "${seen[$unit]:-}" ]] || continue
        seen[$unit]=1
        log "disabling $unit, enabled by the package install (onetrip uses none of it)"
        if command -v deb-systemd-helper >/dev/null; then
            deb-systemd-helper disable "$unit" >/dev/null 2>&1 || true
        fi
        if [[ -L "$link" ]] && command -v systemctl >/dev/null; then
            systemctl disable "$unit" >/dev/null 2>&1 || true
        fi
        [[ -L "$link" ]] && rm -f -- "$link"
    done < <(comm -13 <(printf '%s\n' "$1") <(printf '%s\n' "$2"))
    return 0
}

# ensure_packages PKG...: install the packages that are missing, and change nothing else:
# no upgrade of anything installed (--no-upgrade: a listed package that is present stays as
# it is; we list only missing ones anyway), no recommends, no service started (policy-rc.d)
# or left enabled (_disable_new_units). Never runs apt-get upgrade.
ensure_packages() {
    local p missing=() wrote links_before links_after rc=0
    for p in "$@"; do
        _pkg_present "$p" || missing+=("$p")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        return 0
    fi
    log "installing missing packages: ${missing[*]}"
    if [[ -z "${_ONETRIP_APT_UPDATED:-}" ]]; then
        apt-get -o DPkg::Lock::Timeout=600 update -q || die "apt-get update failed"
        _ONETRIP_APT_UPDATED=1
    fi
    links_before="$(_unit_links)"
    wrote="$(_policy_rc_d_install)" || die "cannot write $_ONETRIP_POLICY_RC_D"
    (
        # removed however the install ends (failure, Ctrl-C)
        trap '[[ "$wrote" == 1 ]] && _policy_rc_d_remove' EXIT
        trap 'exit 130' INT TERM
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
            --no-upgrade --no-install-recommends "${missing[@]}"
    ) || rc=$?
    links_after="$(_unit_links)"
    _disable_new_units "$links_before" "$links_after"
    ((rc == 0)) || die "apt-get install ${missing[*]} failed"
    unset _ONETRIP_PROVIDED
}

ensure_test_packages() {
    local before after pid
    before="$(pgrep -x prometheus || true)"
    ensure_packages "${ONETRIP_TEST_PACKAGES[@]}"
    command -v promtool >/dev/null || die "promtool not found after installing prometheus"
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        die "node/npm not found after installing nodejs npm"
    fi
    # policy-rc.d normally keeps the packaged service from starting; if it did start, stop
    # only the prometheus processes that were not running before the install.
    after="$(pgrep -x prometheus || true)"
    for pid in $after; do
        if ! grep -qxF -- "$pid" <<<"$before"; then
            log "stopping prometheus (pid $pid) started by the package install"
            if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
                systemctl stop prometheus || true
            fi
            kill "$pid" 2>/dev/null || true
        fi
    done
}

build_dir() {
    local dir="$1"
    shift
    log "configuring $dir"
    cmake -S "$ONETRIP_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" || return 1
    log "building $dir"
    cmake --build "$dir" -j"$(nproc)" || return 1
}

gen_secret_hex() {
    local n="${1:?gen_secret_hex: byte count required}"
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "gen_secret_hex: bad byte count '$n'"
    openssl rand -hex "$n"
}

npm_install_tests() {
    local stamp="$ONETRIP_ROOT/tests/node_modules/.onetrip-lock.sha256" want
    want="$(sha256sum "$ONETRIP_ROOT/tests/package-lock.json" | cut -d' ' -f1)"
    (
        flock -w 600 9 || { log "error: timed out waiting for $ONETRIP_ROOT/tests/.npm.lock"; exit 1; }
        if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -d "$ONETRIP_ROOT/tests/node_modules"/@redocly ]]; then
            log "$ONETRIP_ROOT/tests/node_modules is up to date with package-lock.json"
            exit 0
        fi
        log "npm ci in tests/"
        (cd "$ONETRIP_ROOT/tests" && npm ci --no-audit --no-fund --loglevel=error) || exit 1
        echo "$want" >"$stamp"
    ) 9>"$ONETRIP_ROOT/tests/.npm.lock"
}
