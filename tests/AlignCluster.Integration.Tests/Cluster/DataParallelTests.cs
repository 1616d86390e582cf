using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.Checkpoints;
using AlignCluster.Grains.Coordinator;
using AlignCluster.Grains.Demo;
using AlignCluster.Grains.Policy;
using AlignCluster.Grains.Training;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>
/// Data-parallel trainers (training.trainers &gt; 1). The reference is independent of the collectives: one trainer on
/// the whole batch. Two replicas, each on its share with gradients summed through Gloo, must end with the same weights
/// and report the same step metrics. Were the sum missing, each replica would step on about half the gradient and the
/// weights would differ by about half an update — the tests check the updates are far larger than their tolerance.
/// </summary>
public class DataParallelTests
{
    private const ulong Seed = 11;

    private static PolicySpec Spec(string kind) =>
        new(kind, null, MaxPromptLength: 6, MaxResponseLength: 7, Seed, WeightDecay: 0.01);

    /// <summary>Runs <paramref name="work"/> on every replica at once, each on a thread of its own (collectives
    /// block).</summary>
    private static T[] OnReplicas<T>(TrainerService[] replicas, Func<TrainerService, T> work) =>
        Task.WhenAll(replicas.Select(r => Task.Factory.StartNew(() => work(r), TaskCreationOptions.LongRunning)))
            .GetAwaiter()
            .GetResult();

    private static TrainerService[] JoinedReplicas(string kind, int count)
    {
        var replicas = Enumerable.Range(0, count).Select(_ => new TrainerService()).ToArray();
        foreach (var r in replicas)
            r.Initialize(Spec(kind));
        using var store = TrainerGroup.ServeRendezvous("127.0.0.1", count);
        var groups = OnReplicas(replicas, r =>
            TrainerGroup.Join(
                "test",
                Array.IndexOf(replicas, r),
                count,
                "127.0.0.1",
                store.Port,
                Array.IndexOf(replicas, r) == 0 ? store : null,
                TorchSharp.torch.CPU
            )
        );
        for (int i = 0; i < count; i++)
            replicas[i].Group = groups[i];
        return replicas;
    }

    private static float[] Weights(IPolicyModel policy) =>
        [
            .. policy
                .Save()
                .Tensors.Where(t => !t.Name.StartsWith("optimizer.", StringComparison.Ordinal))
                .SelectMany(t => t.Values),
        ];

    /// <summary>Euclidean distance between two weight vectors.</summary>
    private static double Distance(float[] a, float[] b) =>
        Math.Sqrt(a.Zip(b, (x, y) => ((double)x - y) * ((double)x - y)).Sum());

    private static double MaxAbsDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();

    /// <summary>
    /// The toy policy computes in double: two replicas end bit-identical to one trainer (measured: distance 0), so the
    /// tolerance (1e-9 of the distance the updates moved the weights) only allows for summation order.
    /// </summary>
    [Theory]
    [InlineData("dpo", "mc")]
    [InlineData("exo_rw", "random")]
    public void TwoToyReplicasOnSharesTakeTheStepsOfOneTrainerOnTheWholeBatch(string loss, string strategy) =>
        CompareWithOneTrainer("toy", loss, strategy, relativeTolerance: 1e-9);

    /// <summary>
    /// The libtorch policy is float32: padding a batch of 8 instead of 16 rounds differently, and AdamW's early steps
    /// (≈ lr·sign(g)) turn the rounding of near-zero gradient coordinates into ±lr moves, so one trainer and the
    /// replicas
    /// end about 1% apart (measured 1.2%). The exact invariant is checked on the gradient itself
    /// (<see cref="SummedGradientsOfSharesEqualTheGradientOfTheWholeBatch"/>); here the replicas must agree with each
    /// other bit for bit (they step on the same summed gradient) and stay close to one trainer.
    /// </summary>
    [Fact]
    public void TwoGpt2ReplicasStayIdenticalAndCloseToOneTrainer() =>
        CompareWithOneTrainer("gpt2", "dpo", "mc", relativeTolerance: 0.05);

