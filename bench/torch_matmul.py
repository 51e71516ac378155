"""The PyTorch reference speed both Python baselines print beside their figures (bench/policy, bench/pretrained):
GFLOP/s of a 1024^3 float32 matmul at the current thread count, one warm-up then five timed."""
import time

import torch


def matmul_gflops():
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    a @ b
    t = time.perf_counter()
    for _ in range(5):
        a @ b
    return 5 * 2 * 1024**3 / (time.perf_counter() - t) / 1e9
