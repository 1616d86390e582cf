using AlignCluster.Torch.Distributed;

namespace AlignCluster.Torch.Tests.Distributed;

/// <summary>
/// Gloo collectives with 2 and 3 ranks on threads of this process. Each rank's input is a formula of (rank, index);
/// the expected results are the same formula summed/maxed over ranks in plain C# loops.
/// </summary>
public class CollectiveTests
{
    // Rank r's value at index i: distinct per rank and index, negative for some, so max ≠ min ≠ sum.
    private static float Value(int rank, int i) => (rank + 1) * (i - 2.5f) + rank * rank;

    private static float[] Expected(int worldSize, int n, ReduceOp op)
    {
        var result = new float[n];
        for (var i = 0; i < n; i++)
        {
            var values = Enumerable.Range(0, worldSize).Select(r => Value(r, i)).ToArray();
            result[i] = op switch
            {
                ReduceOp.Sum => values.Sum(),
                ReduceOp.Average => values.Sum() / worldSize,
                ReduceOp.Max => values.Max(),
                ReduceOp.Min => values.Min(),
                _ => throw new ArgumentOutOfRangeException(nameof(op)),
            };
        }
        return result;
    }

    private static float[] Inputs(int rank, int n) => Enumerable.Range(0, n).Select(i => Value(rank, i)).ToArray();

