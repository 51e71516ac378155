/*
 * blas_matmul: a Node-API addon that runs single-precision matrix products with OpenBLAS's cblas_sgemm
 * directly on an ArrayBuffer (the tfjs wasm backend's heap), so tfjs kernels can hand it byte offsets of
 * their tensors instead of copying them out of and back into wasm memory.
 *
 * OpenBLAS is dlopen'ed (libopenblas.so.0, Debian's libopenblas0-pthread) so the build needs neither
 * libopenblas-dev nor a BLAS header. Its kernel family is pinned when it loads (OPENBLAS_CORETYPE): OpenBLAS
 * otherwise picks kernels per CPU model, and they round differently, so a run's results would depend on
 * the machine and not only on the kernel family and thread count that the run records.
 *
 * The fused decoding step (fused_decode.c) is part of the same addon and takes its products from gemm_product.
 *
 * Build (build.sh): cc -O3 -ffp-contract=off -shared -fPIC -I/usr/include/node -o blas_matmul.node
 *   blas_matmul.c fused_decode.c -ldl -lm
 */
#include "blas_matmul.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

typedef void (*sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                         const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*get_string_fn)(void);

static sgemm_fn sgemm;
static set_threads_fn set_threads;
static get_threads_fn get_threads;
static get_string_fn get_corename;
static get_string_fn get_config;
static char load_error[512];
static char loaded_coretype[64];

/*
 * The kernel family to pin when none is asked for: SkylakeX (AVX-512) or Haswell (AVX2 + FMA). Pinned so
 * that every machine with the same instruction sets computes the same bits (OpenBLAS's own choice varies
 * with the CPU model, e.g. Cooperlake on Sapphire Rapids, whose sgemm rounds differently).
 */
static const char *default_coretype(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return NULL;
}

static int load_openblas(const char *coretype, const char *library) {
  if (coretype == NULL || coretype[0] == '\0') coretype = default_coretype();
  if (coretype == NULL) {
    snprintf(load_error, sizeof load_error, "this CPU has neither AVX2+FMA nor AVX-512 for a pinned OpenBLAS kernel");
    return 0;
  }
  snprintf(loaded_coretype, sizeof loaded_coretype, "%s", coretype);
  /* OpenBLAS reads the variable once, while it loads; children of this process must not inherit it. */
  const char *previous = getenv("OPENBLAS_CORETYPE");
  char *saved = previous ? strdup(previous) : NULL;
  setenv("OPENBLAS_CORETYPE", coretype, 1);
  /* An explicit library is the only one tried; otherwise Debian's soname, then a development symlink. */
  const char *names[] = {library, "libopenblas.so.0", "libopenblas.so"};
  const size_t first = library[0] != '\0' ? 0 : 1, last = library[0] != '\0' ? 1 : 3;
  void *handle = NULL;
  for (size_t i = first; i < last && handle == NULL; i++) handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (saved) {
    setenv("OPENBLAS_CORETYPE", saved, 1);
    free(saved);
  } else {
    unsetenv("OPENBLAS_CORETYPE");
  }
  if (handle == NULL) {
    snprintf(load_error, sizeof load_error, "cannot load OpenBLAS: %s", dlerror());
    return 0;
  }
  sgemm = (sgemm_fn)dlsym(handle, "cblas_sgemm");
  set_threads = (set_threads_fn)dlsym(handle, "openblas_set_num_threads");
  get_threads = (get_threads_fn)dlsym(handle, "openblas_get_num_threads");
  get_corename = (get_string_fn)dlsym(handle, "openblas_get_corename");
  get_config = (get_string_fn)dlsym(handle, "openblas_get_config");
  if (!sgemm || !set_threads || !get_threads || !get_corename || !get_config) {
    sgemm = NULL;
    snprintf(load_error, sizeof load_error, "the loaded library is not OpenBLAS (cblas_sgemm or openblas_* missing)");
    return 0;
  }
  return 1;
}

/*
 * Products of at most SMALL_ROWS rows (decoding a few tokens) run here, single-threaded: OpenBLAS would
 * pack all of B for a few rows and wake its second thread for each call, which costs more than the
 * arithmetic (and stalls whenever that thread's core is busy). Every element is summed in an order fixed
 * by this code: over k in sequence (B stored [k,n]) or in 8 interleaved partial sums combined pairwise
 * (B stored [n,k]); with contraction off (-ffp-contract=off) the AVX2 clone and the SSE2 default round
 * identically, so the results depend on neither the CPU nor the BLAS thread count.
 *
 * How the loops visit the elements changes no element's order of operations: B [k,n] is read as it lies
 * in memory, four rows at a time (the rows of C accumulate in cache meanwhile), and with B [n,k] four
 * columns' partial sums advance side by side (the vector type only holds the 8 partial sums of one).
 */
