#!/usr/bin/env python3
"""Writes the nginx configuration of test/deploy/nginx_test.sh from deploy/nginx-zpark.conf.

The shipped file is used as it is: only its listen port, upstream socket and certificate paths
are replaced, each of which must occur exactly once (so a changed file fails here instead of
being half tested). A second server, on another port, is the same server block with the
`proxy_pass http://zpark/;` alternative the file documents (the prefix stripped).

usage: nginx_conf.py SHIPPED OUT_DIR PORT STRIP_PORT SOCKET CERT KEY WORKER_USER|-
writes OUT_DIR/nginx.conf (the main file), OUT_DIR/zpark.conf and OUT_DIR/zpark-strip.conf.
"""
import os
import re
import sys


def replace_once(text, old, new, what):
    n = text.count(old)
    if n != 1:
        sys.exit(f"nginx_conf.py: expected '{old}' ({what}) once in the shipped file, found {n}")
    return text.replace(old, new)


def directives(text):
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def main():
    shipped, out, port, strip_port, socket, cert, key, user = sys.argv[1:9]
    text = open(shipped).read()
    conf = replace_once(text, "listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;", "listen port")
    conf = replace_once(conf, "server unix:/run/zpark/zpark.sock;", f"server unix:{socket};", "socket")
    conf = replace_once(conf, "ssl_certificate /etc/letsencrypt/live/zabbix.example.com/fullchain.pem;",
                        f"ssl_certificate {cert};", "certificate")
    conf = replace_once(conf, "ssl_certificate_key /etc/letsencrypt/live/zabbix.example.com/privkey.pem;",
                        f"ssl_certificate_key {key};", "certificate key")
    # Nothing of the host's may be used: every path is one of ours, every listen on loopback.
    ours = (os.path.dirname(socket), os.path.dirname(cert), os.path.dirname(key))
    code = directives(conf)
    args = "\n".join(l for l in code.splitlines() if not l.strip().startswith("location"))
    paths = [p for p in re.findall(r"(?<![\w:/])(/[^\s;]+)", args) if not p.startswith(ours)]
    listens = [l for l in re.findall(r"^\s*listen\s+([^;]+);", code, re.M) if not l.startswith("127.0.0.1:")]
    if paths or listens:
        sys.exit(f"nginx_conf.py: the shipped file has paths or ports the test does not replace: {paths + listens}")

    # The strip variant: the same server block, without the upstream (defined once), on its own
    # port, with the documented alternative proxy_pass in the /zpark/ location.
    if "`proxy_pass http://zpark/;`" not in text:
        sys.exit("nginx_conf.py: the shipped file no longer documents `proxy_pass http://zpark/;`")
    strip, n = re.subn(r"^upstream zpark \{.*?^\}\n", "", conf, count=1, flags=re.S | re.M)
    if n != 1:
        sys.exit("nginx_conf.py: no 'upstream zpark { ... }' block in the shipped file")
    strip = replace_once(strip, f"listen 127.0.0.1:{port} ssl;", f"listen 127.0.0.1:{strip_port} ssl;", "listen")
    lines = strip.splitlines(keepends=True)
    for i, line in enumerate(lines):
        code, sep, comment = line.partition("#")
        if "proxy_pass http://zpark;" in code:
            lines[i] = code.replace("proxy_pass http://zpark;", "proxy_pass http://zpark/;") + sep + comment
            break
    else:
        sys.exit("nginx_conf.py: no 'proxy_pass http://zpark;' in the shipped file")
    strip = "".join(lines)

    with open(os.path.join(out, "zpark.conf"), "w") as f:
        f.write(conf)
    with open(os.path.join(out, "zpark-strip.conf"), "w") as f:
        f.write(strip)
    tmp = os.path.join(out, "tmp")
    user_line = f"user {user};\n" if user != "-" else ""
    with open(os.path.join(out, "nginx.conf"), "w") as f:
        f.write(f"""{user_line}worker_processes 1;
pid {out}/nginx.pid;
error_log {out}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {out}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {out}/zpark.conf;
    include {out}/zpark-strip.conf;
}}
""")


if __name__ == "__main__":
    main()
