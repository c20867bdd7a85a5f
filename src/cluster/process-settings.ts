// How a node process is started: the V8 and allocator settings that keep a
// node's resident memory low (issue 6: < 200 MB per node with a million rows).
// One place for them: LocalCluster (dev, tests, bench) and the profiler spawn
// nodes with these, and the `paxosql` executable's shebang line carries the
// same values (src/cli/main.ts; a test checks that the two agree).
//
// Measured with bench/rss.ts (see bench/README.md, "Memory"): a node runs
// several V8 isolates (main thread, apply, read, Paxos log, and snapshot
// readers while a read-only transaction is open). By default each grows its
// young generation to 16 MB semi-spaces under load and lets its old
// generation grow by up to 4x before collecting; glibc gives every thread
// that allocates its own malloc arena. With these settings a node with a
// million rows went from 246-270 MB to 228-236 MB under 64 writing clients,
// and from 199-205 MB to 141-154 MB idle.

/** V8 flags for the node's main thread; worker threads inherit them. */
export const NODE_V8_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--heap-growing-percent=25'];

/** Environment for the node process (read by glibc at exec, so it cannot be set from inside). */
export const NODE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
