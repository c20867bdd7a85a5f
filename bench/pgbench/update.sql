-- paxosql bench --workload update: one single-row UPDATE of a random account.
--   pgbench -n -M prepared -c 64 -j 2 -T 60 -f bench/pgbench/update.sql "$URL"
\set id random(1, 100000)
\set delta random(-5000, 5000)
UPDATE bench_accounts SET balance = balance + :delta, updates = updates + 1 WHERE id = :id;
