# One rank of the Ops.Bench allreduce comparison in Debian's python3-torch (torch.distributed, gloo).
# Usage: GLOO_SOCKET_IFNAME=lo /usr/bin/python3 python_allreduce.py RANK WORLD PORT SIZES ITERATIONS
# Rank 0 prints one JSON object: seconds per allreduce (sum, float32, in place) for each size, and per barrier.
import datetime, json, sys, time
import torch
import torch.distributed as dist

rank, world, port = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
sizes = [int(s) for s in sys.argv[4].split(",")]
iterations = [int(s) for s in sys.argv[5].split(",")]
dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                        timeout=datetime.timedelta(seconds=120))


def timed(op, repeats):
    for _ in range(2):
        op()
    times = []
    for _ in range(repeats):
        dist.barrier()
        start = time.perf_counter()
        op()
        times.append(time.perf_counter() - start)
    return times


result = {"allreduce_s": {}, "torch": torch.__version__}
for n, repeats in zip(sizes, iterations):
    t = torch.ones(n)
    result["allreduce_s"][str(n)] = timed(lambda: dist.all_reduce(t), repeats)
# Many small tensors (gradients): flattened into one buffer, reduced, copied back, as DDP-style code does.
pieces = [torch.ones(4096) for _ in range(256)]


def coalesced():
    flat = torch._utils._flatten_dense_tensors(pieces)
    dist.all_reduce(flat)
    for p, r in zip(pieces, torch._utils._unflatten_dense_tensors(flat, pieces)):
        p.copy_(r)


result["coalesced_s"] = timed(coalesced, 30)
result["barrier_s"] = timed(dist.barrier, 50)
dist.destroy_process_group()
if rank == 0:
    print(json.dumps(result))