    private static void CompareWithOneTrainer(string kind, string loss, string strategy, double relativeTolerance)
    {
        var data = TaskData.Create(new DataConfig { TrainPrompts = 40, EvalPrompts = 4 }, Seed);
        var solo = new TrainerService();
        solo.Initialize(Spec(kind));
        var replicas = JoinedReplicas(kind, 2);
        try
        {
            var initial = Weights(solo.Policy);

            // SFT: 40 demonstrations in batches of 16 (the last batch odd-sized, so the shares differ in size).
            var sft = new SftRequest(data.Demonstrations, Epochs: 2, BatchSize: 16, LearningRate: 0.02, Seed);
            var soloSft = solo.SupervisedFineTune(sft);
            var replicaSft = OnReplicas(replicas, r => r.SupervisedFineTune(sft));
            foreach (var report in replicaSft)
                for (int e = 0; e < sft.Epochs; e++) // float32 models: sums over shares round differently
                    Assert.True(
                        Math.Abs(soloSft.EpochLosses[e] - report.EpochLosses[e]) < 1e-4 * soloSft.EpochLosses[e],
                        $"SFT epoch {e}: one trainer {soloSft.EpochLosses[e]}, replica {report.EpochLosses[e]}"
                    );

            // Preference steps on rated candidates with cached reference log-probs, per-step selection where it
            // applies.
            var prompts = data.TrainPrompts;
            var samples = solo.Generate(
                new GenerateRequest(prompts, PerPrompt: 4, Temperature: 1.2, MaxNewTokens: 7, Seed)
            );
            var ratings = samples
                .Select(s =>
                    ReverseDigitsTask.Reward(
                        ToyVocabulary.Decode(prompts.Single(p => p.PromptId == s.PromptId).PromptTokenIds),
                        ToyVocabulary.Decode(s.TokenIds)
                    )
                )
                .ToArray();
            var (groups, _) = CandidateSets.Trainable(CandidateSets.Build(prompts, samples, ratings));
            var references = solo.Score(groups, reference: true);
            groups =
            [
                .. groups.Zip(references, (g, s) =>
                    g with
                    {
                        Candidates = [.. g.Candidates.Select((c, i) => c with { ReferenceLogProb = s.LogProbs[i] })],
                    }
                ),
            ];
            Assert.True(groups.Length >= 20, $"only {groups.Length} trainable prompts");
            var train = new TrainRequest(
                "dp",
                1,
                [],
                new LossSpec(loss, new Dictionary<string, double> { ["beta"] = 0.1 }),
                new SelectionSpec(strategy, 1, false, PerStep: true, 0.1),
                BatchSize: 8,
                LearningRate: 0.02,
                Seed,
                SelectionSeed: Seed + 1
            );
            var soloReport = solo.Train(train, groups);
            var replicaReports = OnReplicas(replicas, r => r.Train(train, groups));

            var expected = Weights(solo.Policy);
            double moved = Distance(initial, expected);
            Assert.True(moved > 1e-1, $"training moved the weights by only {moved}");
            foreach (var (replica, report) in replicas.Zip(replicaReports))
            {
                double difference = Distance(expected, Weights(replica.Policy));
                Assert.True(
                    difference <= relativeTolerance * moved,
                    $"{kind}: a replica's weights are {difference} from one trainer's (the updates moved them by {moved})"
                );
                Assert.Equal(soloReport.Steps.Length, report.Steps.Length);
                if (kind == "toy")
                    foreach (var (s, r) in soloReport.Steps.Zip(report.Steps))
                    foreach (var ((name, a), (_, b)) in s.Named().Zip(r.Named()))
                        Assert.True(
                            Math.Abs(a - b) <= 1e-9 * Math.Max(1, Math.Abs(a)),
                            $"step {s.Step} {name}: one trainer {a}, replica {b}"
                        );
            }
            Assert.Equal(Weights(replicas[0].Policy), Weights(replicas[1].Policy)); // same summed gradient, same step
            Assert.Equal(replicaReports[0].Steps, replicaReports[1].Steps); // metrics are reduced over the group
            if (kind != "toy")
                return; // float32 rounding may flip a close kernel draw
            // Per-step selection: the replicas together picked for the prompts one trainer picked for, the same
            // negatives.
            var soloPicks = soloReport.Selections.ToDictionary(s => s.PromptId, s => string.Join(",", s.NegativeIds));
            var replicaPicks = replicaReports
                .SelectMany(r => r.Selections)
                .ToDictionary(s => s.PromptId, s => string.Join(",", s.NegativeIds));
            Assert.Equal(soloPicks.OrderBy(p => p.Key), replicaPicks.OrderBy(p => p.Key));
        }
        finally
        {
            foreach (var r in replicas.Append(solo))
                r.Dispose(); // weights and groups
        }
    }

