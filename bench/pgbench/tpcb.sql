-- paxosql bench --workload tpcb: pgbench's TPC-B-like transaction at scale 1
-- (the builtin "tpcb-like" script) on the tables of init.sql. pgbench -i does
-- not run on paxosql (it uses COPY FREEZE, fillfactor and VACUUM), so use
-- init.sql and -n.
--   pgbench -n -M prepared -c 64 -j 2 -T 60 -f bench/pgbench/tpcb.sql "$URL"
\set aid random(1, 100000)
\set bid 1
\set tid random(1, 10)
\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;
UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);
END;
