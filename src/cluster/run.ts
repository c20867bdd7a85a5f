// One paxosql node as a process runs: the cluster runtime plus the Postgres
// server in front of it.

import type { Logger } from 'pino';
import type { AuthConfig, UserCredential } from '../pgwire/auth.js';
import { PgServer } from '../pgwire/server.js';
import type { ClusterConfig } from './config.js';
import { ClusterNode } from './node.js';
import { ClusterBackend } from './session.js';

export interface RunningNode {
  readonly node: ClusterNode;
  readonly pg: PgServer;
  readonly pgPort: number;
  stop(): Promise<void>;
}

export async function startNode(config: ClusterConfig, self: number, logger: Logger): Promise<RunningNode> {
  const me = config.nodes.find((n) => n.id === self);
  if (me === undefined) throw new Error(`node ${self} is not in the configuration (ids: ${config.nodes.map((n) => n.id).join(', ')})`);
  const node = await ClusterNode.start(config, self, logger);
  const pg = new PgServer({
    backend: new ClusterBackend(node, logger.child({ node: self, component: 'pg' })),
    auth: authConfig(config),
    databases: config.databases,
    maxConnections: config.maxConnections,
    logger: logger.child({ node: self, component: 'pg' }),
  });
  let address;
  try {
    address = await pg.listen(me.pgPort, me.host);
  } catch (error) {
    await node.stop();
    throw error;
  }
  logger.info({ node: self, pgPort: address.port }, 'serving Postgres clients');
  return {
    node,
    pg,
    pgPort: address.port,
    stop: async () => {
      await pg.close();
      await node.stop();
    },
  };
}

/** Users from the config: a SCRAM verifier is stored as such, anything else as a password. */
function authConfig(config: ClusterConfig): AuthConfig {
  const users = new Map<string, UserCredential>();
  for (const u of config.users) {
    users.set(u.name, u.password.startsWith('SCRAM-SHA-256$') ? { scramVerifier: u.password } : { password: u.password });
  }
  return { method: config.auth, users };
}
