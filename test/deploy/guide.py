#!/usr/bin/env python3
"""Turns docs/install.md into shell snippets that systemd_boot_test.sh runs as they are written.

usage: guide.py INSTALL_MD OUT_DIR
writes OUT_DIR/S-B.sh for the B-th ```sh block of section S ("## S. ..."), and OUT_DIR/zpark.env
from the block after the "<!-- zpark.env" marker.

The commands are kept as written, except:
- lines that need the network, a source tree or a person are dropped: git, the dependency
  install and the build (the test brings a built binary), apt-get, editor, journalctl -f;
- `curl` is retried for a few seconds (a service answers a moment after systemctl returns);
- `backup=FILE` (the backup to restore) names the backup the test made today.
"""
import os
import re
import sys

DROP = re.compile(r"^\s*(git |cd zpark|bash deploy/(install-deps|build)\.sh|apt-get |editor |journalctl .*-f\b)")


def blocks(text):
    section, in_block, marker, lines = None, False, False, []
    for line in text.splitlines():
        if not in_block:
            m = re.match(r"^## (\d+)\. ", line)
            if m:
                section = int(m.group(1))
            if line.startswith("<!-- zpark.env"):
                marker = True
            elif line.startswith("```sh"):
                in_block, lines = True, []
            continue
        if line.startswith("```"):
            yield section, marker, lines
            in_block, marker = False, False
        else:
            lines.append(line)


def commands(lines):
    out, pending = [], ""
    for line in lines:
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        line, pending = pending + line.strip(), ""
        if not line or DROP.match(line):
            continue
        if line.startswith("curl "):
            line = "retry " + line
        if line.startswith("backup="):
            line = "backup=/var/backups/zpark-outbox-$(date +%F).sqlite3"
        out.append(line)
    return out


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    count, env = {}, None
    for section, marker, lines in blocks(open(src).read()):
        if marker:
            env = "\n".join(lines) + "\n"
            continue
        count[section] = count.get(section, 0) + 1
        with open(os.path.join(out, f"{section}-{count[section]}.sh"), "w") as f:
            f.write("\n".join(commands(lines)) + "\n")
    if env is None:
        sys.exit("guide.py: no block after a '<!-- zpark.env' marker in " + src)
    with open(os.path.join(out, "zpark.env"), "w") as f:
        f.write(env)


if __name__ == "__main__":
    main()
