#!/usr/bin/env bash
# zpark_alert.sh - Zabbix script media type for Zpark (drop-in for the original script).
#
#   zpark_alert.sh <sendto> <subject> [<message>]
#
# Zabbix parameters: {ALERT.SENDTO} {ALERT.SUBJECT} {ALERT.MESSAGE}. <sendto> is a person's
# email or a Webex room id; several recipients may be separated by commas. An empty message is
# allowed (Webex then gets the subject alone).
#
# Settings, first found wins:
#   1. environment: ZPARK_URL, ZPARK_API_TOKEN (and optional ZPARK_CA_FILE)
#   2. zpark_alert.conf beside this script (or the file named by ZPARK_ALERT_CONF): lines
#      KEY=value with the same names; # comments; the file is read, never executed
#   3. the variables zpark_url / zpark_api_token below, as in the original script
#
# Exit status 0 only when Zpark accepted the alert (HTTP 2xx); otherwise a message on stderr
# and a non-zero status, so Zabbix marks the alert failed and retries it.
# Needs bash and curl only. The token and the message never appear on a command line.

zpark_url=""
zpark_api_token=""

set -u
PROG=zpark_alert.sh
MAX_TIME=15

die() {
    printf '%s: %s\n' "$PROG" "$*" >&2
    exit 1
}

# Reads KEY=value lines without running them. Values may be quoted with "..." or '...'.
read_conf() {
    local file=$1 line key value
    [[ -r $file ]] || return 0
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line%$'\r'}
        [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
        [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=[[:space:]]*(.*)$ ]] || continue
        key=${BASH_REMATCH[2]}
        value=${BASH_REMATCH[3]}
        value=${value%"${value##*[![:space:]]}"}
        if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
        case $key in
            ZPARK_URL) conf_url=$value ;;
            ZPARK_API_TOKEN) conf_token=$value ;;
            ZPARK_CA_FILE) conf_ca=$value ;;
        esac
    done <"$file"
}

# JSON string body (without the quotes): backslash, quote and every control character escaped.
json_escape() {
    local s=$1 i c
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}
    s=${s//$'\r'/\\r}
    s=${s//$'\t'/\\t}
    s=${s//$'\b'/\\b}
    s=${s//$'\f'/\\f}
    if [[ $s == *[$'\x01'-$'\x1f']* ]]; then
        for ((i = 1; i < 32; i++)); do
            printf -v c '%b' "\\x$(printf '%02x' "$i")"
            s=${s//"$c"/$(printf '\\u%04x' "$i")}
        done
    fi
    printf '%s' "$s"
}

# A value for a curl config file line: "..." with backslash and quote escaped.
conf_quote() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}

main() {
    if (($# < 2)); then
        printf 'usage: %s <sendto> <subject> [<message>]\n' "$PROG" >&2
        exit 2
    fi
    local to=$1 subject=$2 message=${3-}

    local conf_url="" conf_token="" conf_ca=""
    local dir
    dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" 2>/dev/null && pwd) || dir=.
    read_conf "${ZPARK_ALERT_CONF:-$dir/zpark_alert.conf}"

    local url=${ZPARK_URL:-${conf_url:-$zpark_url}}
    local token=${ZPARK_API_TOKEN:-${conf_token:-$zpark_api_token}}
    local ca=${ZPARK_CA_FILE:-$conf_ca}
    [[ -n $url ]] || die "Zpark's URL is not set: set ZPARK_URL in the environment or in ${ZPARK_ALERT_CONF:-$dir/zpark_alert.conf}"
    [[ -n $token ]] || die "Zpark's API token is not set: set ZPARK_API_TOKEN in the environment or in ${ZPARK_ALERT_CONF:-$dir/zpark_alert.conf}"
    [[ -n $to ]] || die "no recipient: the first argument ({ALERT.SENDTO}) is empty"
    command -v curl >/dev/null 2>&1 || die "curl is not installed"

    url=${url%/}
    [[ $url == */api/v1/alert ]] || url=$url/api/v1/alert

    local LC_ALL=C body
    body="{\"to\":\"$(json_escape "$to")\",\"subject\":\"$(json_escape "$subject")\""
    [[ -n $message ]] && body+=",\"message\":\"$(json_escape "$message")\""
    body+="}"

    # Header, URL and body reach curl through pipes (process substitution), not its arguments.
    local config
    config="url = $(conf_quote "$url")"$'\n'
    config+="header = $(conf_quote "Token: $token")"$'\n'
    config+="header = \"Content-Type: application/json\""$'\n'
    [[ -n $ca ]] && config+="cacert = $(conf_quote "$ca")"$'\n'

    local out rc=0 errfile
    errfile=$(mktemp "${TMPDIR:-/tmp}/zpark_alert.XXXXXX") || die "cannot create a temporary file"
    out=$(curl -sS --max-time "$MAX_TIME" --connect-timeout 5 -X POST \
        -w '\n%{http_code}' -K <(printf '%s' "$config") \
        --data-binary @<(printf '%s' "$body") 2>"$errfile") || rc=$?
    local err
    err=$(<"$errfile")
    rm -f "$errfile"
    if ((rc != 0)); then
        die "cannot reach Zpark at $url: ${err:-curl exit status $rc}"
    fi
    local code=${out##*$'\n'} answer=${out%$'\n'*}
    answer=${answer%$'\n'}
    if [[ $code != 2[0-9][0-9] ]]; then
        die "Zpark answered $code: ${answer:-(empty body)}"
    fi
    printf '%s\n' "$answer"
}

main "$@"