    /// <summary>
    /// The exact invariant behind data parallelism, on the libtorch policy: Σ over replicas of Σ_{i∈share} w_i·∇logp_i
    /// equals Σ_i w_i·∇logp_i over the whole batch (one process, no collectives), parameter by parameter.
    /// </summary>
    [Fact]
    public void SummedGradientsOfSharesEqualTheGradientOfTheWholeBatch()
    {
        var data = TaskData.Create(new DataConfig { TrainPrompts = 4, EvalPrompts = 1 }, Seed);
        var sequences = data
            .Demonstrations.Select(g => new Sequence(g.PromptTokenIds, g.Candidates[g.ChosenIndex].TokenIds))
            .ToArray();
        var weights = sequences.Select((_, i) => i % 3 == 0 ? -1.0 : 0.5 / (i + 1)).ToArray();
        var solo = new TrainerService();
        solo.Initialize(Spec("gpt2"));
        var replicas = JoinedReplicas("gpt2", 2);
        try
        {
            solo.Policy.AccumulateGradient(sequences, weights);
            OnReplicas(replicas, r =>
            {
                var indices = r.Group.Share(Enumerable.Range(0, sequences.Length).ToArray());
                r.Policy.AccumulateGradient(
                    [.. indices.Select(i => sequences[i])],
                    [.. indices.Select(i => weights[i])]
                );
                r.Policy.SumGradient(r.Group);
                return 0;
            });
            var expected = Gradients(solo.Policy);
            double scale = expected.Max(g => g.Max(Math.Abs));
            Assert.True(scale > 1e-3, $"the gradient is too small to compare ({scale})");
            foreach (var replica in replicas)
            foreach (var (e, a) in expected.Zip(Gradients(replica.Policy)))
                for (int i = 0; i < e.Length; i++)
                    Assert.True(
                        Math.Abs(e[i] - a[i]) <= 1e-5 * scale,
                        $"gradient element {i}: whole batch {e[i]}, summed shares {a[i]}"
                    );
        }
        finally
        {
            foreach (var r in replicas.Append(solo))
                r.Dispose(); // weights and groups
        }
    }

    private static float[][] Gradients(IPolicyModel policy) =>
        [
            .. ((TorchPolicy)policy)
                .Network.parameters()
                .Select(p => p.grad is { } g ? g.data<float>().ToArray() : new float[p.numel()]),
        ];

    [Fact]
    public async Task ARunWithTwoTrainerGrainsEndsWhereARunWithOneEnds()
    {
        string directory = TestConfigs.TempDirectory();
        var one = TestConfigs.Tiny("one-trainer", loss: "dpo", strategy: "mc") with { ReusePreparation = false };
        var two = one with { RunId = "two-trainers", Training = one.Training with { Trainers = 2 } };
        await using var cluster = await EmbeddedCluster.StartAsync(directory, cpuDevices: 2);
        var expected = await ClusterHarness.RunToEndAsync(cluster, one);
        var actual = await ClusterHarness.RunToEndAsync(cluster, two);

        // The toy policy samples row by row, so candidates, evaluation samples and every step agree up to rounding.
        Assert.Equal(expected.History.Length, actual.History.Length);
        foreach (var (e, a) in expected.History.Zip(actual.History))
        {
            Assert.Equal(e.Steps.Length, a.Steps.Length);
            foreach (var (s, t) in e.Steps.Zip(a.Steps))
                Assert.Equal(s.Loss, t.Loss, 1e-6);
            Assert.Equal(e.SelectionChangeRate, a.SelectionChangeRate, 1e-9);
            Assert.Equal(e.Eval!.OracleReward, a.Eval!.OracleReward, 1e-9);
        }

        // Rank 0 wrote the checkpoint; the replica remembers it (and would restore it after a re-activation).
        var checkpoints = new CheckpointStore(cluster.Store);
        var last = (await checkpoints.ReadAsync(two.RunId, two.Training.Rounds))!.Value;
        var reference = (await checkpoints.ReadAsync(one.RunId, one.Training.Rounds))!.Value;
        foreach (var (e, a) in reference.Policy.Tensors.Zip(last.Policy.Tensors))
            Assert.True(MaxAbsDifference(e.Values, a.Values) < 1e-5, $"{e.Name} differs");
    }

    /// <summary>
    /// Two runs started together on a silo with one device: whichever places its trainer second waits ("waiting for a
    /// free device") until the other ends and frees it, then completes, instead of failing.
    /// </summary>
    [Fact]
    public async Task TwoRunsOnOneDeviceQueueForIt()
    {
        await using var cluster = await EmbeddedCluster.StartAsync(TestConfigs.TempDirectory(), cpuDevices: 1);
        var configs = new[] { TestConfigs.Tiny("queue-a", rounds: 2), TestConfigs.Tiny("queue-b", rounds: 2) };
        var coordinators = configs.Select(c => cluster.Client.GetGrain<ICoordinatorGrain>(c.RunId)).ToArray();
        foreach (var (coordinator, config) in coordinators.Zip(configs))
            await coordinator.StartAsync(config);
        var phases = new List<string>();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var statuses = await Task.WhenAll(
            coordinators.Select(c =>
                RunWatcher.WaitAsync(
                    c,
                    s =>
                    {
                        lock (phases)
                            phases.Add(s.Phase);
                    },
                    poll: TimeSpan.FromMilliseconds(20),
                    ct: cts.Token
                )
            )
        );
        Assert.All(statuses, s => Assert.True(s.State == RunState.Completed, $"{s.RunId}: {s.State} {s.Error}"));
        Assert.Contains(phases, p => p.Contains("waiting for a free device"));
    }

