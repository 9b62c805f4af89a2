#!/usr/bin/env python3
"""Checks deploy/zpark.service against docs/install.md, deploy/nginx-zpark.conf and README.

usage: check_unit.py SOURCE_DIR
The paths the guide tells an operator to use (binary, environment file, data directory,
socket, user) must be the unit's; the stop timeout must leave room for Zpark's graceful
shutdown; the settings the guide's environment file gives must fit the unit. Prints what it
checked; exits 1 with every mismatch.
"""
import os
import re
import sys


def parse_unit(text):
    """{(section, key): [values]}: systemd allows a key more than once."""
    unit, section = {}, None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        unit.setdefault((section, key.strip()), []).append(value.strip())
    return unit


def seconds(value):
    m = re.fullmatch(r"(\d+)\s*(s|sec|min)?", value)
    if not m:
        raise ValueError(f"cannot read the time span '{value}'")
    return int(m.group(1)) * (60 if m.group(2) == "min" else 1)


def readme_default(readme, name):
    m = re.search(r"^\| `" + name + r"` \| `([^`]*)` \|", readme, re.M)
    if not m:
        raise ValueError(f"README's settings table has no default for {name}")
    return m.group(1)


def guide_env(guide):
    m = re.search(r"<!-- zpark\.env[^\n]*\n```sh\n(.*?)```", guide, re.S)
    if not m:
        raise ValueError("docs/install.md has no environment file block after '<!-- zpark.env'")
    env = {}
    for line in m.group(1).splitlines():
        if line and not line.startswith("#") and "=" in line:
            k, _, v = line.partition("=")
            env[k] = v
    return env


def main():
    src = sys.argv[1]
    read = lambda p: open(os.path.join(src, p)).read()
    unit = parse_unit(read("deploy/zpark.service"))
    guide, nginx, readme = read("docs/install.md"), read("deploy/nginx-zpark.conf"), read("README.md")
    env = guide_env(guide)
    problems = []

    def one(key, section="Service"):
        values = unit.get((section, key), [])
        if len(values) != 1:
            problems.append(f"[{section}] {key}= should be set once, is {values}")
            return ""
        return values[0]

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            problems.append(what)

    exec_start = one("ExecStart")
    binary = exec_start.split()[0] if exec_start else ""
    check(exec_start == "/usr/local/bin/zpark serve", f"ExecStart runs 'zpark serve' from /usr/local/bin: {exec_start}")
    check(f"install -m 755 build/app/zpark {os.path.dirname(binary)}/" in guide,
          f"the guide installs the binary where ExecStart looks ({binary})")

    env_file = one("EnvironmentFile")
    check(env_file == "/etc/zpark/zpark.env", f"EnvironmentFile: {env_file}")
    check(f"EnvironmentFile={env_file}" in guide and f"editor {env_file}" in guide,
          "the guide writes that file and zp reads it")

    state = one("StateDirectory")
    data_dir = f"/var/lib/{state}"
    check(f"ZPARK_DATA_DIR={data_dir}" in unit.get(("Service", "Environment"), []),
          f"ZPARK_DATA_DIR is the StateDirectory ({data_dir})")
    check("ZPARK_DATA_DIR" not in env, "the guide's environment file leaves ZPARK_DATA_DIR to the unit")
    check(f"{data_dir}/outbox.sqlite3" in guide, f"the guide backs up {data_dir}/outbox.sqlite3")

    runtime = one("RuntimeDirectory")
    socket = env.get("ZPARK_LISTEN", "")
    check(socket == f"unix:/run/{runtime}/zpark.sock", f"ZPARK_LISTEN in the guide is in RuntimeDirectory: {socket}")
    check(f"server {socket};" in nginx, "deploy/nginx-zpark.conf's upstream is that socket")
    rw = " ".join(unit.get(("Service", "ReadWritePaths"), [])).split()
    check(data_dir in rw and f"/run/{runtime}" in rw, f"ReadWritePaths has both directories: {rw}")

    user, group = one("User"), one("Group")
    check(user == "zpark" and group == "zpark", f"User/Group: {user}/{group}")
    check(re.search(r"^useradd --system --user-group .* zpark$", guide, re.M) is not None,
          "the guide creates the user zpark with its group")
    check(f"usermod -aG {group} www-data" in guide and f"usermod -aG {group} www-data" in nginx,
          "the guide and the nginx file put www-data in the socket's group")
    check(one("RuntimeDirectoryMode") == "0750" and env.get("ZPARK_SOCKET_MODE") == "0660",
          "the group may enter /run/zpark (0750) and use the socket (0660)")

    shutdown = int(env.get("ZPARK_SHUTDOWN_TIMEOUT", readme_default(readme, "ZPARK_SHUTDOWN_TIMEOUT")))
    stop = seconds(one("TimeoutStopSec"))
    check(stop >= shutdown + 5, f"TimeoutStopSec ({stop} s) leaves room after ZPARK_SHUTDOWN_TIMEOUT ({shutdown} s)")
    check(one("KillSignal") == "SIGTERM", "KillSignal=SIGTERM")
    check(one("Restart") == "on-failure", "Restart=on-failure")
    check(one("RestartPreventExitStatus") == "78" and "exit code 78" in readme,
          "a bad setting (exit code 78, README) is not restarted")
    connections = int(readme_default(readme, "ZPARK_MAX_CONNECTIONS"))
    check(int(one("LimitNOFILE")) > 2 * connections, f"LimitNOFILE above ZPARK_MAX_CONNECTIONS ({connections})")
    for key, want in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                      ("PrivateTmp", "yes"), ("CapabilityBoundingSet", "")]:
        check(one(key) == want, f"{key}={want}")
    check(one("WantedBy", "Install") == "multi-user.target", "WantedBy=multi-user.target")

    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
