/*
 * fused_decode: one KV-cache decoding step of libs/policy's TransformerPolicy per call (all layers, the
 * final LayerNorm and the head), on the weights where they sit on the tfjs wasm heap, with the keys and
 * values of earlier tokens held here. Through tfjs, the same step is about 90 kernel dispatches per token,
 * which cost far more than the arithmetic at the policy's sizes.
 *
 * The architecture is model/transformer.ts's: token + learned position embeddings; per layer pre-norm
 * LayerNorm, q/k/v projections (+ LoRA), attention of the new tokens over the cache with an additive mask,
 * output projection, residual; LayerNorm, up projection, GELU (tanh form), down projection, residual; final
 * LayerNorm; head (the token embedding transposed when tied). Every value is computed with the operations,
 * in the order, of that path on wasm-openblas, so the logits are bit-identical to it:
 *  - products through gemm_product, the function behind the addon's gemm (small_gemm or sgemm);
 *  - LayerNorm, GELU and attention in double precision exactly as the JS kernels compute them
 *    (backend/wasm-layer-norm-kernel.ts, wasm-gelu-kernel.ts, wasm-decode-attention-kernel.ts), with
 *    v8_exp below in place of Math.exp;
 *  - element-wise adds and the LoRA scale in float, as tfjs's wasm kernels.
 * Contraction is off (-ffp-contract=off), so no multiply-add is fused whatever the instruction set, and
 * the vector loops only run several of those sums side by side, each in its own order. The addon also
 * gives the LayerNorm and decode attention kernels their values on wasm-openblas (the same functions), and
 * the sampler its exps (exp below). libs/policy/src/backend/wasm-fused-decode.spec.ts checks all of it
 * bit for bit against the JS kernels and the tfjs path.
 *
 * Steps of 64 rows or more (a batch's prompt) stay on the tfjs kernels: there GELU is built from tfjs ops
 * (XNNPACK's sigmoid), whose rounding this file does not reproduce.
 */
#include "blas_matmul.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Vectors of GCC's extension: element-wise IEEE operations, rounded as the scalar ones. */
typedef double v4d __attribute__((vector_size(32)));
typedef double v4d_unaligned __attribute__((vector_size(32), aligned(8)));
typedef int64_t v4di __attribute__((vector_size(32)));
typedef uint64_t v4du __attribute__((vector_size(32)));
typedef int32_t v4si __attribute__((vector_size(16)));
typedef float v4f __attribute__((vector_size(16)));
typedef float v4f_unaligned __attribute__((vector_size(16), aligned(4)));
/* 4 floats from p, as doubles (exact). */
#define LOAD4D(p) __builtin_convertvector(*(const v4f_unaligned *)(p), v4d)

/* ---- Math.exp as V8 computes it ----------------------------------------------------------------------- */

static inline uint32_t high_word(double x) {
  uint64_t bits;
  memcpy(&bits, &x, sizeof bits);
  return (uint32_t)(bits >> 32);
}

static inline uint32_t low_word(double x) {
  uint64_t bits;
  memcpy(&bits, &x, sizeof bits);
  return (uint32_t)bits;
}

static inline double from_words(uint32_t high, uint32_t low) {
  const uint64_t bits = ((uint64_t)high << 32) | low;
  double x;
  memcpy(&x, &bits, sizeof x);
  return x;
}

/*
 * exp(x) by fdlibm's algorithm and constants (e_exp.c), which V8 uses for Math.exp (src/base/ieee754.cc),
 * including V8's special case for exp(1). Only basic IEEE operations, so the result is the same double as
 * Math.exp's on every machine; the JS kernels' sums depend on it. fdlibm's notice:
 *   Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
 *   Developed at SunSoft, a Sun Microsystems, Inc. business.
 *   Permission to use, copy, modify, and distribute this software is freely granted, provided that this
 *   notice is preserved.
 */
static double v8_exp(double x) {
  static const double one = 1.0, half[2] = {0.5, -0.5}, o_threshold = 7.09782712893383973096e+02,
                      u_threshold = -7.45133219101941108420e+02,
                      ln2_hi[2] = {6.93147180369123816490e-01, -6.93147180369123816490e-01},
                      ln2_lo[2] = {1.90821492927058770002e-10, -1.90821492927058770002e-10},
                      inv_ln2 = 1.44269504088896338700e+00, P1 = 1.66666666666666019037e-01,
                      P2 = -2.77777777770155933842e-03, P3 = 6.61375632143793436117e-05,
                      P4 = -1.65339022054652515390e-06, P5 = 4.13813679705723846039e-08,
                      E = 2.718281828459045, huge = 1.0e+300, twom1000 = 9.33263618503218878990e-302,
                      two1023 = 8.988465674311579539e307;
  double y, hi = 0.0, lo = 0.0, c, t, twopk;
  int32_t k = 0;
  uint32_t hx = high_word(x);
  const int xsb = (int)((hx >> 31) & 1);
  hx &= 0x7FFFFFFF;
  if (hx >= 0x40862E42) { /* |x| >= 709.78... */
    if (hx >= 0x7FF00000) {
      if (((hx & 0xFFFFF) | low_word(x)) != 0) return x + x; /* NaN */
      return xsb == 0 ? x : 0.0;                            /* exp(+-inf) = {inf, 0} */
    }
    if (x > o_threshold) return huge * huge;         /* overflow */
    if (x < u_threshold) return twom1000 * twom1000; /* underflow */
  }
  if (hx > 0x3FD62E42) {   /* |x| > 0.5 ln2 */
    if (hx < 0x3FF0A2B2) { /* and |x| < 1.5 ln2 */
      if (x == 1.0) return E;
      hi = x - ln2_hi[xsb];
      lo = ln2_lo[xsb];
      k = 1 - xsb - xsb;
    } else {
      k = (int32_t)(inv_ln2 * x + half[xsb]);
      t = k;
      hi = x - t * ln2_hi[0]; /* t * ln2_hi is exact here */
      lo = t * ln2_lo[0];
    }
    x = hi - lo;
  } else if (hx < 0x3E300000) { /* |x| < 2^-28 */
    if (huge + x > one) return one + x;
  } else {
    k = 0;
  }
  t = x * x;
  if (k >= -1021)
    twopk = from_words(0x3FF00000u + ((uint32_t)k << 20), 0);
  else
    twopk = from_words(0x3FF00000u + ((uint32_t)(k + 1000) << 20), 0);
  c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0) return one - ((x * c) / (c - 2.0) - x);
  y = one - ((lo - (x * c) / (2.0 - c)) - hi);
  if (k >= -1021) {
    if (k == 1024) return y * 2.0 * two1023;
    return y * twopk;
  }
  return y * twopk * twom1000;
}