    [Fact]
    public async Task MoreTrainersThanDevicesFailsTheRunNamingTheSettingAndTheTrainer()
    {
        var tiny = TestConfigs.Tiny("too-many-trainers", rounds: 1);
        // No waiting for a device that will never come: one silo, one device.
        var config = tiny with { Training = tiny.Training with { Trainers = 2, DeviceWait = 0 } };
        await using var cluster = await EmbeddedCluster.StartAsync(TestConfigs.TempDirectory(), cpuDevices: 1);
        var coordinator = cluster.Client.GetGrain<ICoordinatorGrain>(config.RunId);
        await coordinator.StartAsync(config);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var status = await RunWatcher.WaitAsync(coordinator, poll: TimeSpan.FromMilliseconds(50), ct: cts.Token);
        Assert.Equal(RunState.Failed, status.State);
        Assert.Matches("training.trainers = 2: trainer [01] could not start", status.Error); // whichever activated second
        Assert.Contains("free device", status.Error);
        // The failed run gave back the device its trainer 0 was pinned to: a 1-trainer run gets it.
        await ClusterHarness.RunToEndAsync(cluster, TestConfigs.Tiny("after-failed-run", rounds: 1));
    }

    /// <summary>A replica seen by the coordinator's side only through its calls: which were made, and its
    /// group.</summary>
    private sealed class RecordingReplica : ITrainerGrain
    {
        public string? Group;
        public readonly List<string> Calls = [];

        public Task<Rendezvous> OpenRendezvousAsync(string groupId, int worldSize) =>
            Task.FromResult(new Rendezvous("127.0.0.1", 1));

        public Task JoinGroupAsync(TrainerGroupSpec spec)
        {
            Group = spec.GroupId;
            return Task.CompletedTask;
        }

        public Task<string?> CurrentGroupAsync() => Task.FromResult(Group);

        public Task<TrainReport> TrainAsync(TrainRequest request)
        {
            Calls.Add("train");
            return Task.FromResult(new TrainReport([], []));
        }

        public Task<int> CacheReferenceAsync(string[] shards) => throw new NotSupportedException();

        public Task<bool> RestoreAsync(string runId, int round)
        {
            Calls.Add("restore");
            return Task.FromResult(true);
        }

        public Task InitializeAsync(PolicySpec policy) => Task.CompletedTask;

        public Task<SftReport> SupervisedFineTuneAsync(SftRequest request) => throw new NotSupportedException();

        public Task<GroupScores[]> ScoreAsync(PromptGroup[] groups, bool reference) =>
            throw new NotSupportedException();

        public Task<CandidateReport> PrepareCandidatesAsync(CandidateRequest request) =>
            throw new NotSupportedException();

        public Task<MergeReport> GenerateCandidatesAsync(OnlineRequest request) => throw new NotSupportedException();

        public Task<EvalResult> EvaluateSamplesAsync(SampleEvalRequest request) => throw new NotSupportedException();

        public Task<CheckpointInfo> CheckpointAsync(string runId, int round) => throw new NotSupportedException();

        public Task ReleaseAsync() => Task.CompletedTask;
    }

    /// <summary>
    /// A replica that left the group (re-activated: no weights, no group) must stop the round before any replica enters
    /// group work — the others would wait for it in a collective until the timeout (30 minutes) when its sockets stay
    /// open. After a restore the group is formed anew.
    /// </summary>
    [Fact]
    public async Task NoReplicaEntersGroupWorkWhenOneLeftTheGroup()
    {
        var replicas = new[] { new RecordingReplica(), new RecordingReplica() };
        var trainers = new DataParallelTrainers(replicas);
        var request = new TrainRequest(
            "r",
            1,
            [],
            new LossSpec("dpo", new Dictionary<string, double>()),
            new SelectionSpec("random", 1, false, true, 0.1),
            8,
            0.01,
            1,
            2
        );
        await trainers.TrainAsync(request);
        Assert.All(replicas, r => Assert.Equal(["train"], r.Calls));
        string formed = replicas[0].Group!;

        replicas[1].Group = null; // re-activated
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => trainers.TrainAsync(request));
        Assert.Contains($"trainer 1 of 2 left data-parallel group {formed}", error.Message);
        Assert.All(replicas, r => Assert.Equal(["train"], r.Calls)); // nobody was sent into a collective

        Assert.True(await trainers.RestoreAsync("r", 1));
        await trainers.TrainAsync(request);
        Assert.All(replicas, r => Assert.Equal(["train", "restore", "train"], r.Calls));
        Assert.NotEqual(formed, replicas[1].Group); // a fresh group
    }
}
