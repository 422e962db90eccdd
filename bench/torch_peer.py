#!/usr/bin/python3
"""The PyTorch peer of the bench (bench/torch.ts): one BPTT training step of the network of SPEC §1 on a delayed-XOR
sized batch, the usual way a researcher writes it: a Python loop over T, autograd, torch.optim.Adam, then the zero
diagonal of Wrec. Float32 on the CPU. Prints one JSON line: the best step time in ms per thread count, and torch's
BLAS (from torch.__config__.show()). Exits 3 with a message when torch cannot be imported.

Usage: /usr/bin/python3 bench/torch_peer.py [--batch 32] [--steps 900] [--n-rec 120] [--threads 1,2] [--reps 5]
       /usr/bin/python3 bench/torch_peer.py --serve [--threads 1] ...   (one step per stdin line; see serve())
"""
import argparse
import json
import math
import os
import re
import sys
import time

try:
    import torch
except Exception as err:  # noqa: BLE001 — any import failure means no peer
    print(json.dumps({'available': False, 'reason': f'import torch failed: {err}'}))
    sys.exit(3)


def blas_of(config: str) -> str:
    """torch.__config__.show()'s BLAS_INFO, and the BLAS library this process really mapped: Debian's torch says
    'generic' and uses whatever libblas.so.3 the alternatives system points to (OpenBLAS, or the slow reference)."""
    m = re.search(r'BLAS_INFO=([^,\s]+)', config)
    info = m.group(1) if m else 'unknown'
    mapped = set()
    try:
        with open('/proc/self/maps') as maps:
            for line in maps:
                path = line.split()[-1] if len(line.split()) >= 6 else ''
                if 'blas' in path.lower() or 'mkl' in path.lower():
                    mapped.add(os.path.realpath(path))
    except OSError:
        pass
    return f"BLAS_INFO={info}; loaded: {', '.join(sorted(mapped)) or 'none found'}"


def make_step(batch: int, steps: int, n_rec: int, n_in: int, n_out: int, threshold: float, optimizer: bool):
    g = torch.Generator().manual_seed(1)
    alpha = math.exp(-1 / 100)
    win = (torch.randn(n_in, n_rec, generator=g) * math.sqrt(2 / n_in)).requires_grad_()
    wrec = (torch.randn(n_rec, n_rec, generator=g) / math.sqrt(n_rec)).fill_diagonal_(0).requires_grad_()
    wout = (torch.randn(n_rec, n_out, generator=g) / math.sqrt(n_rec)).requires_grad_()
    bout = torch.zeros(n_out, requires_grad=True)
    x = torch.randn(batch, steps, n_in, generator=g) * 0.01 + 0.02
    labels = torch.randint(0, n_out, (batch,), generator=g)
    opt = torch.optim.Adam([win, wrec, wout, bout], lr=5e-4)

    def train_step() -> None:
        opt.zero_grad(set_to_none=True)
        v = torch.zeros(batch, n_rec)
        z = torch.zeros(batch, n_rec)
        # One matmul for every step's input, split with unbind: indexing drive_in[:, t] instead makes autograd build a
        # zero-filled gradient of all of drive_in at every step (T × 14 MB at the paper's size: seconds of page faults).
        drive_in = (x @ win).unbind(1)
        for t in range(steps):
            v = alpha * v + (1 - alpha) * (drive_in[t] + z @ wrec)
            z = torch.relu(v - threshold)
        y = z @ wout + bout
        loss = torch.nn.functional.cross_entropy(y, labels)
        loss.backward()
        if optimizer:
            opt.step()
            with torch.no_grad():
                wrec.fill_diagonal_(0)

    train_step()  # warm-up
    return train_step


def timed_ms(train_step) -> float:
    t0 = time.perf_counter()
    train_step()
    return (time.perf_counter() - t0) * 1000


def step_ms(batch: int, steps: int, n_rec: int, n_in: int, n_out: int, reps: int, threshold: float, optimizer: bool) -> float:
    train_step = make_step(batch, steps, n_rec, n_in, n_out, threshold, optimizer)
    return min(timed_ms(train_step) for _ in range(reps))


def serve(a) -> None:
    """--serve: one step per line read from stdin, its ms printed as a JSON line, until stdin closes (bench/torch.ts
    pairs these steps with train() iterations measured between them, so a drift of the machine's speed cancels)."""
    torch.set_num_threads(int(a.threads.split(',')[0]))
    train_step = make_step(a.batch, a.steps, a.n_rec, 2, 2, a.threshold, not a.no_optimizer)
    print(json.dumps({'ready': True}), flush=True)
    for _ in sys.stdin:
        print(json.dumps({'ms': timed_ms(train_step)}), flush=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--steps', type=int, default=900)
    p.add_argument('--n-rec', type=int, default=120)
    p.add_argument('--threads', default='1,2')
    p.add_argument('--reps', type=int, default=5)
    # The N-scaling table (bench/scaling.ts) times the gradient alone on the dense control (threshold -10).
    p.add_argument('--threshold', type=float, default=0.0)
    p.add_argument('--no-optimizer', action='store_true')
    p.add_argument('--serve', action='store_true')
    a = p.parse_args()
    if a.serve:
        serve(a)
        return
    per_threads = {}
    for n in [int(s) for s in a.threads.split(',')]:
        torch.set_num_threads(n)
        per_threads[str(n)] = step_ms(a.batch, a.steps, a.n_rec, 2, 2, a.reps, a.threshold, not a.no_optimizer)
    best = min(per_threads.values())
    print(json.dumps({
        'available': True, 'torch': torch.__version__, 'blas': blas_of(torch.__config__.show()),  # after the matmuls
        'shape': {'batch': a.batch, 'steps': a.steps, 'nRec': a.n_rec},
        'stepMs': per_threads, 'bestMs': best,
        'bestThreads': int(min(per_threads, key=per_threads.get)),
    }))


if __name__ == '__main__':
    main()