static inline __attribute__((always_inline)) v4d select4(v4di mask, v4d a, v4d b) {
  return (v4d)((mask & (v4di)a) | (~mask & (v4di)b));
}

/*
 * v8_exp of four values at once, lane by lane the same operations: for 2^-28 <= |x| < 709.78 (x != 1)
 * the branches differ only in the reduction (none for |x| <= 0.5 ln2, else k = (int)(x/ln2 +- 0.5), which
 * for 0.5 ln2 < |x| < 1.5 ln2 is v8_exp's k = +-1, hi = x -+ ln2_hi, lo = +-ln2_lo exactly) and in the last
 * step, where (x c)/(c - 2) is -((x c)/(2 - c)) exactly (negation commutes with rounding), so one division
 * serves both; |x| < 2^-28 gives 1 + x and x < -745.13 (a masked score) 0, as v8_exp does. Any other lane
 * (infinite, NaN, overflowing, x = 1, or k < -1021 or k = 1024) is v8_exp's own.
 */
static inline __attribute__((always_inline)) v4d v8_exp4(v4d x) {
  const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10,
               inv_ln2 = 1.44269504088896338700e+00, P1 = 1.66666666666666019037e-01,
               P2 = -2.77777777770155933842e-03, P3 = 6.61375632143793436117e-05,
               P4 = -1.65339022054652515390e-06, P5 = 4.13813679705723846039e-08;
  const v4di bits = (v4di)x;
  const v4di hx = (bits >> 32) & 0x7FFFFFFF;
  const v4di small = hx <= 0x3FD62E42;
  const v4d half = select4(bits < 0, (v4d){-0.5, -0.5, -0.5, -0.5}, (v4d){0.5, 0.5, 0.5, 0.5});
  const v4si k32 = __builtin_convertvector(inv_ln2 * x + half, v4si);
  const v4di k = __builtin_convertvector(k32, v4di) & ~small;
  const v4di tiny = hx < 0x3E300000, under = x < -7.45133219101941108420e+02;
  const v4di special = ((hx >= 0x40862E42) & ~under) | (x == 1.0) | (k < -1021) | (k > 1023);
  const v4d t_k = __builtin_convertvector(k, v4d);
  const v4d hi = x - t_k * ln2_hi, lo = t_k * ln2_lo;
  const v4d r = select4(small, x, hi - lo);
  const v4d t = r * r;
  const v4d c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  const v4d quotient = (r * c) / (2.0 - c);
  const v4d y_small = 1.0 - (-quotient - r);
  const v4d twopk = (v4d)((v4du)(k + 0x3FF) << 52);
  const v4d y = (1.0 - ((lo - quotient) - hi)) * twopk;
  v4d result = select4(small, y_small, y);
  result = select4(tiny, 1.0 + x, result);
  result = select4(under, (v4d){0, 0, 0, 0}, result);
  if (special[0] | special[1] | special[2] | special[3])
    for (int i = 0; i < 4; i++)
      if (special[i]) result[i] = v8_exp(x[i]);
  return result;
}

/* ---- the KV cache ------------------------------------------------------------------------------------- */

/*
 * Keys and values of `length` positions of `batch` sequences for every layer, in chunks of `chunk`
 * positions (a multiple of ATTEND_BLOCK) allocated as decoding reaches them: nothing is copied when the
 * cache grows. Per chunk and layer, keys are [batch][heads][dh][chunk] (transposed: a query's scores over
 * a chunk are vector loops along positions) and values [batch][heads][chunk][dh], so each head's keys and
 * values of a chunk are one contiguous block, read in order.
 */
typedef struct {
  int64_t batch, layers, d, heads, chunk;
  int64_t length;      /* positions held */
  int64_t chunks;      /* chunks allocated per layer */
  float **keys;        /* [chunks * layers]: chunk ci of layer l at ci * layers + l */
  float **values;
  float *scratch;      /* activations of one step */
  size_t scratch_floats;
  double *dscratch;    /* attention scores, accumulators and chunk pointers */
  size_t dscratch_doubles;
  int64_t reported;    /* bytes of chunks reported to V8 as external memory */
} kv_cache;

/* Tells V8's collector about the chunks' memory, so dropped caches are collected under memory pressure. */
static void kv_report(napi_env env, kv_cache *cache) {
  const int64_t bytes = 2 * cache->chunks * cache->layers * cache->batch * cache->d * cache->chunk * (int64_t)sizeof(float);
  int64_t ignored;
  if (bytes != cache->reported && napi_adjust_external_memory(env, bytes - cache->reported, &ignored) == napi_ok)
    cache->reported = bytes;
}

static void kv_release(kv_cache *cache) {
  for (int64_t i = 0; i < cache->chunks * cache->layers; i++) {
    free(cache->keys[i]);
    free(cache->values[i]);
  }
  free(cache->keys);
  free(cache->values);
  free(cache->scratch);
  free(cache->dscratch);
  cache->keys = cache->values = NULL;
  cache->scratch = NULL;
  cache->dscratch = NULL;
  cache->chunks = cache->length = 0;
  cache->scratch_floats = cache->dscratch_doubles = 0;
}

static void kv_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  kv_release((kv_cache *)data);
  kv_report(env, (kv_cache *)data);
  free(data);
}

