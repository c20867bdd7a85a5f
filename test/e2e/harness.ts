// The end-to-end tests drive clusters through the same module `paxosql dev`
// and `paxosql bench` use.
export { CLI, freePorts, LocalCluster, type ClusterOptions, type NodeStatus } from '../../src/cluster/local.js';
