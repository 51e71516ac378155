import { createHash } from 'node:crypto';

/**
 * The Merkle tree of RFC 9162 (Certificate Transparency 2.0, section 2.1) over the log: leaf i is the hash
 * of the event at global position i + 1, so a signed root proves, with a logarithmic audit path, that an
 * event is in the log (inclusion) and that a later log extends an earlier one (consistency), to anyone
 * holding only the public key.
 */

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** MTH({}): the root of the empty tree, sha256 of nothing. */
export const EMPTY_TREE_ROOT = createHash('sha256').digest();

export function hashLeaf(data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** The leaf of an event: its envelope hash (hex) as 32 bytes. */
export function eventLeaf(eventHash: string): Buffer {
  return hashLeaf(Buffer.from(eventHash, 'hex'));
}

/** The largest power of two smaller than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The nodes of the frontier of a tree of `size` leaves: one per set bit of the size. */
export function frontierLength(size: number): number {
  let nodes = 0;
  for (let rest = size; rest > 0; rest = Math.floor(rest / 2)) nodes += rest % 2;
  return nodes;
}

/**
 * The compact form of a tree of `size` leaves: the roots of its perfect subtrees, largest first (one per set
 * bit of the size). Enough to append leaves and to compute the root, without the leaves; a signed checkpoint
 * carries it, so the next signer continues from it.
 */
export class MerkleFrontier {
  private readonly nodes: Buffer[];

  constructor(
    private count = 0,
    nodes: readonly Buffer[] = [],
  ) {
    const expected = frontierLength(count);
    if (nodes.length !== expected)
      throw new RangeError(
        `a Merkle frontier of ${count} leaves has ${expected} node(s), not ${nodes.length}`,
      );
    this.nodes = [...nodes];
  }

  get size(): number {
    return this.count;
  }

  append(leafHash: Buffer): void {
    let node = leafHash;
    for (let size = this.count; size % 2 === 1; size = Math.floor(size / 2))
      node = hashChildren(this.nodes.pop()!, node);
    this.nodes.push(node);
    this.count += 1;
  }

  root(): Buffer {
    if (this.nodes.length === 0) return EMPTY_TREE_ROOT;
    let root = this.nodes[this.nodes.length - 1];
    for (let i = this.nodes.length - 2; i >= 0; i -= 1) root = hashChildren(this.nodes[i], root);
    return root;
  }

  toHex(): string[] {
    return this.nodes.map((node) => node.toString('hex'));
  }

  static fromHex(size: number, nodes: readonly string[]): MerkleFrontier {
    return new MerkleFrontier(
      size,
      nodes.map((node) => Buffer.from(node, 'hex')),
    );
  }
}

/**
 * A whole tree held in memory, level by level (a last node without a sibling moves up unchanged, which
 * yields RFC 9162's left-balanced tree): proofs are read from it in logarithmic time.
 */
export class MerkleTree {
  private readonly levels: Buffer[][];

  constructor(leafHashes: readonly Buffer[]) {
    this.levels = [[...leafHashes]];
    for (let level = this.levels[0]; level.length > 1;) {
      const up: Buffer[] = [];
      for (let i = 0; i < level.length; i += 2)
        up.push(i + 1 < level.length ? hashChildren(level[i], level[i + 1]) : level[i]);
      this.levels.push(up);
      level = up;
    }
  }

  get size(): number {
    return this.levels[0].length;
  }

  root(): Buffer {
    return this.size === 0 ? EMPTY_TREE_ROOT : this.levels[this.levels.length - 1][0];
  }

  /** MTH(D[start:end]) for the ranges proofs need; perfect aligned subtrees are read from the levels. */
  private rangeRoot(start: number, end: number): Buffer {
    const n = end - start;
    if ((n & (n - 1)) === 0 && start % n === 0) return this.levels[Math.log2(n)][start / n];
    const k = splitPoint(n);
    return hashChildren(this.rangeRoot(start, start + k), this.rangeRoot(start + k, end));
  }

  /** PATH(m, D[n]) of RFC 9162 2.1.3.1: the audit path of leaf `index`, leaf side first. */
  inclusionProof(index: number): Buffer[] {
    if (!(index >= 0 && index < this.size))
      throw new RangeError(`leaf ${index} is not in a tree of ${this.size}`);
    const path: Buffer[] = [];
    let i = index;
    for (const level of this.levels.slice(0, -1)) {
      const sibling = i ^ 1;
      if (sibling < level.length) path.push(level[sibling]);
      i >>= 1;
    }
    return path;
  }

  /** PROOF(m, D[n]) of RFC 9162 2.1.4.1: that the tree's first `oldSize` leaves are the tree of that size. */
  consistencyProof(oldSize: number): Buffer[] {
    if (!(oldSize >= 1 && oldSize <= this.size))
      throw new RangeError(`no consistency proof from size ${oldSize} to ${this.size}`);
    const proof: Buffer[] = [];
    const subproof = (m: number, start: number, end: number, complete: boolean): void => {
      const n = end - start;
      if (m === n) {
        if (!complete) proof.push(this.rangeRoot(start, end));
        return;
      }
      const k = splitPoint(n);
      if (m <= k) {
        subproof(m, start, start + k, complete);
        proof.push(this.rangeRoot(start + k, end));
      } else {
        subproof(m - k, start + k, end, false);
        proof.push(this.rangeRoot(start, start + k));
      }
    };
    subproof(oldSize, 0, this.size, true);
    return proof;
  }
}

/** RFC 9162 2.1.3.2: whether `path` proves leaf `index` (its hash `leafHash`) in the tree of `size` with `root`. */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  path: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size))
    return false;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leafHash;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else r = hashChildren(r, p);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && Buffer.compare(Buffer.from(r), Buffer.from(root)) === 0;
}

/** RFC 9162 2.1.4.2: whether `proof` shows the tree (`newSize`, `newRoot`) extends (`oldSize`, `oldRoot`). */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
  if (!(Number.isSafeInteger(oldSize) && Number.isSafeInteger(newSize)) || oldSize < 1 || oldSize > newSize)
    return false;
  if (oldSize === newSize) return proof.length === 0 && same(oldRoot, newRoot);
  if (proof.length === 0) return false;
  const path = (oldSize & (oldSize - 1)) === 0 ? [oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Uint8Array = path[0];
  let sr: Uint8Array = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else sr = hashChildren(sr, c);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && same(fr, oldRoot) && same(sr, newRoot);
}