/* Room for `positions` positions; 0 when memory runs out (what was held stays valid). */
static int kv_reserve(kv_cache *cache, int64_t positions) {
  const int64_t need = (positions + cache->chunk - 1) / cache->chunk;
  if (need <= cache->chunks) return 1;
  const size_t slots = (size_t)(need * cache->layers);
  float **keys = realloc(cache->keys, slots * sizeof *keys);
  if (keys) cache->keys = keys;
  float **values = realloc(cache->values, slots * sizeof *values);
  if (values) cache->values = values;
  if (!keys || !values) return 0;
  const size_t floats = (size_t)(cache->batch * cache->d * cache->chunk);
  for (int64_t ci = cache->chunks; ci < need; ci++) {
    for (int64_t l = 0; l < cache->layers; l++) {
      const int64_t at = ci * cache->layers + l;
      /* Zeroed: the score loops read whole blocks of positions, past the last one written. */
      cache->keys[at] = calloc(floats, sizeof(float));
      cache->values[at] = calloc(floats, sizeof(float));
      if (!cache->keys[at] || !cache->values[at]) {
        for (int64_t m = 0; m <= l; m++) {
          free(cache->keys[ci * cache->layers + m]);
          free(cache->values[ci * cache->layers + m]);
        }
        return 0;
      }
    }
    cache->chunks = ci + 1;
  }
  return 1;
}

/* Key channel `channel` of sequence b at `position` (the next channels follow at a stride of chunk). */
static inline float *key_at(const kv_cache *cache, int64_t layer, int64_t b, int64_t position, int64_t channel) {
  const int64_t ci = position / cache->chunk, j = position % cache->chunk;
  return cache->keys[ci * cache->layers + layer] + (b * cache->d + channel) * cache->chunk + j;
}

/* Head h's value [dh] of sequence b at `position`. */
static inline float *value_at(const kv_cache *cache, int64_t layer, int64_t b, int64_t position, int64_t h) {
  const int64_t ci = position / cache->chunk, j = position % cache->chunk, dh = cache->d / cache->heads;
  return cache->values[ci * cache->layers + layer] + ((b * cache->heads + h) * cache->chunk + j) * dh;
}

/* Stores or loads (`into_cache` 0) the key and value rows [d] of sequence b at `position` of `layer`. */
static void kv_copy(kv_cache *cache, int64_t layer, int64_t b, int64_t position, float *key, float *value,
                    int into_cache) {
  const int64_t chunk = cache->chunk, dh = cache->d / cache->heads;
  float *k = key_at(cache, layer, b, position, 0);
  for (int64_t c = 0; c < cache->d; c++)
    if (into_cache)
      k[c * chunk] = key[c];
    else
      key[c] = k[c * chunk];
  for (int64_t h = 0; h < cache->heads; h++)
    if (into_cache)
      memcpy(value_at(cache, layer, b, position, h), value + h * dh, (size_t)dh * sizeof(float));
    else
      memcpy(value + h * dh, value_at(cache, layer, b, position, h), (size_t)dh * sizeof(float));
}

/* ---- the JS kernels' arithmetic ------------------------------------------------------------------------ */

/*
 * backend/wasm-layer-norm-kernel.ts's forward: y (and, when not NULL, xhat [rows, d] and rstd [rows] for the
 * backward pass) in double sums over each row in order. The decoder passes model/ops.ts's epsilon, 1e-5.
 */
static void layer_norm(int64_t rows, int64_t d, const float *restrict x, const float *restrict gain,
                       const float *restrict bias, double epsilon, float *restrict y, float *restrict xhat,
                       float *restrict rstd) {
  for (int64_t r = 0; r < rows; r++) {
    const float *restrict xr = x + r * d;
    float *restrict yr = y + r * d;
    double sum = 0;
    for (int64_t c = 0; c < d; c++) sum += xr[c];
    const double mean = sum / (double)d;
    double squares = 0;
    for (int64_t c = 0; c < d; c++) {
      const double dev = xr[c] - mean;
      squares += dev * dev;
    }
    const double inv = 1 / sqrt(squares / (double)d + epsilon);
    if (rstd) rstd[r] = (float)inv;
    for (int64_t c = 0; c < d; c++) {
      const float h = (float)((xr[c] - mean) * inv);
      if (xhat) xhat[r * d + c] = h;
      yr[c] = (float)((double)h * gain[c] + bias[c]);
    }
  }
}

/* backend/wasm-gelu-kernel.ts: x * sigmoid(2c(x + a x^3)) in double, rounded once, in place. */
__attribute__((target_clones("avx2", "default"))) static void gelu(int64_t count, float *restrict x) {
  const double two_c = 2 * sqrt(2 / M_PI), a = 0.044715;
  int64_t i = 0;
  for (; i + 4 <= count; i += 4) {
    const v4d v = LOAD4D(x + i);
    const v4d sig = 1 / (1 + v8_exp4(-two_c * v * (1 + a * v * v)));
    *(v4f_unaligned *)(x + i) = __builtin_convertvector(v * sig, v4f);
  }
  for (; i < count; i++) {
    const double v = x[i];
    const double sig = 1 / (1 + v8_exp(-two_c * v * (1 + a * v * v)));
    x[i] = (float)(v * sig);
  }
}

/* Positions whose scores one pass over a head's key channels computes: a cache chunk holds whole blocks. */
#define ATTEND_BLOCK 32

/*
 * Keys and values of one sequence and head, in chunks of `chunk` positions: key (channel e, position j)
 * at keys[j / chunk][e * key_stride + j % chunk], value (j, e) at values[j / chunk][(j % chunk) *
 * value_stride + e].
 */
typedef struct {
  const float *const *keys;
  const float *const *values;
  int64_t chunk, key_stride, value_stride;
} kv_view;

/*
 * backend/wasm-decode-attention-kernel.ts for one query row and head: scores q.k (double sums over the
 * channels in order) times 1/sqrt(dh) plus the mask, softmax with v8_exp, and the probability-weighted
 * sum of the values in position order; `out` [dh] rounded to float. The vector types let 16 positions'
 * scores (or 16 channels' sums) advance side by side; each is still one sum in its own order.
 */
