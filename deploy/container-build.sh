#!/usr/bin/env bash
# Builds the Zpark container image (deploy/Containerfile) from a built zpark binary.
#
#   bash deploy/container-build.sh [ZPARK_BINARY [IMAGE]]
#       defaults: build/app/zpark (bash deploy/build.sh makes it) and localhost/zpark:latest
#
# The image is FROM scratch: there is no base image to pull, so this script stages its whole
# file system and the Containerfile copies it in. It holds the binary as built (the same file
# the tests run and the install guide installs); the C library it links dynamically, copied
# from this machine at the paths `ldd` names (Boost, OpenSSL, SQLite, fmt and libstdc++ are
# linked in statically); this machine's CA certificates; nsswitch.conf (without it glibc asks
# DNS before /etc/hosts); a passwd and group entry for the user zpark (10001); an empty /data
# owned by it and /tmp.
# PODMAN="podman --root DIR --runroot DIR" uses another image store (the tests do).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$repo/build/app/zpark}
image=${2:-localhost/zpark:latest}
read -r -a podman <<<"${PODMAN:-podman}"

[[ -x $bin ]] || { echo "container-build: no zpark binary at $bin; run bash deploy/build.sh" >&2; exit 1; }
[[ -s /etc/ssl/certs/ca-certificates.crt ]] ||
    { echo "container-build: no CA certificates; apt-get install ca-certificates" >&2; exit 1; }

ctx=$(mktemp -d /tmp/zpark-image-XXXXXX)
trap 'rm -rf "$ctx"' EXIT
root=$ctx/rootfs
mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/tmp" "$ctx/data"
install -m 755 "$bin" "$root/usr/local/bin/zpark"

# The shared libraries and the program interpreter, as ldd resolves them here.
libs=$(ldd "$bin" 2>&1) || true
if grep -q 'not found' <<<"$libs"; then
    echo "container-build: $bin needs libraries this machine lacks:" >&2
    echo "$libs" >&2
    exit 1
fi
while read -r path; do
    mkdir -p "$root$(dirname "$path")"
    cp -L "$path" "$root$path"
done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$libs")

# CA certificates: the hashed directory (read one issuer at a time, see net/tls.cpp) and the
# bundle, with the symbolic links resolved.
find /etc/ssl/certs -maxdepth 1 -name '*.[0-9]' -exec cp -L -t "$root/etc/ssl/certs" {} +
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"

printf 'root:x:0:0:root:/:/sbin/nologin\nzpark:x:10001:10001:Zpark:/data:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nzpark:x:10001:\n' >"$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
chmod 1777 "$root/tmp"

"${podman[@]}" build --quiet --file "$repo/deploy/Containerfile" --tag "$image" "$ctx" >/dev/null
echo "container-build: built $image ($(du -sh "$root" | cut -f1) of files)"
