#!/usr/bin/env bash
# Runs inside the systemd container of systemd_boot_test.sh: follows docs/install.md (the
# snippets guide.py cut out of it, in /mnt/zpark-test/guide) and checks what each step made.
# /mnt/zpark-test/repo holds build/app/zpark and deploy/ as in a source tree.
set -euo pipefail
T=/mnt/zpark-test
G=$T/guide
DT_NAME=systemd_boot
. "$T/lib.sh"

# retry COMMAND...: the guide's curl lines; a service answers a moment after systemctl returns.
retry() {
    local i
    for ((i = 0; i < 50; i++)); do
        "$@" 2>/dev/null && return 0
        sleep 0.1
    done
    "$@"
}
# run_guide S-B: one snippet of the guide, as written, in a shell of its own with set -e; the
# guide's shell function zp (section 5) is defined for every snippet.
run_guide() {
    say "docs/install.md section ${1%-*}, commands: $(grep -c . "$G/$1.sh")"
    { declare -f retry; grep -h '^zp() ' "$G"/*.sh; echo 'set -e'; cat "$G/$1.sh"; } >"/tmp/guide-$1.sh"
    bash "/tmp/guide-$1.sh" >"/tmp/guide-$1.log" 2>&1 ||
        { cat "/tmp/guide-$1.log" >&2; fail "section $1 of the guide failed"; }
}
main_pid() { systemctl show -p MainPID --value zpark; }
token=$(sed -n 's/^ZPARK_API_TOKEN=//p' "$G/zpark.env.test")
# through_nginx PATH [curl args...]: the status code; the body in /tmp/out.
through_nginx() {
    local path=$1
    shift
    curl -sS --max-time 5 -o /tmp/out -w '%{http_code}' "$@" "https://zabbix.example.com/zpark$path"
}
post_alert() {  # post_alert SUBJECT: sets TASK
    expect "alert through nginx" 200 "$(through_nginx /api/v1/alert -H "Token: $token" \
        -H 'Content-Type: application/json' --data-binary "{\"to\":\"alice@example.com\",\"subject\":\"$1\"}")"
    TASK=$(jget taskid </tmp/out)
    [[ -n $TASK ]] || fail "no taskid in $(cat /tmp/out)"
}
task_state() {
    local code
    code=$(through_nginx "/api/v1/tasks/$1" -H "Token: $token")
    if [[ $code == 200 ]]; then jget state </tmp/out; else echo "$code"; fi
}

cd "$T/repo"
run_guide 2-1
run_guide 3-1
install -m 640 -o root -g zpark "$G/zpark.env.test" /etc/zpark/zpark.env   # the editor's part
run_guide 4-1
expect "zpark.service" active "$(systemctl is-active zpark)"
expect "socket" "660 zpark zpark" "$(stat -c '%a %U %G' /run/zpark/zpark.sock)"
expect "RuntimeDirectory" "750 zpark zpark" "$(stat -c '%a %U %G' /run/zpark)"
expect "StateDirectory" "700 zpark zpark" "$(stat -c '%a %U %G' /var/lib/zpark)"
expect "the outbox" "600 zpark" "$(stat -c '%a %U' /var/lib/zpark/outbox.sqlite3)"
pid=$(main_pid)
status=$(cat "/proc/$pid/status")
expect "uid" "$(id -u zpark)" "$(awk '/^Uid:/ { print $2 }' <<<"$status")"
expect "capabilities" 0000000000000000 "$(awk '/^CapEff:/ { print $2 }' <<<"$status")"
expect "NoNewPrivs" 1 "$(awk '/^NoNewPrivs:/ { print $2 }' <<<"$status")"
expect "seccomp (filter mode)" 2 "$(awk '/^Seccomp:/ { print $2 }' <<<"$status")"
# LimitNOFILE=8192, unless the container's own limit is lower.
hard=$(awk '/^Max open files/ { print $5 }' /proc/1/limits)
expect "open files limit" "$((hard < 8192 ? hard : 8192))" "$(awk '/^Max open files/ { print $4 }' "/proc/$pid/limits")"
nsenter -t "$pid" -m touch /usr/local/bin/zpark 2>/dev/null && fail "the service can write /usr"
nsenter -t "$pid" -m touch /var/lib/zpark/.rw-probe || fail "the service cannot write /var/lib/zpark"
rm -f /var/lib/zpark/.rw-probe
say "running as zpark, sandboxed: no capabilities, seccomp, read-only /usr, socket 0660 in group zpark"

run_guide 5-1
grep -q '^Settings are valid' "/tmp/guide-5-1.log" || fail "zp check: $(cat /tmp/guide-5-1.log)"
grep -q 'SPARK_TRUSTED_USERS *alice@example.com,@ops.example.com' "/tmp/guide-5-1.log" ||
    fail "zp check did not read the environment file: $(cat /tmp/guide-5-1.log)"

# What the editor and certbot do in section 6: the site's certificate at the paths of the
# shipped file; the name resolves here, and our test CA is trusted (in this container only).
mkdir -p /etc/letsencrypt/live/zabbix.example.com
install -m 644 "$T/site.pem" /etc/letsencrypt/live/zabbix.example.com/fullchain.pem
install -m 600 "$T/site.key" /etc/letsencrypt/live/zabbix.example.com/privkey.pem
echo '127.0.0.1 zabbix.example.com' >>/etc/hosts
install -m 644 "$T/ca.pem" /usr/local/share/ca-certificates/zpark-test.crt
update-ca-certificates >/dev/null 2>&1
run_guide 6-1
expect "nginx.service" active "$(systemctl is-active nginx)"
expect "ping through nginx" 200 "$(through_nginx /api/v1/ping -H "Token: $token")"
expect "ping answer" "Hello!" "$(jget hello </tmp/out)"
post_alert "Disk full under systemd"
task1=$TASK
delivered() { DT_LAST=$(task_state "$1"); [[ $DT_LAST == delivered ]]; }
wait_for 10 "task $task1 delivered" delivered "$task1"
in_journal() { grep -q -- "$1" <<<"$(journalctl -u zpark --no-pager)"; }
wait_for 5 "the alert in the journal" in_journal "Disk full under systemd"
say "through nginx (the shipped site, www-data in group zpark): ping, alert $task1 delivered (dry-run, in the journal)"

# Restart=on-failure: kill -9, and systemd starts it again; the outbox keeps the task.
old=$(main_pid)
kill -KILL "$old"
restarted() { [[ $(systemctl show -p NRestarts --value zpark) == 1 && $(systemctl is-active zpark) == active ]]; }
wait_for 10 "zpark restarted after kill -9" restarted
wait_for 5 "the task after the restart" delivered "$task1"
say "kill -9: restarted by systemd (pid $old → $(main_pid)), task still there"

run_guide 10-1
expect "after the upgrade" delivered "$(task_state "$task1")"

# Backup while running, one more alert, restore: the first task is back, the second is not.
run_guide 11-1
post_alert "After the backup"
task2=$TASK
wait_for 10 "task $task2 delivered" delivered "$task2"
run_guide 11-2
expect "task from before the backup, after the restore" delivered "$(task_state "$task1")"
expect "task from after the backup, after the restore" 404 "$(task_state "$task2")"
say "backup and restore as the guide says: task $task1 kept, task $task2 gone"

# A clean stop: SIGTERM, exit 0 well within TimeoutStopSec; the socket's directory removed.
t0=$(date +%s%N)
systemctl stop zpark
stop_ms=$((($(date +%s%N) - t0) / 1000000))
expect "Result after stop" success "$(systemctl show -p Result --value zpark)"
expect "exit status after stop" 0 "$(systemctl show -p ExecMainStatus --value zpark)"
[[ ! -e /run/zpark ]] || fail "/run/zpark is still there after the stop"
in_journal 'msg=stopped' || fail "no clean stop in the journal"
say "systemctl stop: clean, exit 0, in $stop_ms ms"

# A bad setting: exit 78, and no restart loop (RestartPreventExitStatus=78).
echo 'ZPARK_SOCKET_MODE=abc' >>/etc/zpark/zpark.env
restarts=$(systemctl show -p NRestarts --value zpark)
systemctl start zpark || true
failed() { [[ $(systemctl is-active zpark) == failed ]]; }
wait_for 10 "zpark failed on a bad setting" failed
sleep 2.5  # RestartSec=2: a restart would have happened by now
expect "state with a bad setting" failed "$(systemctl is-active zpark)"
expect "exit status with a bad setting" 78 "$(systemctl show -p ExecMainStatus --value zpark)"
expect "restarts with a bad setting" "$restarts" "$(systemctl show -p NRestarts --value zpark)"
in_journal 'ZPARK_SOCKET_MODE' || fail "the journal does not name the bad setting"
say "a bad setting: exit 78, named in the journal, not restarted"
say "PASS"