__attribute__((target_clones("avx2", "default"))) static void attend_row(
    const kv_view *kv, int64_t s, int64_t dh, const float *restrict q, const float *restrict mask,
    double *restrict scores, double *restrict acc, float *restrict out) {
  const int64_t chunk = kv->chunk, ks = kv->key_stride, vs = kv->value_stride;
  const double scale = 1 / sqrt((double)dh);
  for (int64_t j0 = 0; j0 < s; j0 += chunk) {
    const int64_t width = s - j0 < chunk ? s - j0 : chunk;
    const float *restrict keys = kv->keys[j0 / chunk];
    /* Whole blocks of ATTEND_BLOCK positions (the chunk holds them; those past `width` are dropped). */
    for (int64_t j = 0; j < width; j += ATTEND_BLOCK) {
      v4d dot[ATTEND_BLOCK / 4];
      for (int i = 0; i < ATTEND_BLOCK / 4; i++) dot[i] = (v4d){0, 0, 0, 0};
      for (int64_t e = 0; e < dh; e++) {
        const double qe = q[e];
        const float *restrict row = keys + e * ks + j;
        for (int i = 0; i < ATTEND_BLOCK / 4; i++) dot[i] += qe * LOAD4D(row + 4 * i);
      }
      const int64_t valid = width - j < ATTEND_BLOCK ? width - j : ATTEND_BLOCK;
      memcpy(scores + j0 + j, dot, (size_t)valid * sizeof(double));
    }
  }
  /* max as the JS loop finds it (a NaN score never becomes it; which of +0 and -0 wins changes no exp). */
  v4d maxes = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
  int64_t j4 = 0;
  for (; j4 + 4 <= s; j4 += 4) {
    const v4d score = *(const v4d_unaligned *)(scores + j4) * scale + LOAD4D(mask + j4);
    *(v4d_unaligned *)(scores + j4) = score;
    maxes = select4(score > maxes, score, maxes);
  }
  double max = -INFINITY;
  for (int i = 0; i < 4; i++)
    if (maxes[i] > max) max = maxes[i];
  for (; j4 < s; j4++) {
    const double score = scores[j4] * scale + mask[j4];
    scores[j4] = score;
    if (score > max) max = score;
  }
  double total = 0;
  for (j4 = 0; j4 + 4 <= s; j4 += 4) {
    const v4d e = v8_exp4(*(const v4d_unaligned *)(scores + j4) - max);
    *(v4d_unaligned *)(scores + j4) = e;
    total += e[0];
    total += e[1];
    total += e[2];
    total += e[3];
  }
  for (; j4 < s; j4++) {
    const double e = v8_exp(scores[j4] - max);
    scores[j4] = e;
    total += e;
  }
  for (int64_t j = 0; j < s; j++) scores[j] = scores[j] / total;
  int64_t e0 = 0;
  for (; e0 + 16 <= dh; e0 += 16) {
    v4d a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0;
    for (int64_t j0 = 0; j0 < s; j0 += chunk) {
      const int64_t width = s - j0 < chunk ? s - j0 : chunk;
      const float *restrict values = kv->values[j0 / chunk] + e0;
      for (int64_t j = 0; j < width; j++) {
        const double p = scores[j0 + j];
        const float *restrict v = values + j * vs;
        a0 += p * LOAD4D(v);
        a1 += p * LOAD4D(v + 4);
        a2 += p * LOAD4D(v + 8);
        a3 += p * LOAD4D(v + 12);
      }
    }
    const v4d sums[4] = {a0, a1, a2, a3};
    for (int i = 0; i < 16; i++) out[e0 + i] = (float)sums[i / 4][i % 4];
  }
  if (e0 == dh) return;
  for (int64_t e = e0; e < dh; e++) acc[e] = 0;
  for (int64_t j = 0; j < s; j++) {
    const double p = scores[j];
    const float *restrict v = kv->values[j / chunk] + (j % chunk) * vs;
    for (int64_t e = e0; e < dh; e++) acc[e] += p * (double)v[e];
  }
  for (int64_t e = e0; e < dh; e++) out[e] = (float)acc[e];
}

/*
 * Attention of queries [batch*n, d] over keys and values [batch, s, d] (heads side by side in d) with an
 * additive mask [batch, 1, n, s]: the decode attention kernel's output [batch*n, d]. `transposed` holds
 * one head's keys [dh][s rounded up to ATTEND_BLOCK]; `scores` as many doubles plus dh.
 */
static void attend_all(int64_t batch, int64_t n, int64_t s, int64_t d, int64_t heads, const float *q,
                       const float *keys, const float *values, const float *mask, float *out, float *transposed,
                       double *scores) {
  const int64_t dh = d / heads, stride = (s + ATTEND_BLOCK - 1) / ATTEND_BLOCK * ATTEND_BLOCK;
  for (int64_t b = 0; b < batch; b++)
    for (int64_t h = 0; h < heads; h++) {
      const float *kb = keys + b * s * d + h * dh;
      for (int64_t e = 0; e < dh; e++) {
        for (int64_t j = 0; j < s; j++) transposed[e * stride + j] = kb[j * d + e];
        for (int64_t j = s; j < stride; j++) transposed[e * stride + j] = 0;
      }
      const float *key_chunks[1] = {transposed}, *value_chunks[1] = {values + b * s * d + h * dh};
      const kv_view kv = {key_chunks, value_chunks, stride, stride, d};
      for (int64_t t = 0; t < n; t++) {
        const int64_t r = b * n + t;
        attend_row(&kv, s, dh, q + r * d + h * dh, mask + r * s, scores, scores + stride, out + r * d + h * dh);
      }
    }
}

/*
 * The attention of a step's queries q [batch*n, d] for `layer` over the cache's s positions, into out.
 * `scratch`: scores [chunks * chunk], accumulators [dh], then two arrays of chunk pointers.
 */
static void attend_layer(const kv_cache *cache, int64_t layer, int64_t n, int64_t s, const float *q,
                         const float *mask, float *out, double *scratch) {
  const int64_t heads = cache->heads, d = cache->d, dh = d / heads;
  double *scores = scratch, *acc = scores + cache->chunks * cache->chunk;
  _Static_assert(sizeof(const float *) <= sizeof(double), "chunk pointers are kept in the double scratch");
  const float **key_chunks = (const float **)(acc + dh), **value_chunks = key_chunks + cache->chunks;
  for (int64_t b = 0; b < cache->batch; b++)
    for (int64_t h = 0; h < heads; h++) {
      for (int64_t ci = 0; ci * cache->chunk < s; ci++) {
        key_chunks[ci] = key_at(cache, layer, b, ci * cache->chunk, h * dh);
        value_chunks[ci] = value_at(cache, layer, b, ci * cache->chunk, h);
      }
      const kv_view kv = {(const float *const *)key_chunks, (const float *const *)value_chunks, cache->chunk,
                          cache->chunk, dh};
      for (int64_t t = 0; t < n; t++) {
        const int64_t r = b * n + t;
        attend_row(&kv, s, dh, q + r * d + h * dh, mask + r * s, scores, acc, out + r * d + h * dh);
      }
    }
}

