# The Ops.Bench operations in Debian's python3-torch (libtorch 1.13; ours is TorchSharp's libtorch 2.10).
# Usage: /usr/bin/python3 python_ops.py THREADS ITERATIONS "N:REPEATS,..."  -> one JSON object on stdout.
import json, sys, time
import torch

threads, iterations = int(sys.argv[1]), int(sys.argv[2])
sizes = [tuple(int(v) for v in s.split(":")) for s in sys.argv[3].split(",")]
torch.set_num_threads(threads)
a, b, m, s = torch.randn(8), torch.randn(8), torch.randn(4, 4), torch.tensor(1.5)
ops = [
    ("add", lambda: a + b),
    ("mul_scalar", lambda: a * 2.0),
    ("mul_cached", lambda: a * 2.0),  # Python has no per-call Scalar to cache: the same op
    ("matmul_4x4", lambda: m.matmul(m)),
    ("sum", lambda: a.sum()),
    ("softmax", lambda: a.softmax(-1)),
    ("relu", lambda: a.relu()),
    ("view", lambda: a.view(2, 4)),
    ("zeros", lambda: torch.zeros(8)),
    ("item", lambda: s.item()),
]
BATCHES = 50  # as CSharpOps.Batches: the best batch is the op's own cost on a shared machine
per_op = {}
for name, op in ops:
    for _ in range(iterations // 10):
        op()
    per_batch = max(1, iterations // BATCHES)
    best = float("inf")
    for _ in range(BATCHES):
        start = time.perf_counter_ns()
        for _ in range(per_batch):
            op()
        best = min(best, (time.perf_counter_ns() - start) / per_batch)
    per_op[name] = best

matmul = {}
g = torch.Generator().manual_seed(0)
for n, repeats in sizes:
    x, y = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    x.matmul(y)
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()  # CPU time, as CSharpOps.MatmulSeconds
        x.matmul(y)
        best = min(best, time.process_time() - start)
    matmul[str(n)] = best
print(json.dumps({"per_op_ns": per_op, "matmul_s": matmul, "torch": torch.__version__,
                  "python": sys.version.split()[0], "threads": torch.get_num_threads()}))
