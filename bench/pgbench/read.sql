-- The read part of paxosql bench --workload mixed: a point SELECT (linearizable on paxosql).
\set id random(1, 100000)
SELECT balance FROM bench_accounts WHERE id = :id;