/* model/ops.ts layerNorm's epsilon, which the policy's LayerNorms use. */
#define LAYER_NORM_EPSILON 1e-5

/* ---- the step ----------------------------------------------------------------------------------------- */

/* Weights, as byte offsets on the heap (-1: absent): the model's, then per layer. */
enum { W_TOKENS, W_POSITIONS, W_LNF_GAIN, W_LNF_BIAS, W_HEAD, W_GLOBAL };
enum {
  L_LN1_GAIN, L_LN1_BIAS, L_Q, L_Q_BIAS, L_K, L_K_BIAS, L_V, L_V_BIAS, L_O, L_O_BIAS,
  L_LN2_GAIN, L_LN2_BIAS, L_UP, L_UP_BIAS, L_DOWN, L_DOWN_BIAS,
  L_LORA, /* lora_a, lora_b of q, k, v, o, up, down */
  L_COUNT = L_LORA + 12
};
/* dims: vocab, dModel, layers, heads, context, hidden (MLP width), tied head (0/1), LoRA rank (0: none). */
enum { D_VOCAB, D_MODEL, D_LAYERS, D_HEADS, D_CONTEXT, D_HIDDEN, D_TIED, D_RANK, D_COUNT };

typedef struct {
  const float *w, *bias, *lora_a, *lora_b;
  int64_t in, out;
} projection;

/* x [rows, in] -> out [rows, out]: x w + bias, plus (x a) b * scale with LoRA (model/transformer.ts project). */
static void project(const projection *p, int64_t rows, const float *x, float *out, int64_t rank, float scale,
                    float *low, float *delta) {
  gemm_product(0, 0, rows, p->out, p->in, x, p->in, p->w, p->out, out, p->out, p->bias);
  if (!p->lora_a) return;
  gemm_product(0, 0, rows, rank, p->in, x, p->in, p->lora_a, rank, low, rank, NULL);
  gemm_product(0, 0, rows, p->out, rank, low, rank, p->lora_b, p->out, delta, p->out, NULL);
  for (int64_t i = 0; i < rows * p->out; i++) out[i] = out[i] + delta[i] * scale;
}

static int typed_array(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length) {
  bool is_typed = false;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  if (napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) != napi_ok) return 0;
  return type == want;
}

static int heap_arg(napi_env env, napi_value value, float **base, int64_t *floats) {
  bool is_buffer = false;
  void *data = NULL;
  size_t length = 0;
  if (napi_is_arraybuffer(env, value, &is_buffer) != napi_ok || !is_buffer) return 0;
  if (napi_get_arraybuffer_info(env, value, &data, &length) != napi_ok) return 0;
  *base = (float *)data;
  *floats = (int64_t)(length / sizeof(float));
  return 1;
}

static kv_cache *cache_arg(napi_env env, napi_value value) {
  napi_valuetype type;
  void *data = NULL;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external) return NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok) return NULL;
  kv_cache *cache = data;
  return cache && cache->layers > 0 ? cache : NULL;
}

/* The float at byte `offset` when `count` floats from there lie inside the heap, else NULL. */
static float *heap_floats(float *base, int64_t floats, double offset, int64_t count) {
  if (!(offset >= 0) || offset != floor(offset) || offset > 9.0e15) return NULL;
  const int64_t at = (int64_t)offset;
  if (at % 4 != 0 || count < 0 || at / 4 + count > floats) return NULL;
  return base + at / 4;
}

static int grow_scratch(kv_cache *cache, size_t floats, size_t doubles) {
  if (floats > cache->scratch_floats) {
    float *scratch = realloc(cache->scratch, floats * sizeof(float));
    if (!scratch) return 0;
    cache->scratch = scratch;
    cache->scratch_floats = floats;
  }
  if (doubles > cache->dscratch_doubles) {
    double *dscratch = realloc(cache->dscratch, doubles * sizeof(double));
    if (!dscratch) return 0;
    cache->dscratch = dscratch;
    cache->dscratch_doubles = doubles;
  }
  return 1;
}

/*
 * decodeStep(heap, weights, dims, loraScale, cache, cacheLength, ids, positions, mask, n, logits)
 * Feeds n new tokens per sequence (ids and positions: Int32Array [batch, n]; mask: Float32Array, the
 * additive mask [batch, 1, n, cacheLength + n]) after the cache's cacheLength positions (which must be all
 * it holds), appends their keys and values, and writes the last token's logits into `logits`
 * (Float32Array [batch, vocab]). The arrays may be views of the heap (the tfjs kernel) or not (the
 * sampler's path). weights: Float64Array of the weights' byte offsets on the heap (see W_* and L_*); dims:
 * Int32Array (D_*). Everything is validated before the cache changes.
 */