    [Theory]
    [InlineData(2, ReduceOp.Sum)]
    [InlineData(2, ReduceOp.Average)]
    [InlineData(2, ReduceOp.Max)]
    [InlineData(2, ReduceOp.Min)]
    [InlineData(3, ReduceOp.Sum)]
    [InlineData(3, ReduceOp.Average)]
    [InlineData(3, ReduceOp.Max)]
    [InlineData(3, ReduceOp.Min)]
    public void AllReduce_one_tensor_matches_loop(int worldSize, ReduceOp op)
    {
        using var ranks = new Ranks();
        var results = Ranks.Run(worldSize, rank =>
        {
            using var group = ranks.Join(rank, worldSize);
            using var t = Tensor.From<float>(Inputs(rank, 12), 3, 4);
            group.AllReduce(t, op);
            Assert.Equal([3L, 4L], t.Shape);
            return t.ToArray<float>();
        });
        var expected = Expected(worldSize, 12, op);
        foreach (var r in results) Assert.Equal(expected, r, (a, b) => Math.Abs(a - b) <= 1e-5f);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void AllReduce_list_coalesces_shapes_dtypes_and_views(int worldSize)
    {
        // Three float tensors of different shapes (one a non-contiguous transposed view) and one int64 tensor:
        // two flat buffers (float, int64); every element must come back summed into its own tensor.
        using var ranks = new Ranks();
        var results = Ranks.Run(worldSize, rank =>
        {
            using var group = ranks.Join(rank, worldSize);
            var all = Inputs(rank, 2 + 6 + 6);
            using var a = Tensor.From<float>(all.AsSpan(0, 2), 2);
            using var b = Tensor.From<float>(all.AsSpan(2, 6), 2, 3);
            using var cStorage = Tensor.From<float>(all.AsSpan(8, 6), 3, 2);
            using var c = cStorage.T(); // (2, 3) view, not contiguous
            using var counts = Tensor.From<long>([rank, 10L * rank + 1], 2);
            group.AllReduce([a, b, c, counts]);
            return (a.ToArray<float>(), b.ToArray<float>(), cStorage.ToArray<float>(), counts.ToArray<long>());
        });
        var sum = Expected(worldSize, 14, ReduceOp.Sum);
        var countSum = Enumerable.Range(0, worldSize).Select(r => new[] { (long)r, 10L * r + 1 })
            .Aggregate((x, y) => [x[0] + y[0], x[1] + y[1]]);
        foreach (var (a, b, c, counts) in results)
        {
            Assert.Equal(sum[..2], a, (x, y) => Math.Abs(x - y) <= 1e-5f);
            Assert.Equal(sum[2..8], b, (x, y) => Math.Abs(x - y) <= 1e-5f);
            Assert.Equal(sum[8..], c, (x, y) => Math.Abs(x - y) <= 1e-5f); // through the view, into its storage
            Assert.Equal(countSum, counts);
        }
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(3, 0)]
    public void Broadcast_copies_root_values_everywhere(int worldSize, int root)
    {
        using var ranks = new Ranks();
        var results = Ranks.Run(worldSize, rank =>
        {
            using var group = ranks.Join(rank, worldSize);
            using var single = Tensor.From<float>(Inputs(rank, 5), 5);
            using var first = Tensor.From<double>([rank, -rank], 2);
            using var second = Tensor.Full([2, 2], 100 + rank, DType.Int32);
            group.Broadcast(single, root);
            group.Broadcast([first, second], root);
            return (single.ToArray<float>(), first.ToArray<double>(), second.ToArray<int>());
        });
        foreach (var (single, first, second) in results)
        {
            Assert.Equal(Inputs(root, 5), single);
            Assert.Equal([root, -root], first);
            Assert.Equal(Enumerable.Repeat(100 + root, 4), second);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void AllGather_returns_every_rank_in_rank_order(int worldSize)
    {
        using var ranks = new Ranks();
        var results = Ranks.Run(worldSize, rank =>
        {
            using var group = ranks.Join(rank, worldSize);
            using var t = Tensor.From<float>(Inputs(rank, 6), 2, 3);
            var gathered = group.AllGather(t);
            try { return gathered.Select(g => (g.Shape, g.ToArray<float>())).ToArray(); }
            finally { foreach (var g in gathered) g.Dispose(); }
        });
        foreach (var gathered in results)
        {
            Assert.Equal(worldSize, gathered.Length);
            for (var r = 0; r < worldSize; r++)
            {
                Assert.Equal([2L, 3L], gathered[r].Shape);
                Assert.Equal(Inputs(r, 6), gathered[r].Item2);
            }
        }
    }

    [Fact]
    public void Barrier_returns_only_after_every_rank_arrived()
    {
        // Each rank marks its arrival, then waits at the barrier; after it, every mark must be visible. The last
        // rank sleeps first, so a barrier that returned early would see its mark missing.
        const int worldSize = 3;
        using var ranks = new Ranks();
        var arrived = new int[worldSize];
        var seen = Ranks.Run(worldSize, rank =>
        {
            using var group = ranks.Join(rank, worldSize);
            if (rank == worldSize - 1) Thread.Sleep(300);
            Volatile.Write(ref arrived[rank], 1);
            group.Barrier();
            return Enumerable.Range(0, worldSize).Sum(r => Volatile.Read(ref arrived[r]));
        });
        Assert.All(seen, count => Assert.Equal(worldSize, count));
    }

    [Fact]
    public void TcpStore_rendezvous_on_a_port_chosen_by_the_master()
    {
        // The master serves port 0 (the OS picks a free one); the others connect to the port it reports.
        const int worldSize = 2;
        var port = new TaskCompletionSource<int>();
        var sums = Ranks.Run(worldSize, rank =>
        {
            using var store = rank == 0
                ? Store.Tcp("127.0.0.1", 0, worldSize, isMaster: true, Ranks.Generous)
                : Store.Tcp("127.0.0.1", port.Task.Result, worldSize, isMaster: false, Ranks.Generous);
            if (rank == 0)
            {
                Assert.True(store.Port > 0);
                port.SetResult(store.Port);
            }
            using var group = ProcessGroup.Create(store, rank, worldSize, timeout: Ranks.Generous);
            using var t = Tensor.From<float>([rank + 1f, 10f * (rank + 1)], 2);
            group.AllReduce(t);
            return t.ToArray<float>();
        });
        Assert.All(sums, s => Assert.Equal([3f, 30f], s)); // (1 + 2, 10 + 20)
    }

    [Fact]
    public void Group_reports_its_rank_size_and_backend()
    {
        using var ranks = new Ranks();
        var seen = Ranks.Run(2, rank =>
        {
            using var group = ranks.Join(rank, 2);
            return (group.Rank, group.WorldSize, group.Backend);
        });
        Assert.Equal([(0, 2, Backend.Gloo), (1, 2, Backend.Gloo)], seen);
    }
}