typedef float v8f __attribute__((vector_size(32)));
typedef float v8f_unaligned __attribute__((vector_size(32), aligned(4)));
#define LOAD8(p) (*(const v8f_unaligned *)(p))

/*
 * c(r,j) += a(r,p) b(p,j) for p = p0 .. p0+P-1 in order, for R rows of C from r and every j: P rows of B
 * stream through together, and each element of C is loaded and stored once per P terms.
 */
#define ACCUMULATE(R, P)                                                             \
  do {                                                                               \
    float av[R][P];                                                                  \
    float *restrict cr[R];                                                           \
    const float *restrict bq[P];                                                     \
    for (int q = 0; q < (P); q++) bq[q] = b + (p0 + q) * ldb;                        \
    for (int rr = 0; rr < (R); rr++) {                                               \
      cr[rr] = c + (r + rr) * ldc;                                                   \
      for (int q = 0; q < (P); q++) av[rr][q] = a[(r + rr) * sa_row + (p0 + q) * sa_k]; \
    }                                                                                \
    for (int64_t j = 0; j < n; j++) {                                                \
      float bj[P];                                                                   \
      for (int q = 0; q < (P); q++) bj[q] = bq[q][j];                                \
      for (int rr = 0; rr < (R); rr++) {                                             \
        float t = cr[rr][j];                                                         \
        for (int q = 0; q < (P); q++) t += av[rr][q] * bj[q];                        \
        cr[rr][j] = t;                                                               \
      }                                                                              \
    }                                                                                \
  } while (0)

__attribute__((target_clones("avx2", "default"))) static void small_gemm(
    int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const float *restrict a, int64_t lda,
    const float *restrict b, int64_t ldb, float *restrict c, int64_t ldc, const float *restrict bias) {
  if (!trans_b) {
    /* Each element starts from its bias (or 0) and adds a(r,p) b(p,j) for p in order. */
    const int64_t sa_row = trans_a ? 1 : lda, sa_k = trans_a ? lda : 1;
    for (int64_t r = 0; r < m; r++)
      for (int64_t j = 0; j < n; j++) c[r * ldc + j] = bias ? bias[j] : 0.0f;
    int64_t p0 = 0;
    for (; p0 + 4 <= k; p0 += 4) {
      int64_t r = 0;
      for (; r + 2 <= m; r += 2) ACCUMULATE(2, 4);
      for (; r < m; r++) ACCUMULATE(1, 4);
    }
    for (; p0 < k; p0++)
      for (int64_t r = 0; r < m; r++) ACCUMULATE(1, 1);
    return;
  }
  /* B stored [n,k]: 8 partial sums per element, combined pairwise, then the tail of k. */
  const int64_t k8 = k - k % 8;
  for (int64_t j = 0; j < n; j += 4) {
    const int64_t w = n - j < 4 ? n - j : 4;
    for (int64_t r = 0; r < m; r++) {
      v8f s[4] = {{0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0}};
      float tail[4] = {0, 0, 0, 0};
      if (trans_a) {
        for (int64_t p = 0; p < k8; p += 8) {
          v8f av;
          for (int q = 0; q < 8; q++) av[q] = a[(p + q) * lda + r];
          for (int64_t u = 0; u < w; u++) s[u] += av * LOAD8(b + (j + u) * ldb + p);
        }
        for (int64_t u = 0; u < w; u++)
          for (int64_t p = k8; p < k; p++) tail[u] += a[p * lda + r] * b[(j + u) * ldb + p];
      } else {
        const float *restrict ar = a + r * lda;
        if (w == 4)
          for (int64_t p = 0; p < k8; p += 8) {
            const v8f av = LOAD8(ar + p);
            s[0] += av * LOAD8(b + j * ldb + p);
            s[1] += av * LOAD8(b + (j + 1) * ldb + p);
            s[2] += av * LOAD8(b + (j + 2) * ldb + p);
            s[3] += av * LOAD8(b + (j + 3) * ldb + p);
          }
        else
          for (int64_t p = 0; p < k8; p += 8)
            for (int64_t u = 0; u < w; u++) s[u] += LOAD8(ar + p) * LOAD8(b + (j + u) * ldb + p);
        for (int64_t u = 0; u < w; u++)
          for (int64_t p = k8; p < k; p++) tail[u] += ar[p] * b[(j + u) * ldb + p];
      }
      for (int64_t u = 0; u < w; u++) {
        const v8f v = s[u];
        const float sum = ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
        c[r * ldc + j + u] = (bias ? bias[j + u] : 0.0f) + (sum + tail[u]);
      }
    }
  }
}