static napi_value decode_step(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 11) return throw_error(env, "fused_decode.decodeStep: expected 11 arguments");
  if (!blas_loaded()) return throw_error(env, "fused_decode.decodeStep: OpenBLAS is not loaded (call load first)");
  float *base;
  int64_t floats;
  if (!heap_arg(env, argv[0], &base, &floats))
    return throw_error(env, "fused_decode.decodeStep: the heap must be an ArrayBuffer");
  double *table;
  int32_t *dims;
  size_t table_length, dims_length;
  if (!typed_array(env, argv[1], napi_float64_array, (void **)&table, &table_length))
    return throw_error(env, "fused_decode.decodeStep: weights must be a Float64Array");
  if (!typed_array(env, argv[2], napi_int32_array, (void **)&dims, &dims_length) || dims_length != D_COUNT)
    return throw_error(env, "fused_decode.decodeStep: dims must be an Int32Array of 8");
  double lora_scale;
  int64_t expected_length, n;
  CHECK(napi_get_value_double(env, argv[3], &lora_scale));
  kv_cache *cache = cache_arg(env, argv[4]);
  if (!cache) return throw_error(env, "fused_decode.decodeStep: not a live KV cache");
  CHECK(napi_get_value_int64(env, argv[5], &expected_length));
  int32_t *ids, *positions;
  float *mask, *logits;
  size_t ids_length, positions_length, mask_length, logits_length;
  if (!typed_array(env, argv[6], napi_int32_array, (void **)&ids, &ids_length) ||
      !typed_array(env, argv[7], napi_int32_array, (void **)&positions, &positions_length) ||
      !typed_array(env, argv[8], napi_float32_array, (void **)&mask, &mask_length) ||
      !typed_array(env, argv[10], napi_float32_array, (void **)&logits, &logits_length))
    return throw_error(env, "fused_decode.decodeStep: ids, positions (Int32Array), mask, logits (Float32Array)");
  CHECK(napi_get_value_int64(env, argv[9], &n));

  const int64_t vocab = dims[D_VOCAB], d = dims[D_MODEL], layers = dims[D_LAYERS], heads = dims[D_HEADS];
  const int64_t context = dims[D_CONTEXT], hidden = dims[D_HIDDEN], tied = dims[D_TIED], rank = dims[D_RANK];
  if (vocab < 1 || d < 1 || layers < 1 || heads < 1 || d % heads != 0 || context < 1 || hidden < 1 || rank < 0)
    return throw_error(env, "fused_decode.decodeStep: bad dims");
  if (cache->layers != layers || cache->d != d || cache->heads != heads)
    return throw_error(env, "fused_decode.decodeStep: the cache was made for another model shape");
  if (expected_length != cache->length)
    return throw_error(env, "fused_decode.decodeStep: the cache holds another length than the one decoded from");
  if (table_length != (size_t)(W_GLOBAL + layers * L_COUNT))
    return throw_error(env, "fused_decode.decodeStep: weights table of the wrong length");
  const int64_t batch = cache->batch, rows = batch * n, s = cache->length + n;
  if (n < 1 || s > context) return throw_error(env, "fused_decode.decodeStep: no token, or past the context");

  /* Weights: present where required, absent or inside the heap where optional. */
  const int64_t global_sizes[W_GLOBAL] = {vocab * d, context * d, d, d, tied ? 0 : d * vocab};
  const float *global[W_GLOBAL];
  for (int i = 0; i < W_GLOBAL; i++) {
    global[i] = NULL;
    if (i == W_HEAD && tied) continue;
    if (!(global[i] = heap_floats(base, floats, table[i], global_sizes[i])))
      return throw_error(env, "fused_decode.decodeStep: a weight lies outside the heap or is missing");
  }
  const int64_t lora_in[6] = {d, d, d, d, d, hidden}, lora_out[6] = {d, d, d, d, hidden, d};
  const int64_t layer_sizes[L_LORA] = {d, d, d * d, d, d * d, d, d * d, d, d * d, d, d, d, d * hidden, hidden,
                                       hidden * d, d};
  for (int64_t l = 0; l < layers; l++)
    for (int i = 0; i < L_COUNT; i++) {
      const double at = table[W_GLOBAL + l * L_COUNT + i];
      if (i >= L_LORA && at < 0) continue;
      if (i >= L_LORA && rank == 0) return throw_error(env, "fused_decode.decodeStep: LoRA weights without a rank");
      const int64_t size =
          i < L_LORA ? layer_sizes[i] : ((i - L_LORA) % 2 == 0 ? lora_in[(i - L_LORA) / 2] : lora_out[(i - L_LORA) / 2]) * rank;
      if (!heap_floats(base, floats, at, size))
        return throw_error(env, "fused_decode.decodeStep: a weight lies outside the heap or is missing");
    }
  for (int64_t l = 0; l < layers; l++)
    for (int t = 0; t < 6; t++) {
      const double a = table[W_GLOBAL + l * L_COUNT + L_LORA + 2 * t], b = table[W_GLOBAL + l * L_COUNT + L_LORA + 2 * t + 1];
      if ((a < 0) != (b < 0)) return throw_error(env, "fused_decode.decodeStep: a LoRA pair with one half missing");
    }
  if (ids_length != (size_t)rows || positions_length != (size_t)rows || mask_length != (size_t)(rows * s) ||
      logits_length != (size_t)(batch * vocab))
    return throw_error(env, "fused_decode.decodeStep: ids, positions, mask or logits of the wrong length");
  for (int64_t r = 0; r < rows; r++)
    if (ids[r] < 0 || ids[r] >= vocab || positions[r] < 0 || positions[r] >= context)
      return throw_error(env, "fused_decode.decodeStep: a token id or position out of range");

  const int64_t wide = hidden > d ? hidden : d;
  const size_t need = (size_t)(rows * (5 * d + hidden + wide + rank) + batch * d);
  const size_t dh = (size_t)(d / heads);
  const int reserved = kv_reserve(cache, s);
  kv_report(env, cache);
  /* doubles: scores [chunks * chunk], accumulators [dh], then two arrays of chunk pointers */
  if (!reserved || !grow_scratch(cache, need, (size_t)(cache->chunks * cache->chunk + (int64_t)dh + 2 * cache->chunks)))
    return throw_error(env, "fused_decode.decodeStep: out of memory for the KV cache");
  float *x = cache->scratch, *h = x + rows * d, *q = h + rows * d, *k = q + rows * d, *v = k + rows * d;
  float *up = v + rows * d, *delta = up + rows * hidden, *low = delta + rows * wide, *last = low + rows * rank;
  float *att = h; /* h is free once q, k, v are taken */
  const float scale = (float)lora_scale;

  /* Token + position embeddings (float adds, as tf.add). */
  for (int64_t r = 0; r < rows; r++) {
    const float *te = global[W_TOKENS] + (int64_t)ids[r] * d, *pe = global[W_POSITIONS] + (int64_t)positions[r] * d;
    for (int64_t c = 0; c < d; c++) x[r * d + c] = te[c] + pe[c];
  }
  for (int64_t l = 0; l < layers; l++) {
    const double *w = table + W_GLOBAL + l * L_COUNT;
    const float *at[L_COUNT];
    for (int i = 0; i < L_COUNT; i++) at[i] = w[i] < 0 ? NULL : base + (int64_t)w[i] / 4;
    projection p[6];
    const int weight_index[6] = {L_Q, L_K, L_V, L_O, L_UP, L_DOWN};
    for (int t = 0; t < 6; t++)
      p[t] = (projection){at[weight_index[t]], at[weight_index[t] + 1], at[L_LORA + 2 * t], at[L_LORA + 2 * t + 1],
                          lora_in[t], lora_out[t]};
    layer_norm(rows, d, x, at[L_LN1_GAIN], at[L_LN1_BIAS], LAYER_NORM_EPSILON, h, NULL, NULL);
    project(&p[0], rows, h, q, rank, scale, low, delta);
    project(&p[1], rows, h, k, rank, scale, low, delta);
    project(&p[2], rows, h, v, rank, scale, low, delta);
    for (int64_t b = 0; b < batch; b++)
      for (int64_t t = 0; t < n; t++)
        kv_copy(cache, l, b, cache->length + t, k + (b * n + t) * d, v + (b * n + t) * d, 1);
    attend_layer(cache, l, n, s, q, mask, att, cache->dscratch);
    project(&p[3], rows, att, k, rank, scale, low, delta);
    for (int64_t i = 0; i < rows * d; i++) x[i] = x[i] + k[i];
    layer_norm(rows, d, x, at[L_LN2_GAIN], at[L_LN2_BIAS], LAYER_NORM_EPSILON, h, NULL, NULL);
    project(&p[4], rows, h, up, rank, scale, low, delta);
    gelu(rows * hidden, up);
    project(&p[5], rows, up, k, rank, scale, low, delta);
    for (int64_t i = 0; i < rows * d; i++) x[i] = x[i] + k[i];
  }
  cache->length = s;
  for (int64_t b = 0; b < batch; b++)
    layer_norm(1, d, x + (b * n + n - 1) * d, global[W_LNF_GAIN], global[W_LNF_BIAS], LAYER_NORM_EPSILON,
               last + b * d, NULL, NULL);
  if (tied)
    gemm_product(0, 1, batch, vocab, d, last, d, global[W_TOKENS], d, logits, vocab, NULL);
  else
    gemm_product(0, 0, batch, vocab, d, last, d, global[W_HEAD], vocab, logits, vocab, NULL);
  return NULL;
}

