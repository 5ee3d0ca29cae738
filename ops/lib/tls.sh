# shellcheck shell=bash
# Development TLS material, made with the openssl CLI.
#
#   tls_generate DIR   create what is missing or invalid in DIR (idempotent):
#     ca.crt ca.key                     dev CA (EC P-256, 10 years, CN "onetrip dev CA")
#     server.crt server.key             SAN DNS:localhost, IP:127.0.0.1; serverAuth
#     partner-<name>.crt/.key           client certs (CN onetrip-partner-<name>, clientAuth)
#                                       for every name in ONETRIP_PARTNERS
#     rogue-ca.crt rogue-ca.key         a second CA that nobody trusts
#     rogue.crt rogue.key               client cert signed by the rogue CA; its CN is
#                                       "onetrip-partner-post" on purpose (a real partner's
#                                       name), so only chain validation can reject it
#     fingerprints.txt                  "name sha256hex" per partner: SHA-256 of the DER
#                                       certificate, lower-case hex, no colons
# Keys are PKCS#8 PEM, mode 600. A certificate that no longer verifies against its CA (for
# example after the CA was re-made) or that expires within 30 days is made again.

# shellcheck source=ops/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ONETRIP_PARTNERS=(post insurer hospital court dealer agency station)
_TLS_DAYS=3650

_tls_key() { # _tls_key OUT: new EC P-256 private key, written atomically with mode 600
    local out="$1"
    (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out.tmp") \
        && mv -f "$out.tmp" "$out"
}

# _tls_ca DIR BASE CN: self-signed CA BASE.crt/BASE.key unless a valid pair exists.
# Returns 0 when it made a new one, 1 when it kept the old one, 2 on error.
_tls_ca() {
    local dir="$1" base="$2" cn="$3" ext
    if [[ -s "$dir/$base.crt" && -s "$dir/$base.key" ]] \
        && openssl x509 -in "$dir/$base.crt" -noout -checkend $((30 * 86400)) >/dev/null 2>&1; then
        return 1
    fi
    log "creating $base ($cn) in $dir"
    ext="$(mktemp "$dir/.ext.XXXXXX")"
    cat >"$ext" <<CNF
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3
[dn]
CN = $cn
[v3]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
    if _tls_key "$dir/$base.key" \
        && openssl req -x509 -new -config "$ext" -key "$dir/$base.key" -sha256 -days "$_TLS_DAYS" \
            -set_serial "0x$(openssl rand -hex 16)" -out "$dir/$base.crt.tmp" \
        && mv -f "$dir/$base.crt.tmp" "$dir/$base.crt"; then
        rm -f "$ext"
        return 0
    fi
    rm -f "$ext" "$dir/$base.crt.tmp"
    return 2
}

# _tls_leaf DIR BASE CA CN EKU [SAN]: leaf cert BASE.crt/.key signed by CA.crt/CA.key,
# unless a valid pair that verifies against CA.crt exists.
_tls_leaf() {
    local dir="$1" base="$2" ca="$3" cn="$4" eku="$5" san="${6:-}" ext csr
    if [[ -s "$dir/$base.crt" && -s "$dir/$base.key" ]] \
        && openssl verify -CAfile "$dir/$ca.crt" "$dir/$base.crt" >/dev/null 2>&1 \
        && openssl x509 -in "$dir/$base.crt" -noout -checkend $((30 * 86400)) >/dev/null 2>&1; then
        return 0
    fi
    log "creating $base ($cn) in $dir"
    ext="$(mktemp "$dir/.ext.XXXXXX")"
    csr="$(mktemp "$dir/.csr.XXXXXX")"
    {
        echo "basicConstraints = critical, CA:FALSE"
        echo "keyUsage = critical, digitalSignature"
        echo "extendedKeyUsage = $eku"
        echo "subjectKeyIdentifier = hash"
        echo "authorityKeyIdentifier = keyid"
        if [[ -n "$san" ]]; then echo "subjectAltName = $san"; fi
    } >"$ext"
    if _tls_key "$dir/$base.key" \
        && openssl req -new -key "$dir/$base.key" -subj "/CN=$cn" -out "$csr" \
        && openssl x509 -req -in "$csr" -CA "$dir/$ca.crt" -CAkey "$dir/$ca.key" -sha256 \
            -days "$_TLS_DAYS" -set_serial "0x$(openssl rand -hex 16)" -extfile "$ext" \
            -out "$dir/$base.crt.tmp" 2>/dev/null \
        && mv -f "$dir/$base.crt.tmp" "$dir/$base.crt"; then
        rm -f "$ext" "$csr"
        return 0
    fi
    rm -f "$ext" "$csr" "$dir/$base.crt.tmp"
    log "error: could not create $dir/$base.crt"
    return 1
}

tls_fingerprint() { # tls_fingerprint CERT: SHA-256 of the DER certificate, lower-case hex
    openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1
}

tls_generate() {
    local dir="${1:?tls_generate: DIR required}" name rc fp
    command -v openssl >/dev/null || die "openssl not found"
    mkdir -p "$dir" && chmod 700 "$dir" || return 1

    rc=0
    _tls_ca "$dir" ca "onetrip dev CA" || rc=$?
    ((rc != 2)) || { log "error: could not create the dev CA"; return 1; }
    _tls_leaf "$dir" server ca localhost serverAuth "DNS:localhost, IP:127.0.0.1" || return 1
    for name in "${ONETRIP_PARTNERS[@]}"; do
        _tls_leaf "$dir" "partner-$name" ca "onetrip-partner-$name" clientAuth || return 1
    done

    rc=0
    _tls_ca "$dir" rogue-ca "onetrip rogue CA (untrusted)" || rc=$?
    ((rc != 2)) || { log "error: could not create the rogue CA"; return 1; }
    _tls_leaf "$dir" rogue rogue-ca "onetrip-partner-post" clientAuth || return 1

    : >"$dir/fingerprints.txt.tmp" || return 1
    for name in "${ONETRIP_PARTNERS[@]}"; do
        fp="$(tls_fingerprint "$dir/partner-$name.crt")" || return 1
        printf '%s %s\n' "$name" "$fp" >>"$dir/fingerprints.txt.tmp"
    done
    mv -f "$dir/fingerprints.txt.tmp" "$dir/fingerprints.txt" || return 1
}
