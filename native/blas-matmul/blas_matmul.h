/*
 * Shared between blas_matmul.c (OpenBLAS loading, the gemm entry point) and fused_decode.c (one decoding
 * step of the policy transformer per call): both take their products from gemm_product, so a product in
 * the fused decoder rounds exactly as the same product through the tfjs kernels.
 */
#ifndef BLAS_MATMUL_H
#define BLAS_MATMUL_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>

/* Products of at most this many rows run in small_gemm (blas_matmul.c), more in OpenBLAS's sgemm. */
#define SMALL_ROWS 16

/* Whether OpenBLAS is loaded (load() succeeded). */
int blas_loaded(void);

/*
 * C[m,n] = op(A) op(B) (+ bias[n] on every row when bias != NULL), row-major, op(X) = X or X^T: small_gemm
 * for m <= SMALL_ROWS, else sgemm starting from the bias rows. The one definition of a product's rounding
 * for both the gemm entry point and the fused decoder.
 */
void gemm_product(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                  const float *b, int64_t ldb, float *c, int64_t ldc, const float *bias);

napi_value throw_error(napi_env env, const char *message);

#define CHECK(call)                                                                   \
  do {                                                                                \
    if ((call) != napi_ok) {                                                          \
      napi_throw_error(env, NULL, "blas_matmul: N-API call failed: " #call);          \
      return NULL;                                                                    \
    }                                                                                 \
  } while (0)

/* Adds the fused decoder's functions (fused_decode.c) to the addon's exports. */
napi_status fused_decode_define(napi_env env, napi_value exports);

#endif
