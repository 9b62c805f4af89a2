#!/usr/bin/env bash
# Makes throw-away certificates for the loopback TLS tests: a CA, a server certificate for
# localhost/127.0.0.1/::1 signed by it, and an unrelated "wrong" CA with its own server cert.
set -euo pipefail
out=${1:?usage: make_certs.sh OUTDIR}
mkdir -p "$out"
cd "$out"
[ -f server.pem ] && [ -f wrong-server.pem ] && exit 0
make_ca() { # name
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Zpark test $1" \
    -keyout "$1.key" -out "$1.pem" 2>/dev/null
}
make_server() { # ca prefix
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$2.key" -out "$2.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n' > "$2.ext"
  openssl x509 -req -in "$2.csr" -CA "$1.pem" -CAkey "$1.key" -CAcreateserial -days 30 \
    -extfile "$2.ext" -out "$2.pem" 2>/dev/null
  rm -f "$2.csr" "$2.ext"
}
make_ca ca
make_server ca server
make_ca wrong-ca
make_server wrong-ca wrong-server
