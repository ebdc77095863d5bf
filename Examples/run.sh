#!/usr/bin/env bash
# Quick start: installs what smtpd-tables needs (Debian 12: libdb-dev, OpenSMTPD for the interop tests),
# builds the package, and runs the tools on this folder's setup (copied to a scratch folder, with the
# config's /etc/mail and /etc/ssl paths pointed at the copy).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cd "$top"

need=()
[ -f /usr/include/db.h ] || need+=(libdb-dev)
command -v db5.3_dump >/dev/null || need+=(db5.3-util)
[ -x /usr/sbin/smtpd ] || need+=(opensmtpd)
command -v openssl >/dev/null || need+=(openssl)
command -v doveadm >/dev/null || need+=(dovecot-core)
if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "== installing ${need[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "== building"
swift build 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)

work=$(mktemp -d /tmp/smtpd-tables-example.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$here"/aliases "$here"/vdomains "$here"/vusers "$here"/passwd "$here"/userinfo "$here"/smtpd.conf "$work"/
mkdir -p "$work/ssl"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=mail.example.org -days 2 \
    -keyout "$work/ssl/mail.example.org.key" -out "$work/ssl/mail.example.org.crt" 2>/dev/null
chmod 600 "$work/ssl/mail.example.org.key"
sed -i -e "s#/etc/mail/#$work/#g" -e "s#/etc/ssl/private/#$work/ssl/#g" -e "s#/etc/ssl/#$work/ssl/#g" \
    "$work/smtpd.conf"
conf="$work/smtpd.conf"

run() { echo "\$ $*"; "$@" || echo "(exit $?)"; }

echo "== the example, in $work"
# Build aliases.db from the aliases file the config names (db:.../aliases.db), as an admin would.
run "$bin/newaliases" -f "$conf"
run "$bin/makemap" -U "$work/aliases.db"
if [ -x /usr/sbin/smtpd ]; then run /usr/sbin/smtpd -n -f "$conf"; fi
# Who an address resolves to: rule, expansion tree with table:key provenance, deliveries or smtpd's reply.
run "$bin/smtpd-tables" resolve -f "$conf" --hostname mail.example.org \
    alice@example.org sales@example.net nobody@example.org nobody@example.net root@localhost
# Lint the whole setup; then single lookups as smtpd makes them.
run "$bin/smtpd-tables" check -f "$conf"
run "$bin/smtpd-tables" query -s domain "file:$work/vdomains" example.org a.b.example.org
run "$bin/smtpd-tables" query -s mailaddr "file:$work/vusers" sales@example.net nobody@example.org
run "$bin/smtpd-tables" query -s alias "db:$work/aliases.db" root webmaster
echo alice-secret-1 | run "$bin/smtpd-tables" verify --dovecot-scheme BLF-CRYPT "$work/passwd" alice
