using AlignCluster.Torch.Distributed;

namespace AlignCluster.Torch.Tests.Distributed;

/// <summary>
/// Misuse and failures end in a TorchException that says what happened, on every rank involved, within the group's
/// timeout — never a hang or a crashed process (Gloo itself aborts the process on mismatched sizes).
/// </summary>
public class CollectiveErrorTests
{
    private static TorchException Caught(Action action) => Assert.Throws<TorchException>(action);

    [Fact]
    public void Mismatched_shapes_fail_on_every_rank_and_the_group_stays_usable()
    {
        using var ranks = new Ranks();
        var outcomes = Ranks.Run(2, rank =>
        {
            using var group = ranks.Join(rank, 2);
            using var wrong = Tensor.Ones([rank == 0 ? 4 : 6]);
            var error = Caught(() => group.AllReduce(wrong));
            using var right = Tensor.Full([3], rank + 1.0);
            group.AllReduce(right); // nothing was sent for the bad call: the next collective still works
            return (error.Message, right.ToArray<float>());
        });
        foreach (var (message, values) in outcomes)
        {
            Assert.Contains("ranks disagree", message);
            Assert.Contains("rank 0: allreduce(sum) of one tensor of shape [4] (Float)", message);
            Assert.Contains("rank 1: allreduce(sum) of one tensor of shape [6] (Float)", message);
            Assert.Equal([3f, 3f, 3f], values); // 1 + 2
        }
    }

    [Fact]
    public void Different_collectives_on_different_ranks_fail_clearly()
    {
        using var ranks = new Ranks();
        var messages = Ranks.Run(2, rank =>
        {
            using var group = ranks.Join(rank, 2);
            using var t = Tensor.Ones([4]);
            return Caught(() => { if (rank == 0) group.AllReduce(t); else group.Broadcast(t, root: 0); }).Message;
        });
        Assert.All(messages, m => Assert.Contains("rank 1: broadcast from rank 0 of one tensor of shape [4]", m));
    }

    [Fact]
    public void A_rank_that_never_joins_makes_the_rendezvous_fail_within_the_timeout()
    {
        // World size 2, but only rank 0 turns up.
        using var ranks = new Ranks();
        var error = Caught(() => ranks.Join(rank: 0, worldSize: 2, Ranks.Short).Dispose());
        Assert.Contains("rendezvous on rank 0 of 2 failed", error.Message);
        Assert.Contains("1000 ms", error.Message);
    }

    [Fact]
    public void A_rank_that_skips_a_collective_times_out_the_others_and_breaks_the_group()
    {
        using var ranks = new Ranks();
        using var rank0Done = new ManualResetEventSlim();
        var messages = Ranks.Run(2, rank =>
        {
            using var group = ranks.Join(rank, 2, Ranks.Short);
            if (rank == 1)
            {
                rank0Done.Wait(); // joined, but never calls the allreduce; stays alive until rank 0 gave up
                return [];
            }
            try
            {
                using var t = Tensor.Ones([4]);
                var timeout = Caught(() => group.AllReduce(t)).Message;
                var afterwards = Caught(group.Barrier).Message;
                return new[] { timeout, afterwards };
            }
            finally { rank0Done.Set(); }
        });
        Assert.Contains("gloo allreduce on rank 0 of 2 failed", messages[0][0]);
        Assert.Contains("no answer within 1000 ms", messages[0][0]);
        Assert.Contains("unusable after an earlier failure", messages[0][1]);
    }

    [Fact]
    public void Average_of_integers_is_refused_on_every_rank()
    {
        using var ranks = new Ranks();
        var messages = Ranks.Run(2, rank =>
        {
            using var group = ranks.Join(rank, 2);
            using var t = Tensor.Full([2], 3L, DType.Int64);
            return Caught(() => group.AllReduce(t, ReduceOp.Average)).Message;
        });
        Assert.All(messages, m => Assert.Contains("avg needs floating-point tensors, got Long", m));
    }

    [Fact]
    public void Bad_rank_and_unknown_store_host_are_reported()
    {
        using var ranks = new Ranks();
        using var store = Store.File(ranks.StorePath, 2, Ranks.Short);
        Assert.Contains("rank 2 is outside 0..1", Caught(() => ProcessGroup.Create(store, 2, 2)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ProcessGroup.Create(store, 0, 2, timeout: TimeSpan.Zero));
        // Nothing listens on port 1: the client retries until its timeout, then names the address.
        var error = Caught(() => Store.Tcp("127.0.0.1", 1, 2, isMaster: false, Ranks.Short).Dispose());
        Assert.Contains("TCPStore connecting to 127.0.0.1:1 failed", error.Message);
    }

    [Fact]
    public void Nccl_is_reported_unavailable_in_a_build_without_it()
    {
        Assert.True(ProcessGroup.IsAvailable(Backend.Gloo));
        if (ProcessGroup.IsAvailable(Backend.Nccl)) return; // a CUDA build: nothing to check here
        using var ranks = new Ranks();
        using var store = Store.File(ranks.StorePath, 1, Ranks.Short);
        var error = Caught(() => ProcessGroup.Create(store, 0, 1, Backend.Nccl));
        Assert.Contains("the nccl backend is not available", error.Message);
        Assert.Contains("TORCH_ROOT", error.Message);
    }
}
