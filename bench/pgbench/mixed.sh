#!/bin/sh
# paxosql bench --workload mixed with pgbench: 50% inserts, 30% updates,
# 20% point reads, as weighted scripts.
#   bench/pgbench/mixed.sh "$URL" [more pgbench options, e.g. -c 64 -j 2 -T 60 -M prepared]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
url=$1
shift
exec pgbench -n "$@" -f "$here/insert.sql@5" -f "$here/update.sql@3" -f "$here/read.sql@2" "$url"