int blas_loaded(void) { return sgemm != NULL; }

void gemm_product(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                  const float *b, int64_t ldb, float *c, int64_t ldc, const float *bias) {
  if (m <= SMALL_ROWS) {
    small_gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, bias);
    return;
  }
  if (bias)
    for (int64_t r = 0; r < m; r++) memcpy(c + r * ldc, bias, (size_t)n * sizeof(float));
  /* C already holds the bias rows when there is a bias */
  sgemm(CBLAS_ROW_MAJOR, trans_a ? CBLAS_TRANS : CBLAS_NO_TRANS, trans_b ? CBLAS_TRANS : CBLAS_NO_TRANS, (int)m,
        (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb, bias ? 1.0f : 0.0f, c, (int)ldc);
}

napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

#define fail throw_error

/*
 * gemm(heap, transA, transB, batch, m, n, k, aByteOffset, lda, aStride, bByteOffset, ldb, bStride,
 *      cByteOffset, ldc, cStride, biasByteOffset)
 * For each of `batch` products: C[m,n] = op(A) op(B) (+ bias[n] on every row when biasByteOffset >= 0),
 * row-major, op(X) = X or X^T; sgemm, or small_gemm for a few rows. Strides (in floats) step between the
 * batch's matrices; 0 broadcasts one.
 * Every access is checked against the buffer's length before any is made.
 */
static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 17;
  napi_value argv[17];
  if (sgemm == NULL) return fail(env, "blas_matmul.gemm: OpenBLAS is not loaded (call load first)");
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 17) return fail(env, "blas_matmul.gemm: expected 17 arguments");
  void *data = NULL;
  size_t length = 0;
  bool is_buffer = false;
  CHECK(napi_is_arraybuffer(env, argv[0], &is_buffer));
  if (!is_buffer) return fail(env, "blas_matmul.gemm: the first argument must be an ArrayBuffer");
  CHECK(napi_get_arraybuffer_info(env, argv[0], &data, &length));
  int64_t v[16];
  for (int i = 0; i < 16; i++) {
    bool flag;
    if (i < 2) {
      CHECK(napi_get_value_bool(env, argv[i + 1], &flag));
      v[i] = flag;
    } else {
      CHECK(napi_get_value_int64(env, argv[i + 1], &v[i]));
    }
  }
  const int trans_a = (int)v[0], trans_b = (int)v[1];
  const int64_t batch = v[2], m = v[3], n = v[4], k = v[5];
  const int64_t a_off = v[6], lda = v[7], a_stride = v[8];
  const int64_t b_off = v[9], ldb = v[10], b_stride = v[11];
  const int64_t c_off = v[12], ldc = v[13], c_stride = v[14], bias_off = v[15];
  if (batch < 0 || m < 0 || n < 0 || k < 0 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX)
    return fail(env, "blas_matmul.gemm: negative or too large dimension");
  if (batch == 0 || m == 0 || n == 0) return NULL;
  /* Stored shapes: A is [m,k] ([k,m] when transposed), B is [k,n] ([n,k]). */
  const int64_t a_rows = trans_a ? k : m, a_cols = trans_a ? m : k;
  const int64_t b_rows = trans_b ? n : k, b_cols = trans_b ? k : n;
  if (lda < (a_cols > 1 ? a_cols : 1) || ldb < (b_cols > 1 ? b_cols : 1) || ldc < n || lda > INT32_MAX ||
      ldb > INT32_MAX || ldc > INT32_MAX)
    return fail(env, "blas_matmul.gemm: leading dimension smaller than the row");
  if (a_stride < 0 || b_stride < 0 || c_stride < 0)
    return fail(env, "blas_matmul.gemm: negative batch stride");
  /* Outputs may be stacked (each after the last) or side by side in the columns of one matrix (heads). */
  const int stacked = c_stride >= (m - 1) * ldc + n;
  const int side_by_side = n <= c_stride && (batch - 1) * c_stride + n <= ldc;
  if (batch > 1 && !stacked && !side_by_side)
    return fail(env, "blas_matmul.gemm: output matrices of a batch overlap");
  /* Last float touched + 1, per operand (k == 0 reads nothing from A and B). */
  const int64_t a_end = k == 0 ? 0 : (batch - 1) * a_stride + (a_rows - 1) * lda + a_cols;
  const int64_t b_end = k == 0 ? 0 : (batch - 1) * b_stride + (b_rows - 1) * ldb + b_cols;
  const int64_t c_end = (batch - 1) * c_stride + (m - 1) * ldc + n;
  const int64_t floats = (int64_t)(length / sizeof(float));
  const int64_t offsets[] = {a_off, b_off, c_off, bias_off};
  for (int i = 0; i < 4; i++)
    if ((i < 3 || bias_off >= 0) && (offsets[i] < 0 || offsets[i] % (int64_t)sizeof(float) != 0))
      return fail(env, "blas_matmul.gemm: byte offset negative or not float-aligned");
  if (a_off / 4 + a_end > floats || b_off / 4 + b_end > floats || c_off / 4 + c_end > floats ||
      (bias_off >= 0 && bias_off / 4 + n > floats))
    return fail(env, "blas_matmul.gemm: operand outside the buffer");

  float *base = (float *)data;
  const float *bias = bias_off >= 0 ? base + bias_off / 4 : NULL;
  for (int64_t i = 0; i < batch; i++)
    gemm_product(trans_a, trans_b, m, n, k, base + a_off / 4 + i * a_stride, lda, base + b_off / 4 + i * b_stride,
                 ldb, base + c_off / 4 + i * c_stride, ldc, bias);
  return NULL;
}

