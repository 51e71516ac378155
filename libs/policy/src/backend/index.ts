export { blasUnavailableReason } from './blas-addon';
export * from './select-backend';
export { wasmBlasActive } from './wasm-blas-matmul-kernel';
export { fusedDecodingActive, setFusedDecoding } from './wasm-fused-decode';
