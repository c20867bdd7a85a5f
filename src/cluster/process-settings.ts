// How a node process is started: the V8 and allocator settings that keep a
// node's resident memory low (issue 6: < 200 MB per node with a million rows).
// One place for them: LocalCluster (dev, tests, bench) and the profiler spawn
// nodes with these, and the `paxosql` executable's shebang line carries the
// same values (src/cli/main.ts; a test checks that the two agree).
//
// Measured with bench/rss.ts (see bench/README.md, "Memory"): a node runs
// five V8 isolates (main thread, apply, read, Paxos log, and snapshot readers
// when a read-only transaction is open) and each grows its young generation to
// 16 MB semi-spaces under load by default; glibc gives every thread that
// allocates its own 64 MB malloc arena. Small semi-spaces cost a few percent
// of throughput in extra scavenges (measured in the same runs).

/** V8 flags for the node's main thread; worker threads inherit them. */
export const NODE_V8_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/** Environment for the node process (read by glibc at exec, so it cannot be set from inside). */
export const NODE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
