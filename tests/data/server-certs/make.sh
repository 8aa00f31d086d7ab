#!/usr/bin/env bash
# Regenerates the server-certificate test fixtures (tests/server_certificates_api.rs,
# tests/smoke/smoke.py, tests/smoke/replay.py) with OpenSSL 3: `./make.sh` in this directory.
# Certificates are signed by `openssl ca`, which takes explicit dates: valid from 2020 to 2120
# (so a clock a little off never matters), except `expired-cert.pem` and `future-cert.pem`.
set -euo pipefail
cd "$(dirname "$0")"
START=20200101000000Z
END=21200101000000Z

# sign NAME SUBJECT KEY [CA_NAME] [EXTENSIONS] [DIGEST] [START] [END]: NAME-cert.pem for KEY,
# self-signed unless CA_NAME (CA_NAME-cert.pem / CA_NAME-key.pem) is given; X.509 v3 with
# EXTENSIONS (a server certificate's by default).
sign() {
    local name=$1 subject=$2 key=$3 ca=${4:-} ext=${5:-$LEAF_EXT} md=${6:-sha256} start=${7:-$START} end=${8:-$END}
    local dir; dir=$(mktemp -d)
    touch "$dir/index.txt"
    printf '%s\n' "[ca]" "default_ca=d" "[d]" "database=$dir/index.txt" "new_certs_dir=$dir" \
        "serial=$dir/serial" "policy=p" "default_md=$md" "unique_subject=no" "copy_extensions=none" \
        "[p]" "commonName=supplied" "organizationName=optional" "[x]" "$ext" > "$dir/ca.cnf"
    od -An -N8 -tx1 /dev/urandom | tr -d ' \n' > "$dir/serial"
    openssl req -new -key "$key" -subj "$subject" -out "$dir/req.pem"
    if [ -z "$ca" ]; then
        set -- -selfsign -keyfile "$key"
    else
        set -- -cert "$ca-cert.pem" -keyfile "$ca-key.pem"
    fi
    openssl ca -batch -config "$dir/ca.cnf" -extensions x "$@" -in "$dir/req.pem" \
        -startdate "$start" -enddate "$end" -notext -out "$name-cert.pem" 2>/dev/null
    rm -rf "$dir"
}
CA_EXT=$'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash'
LEAF_EXT=$'basicConstraints=CA:false\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid'

# RSA 2048, PKCS#1 key ("RSA PRIVATE KEY"), as LocalStack's recorder uploaded.
openssl genrsa -traditional -out rsa2048-key.pem 2048
sign rsa2048 "/CN=rsa2048.localiam.test" rsa2048-key.pem
# RSA 1024 (the smallest size IAM takes), PKCS#8 key ("PRIVATE KEY").
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024-key.pem
sign rsa1024 "/CN=rsa1024.localiam.test" rsa1024-key.pem
# RSA 512: too small for IAM.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:512 -out rsa512-key.pem
sign rsa512 "/CN=rsa512.localiam.test" rsa512-key.pem
# ECDSA P-256: SEC1 key after its "EC PARAMETERS" block, as `openssl ecparam -genkey` writes it.
openssl ecparam -name prime256v1 -genkey -out ec256-key.pem
sign ec256 "/CN=ec256.localiam.test" ec256-key.pem
# ECDSA P-384, PKCS#8 key.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out ec384-key.pem
sign ec384 "/CN=ec384.localiam.test" ec384-key.pem "" "" sha384
# ECDSA P-521: a curve IAM does not take.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out ec521-key.pem
sign ec521 "/CN=ec521.localiam.test" ec521-key.pem "" "" sha512
# The RSA 2048 key encrypted with a passphrase ("ENCRYPTED PRIVATE KEY"): IAM wants it unencrypted.
openssl pkcs8 -topk8 -in rsa2048-key.pem -out rsa2048-key-encrypted.pem -passout pass:localiam

# A chain: root CA (RSA) -> intermediate CA (ECDSA P-384) -> leaf (ECDSA P-256); leaf-chain.pem
# is what UploadServerCertificate's CertificateChain takes: the intermediate, then the root.
openssl genrsa -traditional -out root-key.pem 2048
sign root "/O=localiam tests/CN=localiam test root CA" root-key.pem "" "$CA_EXT"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out intermediate-key.pem
sign intermediate "/O=localiam tests/CN=localiam test intermediate CA" intermediate-key.pem root "$CA_EXT"
openssl ecparam -name prime256v1 -genkey -noout -out leaf-key.pem
sign leaf "/CN=www.localiam.test" leaf-key.pem intermediate \
    "$LEAF_EXT"$'\nsubjectAltName=DNS:www.localiam.test\nextendedKeyUsage=serverAuth'
cat intermediate-cert.pem root-cert.pem > leaf-chain.pem
# The CAs' names on other keys (self-signed): they name the issuers but signed nothing.
sign impostor-intermediate "/O=localiam tests/CN=localiam test intermediate CA" ec384-key.pem "" "$CA_EXT"
sign impostor-root "/O=localiam tests/CN=localiam test root CA" rsa2048-key.pem "" "$CA_EXT"

# Outside their validity period.
sign expired "/CN=expired.localiam.test" rsa2048-key.pem "" "" sha256 20000101000000Z 20010101000000Z
sign future "/CN=future.localiam.test" rsa2048-key.pem "" "" sha256 21200101000000Z 21300101000000Z
