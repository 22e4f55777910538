#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# pki.sh DIR: an EC P-256 test PKI for the OpenVPN TLS-mode interop tests, made with the openssl
# CLI only: ca, server (serverAuth, CN=dpvpn-server), client1..client3 (clientAuth), a revoked
# client listed in crl.pem, and a foreign CA with a client "foreign" signed by it.
#
# Every certificate is valid from one day ago until 30 days from now; crl.pem's nextUpdate is 30
# days from now. `openssl ca -startdate` sets the back-dated notBefore (it works on every OpenSSL
# 3.x, unlike x509/req -not_before, which only appeared in 3.4). The CA database and the minimal
# `openssl ca` config (openssl-ca.cnf, paths relative to DIR) stay in DIR, so that from DIR
#   openssl ca -config openssl-ca.cnf -name ca_main -revoke X.crt && \
#   openssl ca -config openssl-ca.cnf -name ca_main -gencrl -out crl.pem
# revokes more. Idempotent: a complete PKI in DIR with at least a day left is kept as it is;
# anything else is made anew (built in a staging directory, then moved into place).
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
command -v openssl >/dev/null || { echo "pki.sh: openssl not found" >&2; exit 1; }
dir=$1
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

clients="client1 client2 client3"
certs="ca server $clients revoked foreign-ca foreign"
keys="ca server $clients revoked foreign"

# Is the PKI in DIR complete, and has every part at least a day left?
pki_ok() {
    local n next
    for n in $certs; do
        [ -s "$dir/$n.crt" ] || return 1
        openssl x509 -in "$dir/$n.crt" -noout -checkend 86400 >/dev/null 2>&1 || return 1
    done
    for n in $keys; do
        [ -s "$dir/$n.key" ] || return 1
    done
    [ -s "$dir/crl.pem" ] && [ -s "$dir/openssl-ca.cnf" ] || return 1
    next=$(openssl crl -in "$dir/crl.pem" -noout -nextupdate 2>/dev/null) || return 1
    next=$(date -u -d "${next#nextUpdate=}" +%s 2>/dev/null) || return 1
    [ "$next" -gt $(($(date -u +%s) + 86400)) ]
}
if pki_ok; then
    exit 0
fi

stage=$(mktemp -d "$dir/.pki-build.XXXXXX")
log="$stage/openssl.log"
trap 'rm -rf "$stage"' EXIT

# Run an openssl command quietly; show its output only when it fails.
q() {
    if ! openssl "$@" >"$log" 2>&1; then
        echo "pki.sh: openssl $* failed:" >&2
        cat "$log" >&2
        exit 1
    fi
}

start=$(date -u -d '1 day ago' +%Y%m%d%H%M%SZ)
end=$(date -u -d '30 days' +%Y%m%d%H%M%SZ)

# One [ ca_* ] section per CA: the same settings but for where its files live.
ca_section() { # NAME DB_DIR CERT KEY
    cat <<EOF
[ $1 ]
dir = $2
certificate = $3
private_key = $4
database = \$dir/index.txt
serial = \$dir/serial
crlnumber = \$dir/crlnumber
new_certs_dir = \$dir/certs
default_md = sha256
default_days = 30
default_crl_days = 30
policy = policy_cn
unique_subject = no
copy_extensions = none
email_in_dn = no
x509_extensions = ext_client
crl_extensions = ext_crl

EOF
}

{
    printf '# Minimal openssl config for the test CAs of pki.sh; paths are relative to the PKI directory.\n'
    printf '[ ca ]\ndefault_ca = ca_main\n\n'
    ca_section ca_main ./ca-db/main ./ca.crt ./ca.key
    ca_section ca_foreign ./ca-db/foreign ./foreign-ca.crt ./foreign-ca.key
} >"$stage/openssl-ca.cnf"
cat >>"$stage/openssl-ca.cnf" <<'EOF'
[ policy_cn ]
commonName = supplied

[ req ]
distinguished_name = req_dn
prompt = no

[ req_dn ]
CN = unused

[ ext_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ ext_server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyAgreement
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer

[ ext_client ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyAgreement
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer

[ ext_crl ]
authorityKeyIdentifier = keyid
EOF

cd "$stage"
export OPENSSL_CONF="$stage/openssl-ca.cnf"
umask 077
for ca in main foreign; do
    mkdir -p "ca-db/$ca/certs"
    : >"ca-db/$ca/index.txt"
    openssl rand -hex 16 >"ca-db/$ca/serial"
    echo 01 >"ca-db/$ca/crlnumber"
done

# newkey NAME: a P-256 key in NAME.key
newkey() {
    q genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve \
        -out "$1.key"
}
# sign CA_SECTION NAME CN EXTENSIONS [extra openssl-ca args]: NAME.key -> NAME.crt
sign() {
    local ca=$1 name=$2 cn=$3 ext=$4
    shift 4
    q req -new -config openssl-ca.cnf -key "$name.key" -subj "/CN=$cn" -out "$name.csr"
    q ca -batch -notext -config openssl-ca.cnf -name "$ca" -extensions "$ext" \
        -startdate "$start" -enddate "$end" -in "$name.csr" -out "$name.crt" "$@"
    rm -f "$name.csr"
}

newkey ca
sign ca_main ca "dpvpn-test-ca" ext_ca -selfsign -keyfile ca.key
newkey server
sign ca_main server dpvpn-server ext_server
for c in $clients revoked; do
    newkey "$c"
    sign ca_main "$c" "$c" ext_client
done

newkey foreign-ca
sign ca_foreign foreign-ca "dpvpn-foreign-ca" ext_ca -selfsign -keyfile foreign-ca.key
newkey foreign
sign ca_foreign foreign foreign ext_client

q ca -batch -config openssl-ca.cnf -name ca_main -revoke revoked.crt -crl_reason keyCompromise
q ca -batch -config openssl-ca.cnf -name ca_main -gencrl -crldays 30 -out crl.pem

# Sanity: the chain verifies, the revoked one fails against the CRL, the foreign one fails.
q verify -CAfile ca.crt server.crt client1.crt client2.crt client3.crt revoked.crt
q verify -CAfile foreign-ca.crt foreign.crt
if openssl verify -crl_check -CRLfile crl.pem -CAfile ca.crt revoked.crt >/dev/null 2>&1 ||
    openssl verify -CAfile ca.crt foreign.crt >/dev/null 2>&1; then
    echo "pki.sh: revoked or foreign certificate unexpectedly verifies" >&2
    exit 1
fi

chmod 644 ./*.crt crl.pem openssl-ca.cnf
chmod 600 ./*.key
rm -f "$log" ./*.old ca-db/*/*.old
rm -rf "$dir/ca-db"
mv ca-db openssl-ca.cnf crl.pem ./*.crt ./*.key "$dir/"
