#!/bin/sh
# A self-signed TLS certificate for the compose proxy, for local use only (browsers warn; clients
# must be told to trust certs/server.crt). Production uses a certificate from a real CA: put its
# chain in certs/server.crt and its key in certs/server.key instead (docker/proxy/README.md).
#   docker/proxy/make-dev-certificates.sh [HOST]      (default: localhost)
# Writes docker/proxy/certs/server.crt and server.key (mode 600); refuses to overwrite them.
# certs/ is git-ignored: never commit a private key.
set -eu
host="${1:-localhost}"
dir="$(cd "$(dirname "$0")" && pwd)/certs"
mkdir -p "$dir"
if [ -e "$dir/server.key" ] || [ -e "$dir/server.crt" ]; then
  echo "$dir/server.crt or server.key exists; remove them first to make new ones" >&2
  exit 1
fi
case "$host" in
  *[!0-9.]*) san="DNS:$host" ;;
  *) san="IP:$host" ;;
esac
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -nodes -days 30 \
  -subj "/CN=$host" -addext "subjectAltName=$san" \
  -addext "keyUsage=digitalSignature" -addext "extendedKeyUsage=serverAuth" \
  -keyout "$dir/server.key" -out "$dir/server.crt" 2>/dev/null
# nginx's workers read the key as root before dropping privileges; the certificate is public.
chmod 600 "$dir/server.key"
chmod 644 "$dir/server.crt"
echo "wrote $dir/server.crt (CN=$host, 30 days) and $dir/server.key"
echo "set ISSUER=https://$host (add :PORT if PROXY_HTTPS_PORT is not 443)"
