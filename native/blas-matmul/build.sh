#!/usr/bin/env bash
# Builds the OpenBLAS matmul addon (native/blas-matmul/build/blas_matmul.node: the matmul kernels of
# blas_matmul.c and the fused decoding step of fused_decode.c) with the system C compiler and Node's own
# headers; nothing is downloaded. -ffp-contract=off: small_gemm's and the fused decoder's rounding must not
# depend on whether the compiler fuses multiply-adds. OpenBLAS itself is loaded at run time (dlopen), so a
# failure here, or a missing libopenblas0-pthread later, only leaves the policy on plain wasm.
set -uo pipefail
cd "$(dirname "$0")"
include=""
for dir in /usr/include/node "$(dirname "$(dirname "$(command -v node)")")/include/node"; do
  if [ -f "$dir/node_api.h" ]; then include="$dir"; break; fi
done
if [ -z "$include" ]; then
  echo "blas-matmul: not built (no node_api.h; install Debian's nodejs headers): the policy uses plain wasm" >&2
  exit 0
fi
if ! command -v "${CC:-cc}" >/dev/null; then
  echo "blas-matmul: not built (no C compiler): the policy uses plain wasm" >&2
  exit 0
fi
mkdir -p build
sources=(blas_matmul.c fused_decode.c)
fresh=1
for file in "${sources[@]}" blas_matmul.h build.sh; do
  [ build/blas_matmul.node -nt "$file" ] || fresh=0
done
if [ "$fresh" = 1 ]; then exit 0; fi
if ! "${CC:-cc}" -O3 -ffp-contract=off -Wall -Wextra -Wno-psabi -shared -fPIC -I"$include" -o build/blas_matmul.node.tmp "${sources[@]}" -ldl -lm; then
  echo "blas-matmul: the build failed (see above): the policy uses plain wasm" >&2
  rm -f build/blas_matmul.node.tmp
  exit 0
fi
mv build/blas_matmul.node.tmp build/blas_matmul.node
