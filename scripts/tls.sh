#!/usr/bin/env bash
# Throwaway TLS material for the local services (scripts/kafka.sh, scripts/mariadb.sh) and
# the security integration tests: a private CA, a server certificate for 127.0.0.1 and
# localhost, and a client certificate for mutual TLS. Everything is PEM; the broker reads
# PEM directly (ssl.keystore.type=PEM, ssl.truststore.type=PEM), so no Java keystore is
# needed. Never use these files outside a development machine.
set -euo pipefail

# shellcheck source=scripts/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

TLS_DIR="$LC_STATE_DIR/tls"
CA_DAYS=3650
CERT_DAYS=825
# RSA keeps every client happy (JSSE, OpenSSL 1.1/3, MariaDB Connector/C, librdkafka 2.0).
KEY_ALG=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048)

usage() {
    cat <<EOF
Usage: $LC_PROG [COMMAND]
  ensure   (default) create what is missing, expired or expiring within a day; idempotent
  renew    throw everything away and create a new CA and certificates
  paths    print the files as NAME=PATH lines
  verify   check the chain and the host names
Files in $TLS_DIR (private keys are unencrypted PKCS#8, mode 600):
  ca.pem ca.key              the CA (CN "logclassify dev CA")
  server.pem server.key      server certificate: DNS localhost, IP 127.0.0.1 (+ DNS 127.0.0.1)
  server-keystore.pem        server key + certificate + CA: the broker's PEM keystore
  client.pem client.key      client certificate CN=logclassify (extendedKeyUsage clientAuth)
  client-bundle.pem          client certificate + CA chain
Environment: LC_STATE_DIR ($LC_STATE_DIR)
EOF
}

# cert_ok CERT: the file is a certificate signed by ca.pem that is valid for one more day.
cert_ok() {
    [ -s "$1" ] &&
        openssl x509 -in "$1" -noout -checkend 86400 >/dev/null 2>&1 &&
        openssl verify -CAfile "$TLS_DIR/ca.pem" "$1" >/dev/null 2>&1
}

# key_matches CERT KEY: the key belongs to the certificate.
key_matches() {
    [ -s "$2" ] || return 1
    local a b
    a="$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null | openssl sha256)" || return 1
    b="$(openssl pkey -in "$2" -pubout 2>/dev/null | openssl sha256)" || return 1
    [ "$a" = "$b" ]
}

new_key() { # new_key FILE
    (umask 077 && openssl genpkey "${KEY_ALG[@]}" -out "$1.tmp" 2>/dev/null)
    mv -f "$1.tmp" "$1"
}

make_ca() {
    say "creating a throwaway CA in $TLS_DIR"
    new_key "$TLS_DIR/ca.key"
    openssl req -x509 -new -key "$TLS_DIR/ca.key" -sha256 -days "$CA_DAYS" \
        -subj "/O=logclassify dev/CN=logclassify dev CA $(date +%Y%m%d%H%M%S)" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" \
        -out "$TLS_DIR/ca.pem.tmp" 2>/dev/null
    mv -f "$TLS_DIR/ca.pem.tmp" "$TLS_DIR/ca.pem"
    rm -f "$TLS_DIR/ca.srl"
}

# make_cert NAME CN EKU [SAN]: NAME.key + NAME.pem signed by the CA.
make_cert() {
    local name="$1" cn="$2" eku="$3" san="${4:-}" ext="$TLS_DIR/$1.ext"
    say "creating the $name certificate (CN=$cn${san:+, $san})"
    new_key "$TLS_DIR/$name.key"
    {
        echo "basicConstraints=critical,CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyEncipherment"
        echo "extendedKeyUsage=$eku"
        echo "subjectKeyIdentifier=hash"
        echo "authorityKeyIdentifier=keyid,issuer"
        [ -n "$san" ] && echo "subjectAltName=$san"
    } >"$ext"
    openssl req -new -key "$TLS_DIR/$name.key" -subj "/O=logclassify dev/CN=$cn" \
        -out "$TLS_DIR/$name.csr" 2>/dev/null
    openssl x509 -req -in "$TLS_DIR/$name.csr" -CA "$TLS_DIR/ca.pem" -CAkey "$TLS_DIR/ca.key" \
        -set_serial "0x$(openssl rand -hex 16)" -sha256 -days "$CERT_DAYS" -extfile "$ext" \
        -out "$TLS_DIR/$name.pem.tmp" 2>/dev/null
    mv -f "$TLS_DIR/$name.pem.tmp" "$TLS_DIR/$name.pem"
    rm -f "$TLS_DIR/$name.csr" "$ext"
}

# Bundles are rebuilt on every ensure (cheap) so they always match their parts.
make_bundles() {
    (
        umask 077
        cat "$TLS_DIR/server.key" "$TLS_DIR/server.pem" "$TLS_DIR/ca.pem" >"$TLS_DIR/server-keystore.pem.tmp"
    )
    mv -f "$TLS_DIR/server-keystore.pem.tmp" "$TLS_DIR/server-keystore.pem"
    cat "$TLS_DIR/client.pem" "$TLS_DIR/ca.pem" >"$TLS_DIR/client-bundle.pem.tmp"
    mv -f "$TLS_DIR/client-bundle.pem.tmp" "$TLS_DIR/client-bundle.pem"
}

FILES=(ca.pem ca.key server.pem server.key server-keystore.pem client.pem client.key client-bundle.pem)
STAMP="$TLS_DIR/.checked"

# recently_checked: a full check passed less than 12 hours ago and no file changed since
# (spares the ten openssl runs of a full check on every service start).
recently_checked() {
    local f
    [ -f "$STAMP" ] && [ -n "$(find "$STAMP" -mmin -720 2>/dev/null)" ] || return 1
    for f in "${FILES[@]}"; do
        [ -s "$TLS_DIR/$f" ] && [ ! "$TLS_DIR/$f" -nt "$STAMP" ] || return 1
    done
}

cmd_ensure() {
    recently_checked && return 0
    ensure_cmd openssl openssl
    mkdir -p "$TLS_DIR"
    exec 8>"$TLS_DIR/.lock"
    flock -w 60 8 || die "another $LC_PROG is still running (lock $TLS_DIR/.lock)"
    local fresh=""
    if ! [ -s "$TLS_DIR/ca.key" ] ||
        ! openssl x509 -in "$TLS_DIR/ca.pem" -noout -checkend $((86400 * 30)) >/dev/null 2>&1 ||
        ! key_matches "$TLS_DIR/ca.pem" "$TLS_DIR/ca.key"; then
        make_ca
        fresh=1
    fi
    # librdkafka 2.0 checks an IP address against the DNS names only, so 127.0.0.1 is
    # also listed as a DNS name; JSSE and MariaDB Connector/C use the IP entry.
    if [ -n "$fresh" ] || ! cert_ok "$TLS_DIR/server.pem" ||
        ! key_matches "$TLS_DIR/server.pem" "$TLS_DIR/server.key"; then
        make_cert server localhost serverAuth,clientAuth \
            "DNS:localhost,IP:127.0.0.1,DNS:127.0.0.1,IP:::1"
    fi
    if [ -n "$fresh" ] || ! cert_ok "$TLS_DIR/client.pem" ||
        ! key_matches "$TLS_DIR/client.pem" "$TLS_DIR/client.key"; then
        make_cert client logclassify clientAuth
    fi
    make_bundles
    chmod 600 "$TLS_DIR"/*.key "$TLS_DIR/server-keystore.pem"
    chmod 644 "$TLS_DIR"/ca.pem "$TLS_DIR"/server.pem "$TLS_DIR"/client.pem "$TLS_DIR/client-bundle.pem"
    touch "$STAMP"
}

cmd_renew() {
    mkdir -p "$TLS_DIR"
    rm -f "$TLS_DIR"/*.pem "$TLS_DIR"/*.key "$STAMP"
    cmd_ensure
    say "new certificates: restart Kafka and MariaDB to use them"
}

cmd_paths() {
    local f
    for f in "${FILES[@]}"; do
        echo "${f//[.-]/_}=$TLS_DIR/$f"
    done
}

cmd_verify() {
    local host
    openssl verify -CAfile "$TLS_DIR/ca.pem" "$TLS_DIR/server.pem" "$TLS_DIR/client.pem"
    for host in localhost 127.0.0.1; do
        openssl verify -CAfile "$TLS_DIR/ca.pem" -verify_hostname "$host" "$TLS_DIR/server.pem" >/dev/null ||
            die "server certificate does not name $host"
    done
    openssl verify -CAfile "$TLS_DIR/ca.pem" -verify_ip 127.0.0.1 "$TLS_DIR/server.pem" >/dev/null ||
        die "server certificate does not name IP 127.0.0.1"
    say "chain and host names ok"
}

case "${1:-ensure}" in
    ensure) cmd_ensure ;;
    renew) cmd_renew ;;
    paths) cmd_paths ;;
    verify) cmd_verify ;;
    -h | --help | help) usage ;;
    *) printf '%s: unknown command: %s\n' "$LC_PROG" "$1" >&2; usage >&2; exit 2 ;;
esac
