// Fault-injecting TCP proxies for node-to-node traffic. The transport uses
// one connection per direction (node i dials j to send i→j), so one proxy per
// directed link is enough to cut any set of one-way links: symmetric
// partitions cut both directions of a pair, asymmetric ones only one.
//
// A cut link behaves in one of two ways:
//   drop   a black hole: bytes already in flight and every new byte vanish and
//          connections stay open, so the sender learns nothing (like packets
//          dropped by a firewall); at heal those connections are reset, the
//          way TCP gives up on a connection that lost data.
//   reset  connections are closed at once and new ones are closed as they
//          arrive (like a host answering with RST).

import net from 'node:net';

export type CutMode = 'drop' | 'reset';

/** A directed link: traffic sent by `from` to `to`. */
export interface Link {
  readonly from: number;
  readonly to: number;
}

/** One accepted connection and, while it forwards, its connection to the target. */
interface Pair {
  readonly inbound: net.Socket;
  upstream: net.Socket | null;
  /** False once the link was cut while this pair was open: its bytes are discarded. */
  forwarding: boolean;
}

/** Bytes a pair may buffer towards a slow side before it stops reading the other (backpressure). */
const HIGH_WATER_BYTES = 4 << 20;

export class LinkProxy {
  private target: number | null = null;
  private cutMode: CutMode | null = null;
  private readonly pairs = new Set<Pair>();
  private closed = false;

  private constructor(
    readonly link: Link,
    private readonly server: net.Server,
  ) {}

  /** Listen on a free loopback port; the target is set later (setTarget) before nodes start. */
  static async listen(link: Link): Promise<LinkProxy> {
    const server = net.createServer();
    const proxy = new LinkProxy(link, server);
    server.on('connection', (socket) => proxy.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** The real peer port of `link.to`, where bytes are forwarded. */
  setTarget(port: number): void {
    this.target = port;
  }

  isCut(): boolean {
    return this.cutMode !== null;
  }

  /** Open connections (for tests and progress output). */
  connectionCount(): number {
    return this.pairs.size;
  }

  cut(mode: CutMode): void {
    this.cutMode = mode;
    for (const pair of [...this.pairs]) {
      if (mode === 'reset') this.destroy(pair);
      else this.blackhole(pair);
    }
  }

  /** Forward again; connections that lost bytes while cut are reset so the transport redials. */
  heal(): void {
    if (this.cutMode === null) return;
    this.cutMode = null;
    for (const pair of [...this.pairs]) if (!pair.forwarding) this.destroy(pair);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pair of [...this.pairs]) this.destroy(pair);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(inbound: net.Socket): void {
    inbound.on('error', () => undefined); // a reset connection is part of the game, never a crash of the harness
    if (this.closed || this.cutMode === 'reset' || this.target === null) {
      inbound.destroy();
      return;
    }
    const pair: Pair = { inbound, upstream: null, forwarding: true };
    this.pairs.add(pair);
    inbound.on('close', () => this.destroy(pair));
    if (this.cutMode === 'drop') {
      this.blackhole(pair);
      return;
    }
    const upstream = net.connect(this.target, '127.0.0.1');
    pair.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.on('close', () => this.destroy(pair));
    this.forward(pair, inbound, upstream);
    this.forward(pair, upstream, inbound);
  }

  /** Copies src → dst while the pair forwards, pausing src while dst is backed up. */
  private forward(pair: Pair, src: net.Socket, dst: net.Socket): void {
    src.on('data', (chunk: Buffer) => {
      if (!pair.forwarding) return; // black hole: the bytes are gone
      if (!dst.write(chunk) && dst.writableLength > HIGH_WATER_BYTES) {
        src.pause();
        dst.once('drain', () => src.resume());
      }
    });
  }

  private blackhole(pair: Pair): void {
    pair.forwarding = false;
    // Keep reading (and discarding) so the sender never sees backpressure either.
    pair.inbound.resume();
    pair.upstream?.resume();
  }

  private destroy(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.inbound.destroy();
    pair.upstream?.destroy();
  }
}

/** Every directed link of a cluster behind its own proxy. */
export class ProxyMesh {
  private constructor(
    readonly ids: readonly number[],
    private readonly proxies: ReadonlyMap<string, LinkProxy>,
  ) {}

  static async create(ids: readonly number[]): Promise<ProxyMesh> {
    const proxies = new Map<string, LinkProxy>();
    try {
      for (const from of ids) {
        for (const to of ids) {
          if (from !== to) proxies.set(linkName({ from, to }), await LinkProxy.listen({ from, to }));
        }
      }
    } catch (error) {
      await Promise.all([...proxies.values()].map((p) => p.close()));
      throw error;
    }
    return new ProxyMesh(ids, proxies);
  }

  proxy(link: Link): LinkProxy {
    const proxy = this.proxies.get(linkName(link));
    if (proxy === undefined) throw new Error(`no proxy for link ${linkName(link)}`);
    return proxy;
  }

  /**
   * The config node `self` runs with: it listens on its own peer port, and
   * dials every other node through the proxy of that directed link, which
   * forwards to the real peer port taken from the shared config.
   */
  configFor(self: number, config: Record<string, unknown>): Record<string, unknown> {
    const nodes = config['nodes'];
    if (!Array.isArray(nodes)) throw new Error('cluster config has no nodes list');
    const rewritten = nodes.map((raw: unknown) => {
      const node = raw as { id: number; peerPort: number };
      if (node.id === self) return node;
      const proxy = this.proxy({ from: self, to: node.id });
      proxy.setTarget(node.peerPort);
      return { ...node, peerPort: proxy.port };
    });
    return { ...config, nodes: rewritten };
  }

  /** Cut exactly these links (healing every other one). */
  partition(cut: readonly Link[], mode: CutMode): void {
    const names = new Set(cut.map(linkName));
    for (const [name, proxy] of this.proxies) {
      if (names.has(name)) proxy.cut(mode);
      else proxy.heal();
    }
  }

  healAll(): void {
    for (const proxy of this.proxies.values()) proxy.heal();
  }

  cutLinks(): Link[] {
    return [...this.proxies.values()].filter((p) => p.isCut()).map((p) => p.link);
  }

  async close(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
  }
}

export function linkName(link: Link): string {
  return `${link.from}->${link.to}`;
}

/** Both directions of every pair of nodes in different groups. */
export function linksBetweenGroups(groups: readonly (readonly number[])[]): Link[] {
  const links: Link[] = [];
  for (let a = 0; a < groups.length; a++) {
    for (let b = 0; b < groups.length; b++) {
      if (a === b) continue;
      for (const from of groups[a]!) for (const to of groups[b]!) links.push({ from, to });
    }
  }
  return links;
}
