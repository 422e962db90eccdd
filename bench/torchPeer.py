"""A PyTorch-CPU BPTT step of the SPEC §1 network, the peer of the N-scaling table (bench/scaling.ts).

The leaky-ReLU rate RNN v_t = a v_{t-1} + (1 - a)(z_{t-1} Wrec + x_t Win), z_t = relu(v_t - threshold), y_t = z_t Wout,
cross-entropy on the last step, float32, a Python loop over t and autograd's backward: what a researcher writes.
Prints one JSON line: the best and median ms of `reps` forward+backward steps, torch's threads and BLAS.
Run with Debian's /usr/bin/python3 (python3-torch); bench/scaling.ts skips it when torch does not import.
"""
import argparse
import json
import re
import time

import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--nrec", type=int, required=True)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--threshold", type=float, default=-10.0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(1)
    n, b, t, n_in, n_out = a.nrec, a.batch, a.steps, 2, 2
    w_in = (torch.randn(n_in, n, generator=g) / n_in ** 0.5).requires_grad_()
    w_rec = (torch.randn(n, n, generator=g) / n ** 0.5).requires_grad_()
    w_out = (torch.randn(n, n_out, generator=g) / n ** 0.5).requires_grad_()
    x = torch.randn(t, b, n_in, generator=g)
    labels = torch.randint(0, n_out, (b,), generator=g)
    alpha = 0.95

    def step():
        v = torch.zeros(b, n)
        z = torch.zeros(b, n)
        for k in range(t):
            v = alpha * v + (1 - alpha) * (z @ w_rec + x[k] @ w_in)
            z = torch.relu(v - a.threshold)
        loss = torch.nn.functional.cross_entropy(z @ w_out, labels)
        for w in (w_in, w_rec, w_out):
            w.grad = None
        loss.backward()
        return loss.item()

    step()
    times = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    config = torch.__config__.show()
    blas = re.search(r"BLAS_INFO=(\w+)", config)
    print(json.dumps({"bestMs": times[0], "medianMs": times[len(times) // 2], "threads": torch.get_num_threads(),
                      "torch": torch.__version__, "blas": blas.group(1) if blas else "unknown"}))


if __name__ == "__main__":
    main()
