#!/usr/bin/env bash
# start-postgres.sh starts a real PostgreSQL for the proxy-mode tests of
# fakes/pg and prints the URL to export as BREAKERLAB_TEST_POSTGRES.
#
#   eval "$(fakes/pg/testdata/start-postgres.sh --export)"   # sets the variable
#   fakes/pg/testdata/start-postgres.sh                       # prints the URL only
#
# It is idempotent: it installs Debian's postgresql packages when missing,
# creates the cluster when missing, puts a managed block of pg_hba.conf lines
# first (trust for local TCP, plus three password roles that exercise the
# cleartext, md5 and SCRAM-SHA-256 exchanges through the proxy), starts the
# server on 127.0.0.1:${PGPORT:-5432} and creates the breakerlab database.
# Environment: PGPORT (5432), BREAKERLAB_PG_DB (breakerlab).
set -euo pipefail

port=${PGPORT:-5432}
db=${BREAKERLAB_PG_DB:-breakerlab}
export=false
[[ ${1:-} == --export ]] && export=true

sudo=()
if [[ $(id -u) -ne 0 ]]; then
	command -v sudo >/dev/null || { echo "start-postgres.sh: run as root or install sudo" >&2; exit 1; }
	sudo=(sudo)
fi
log() { echo "start-postgres.sh: $*" >&2; }

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! command -v pg_ctlcluster >/dev/null || ! command -v pgbench >/dev/null; then
	log "installing postgresql"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >&2
fi

ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
cluster=main
if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$ver $cluster"; then
	log "creating cluster $ver/$cluster on port $port"
	"${sudo[@]}" pg_createcluster "$ver" "$cluster" --port "$port" >&2
fi
conf=/etc/postgresql/$ver/$cluster

# Settings go in a conf.d file of their own (Debian's postgresql.conf
# includes conf.d), so the packaged postgresql.conf stays untouched.
settings="# managed by fakes/pg/testdata/start-postgres.sh
listen_addresses = '127.0.0.1'
port = $port
max_connections = 200
"
changed=false
dropin=$conf/conf.d/breakerlab.conf
if [[ ! -f $dropin ]] || [[ $(cat "$dropin") != "${settings%$'\n'}" ]]; then
	printf '%s' "$settings" | "${sudo[@]}" tee "$dropin" >/dev/null
	changed=true
fi

# pg_hba.conf takes the first matching line: the managed block goes on top.
hba=$conf/pg_hba.conf
block='# BEGIN breakerlab (managed by fakes/pg/testdata/start-postgres.sh)
host    all    bl_clear    127.0.0.1/32    password
host    all    bl_md5      127.0.0.1/32    md5
host    all    bl_scram    127.0.0.1/32    scram-sha-256
host    all    all         127.0.0.1/32    trust
# END breakerlab'
tmp=$(mktemp)
{ printf '%s\n' "$block"; "${sudo[@]}" sed '/^# BEGIN breakerlab/,/^# END breakerlab/d' "$hba"; } >"$tmp"
if ! "${sudo[@]}" cmp -s "$tmp" "$hba"; then
	"${sudo[@]}" cp "$tmp" "$hba"
	changed=true
fi
rm -f "$tmp"

status=$(pg_lsclusters -h | awk -v v="$ver" -v c="$cluster" '$1 == v && $2 == c {print $4}')
if [[ $status == online ]]; then
	if [[ $changed == true ]]; then
		"${sudo[@]}" pg_ctlcluster "$ver" "$cluster" restart >&2
	fi
else
	log "starting cluster $ver/$cluster"
	"${sudo[@]}" pg_ctlcluster "$ver" "$cluster" start >&2
fi
for _ in $(seq 1 60); do
	pg_isready -q -h 127.0.0.1 -p "$port" && break
	sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$port" || { log "server did not come up"; exit 1; }

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"; }
if [[ $(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'") != 1 ]]; then
	psql_admin -c "CREATE DATABASE $db" >&2
fi
psql_admin >&2 <<'SQL'
SET password_encryption = 'scram-sha-256';
SELECT 'CREATE ROLE bl_scram LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bl_scram') \gexec
ALTER ROLE bl_scram LOGIN PASSWORD 'breakerlab';
SELECT 'CREATE ROLE bl_clear LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bl_clear') \gexec
ALTER ROLE bl_clear LOGIN PASSWORD 'breakerlab';
SET password_encryption = 'md5';
SELECT 'CREATE ROLE bl_md5 LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bl_md5') \gexec
ALTER ROLE bl_md5 LOGIN PASSWORD 'breakerlab';
SQL

url="postgres://postgres@127.0.0.1:$port/$db?sslmode=disable"
if [[ $export == true ]]; then
	echo "export BREAKERLAB_TEST_POSTGRES='$url'"
else
	echo "$url"
fi
