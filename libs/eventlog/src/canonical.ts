// Canonical JSON and its hashing live in @recon/canonical, which the domain libs use without this database lib.
export { canonicalJson, hashCanonical, sha256Hex } from '@recon/canonical';
