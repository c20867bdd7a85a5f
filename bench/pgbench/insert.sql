-- paxosql bench --workload insert: one single-row INSERT per transaction.
-- pgbench cannot keep a per-client counter, so ids are random 63-bit numbers
-- (a collision, reported as 23505, is about 1 in 10^7 for a million rows).
--   pgbench -n -M prepared -c 64 -j 2 -T 60 -f bench/pgbench/insert.sql "$URL"
\set id random(1, 9223372036854775806)
INSERT INTO bench_insert (id, client, payload) VALUES (:id, :client_id, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');
