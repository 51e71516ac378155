import {
  EMPTY_TREE_ROOT,
  hashLeaf,
  MerkleFrontier,
  MerkleTree,
  verifyConsistency,
  verifyInclusion,
} from './merkle';

// Test vectors of RFC 6962/9162 Merkle trees as published by transparency-dev/merkle (testonly/constants.go:
// leaf inputs and the root of every tree size; proof/verify_test.go: inclusion and consistency proofs).
const h = (hex: string) => Buffer.from(hex, 'hex');
const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(h);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
/** [leaf number (1-based), tree size, audit path] */
const INCLUSION: Array<[number, number, string[]]> = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [3, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    2,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];
/** [old size, new size, proof] */
const CONSISTENCY: Array<[number, number, string[]]> = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
  [
    6,
    7,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
];

const leafHashes = LEAVES.map(hashLeaf);
const tree = (size: number) => new MerkleTree(leafHashes.slice(0, size));
const hex = (nodes: Buffer[]) => nodes.map((n) => n.toString('hex'));

describe('RFC 9162 Merkle tree', () => {
  it('computes the published root of every tree size, in memory and from a frontier', () => {
    expect(EMPTY_TREE_ROOT.toString('hex')).toBe(ROOTS[0]);
    const frontier = new MerkleFrontier();
    ROOTS.forEach((root, size) => {
      expect(tree(size).root().toString('hex')).toBe(root);
      expect(frontier.root().toString('hex')).toBe(root);
      // A frontier kept as hex (as a checkpoint carries it) continues to the same roots.
      const restored = MerkleFrontier.fromHex(frontier.size, frontier.toHex());
      if (size < LEAVES.length) {
        frontier.append(leafHashes[size]);
        restored.append(leafHashes[size]);
        expect(restored.root()).toEqual(frontier.root());
      }
    });
    expect(() => MerkleFrontier.fromHex(3, [ROOTS[1]])).toThrow(
      'a Merkle frontier of 3 leaves has 2 node(s), not 1',
    );
  });

  it.each(INCLUSION)(
    'proves leaf %i in a tree of %i as published, and refuses a tampered proof',
    (leaf, size, path) => {
      expect(hex(tree(size).inclusionProof(leaf - 1))).toEqual(path);
      const root = h(ROOTS[size]);
      const proof = path.map(h);
      expect(verifyInclusion(leafHashes[leaf - 1], leaf - 1, size, proof, root)).toBe(true);
      const refused = (index: number, n: number, p: Buffer[], r = root, leafHash = leafHashes[leaf - 1]) =>
        verifyInclusion(leafHash, index, n, p, r);
      expect(refused(leaf - 2, size, proof)).toBe(false);
      expect(refused(leaf, size, proof)).toBe(false);
      expect(refused(leaf - 1, size * 2, proof)).toBe(false);
      expect(refused(leaf - 1, size, proof, EMPTY_TREE_ROOT)).toBe(false);
      expect(refused(leaf - 1, size, proof, root, hashLeaf(h('ff')))).toBe(false);
      expect(refused(leaf - 1, size, [...proof, root])).toBe(false);
      expect(refused(leaf - 1, size, [root, ...proof])).toBe(false);
      proof.forEach((_, i) => {
        const flipped = proof.map((node) => Buffer.from(node));
        flipped[i][0] ^= 8;
        expect(refused(leaf - 1, size, flipped)).toBe(false);
      });
      if (proof.length > 0) expect(refused(leaf - 1, size, proof.slice(0, -1))).toBe(false);
    },
  );

  it.each(CONSISTENCY)(
    'proves a tree of %i consistent with one of %i as published, and refuses a tampered proof',
    (m, n, expected) => {
      expect(hex(tree(n).consistencyProof(m))).toEqual(expected);
      const [oldRoot, newRoot] = [h(ROOTS[m]), h(ROOTS[n])];
      const proof = expected.map(h);
      expect(verifyConsistency(m, n, oldRoot, newRoot, proof)).toBe(true);
      if (proof.length === 0) return;
      expect(verifyConsistency(m, n, newRoot, oldRoot, proof)).toBe(false);
      expect(verifyConsistency(m - 1 || 2, n, oldRoot, newRoot, proof)).toBe(false);
      expect(verifyConsistency(m, n, oldRoot, newRoot, [])).toBe(false);
      expect(verifyConsistency(m, n, oldRoot, newRoot, proof.slice(0, -1))).toBe(false);
      expect(verifyConsistency(m, n, oldRoot, newRoot, [...proof, newRoot])).toBe(false);
      proof.forEach((_, i) => {
        const flipped = proof.map((node) => Buffer.from(node));
        flipped[i][0] ^= 16;
        expect(verifyConsistency(m, n, oldRoot, newRoot, flipped)).toBe(false);
      });
    },
  );

  it('proves every leaf and every earlier size of trees up to 40 leaves', () => {
    const many = Array.from({ length: 40 }, (_, i) => hashLeaf(Buffer.from([i])));
    for (let n = 1; n <= many.length; n += 1) {
      const big = new MerkleTree(many.slice(0, n));
      for (let i = 0; i < n; i += 1)
        expect(verifyInclusion(many[i], i, n, big.inclusionProof(i), big.root())).toBe(true);
      for (let m = 1; m <= n; m += 1)
        expect(
          verifyConsistency(
            m,
            n,
            new MerkleTree(many.slice(0, m)).root(),
            big.root(),
            big.consistencyProof(m),
          ),
        ).toBe(true);
    }
  });
});
