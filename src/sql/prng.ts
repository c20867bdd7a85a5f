// A seeded PRNG (SplitMix64) so random(), randomblob() and gen_random_uuid() draw the
// same values on every replica. Not cryptographic: replicas must agree, not keep secrets.

const MASK_64 = (1n << 64n) - 1n;
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;

export class SeededRandom {
  private state: bigint;

  constructor(seed: bigint | number) {
    if (typeof seed === 'number' && !Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    this.state = BigInt.asUintN(64, BigInt(seed));
  }

  nextUint64(): bigint {
    this.state = (this.state + GOLDEN_GAMMA) & MASK_64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK_64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK_64;
    return z ^ (z >> 31n);
  }

  /** A float in [0, 1) with 53 random bits, like Postgres' random(). */
  nextFloat(): number {
    return Number(this.nextUint64() >> 11n) / 2 ** 53;
  }

  bytes(count: number): Uint8Array {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i += 8) {
      let word = this.nextUint64();
      for (let j = i; j < Math.min(i + 8, count); j++) {
        out[j] = Number(word & 0xffn);
        word >>= 8n;
      }
    }
    return out;
  }
}