/*
 * kvCreate(batch, layers, dModel, heads, chunkPositions): an empty cache (chunks of a multiple of 32
 * positions), freed by kvFree or when collected.
 */
static napi_value kv_create(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], result;
  int64_t v[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 5) return throw_error(env, "fused_decode.kvCreate: expected 5 arguments");
  for (int i = 0; i < 5; i++) CHECK(napi_get_value_int64(env, argv[i], &v[i]));
  if (v[0] < 1 || v[1] < 1 || v[2] < 1 || v[3] < 1 || v[2] % v[3] != 0 || v[4] < 1 || v[4] % ATTEND_BLOCK != 0 || v[0] > (1 << 20) ||
      v[2] > (1 << 20) || v[4] > (1 << 20))
    return throw_error(env, "fused_decode.kvCreate: bad shape");
  kv_cache *cache = calloc(1, sizeof *cache);
  if (!cache) return throw_error(env, "fused_decode.kvCreate: out of memory");
  *cache = (kv_cache){.batch = v[0], .layers = v[1], .d = v[2], .heads = v[3], .chunk = v[4]};
  if (napi_create_external(env, cache, kv_finalize, NULL, &result) != napi_ok) {
    free(cache);
    return throw_error(env, "fused_decode.kvCreate: cannot wrap the cache");
  }
  return result;
}

/* kvFree(cache): releases its memory now; the handle then holds nothing (length 0). */
static napi_value kv_free(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  kv_cache *cache = argc == 1 ? cache_arg(env, argv[0]) : NULL;
  if (!cache) return throw_error(env, "fused_decode.kvFree: not a KV cache");
  kv_release(cache);
  kv_report(env, cache);
  return NULL;
}

/* kvLength(cache): positions held. */
static napi_value kv_length(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  kv_cache *cache = argc == 1 ? cache_arg(env, argv[0]) : NULL;
  if (!cache) return throw_error(env, "fused_decode.kvLength: not a KV cache");
  CHECK(napi_create_int64(env, cache->length, &result));
  return result;
}

/*
 * kvImport(cache, heap, offsets, length) copies keys and values [batch, length, dModel] of every layer
 * (byte offsets: layer l's keys at 2l, values at 2l + 1) into an empty cache; kvExport(cache, heap,
 * offsets, length) writes the first `length` positions it holds into such tensors.
 */
static napi_value kv_transfer(napi_env env, napi_callback_info info, int import) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 4) return throw_error(env, "fused_decode.kvImport/kvExport: expected 4 arguments");
  kv_cache *cache = cache_arg(env, argv[0]);
  float *base;
  int64_t floats, length;
  double *table;
  size_t table_length;
  if (!cache || !heap_arg(env, argv[1], &base, &floats) ||
      !typed_array(env, argv[2], napi_float64_array, (void **)&table, &table_length) ||
      table_length != (size_t)(2 * cache->layers))
    return throw_error(env, "fused_decode.kvImport/kvExport: expected (cache, heap, Float64Array(2 * layers), length)");
  CHECK(napi_get_value_int64(env, argv[3], &length));
  if (length < 0 || (import ? cache->length != 0 : length > cache->length))
    return throw_error(env, import ? "fused_decode.kvImport: the cache is not empty or the length is negative"
                                   : "fused_decode.kvExport: more positions than the cache holds");
  const int64_t batch = cache->batch, d = cache->d, size = batch * length * d;
  for (int64_t i = 0; i < 2 * cache->layers; i++)
    if (!heap_floats(base, floats, table[i], size))
      return throw_error(env, "fused_decode.kvImport/kvExport: a tensor lies outside the heap");
  if (import) {
    const int reserved = kv_reserve(cache, length);
    kv_report(env, cache);
    if (!reserved) return throw_error(env, "fused_decode.kvImport: out of memory");
  }
  for (int64_t l = 0; l < cache->layers; l++) {
    float *keys = base + (int64_t)table[2 * l] / 4, *values = base + (int64_t)table[2 * l + 1] / 4;
    for (int64_t b = 0; b < batch; b++)
      for (int64_t j = 0; j < length; j++) {
        float *kr = keys + (b * length + j) * d, *vr = values + (b * length + j) * d;
        kv_copy(cache, l, b, j, kr, vr, import);
      }
  }
  if (import) cache->length = length;
  return NULL;
}

