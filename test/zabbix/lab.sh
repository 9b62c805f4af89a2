#!/usr/bin/env bash
# A real Zabbix 6.0 (Debian bookworm packages) on loopback, for end-to-end tests.
#
#   lab.sh start STATE_DIR   install if needed, create or reuse the database, start PostgreSQL,
#                            zabbix_server, php-fpm and nginx; print ZABBIX_URL=... and write
#                            STATE_DIR/env (ZABBIX_URL ZABBIX_PORT PG_PORT SERVER_PORT ...)
#   lab.sh reset STATE_DIR   stop zabbix_server, recreate the database from the pristine copy,
#                            start zabbix_server again (seconds)
#   lab.sh stop STATE_DIR    stop every daemon by its PID file
#   lab.sh install           only install the packages
#
# Root only, no systemd. Everything listens on 127.0.0.1 only. Web login Admin / zabbix.
# The Debian frontend reads its settings only from /etc/zabbix/zabbix.conf.php, so one lab per
# machine at a time; a zabbix.conf.php that lab.sh did not write is kept aside and put back by
# `stop`.
set -euo pipefail

PACKAGES=(postgresql zabbix-server-pgsql zabbix-frontend-php php8.2-fpm php8.2-pgsql nginx
          zabbix-agent)
FRONTEND_CONF=/etc/zabbix/zabbix.conf.php
MARK='// written by zpark test/zabbix/lab.sh'
SQL_DIR=/usr/share/zabbix-server-pgsql
DB=zabbix
DB_TEMPLATE=zabbix_pristine

# Loopback only: the server's webhooks and our curl calls must never go through a proxy.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