/* setThreads(n): OpenBLAS's thread count for the following calls. */
static napi_value set_thread_count(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t threads = 0;
  if (sgemm == NULL) return fail(env, "blas_matmul.setThreads: OpenBLAS is not loaded (call load first)");
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1 || napi_get_value_int32(env, argv[0], &threads) != napi_ok || threads < 1)
    return fail(env, "blas_matmul.setThreads: expected a positive integer");
  set_threads(threads);
  return NULL;
}

/* info(): { threads, corename, config } of the loaded OpenBLAS. */
static napi_value describe(napi_env env, napi_callback_info info) {
  (void)info;
  if (sgemm == NULL) return fail(env, "blas_matmul.info: OpenBLAS is not loaded (call load first)");
  napi_value result, threads, corename, config;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_int32(env, get_threads(), &threads));
  CHECK(napi_create_string_utf8(env, get_corename(), NAPI_AUTO_LENGTH, &corename));
  CHECK(napi_create_string_utf8(env, get_config(), NAPI_AUTO_LENGTH, &config));
  CHECK(napi_set_named_property(env, result, "threads", threads));
  CHECK(napi_set_named_property(env, result, "corename", corename));
  CHECK(napi_set_named_property(env, result, "config", config));
  return result;
}

/*
 * load(coretype, library): loads OpenBLAS once per process with its kernels pinned to `coretype` ("" for
 * this CPU's default family) and returns info(). OpenBLAS cannot be reloaded, so a later call asking for
 * another family throws.
 */
static napi_value load(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char coretype[64] = "", library[512] = "";
  size_t ignored;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 2 || napi_get_value_string_utf8(env, argv[0], coretype, sizeof coretype, &ignored) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], library, sizeof library, &ignored) != napi_ok)
    return fail(env, "blas_matmul.load: expected (coretype: string, library: string)");
  if (sgemm != NULL) {
    if (coretype[0] != '\0' && strcasecmp(coretype, loaded_coretype) != 0) {
      snprintf(load_error, sizeof load_error, "OpenBLAS is already loaded with %s kernels in this process, not %s",
               loaded_coretype, coretype);
      return fail(env, load_error);
    }
    return describe(env, info);
  }
  if (!load_openblas(coretype, library)) return fail(env, load_error);
  return describe(env, info);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"load", NULL, load, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gemm", NULL, gemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, set_thread_count, NULL, NULL, NULL, napi_enumerable, NULL},
      {"info", NULL, describe, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties));
  CHECK(fused_decode_define(env, exports));
  return exports;
}

NAPI_MODULE(blas_matmul, init)