static napi_value kv_import(napi_env env, napi_callback_info info) { return kv_transfer(env, info, 1); }
static napi_value kv_export(napi_env env, napi_callback_info info) { return kv_transfer(env, info, 0); }

/*
 * attention(heap, qOffset, keysOffset, valuesOffset, maskOffset, outOffset, batch, n, s, dModel, heads):
 * the decode attention kernel (backend/wasm-decode-attention-kernel.ts) on the heap, with the arithmetic of
 * the fused decoder (which is the kernel's): queries [batch*n, dModel], keys and values [batch, s, dModel],
 * mask [batch, 1, n, s] -> out [batch*n, dModel].
 */
static napi_value attention(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *base;
  int64_t floats, v[5];
  double offsets[6];
  if (argc != 11 || !heap_arg(env, argv[0], &base, &floats))
    return throw_error(env, "fused_decode.attention: expected (heap, 5 byte offsets, batch, n, s, dModel, heads)");
  for (int i = 0; i < 5; i++) CHECK(napi_get_value_double(env, argv[1 + i], &offsets[i]));
  for (int i = 0; i < 5; i++) CHECK(napi_get_value_int64(env, argv[6 + i], &v[i]));
  const int64_t batch = v[0], n = v[1], s = v[2], d = v[3], heads = v[4];
  if (batch < 1 || n < 1 || s < 1 || d < 1 || heads < 1 || d % heads != 0 || batch > (1 << 24) || n > (1 << 24) ||
      s > (1 << 24) || d > (1 << 24))
    return throw_error(env, "fused_decode.attention: bad shape");
  const float *q = heap_floats(base, floats, offsets[0], batch * n * d);
  const float *keys = heap_floats(base, floats, offsets[1], batch * s * d);
  const float *values = heap_floats(base, floats, offsets[2], batch * s * d);
  const float *mask = heap_floats(base, floats, offsets[3], batch * n * s);
  float *out = heap_floats(base, floats, offsets[4], batch * n * d);
  if (!q || !keys || !values || !mask || !out) return throw_error(env, "fused_decode.attention: a tensor lies outside the heap");
  const int64_t dh = d / heads;
  const int64_t stride = (s + ATTEND_BLOCK - 1) / ATTEND_BLOCK * ATTEND_BLOCK;
  float *transposed = malloc((size_t)(dh * stride) * sizeof(float));
  double *scores = malloc((size_t)(stride + dh) * sizeof(double));
  if (transposed && scores) attend_all(batch, n, s, d, heads, q, keys, values, mask, out, transposed, scores);
  free(transposed);
  free(scores);
  if (!transposed || !scores) return throw_error(env, "fused_decode.attention: out of memory");
  return NULL;
}

/*
 * layerNorm(x, gain, bias, epsilon, y, xhat, rstd): the LayerNorm kernel (backend/wasm-layer-norm-kernel.ts)
 * on Float32Arrays (views of the heap): x, y, xhat [rows, d], gain and bias [d], rstd [rows].
 */
static napi_value layer_norm_kernel(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *a[7];
  size_t length[7];
  double epsilon = 0;
  if (argc != 7 || napi_get_value_double(env, argv[3], &epsilon) != napi_ok)
    return throw_error(env, "fused_decode.layerNorm: expected (x, gain, bias, epsilon, y, xhat, rstd)");
  for (int i = 0; i < 7; i++)
    if (i != 3 && !typed_array(env, argv[i], napi_float32_array, (void **)&a[i], &length[i]))
      return throw_error(env, "fused_decode.layerNorm: x, gain, bias, y, xhat, rstd must be Float32Arrays");
  const size_t d = length[1];
  if (d == 0 || length[0] % d != 0 || length[2] != d || length[4] != length[0] || length[5] != length[0] ||
      length[6] != length[0] / d)
    return throw_error(env, "fused_decode.layerNorm: arrays of mismatched lengths");
  layer_norm((int64_t)(length[0] / d), (int64_t)d, a[0], a[1], a[2], epsilon, a[4], a[5], a[6]);
  return NULL;
}

/* exp(values): Math.exp as the fused decoder computes it (v8_exp4, v8_exp), in place on a Float64Array. */
static napi_value exp_in_place(napi_env env, napi_callback_info info) {
  size_t argc = 1, length;
  napi_value argv[1];
  double *values;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1 || !typed_array(env, argv[0], napi_float64_array, (void **)&values, &length))
    return throw_error(env, "fused_decode.exp: expected a Float64Array");
  size_t i = 0;
  for (; i + 4 <= length; i += 4) *(v4d_unaligned *)(values + i) = v8_exp4(*(const v4d_unaligned *)(values + i));
  for (; i < length; i++) values[i] = v8_exp(values[i]);
  return NULL;
}

napi_status fused_decode_define(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"decodeStep", NULL, decode_step, NULL, NULL, NULL, napi_enumerable, NULL},
      {"kvCreate", NULL, kv_create, NULL, NULL, NULL, napi_enumerable, NULL},
      {"kvFree", NULL, kv_free, NULL, NULL, NULL, napi_enumerable, NULL},
      {"kvLength", NULL, kv_length, NULL, NULL, NULL, napi_enumerable, NULL},
      {"kvImport", NULL, kv_import, NULL, NULL, NULL, napi_enumerable, NULL},
      {"kvExport", NULL, kv_export, NULL, NULL, NULL, napi_enumerable, NULL},
      {"exp", NULL, exp_in_place, NULL, NULL, NULL, napi_enumerable, NULL},
      {"attention", NULL, attention, NULL, NULL, NULL, napi_enumerable, NULL},
      {"layerNorm", NULL, layer_norm_kernel, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
}
