#!/bin/bash
# Case 20 (Tessera's own, not from ../shared): certificates that share CKA_LABEL and CKA_ID, as a
# renewal written with the same --label/--id leaves them (the old and the new certificate of one
# key; a CA certificate filed under the same name). Only subject and serial number tell them apart.
source "$(dirname "$0")/../lib/common.sh"
fresh_case ${CASES:?}/20-twin-certificates
init_token "Certs"
work=$CASE_DIR/out
write_cert() { # NAME SUBJECT SERIAL
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/$1.key" -subj "$2" -set_serial "$3" -days 365 -outform DER -out "$work/$1.der" 2>/dev/null
  p11 --token-label Certs --login --pin $USER_PIN --write-object "$work/$1.der" --type cert --label "signer cert" --id 0102 >/dev/null
  rm -f "$work/$1.key"
}
write_cert old "/CN=Payments Signer/O=Bank" 0x1001
write_cert renewed "/CN=Payments Signer/O=Bank" 0x1002
write_cert ca "/CN=Bank Issuing CA 2/O=Bank" 0x2a
echo 'created 3 certificates "signer cert"/0102: two of subject CN=Payments Signer (serials 1001, 1002), one of CN=Bank Issuing CA 2 (serial 2A)'