log() { printf 'lab: %s\n' "$*" >&2; }
die() { printf 'lab: FAIL: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

[[ $(id -u) == 0 ]] || die "run as root (the lab installs packages and starts daemons)"

# ---------------------------------------------------------------------------------------------
# Packages

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

install_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
    ((${#missing[@]})) || return 0
    log "installing ${missing[*]}"
    local t0 own_policy=0
    t0=$(now)
    # No daemon may start on its own during the install (no systemd here anyway).
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        own_policy=1
    fi
    local rc=0
    apt_install "${missing[@]}" || rc=$?
    if ((rc)); then
        log "install failed; apt-get update and retry"
        apt-get update -qq && rc=0 && apt_install "${missing[@]}" || rc=$?
    fi
    ((own_policy)) && rm -f /usr/sbin/policy-rc.d
    ((rc == 0)) || die "apt-get install ${missing[*]} failed"
    log "installed in $(since "$t0") s"
}

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >/dev/null
}

# ---------------------------------------------------------------------------------------------
# State, ports

set_paths() {
    [[ -n ${1:-} ]] || die "usage: lab.sh start|reset|stop STATE_DIR"
    [[ ${2:-} != create ]] || mkdir -p "$1"
    [[ -d $1 ]] || die "no lab state directory $1"
    STATE=$(cd "$1" && pwd)
    ENV_FILE=$STATE/env
    # Unix sockets (zabbix_server's IPC, php-fpm) need a short path.
    RUN=$STATE/run
    if ((${#RUN} > 60)); then RUN=/tmp/zpark-lab-$(printf '%s' "$STATE" | cksum | cut -d' ' -f1); fi
    SERVER_CONF=$STATE/zabbix_server.conf
    SCRIPTS=$STATE/alertscripts
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
}

# free_port LO HI [EXCLUDED...]: a port in [LO, HI] that nothing listens on (zabbix_server's
# ListenPort must be <= 32767, below the kernel's ephemeral range).
free_port() {
    python3 - "$@" <<'EOF'
import random, socket, sys
lo, hi = int(sys.argv[1]), int(sys.argv[2])
excluded = set(sys.argv[3:])
for _ in range(200):
    p = random.randint(lo, hi)
    if str(p) in excluded:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    sys.exit(0)
sys.exit("no free port")
EOF
}

load_env() {
    [[ -f $ENV_FILE ]] || return 1
    local k v
    while IFS='=' read -r k v; do
        case $k in
            ZABBIX_PORT | PG_PORT | SERVER_PORT | PG_DATA | RUN_DIR) printf -v "$k" '%s' "$v" ;;
        esac
    done <"$ENV_FILE"
    [[ -n ${ZABBIX_PORT:-} && -n ${PG_PORT:-} && -n ${SERVER_PORT:-} && -n ${PG_DATA:-} ]]
}

write_env() {
    cat >"$ENV_FILE" <<EOF
ZABBIX_URL=http://127.0.0.1:$ZABBIX_PORT
ZABBIX_PORT=$ZABBIX_PORT
PG_PORT=$PG_PORT
SERVER_PORT=$SERVER_PORT
ZABBIX_SERVER_CONF=$SERVER_CONF
ALERT_SCRIPTS_PATH=$SCRIPTS
PG_DATA=$PG_DATA
RUN_DIR=$RUN
EOF
}

# ---------------------------------------------------------------------------------------------
# Processes

# pid_alive PID NAME: PID runs and its command line names NAME (a stale PID file left by an
# earlier boot must not make us signal some other process).
pid_alive() {
    [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null &&
        tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q -- "$2"
}
pid_of() { [[ -s $1 ]] && head -n1 "$1" | tr -dc '0-9'; }

# stop_pid NAME PIDFILE: TERM, wait up to 15 s, then KILL.
stop_pid() {
    local name=$1 pid i
    pid=$(pid_of "$2" 2>/dev/null || true)
    if ! pid_alive "$pid" "$name"; then rm -f "$2"; return 0; fi
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do pid_alive "$pid" "$name" || break; sleep 0.1; done
    if pid_alive "$pid" "$name"; then
        log "$name ($pid) ignored TERM for 15 s; KILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
    fi
    rm -f "$2"
}

# wait_for SECONDS DESCRIPTION COMMAND...
wait_for() {
    local secs=$1 what=$2 i
    shift 2
    for ((i = 0; i < secs * 5; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    die "$what did not come up within $secs s"
}

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

as_postgres() { runuser -u postgres -- "$@"; }
psql_admin() { PGOPTIONS="-c client_min_messages=warning" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }

# ---------------------------------------------------------------------------------------------
# PostgreSQL

pg_init() {
    if [[ -f $PG_DATA/PG_VERSION ]]; then return 0; fi
    log "initdb $PG_DATA"
    mkdir -p "$PG_DATA"
    chown postgres:postgres "$PG_DATA"
    chmod 700 "$PG_DATA"
    as_postgres "$PGBIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$STATE/initdb.log" 2>&1 || { cat "$STATE/initdb.log" >&2; die "initdb failed"; }
    cat >>"$PG_DATA/postgresql.conf" <<EOF
# zpark lab
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
shared_buffers = 64MB
EOF
}

pg_start() {
    if pid_alive "$(pid_of "$PG_DATA/postmaster.pid" 2>/dev/null || true)" postgres; then return 0; fi
    as_postgres "$PGBIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 30 start >/dev/null ||
        { tail -n 20 "$PG_DATA/server.log" >&2; die "PostgreSQL did not start"; }
}

pg_stop() {
    [[ -n ${PG_DATA:-} && -f $PG_DATA/postmaster.pid ]] || return 0
    as_postgres "$PGBIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 15 stop >/dev/null 2>&1 ||
        stop_pid postgres "$PG_DATA/postmaster.pid"
}

db_exists() {
    [[ $(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = '$1'") == 1 ]]
}

db_create() {
    if db_exists "$DB_TEMPLATE"; then
        db_exists "$DB" || db_from_template
        return 0
    fi
    local t0
    t0=$(now)
    log "creating the Zabbix database"
    psql_admin -c "DROP DATABASE IF EXISTS $DB" \
        -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'zabbix')
                     THEN CREATE ROLE zabbix LOGIN; END IF; END \$\$" \
        -c "CREATE DATABASE $DB OWNER zabbix ENCODING 'UTF8' TEMPLATE template0"
    local f
    for f in schema images data; do
        zcat "$SQL_DIR/$f.sql.gz" |
            "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U zabbix "$DB" \
                >/dev/null || die "import of $f.sql.gz failed"
    done
    # Lab defaults: the stock "Zabbix server" host (10084) has no agent here; disable it so it
    # raises no problems.
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U zabbix "$DB" \
        -c "UPDATE hosts SET status = 1 WHERE hostid = 10084"
    db_analyze
    psql_admin -c "CREATE DATABASE $DB_TEMPLATE TEMPLATE $DB OWNER zabbix"
    log "database created in $(since "$t0") s"
}

db_from_template() {
    psql_admin -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                   WHERE datname = '$DB' AND pid <> pg_backend_pid()" >/dev/null
    psql_admin -c "DROP DATABASE IF EXISTS $DB" \
        -c "CREATE DATABASE $DB TEMPLATE $DB_TEMPLATE OWNER zabbix"
    db_analyze
}

# A freshly imported database has no planner statistics until autovacuum gets to it (a minute
# or more); until then the API's "monitored" trigger queries take minutes (a NOT EXISTS over
# every template trigger). A real installation is always analysed, so the lab is too (0.4 s).
db_analyze() {
    PGOPTIONS="-c client_min_messages=error" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 \
        -p "$PG_PORT" -U zabbix "$DB" -c "ANALYZE" \
        >/dev/null || die "ANALYZE of the Zabbix database failed"
}

# ---------------------------------------------------------------------------------------------
# Zabbix server, frontend

write_configs() {
    mkdir -p "$RUN" "$SCRIPTS" "$STATE/nginx"
    cat >"$SERVER_CONF" <<EOF
# zpark lab
ListenIP=127.0.0.1
ListenPort=$SERVER_PORT
SourceIP=127.0.0.1
PidFile=$STATE/zabbix_server.pid
LogFile=$STATE/zabbix_server.log
LogFileSize=0
DebugLevel=3
SocketDir=$RUN
DBHost=127.0.0.1
DBPort=$PG_PORT
DBName=$DB
DBUser=zabbix
AllowRoot=1
User=root
AlertScriptsPath=$SCRIPTS
ExternalScripts=$SCRIPTS
FpingLocation=/usr/bin/fping
CacheUpdateFrequency=5
StartPollers=2
StartPollersUnreachable=1
StartPingers=1
StartDiscoverers=1
StartHTTPPollers=1
StartTrappers=2
StartAlerters=3
StartEscalators=1
StartPreprocessors=2
StartLLDProcessors=1
StartReportWriters=0
HousekeepingFrequency=0
Timeout=10
EOF

    # Keep a zabbix.conf.php that we did not write (a real installation) and put it back on stop.
    if [[ -f $FRONTEND_CONF ]] && ! grep -qF "$MARK" "$FRONTEND_CONF"; then
        [[ -e $FRONTEND_CONF.zpark-lab-saved ]] || mv "$FRONTEND_CONF" "$FRONTEND_CONF.zpark-lab-saved"
    fi
    mkdir -p "$(dirname "$FRONTEND_CONF")"
    cat >"$FRONTEND_CONF" <<EOF
<?php
$MARK (state $STATE)
\$DB['TYPE'] = 'POSTGRESQL';
\$DB['SERVER'] = '127.0.0.1';
\$DB['PORT'] = '$PG_PORT';
\$DB['DATABASE'] = '$DB';
\$DB['USER'] = 'zabbix';
\$DB['PASSWORD'] = '';
\$DB['SCHEMA'] = '';
\$DB['ENCRYPTION'] = false;
\$DB['KEY_FILE'] = '';
\$DB['CERT_FILE'] = '';
\$DB['CA_FILE'] = '';
\$DB['VERIFY_HOST'] = false;
\$DB['CIPHER_LIST'] = '';
\$DB['VAULT_URL'] = '';
\$DB['VAULT_DB_PATH'] = '';
\$DB['VAULT_TOKEN'] = '';
\$DB['DOUBLE_IEEE754'] = true;
\$ZBX_SERVER = '127.0.0.1';
\$ZBX_SERVER_PORT = '$SERVER_PORT';
\$ZBX_SERVER_NAME = 'zpark-lab';
\$IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;
EOF
    chmod 644 "$FRONTEND_CONF"

    cat >"$STATE/php-fpm.conf" <<EOF
[global]
pid = $STATE/php-fpm.pid
error_log = $STATE/php-fpm.log
daemonize = yes

[zabbix]
user = root
group = root
listen = $RUN/php-fpm.sock
listen.mode = 0600
pm = dynamic
pm.max_children = 6
pm.start_servers = 2
pm.min_spare_servers = 1
pm.max_spare_servers = 3
catch_workers_output = yes
php_value[memory_limit] = 256M
php_value[post_max_size] = 16M
php_value[upload_max_filesize] = 2M
php_value[max_execution_time] = 300
php_value[max_input_time] = 300
php_value[date.timezone] = UTC
EOF

    cat >"$STATE/nginx.conf" <<EOF
user root;
worker_processes 1;
pid $STATE/nginx.pid;
error_log $STATE/nginx_error.log warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $STATE/nginx_access.log;
    client_body_temp_path $STATE/nginx/client_body;
    fastcgi_temp_path $STATE/nginx/fastcgi;
    proxy_temp_path $STATE/nginx/proxy;
    uwsgi_temp_path $STATE/nginx/uwsgi;
    scgi_temp_path $STATE/nginx/scgi;
    client_max_body_size 16m;
    server {
        listen 127.0.0.1:$ZABBIX_PORT;
        root /usr/share/zabbix;
        index index.php;
        location ~ [^/]\.php(/|\$) {
            fastcgi_split_path_info ^(.+?\.php)(/.*)\$;
            fastcgi_pass unix:$RUN/php-fpm.sock;
            fastcgi_index index.php;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_read_timeout 300;
        }
    }
}
EOF
}

server_start() {
    if pid_alive "$(pid_of "$STATE/zabbix_server.pid" 2>/dev/null || true)" zabbix_server; then return 0; fi
    # A clean environment: alert scripts inherit the server's (no proxies, no ZPARK_* leaking in).
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        zabbix_server -c "$SERVER_CONF" || die "zabbix_server did not start; see $STATE/zabbix_server.log"
    wait_for 30 "zabbix_server (trapper port $SERVER_PORT)" tcp_open "$SERVER_PORT"
}

server_stop() { stop_pid zabbix_server "$STATE/zabbix_server.pid"; }

php_fpm_bin() { ls /usr/sbin/php-fpm* 2>/dev/null | sort -V | tail -1; }

web_start() {
    if ! pid_alive "$(pid_of "$STATE/php-fpm.pid" 2>/dev/null || true)" php-fpm; then
        "$(php_fpm_bin)" -R -y "$STATE/php-fpm.conf" || die "php-fpm did not start; see $STATE/php-fpm.log"
    fi
    if ! pid_alive "$(pid_of "$STATE/nginx.pid" 2>/dev/null || true)" nginx; then
        nginx -e "$STATE/nginx_error.log" -c "$STATE/nginx.conf" ||
            die "nginx did not start; see $STATE/nginx_error.log"
    fi
}

api_version() {
    curl -sf --max-time 5 -H 'Content-Type: application/json-rpc' \
        -d '{"jsonrpc":"2.0","method":"apiinfo.version","params":{},"id":1}' \
        "http://127.0.0.1:$ZABBIX_PORT/api_jsonrpc.php" | grep -q '"result"'
}

# ---------------------------------------------------------------------------------------------
# Verbs

cmd_start() {
    local t0
    t0=$(now)
    install_packages
    set_paths "$1" create
    [[ -n $PGBIN ]] || die "PostgreSQL binaries not found under /usr/lib/postgresql"
    if ! load_env; then
        ZABBIX_PORT=$(free_port 20000 32000)
        PG_PORT=$(free_port 20000 32000 "$ZABBIX_PORT")
        SERVER_PORT=$(free_port 20000 32000 "$ZABBIX_PORT" "$PG_PORT")
        # PostgreSQL runs as user postgres: it must reach its data directory.
        chmod 755 "$STATE"
        if runuser -u postgres -- test -x "$STATE"; then
            PG_DATA=$STATE/pg
        else
            PG_DATA=/var/tmp/zpark-lab-pg-$(printf '%s' "$STATE" | cksum | cut -d' ' -f1)
        fi
    fi
    write_env
    pg_init
    pg_start
    db_create
    write_configs
    server_start
    web_start
    wait_for 60 "Zabbix API at http://127.0.0.1:$ZABBIX_PORT" api_version
    write_env
    log "running ($(since "$t0") s); state $STATE, env in $ENV_FILE"
    echo "ZABBIX_URL=http://127.0.0.1:$ZABBIX_PORT"
}

cmd_reset() {
    local t0
    t0=$(now)
    set_paths "$1"
    load_env || die "no lab in $STATE (run lab.sh start first)"
    server_stop
    pg_start
    db_from_template
    server_start
    web_start
    wait_for 30 "Zabbix API" api_version
    log "reset in $(since "$t0") s"
}

cmd_stop() {
    [[ -d ${1:-} ]] || { log "no lab in ${1:-(none given)}"; return 0; }
    set_paths "$1"
    load_env || { log "no lab in $STATE"; return 0; }
    stop_pid nginx "$STATE/nginx.pid"
    stop_pid php-fpm "$STATE/php-fpm.pid"
    server_stop
    pg_stop
    if [[ -f $FRONTEND_CONF ]] && grep -qF "(state $STATE)" "$FRONTEND_CONF"; then
        rm -f "$FRONTEND_CONF"
        [[ -e $FRONTEND_CONF.zpark-lab-saved ]] && mv "$FRONTEND_CONF.zpark-lab-saved" "$FRONTEND_CONF"
    fi
    log "stopped"
}

case ${1:-} in
    start) cmd_start "${2:-}" ;;
    reset) cmd_reset "${2:-}" ;;
    stop) cmd_stop "${2:-}" ;;
    install) install_packages ;;
    *) echo "usage: $0 start|reset|stop STATE_DIR | install" >&2; exit 2 ;;
esac
