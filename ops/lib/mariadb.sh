# shellcheck shell=bash
# A private MariaDB instance in a directory of our own: no system service, no TCP port.
#
#   mdb_start DIR [MARIADBD_ARG...]
#                   create DIR/data on first use and start mariadbd on DIR/mysqld.sock;
#                   reuses an instance already running for DIR; returns once it answers.
#                   Extra arguments follow the defaults, so they override them (ops/bench:
#                   binary log, sync_binlog, a larger buffer pool)
#   mdb_stop DIR    shut it down (SQL shutdown, then SIGKILL after 30 s); no-op if not running
#   mdb_sock DIR    print the socket path (absolute)
#
# Layout: DIR/data DIR/tmp DIR/mysqld.sock DIR/mysqld.pid DIR/error.log DIR/install.log
# root connects through the socket with unix_socket authentication (no password).

# shellcheck source=ops/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Longest path that fits sun_path (108 bytes with the terminating NUL) with a byte to spare.
_MDB_SOCK_MAX=106

_mdb_dir() {
    local dir="${1:?DIR required}"
    realpath -m -- "$dir"
}

mdb_sock() {
    local sock
    sock="$(_mdb_dir "$1")/mysqld.sock"
    if ((${#sock} > _MDB_SOCK_MAX)); then
        log "error: MariaDB socket path is ${#sock} bytes, over the Unix socket limit ($_MDB_SOCK_MAX): $sock"
        log "error: use a shorter directory"
        return 1
    fi
    printf '%s\n' "$sock"
}

# _mdb_alive PID: the process exists and is not a zombie waiting to be reaped.
_mdb_alive() {
    local state
    state="$(sed -e 's/^.*) //' -e 's/ .*//' "/proc/$1/stat" 2>/dev/null)" || return 1
    [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# _mdb_pid DIR: print the pid of the mariadbd serving DIR, if one is alive.
_mdb_pid() {
    local dir="$1" pid
    [[ -f "$dir/mysqld.pid" ]] || return 1
    pid="$(tr -dc '0-9' <"$dir/mysqld.pid")"
    [[ -n "$pid" ]] || return 1
    _mdb_alive "$pid" || return 1
    # Guard against a recycled pid: it must be a mariadbd using our datadir.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--datadir=$dir/data" || return 1
    printf '%s\n' "$pid"
}

_mdb_ping() {
    mariadb --no-defaults -S "$1" -uroot --connect-timeout=2 -e 'SELECT 1' >/dev/null 2>&1
}

_mdb_fail() {
    local dir="$1"
    shift
    log "error: $*"
    if [[ -f "$dir/error.log" ]]; then
        log "last lines of $dir/error.log:"
        tail -n 30 "$dir/error.log" >&2
    fi
    return 1
}

mdb_start() {
    local dir sock pid i
    dir="$(_mdb_dir "$1")"
    shift
    sock="$(mdb_sock "$dir")" || return 1
    mkdir -p "$dir" || return 1

    if pid="$(_mdb_pid "$dir")"; then
        # Running already (or still starting): wait for it to answer.
        for ((i = 0; i < 300; i++)); do
            if _mdb_ping "$sock"; then
                log "MariaDB already running for $dir (pid $pid)"
                return 0
            fi
            _mdb_alive "$pid" || break
            sleep 0.1
        done
        _mdb_pid "$dir" >/dev/null && { _mdb_fail "$dir" "MariaDB (pid $pid) for $dir does not answer"; return 1; }
    fi
    rm -f "$dir/mysqld.pid" "$sock" "$sock.lock"

    if [[ ! -d "$dir/data/mysql" ]]; then
        log "initialising MariaDB data directory $dir/data"
        rm -rf "$dir/data.new"
        if ! mariadb-install-db --no-defaults --datadir="$dir/data.new" --user=root \
            --auth-root-authentication-method=socket --skip-test-db >"$dir/install.log" 2>&1; then
            tail -n 30 "$dir/install.log" >&2
            rm -rf "$dir/data.new"
            log "error: mariadb-install-db failed (log: $dir/install.log)"
            return 1
        fi
        rm -rf "$dir/data"
        mv "$dir/data.new" "$dir/data"
    fi

    log "starting MariaDB in $dir"
    # A tmpdir of its own: at start-up mariadbd deletes every "#sql*" file in its tmpdir,
    # which in the shared /tmp are the on-disk temporary tables of every other MariaDB on
    # the machine (their queries then fail with "Error on delete of '/tmp/#sql-temptable...").
    mkdir -p "$dir/tmp" || return 1
    # setsid: own session and process group, so a Ctrl-C in the terminal reaches only our
    # scripts, whose traps then shut MariaDB down in order.
    setsid nohup mariadbd --no-defaults --datadir="$dir/data" --socket="$sock" --skip-networking \
        --tmpdir="$dir/tmp" \
        --user=root --pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" \
        --innodb-flush-log-at-trx-commit=1 --innodb-buffer-pool-size=256M "$@" \
        </dev/null >>"$dir/mariadbd.out" 2>&1 &
    local launcher=$! lrc="" dead_at=0

    for ((i = 0; i < 300; i++)); do
        if _mdb_ping "$sock"; then
            log "MariaDB ready on $sock"
            return 0
        fi
        # The launcher is mariadbd itself, unless setsid had to fork (caller with job control):
        # then it exits 0 at once and we follow mariadbd through its pid file.
        if [[ -z "$lrc" ]] && ! _mdb_alive "$launcher"; then
            if wait "$launcher" 2>/dev/null; then lrc=0; else lrc=$?; fi
            dead_at=$i
            if ((lrc != 0)); then
                _mdb_fail "$dir" "mariadbd exited during start-up (status $lrc)"
                return 1
            fi
        fi
        if [[ -n "$lrc" ]] && ((i - dead_at > 50)) && ! _mdb_pid "$dir" >/dev/null; then
            _mdb_fail "$dir" "mariadbd exited during start-up"
            return 1
        fi
        sleep 0.1
    done
    _mdb_fail "$dir" "MariaDB did not answer on $sock within 30 s"
    return 1
}

mdb_stop() {
    local dir sock pid i
    dir="$(_mdb_dir "$1")"
    pid="$(_mdb_pid "$dir")" || return 0
    sock="$dir/mysqld.sock"
    log "stopping MariaDB in $dir (pid $pid)"
    mariadb --no-defaults -S "$sock" -uroot --connect-timeout=5 -e shutdown >/dev/null 2>&1 \
        || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
        _mdb_alive "$pid" || return 0
        sleep 0.1
    done
    log "MariaDB (pid $pid) still running after 30 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        _mdb_alive "$pid" || return 0
        sleep 0.1
    done
    log "error: could not stop MariaDB pid $pid"
    return 1
}
