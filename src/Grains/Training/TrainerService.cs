using System.Diagnostics;
using AlignCluster.Alignment.Selection;
using AlignCluster.Contracts;
using AlignCluster.Grains.Policy;

namespace AlignCluster.Grains.Training;

/// <summary>
/// The trainer's logic without the grain: a policy and its frozen reference, no-grad scoring, preference steps with a
/// named loss (and per-step MC re-selection), supervised fine-tuning, sampling. Deterministic: every random choice
/// comes from a seed the caller passes, so a resumed run repeats an uninterrupted one exactly.
/// </summary>
public sealed class TrainerService : IDisposable
{
    private IPolicyModel? _policy,
        _reference;

    /// <summary>Where a libtorch policy's weights live: the device this trainer was leased (CPU unless a
    /// GPU).</summary>
    public TorchSharp.torch.Device Device { get; set; } = TorchSharp.torch.CPU;

    /// <summary>The data-parallel replicas this trainer trains with (the group of one unless the coordinator formed
    /// one).</summary>
    public TrainerGroup Group { get; set; } = TrainerGroup.Solo;

    public bool IsInitialized => _policy is not null;
    public IPolicyModel Policy =>
        _policy ?? throw new InvalidOperationException("the trainer has no policy yet: call InitializeAsync first");
    public IPolicyModel Reference =>
        _reference
        ?? throw new InvalidOperationException("the trainer has no reference yet: call InitializeAsync first");

    public void Initialize(PolicySpec spec)
    {
        var policy = PolicyFactory.Create(spec, Device);
        Replace(policy, policy.Snapshot());
    }

    /// <summary>Replaces policy and reference (restore from a checkpoint).</summary>
    public void Restore(PolicySpec spec, PolicyState policy, PolicyState reference)
    {
        var restoredPolicy = PolicyFactory.Create(spec, Device);
        var restoredReference = PolicyFactory.Create(spec, Device);
        try
        {
            restoredPolicy.Load(policy);
            restoredReference.Load(reference);
        }
        catch
        {
            (restoredPolicy as IDisposable)?.Dispose();
            (restoredReference as IDisposable)?.Dispose();
            throw;
        }
        Replace(restoredPolicy, restoredReference);
    }

    /// <summary>Installs a new policy and reference and frees the ones they replace (libtorch policies hold native
    /// memory).</summary>
    private void Replace(IPolicyModel policy, IPolicyModel reference)
    {
        var (oldPolicy, oldReference) = (_policy, _reference);
        (_policy, _reference) = (policy, reference);
        if (!ReferenceEquals(oldPolicy, policy))
            (oldPolicy as IDisposable)?.Dispose();
        if (!ReferenceEquals(oldReference, reference))
            (oldReference as IDisposable)?.Dispose();
    }

    /// <summary>Frees policy and reference now (a GPU's memory must not wait for the finalizer), and leaves the
    /// group.</summary>
    public void Dispose()
    {
        (_policy as IDisposable)?.Dispose();
        (_reference as IDisposable)?.Dispose();
        (_policy, _reference) = (null, null);
        LeaveGroup();
    }

    /// <summary>Back to training alone; the group's native resources (and its connections to the peers) are
    /// freed.</summary>
    public void LeaveGroup()
    {
        var group = Group;
        Group = TrainerGroup.Solo;
        group.Dispose();
    }

    public GroupScores[] Score(PromptGroup[] groups, bool reference)
    {
        var model = reference ? Reference : Policy;
        // One batch for everything; a prompt's candidates sit next to each other (prefix shared by the model).
        var sequences = groups
            .SelectMany(g => g.Candidates.Select(c => new Sequence(g.PromptTokenIds, c.TokenIds)))
            .ToList();
        var logps = model.LogProbs(sequences);
        var result = new GroupScores[groups.Length];
        for (int i = 0, offset = 0; i < groups.Length; offset += groups[i].Candidates.Length, i++)
            result[i] = new GroupScores(groups[i].PromptId, logps[offset..(offset + groups[i].Candidates.Length)]);
        return result;
    }

    /// <summary>
    /// Next-token NLL on the demonstrations. A data-parallel replica runs its share of each batch; the loss is
    /// normalised
    /// by the whole batch's tokens and the gradients are summed, so the step is the one-trainer step.
    /// </summary>
    public SftReport SupervisedFineTune(SftRequest request)
    {
        var policy = Policy;
        var demos = request
            .Demonstrations.Select(g => new Sequence(g.PromptTokenIds, g.Candidates[g.ChosenIndex].TokenIds))
            .ToList();
        var losses = new double[request.Epochs];
        for (int epoch = 0; epoch < request.Epochs; epoch++)
        {
            var order = demos.ToList();
            new SeededRandom(SeededRandom.Derive(request.Seed, "sft", epoch)).Shuffle(order);
            double nll = 0;
            int tokens = 0;
            foreach (var batch in order.Chunk(request.BatchSize))
            {
                int batchTokens = batch.Sum(s => s.Response.Length);
                using var forward = policy.Forward(Group.Share(batch)); // the step's dispose scope
                // Loss = −Σ logp / tokens, so ∂loss/∂logp_i = −1/tokens for every sequence.
                nll -= forward.LogProbs.Sum();
                forward.Backward([.. forward.LogProbs.Select(_ => -1.0 / batchTokens)]);
                tokens += batchTokens;
                policy.SumGradient(Group);
                policy.ClipGradient();
                policy.Step(request.LearningRate);
            }
            losses[epoch] = Group.Sum(nll)[0] / tokens;
        }
        // Preference training starts from the fine-tuned weights with a fresh optimizer; the reference is frozen here.
        Replace(policy.Snapshot(), policy.Snapshot());
        return new SftReport(losses);
    }

    /// <summary>
    /// A round of preference training on <paramref name="groups"/> (the round's groups, as the shards hold them): the
    /// groups are shuffled into batches, each batch's examples are built by the loss's shape, and one optimizer step
    /// runs per batch. Negatives are picked with the policy as it is at round start (per-round selection) or just
    /// before each step (per-step), and returned for the shards' selection history.
    /// </summary>
    public TrainReport Train(TrainRequest request, IReadOnlyList<PromptGroup> groups)
    {
        var loss = AlignmentGroupLoss.Create(request.Loss); // the registry row, looked up once for the round
        var order = UnitScores.ForLoss(loss.Spec, [.. groups]).ToList();
        new SeededRandom(SeededRandom.Derive(request.Seed, "order")).Shuffle(order);
        // A data-parallel replica builds and back-propagates only its share of each batch; Step sums the rest.
        var shares = order.Chunk(request.BatchSize).Select(batch => Group.Share(batch)).ToArray();
        var selections = new List<SelectionRecord>();
        var selector = new BatchSelector(this, loss.Spec, request, selections);
        if (!loss.Spec.WholeGroup && !request.Selection.PerStep)
            selector.SelectForRound([.. shares.SelectMany(s => s)]);
        var steps = new List<StepMetrics>();
        var seconds = new List<double>();
        for (int step = 0; step < shares.Length; step++)
        {
            long started = Stopwatch.GetTimestamp();
            var examples = selector.Examples(shares[step], step, out var kernel);
            if (Step(examples, loss, request.LearningRate, step, kernel) is { } metrics)
            {
                steps.Add(metrics);
                seconds.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
        }
        return new TrainReport([.. steps], [.. selections], [.. seconds]);
    }

    /// <summary>
    /// Builds a batch's chosen-first examples: whole groups for a whole-group loss, else the chosen with the negatives
    /// the selector picked (for the round, or now for this step).
    /// </summary>
    private sealed class BatchSelector(
        TrainerService trainer,
        Alignment.Losses.LossSpec loss,
        TrainRequest request,
        List<SelectionRecord> records
    )
    {
        private readonly SelectorKind _strategy = SelectorNames.Parse(request.Selection.Strategy);
        private Dictionary<string, Selection>? _forRound;

        /// <summary>Per-round selection: every group this replica trains on, scored in one batch at round
        /// start.</summary>
        public void SelectForRound(PromptGroup[] groups)
        {
            _forRound = Pick(groups, request.SelectionSeed, request.Round)
                .ToDictionary(p => p.Group.PromptId, p => p.Selection);
        }

        public List<PromptGroup> Examples(PromptGroup[] batch, int step, out (double EntropySum, int Picks) kernel)
        {
            kernel = (0, 0);
            if (loss.WholeGroup)
                return batch
                    .Select(g => GroupSelection.WholeGroupExample(g, loss.Shape))
                    .Where(g => g.Candidates.Length > 1)
                    .ToList();
            var picks = _forRound is { } round
                ? batch.Select(g => (Group: g, Selection: round[g.PromptId])).ToList()
                : Pick(batch, request.Seed, step);
            var examples = new List<PromptGroup>();
            foreach (var (group, selection) in picks)
            {
                if (selection.NegativeIndices.Length == 0)
                    continue;
                kernel = (kernel.EntropySum + selection.KernelEntropy, kernel.Picks + 1);
                examples.AddRange(GroupSelection.Examples(group, selection, _strategy));
            }
            return examples;
        }

        /// <summary>Scores <paramref name="groups"/> with the policy as it is now and picks their negatives.</summary>
        private List<(PromptGroup Group, Selection Selection)> Pick(PromptGroup[] groups, ulong seed, long roundOrStep)
        {
            var scores = trainer.Score(groups, reference: false);
            var picks = new List<(PromptGroup, Selection)>();
            for (int i = 0; i < groups.Length; i++)
            {
                var g = groups[i];
                var selection = GroupSelection.Select(g, scores[i].LogProbs, request.Selection, seed, roundOrStep);
                picks.Add((g, selection));
                if (selection.NegativeIndices.Length > 0)
                    records.Add(
                        new SelectionRecord(
                            g.PromptId,
                            [.. selection.NegativeIndices.Select(k => g.Candidates[k].CandidateId)],
                            selection.KernelEntropy
                        )
                    );
            }
            return picks;
        }
    }

    /// <summary>
    /// One optimizer step on this replica's examples, top to bottom: forward → loss → backward (summed over the
    /// replicas) → clip → AdamW step; null when no replica has any example. Loss gradients are divided by the examples
    /// of all replicas and the parameter gradients summed over them, so the update (and every metric, a mean over all
    /// examples) is what one trainer computes on the whole batch.
    /// </summary>
    private StepMetrics? Step(
        List<PromptGroup> examples,
        AlignmentGroupLoss loss,
        double learningRate,
        int step,
        (double EntropySum, int Picks) kernel
    )
    {
        var sequences = examples
            .SelectMany(e => e.Candidates.Select(c => new Sequence(e.PromptTokenIds, c.TokenIds)))
            .ToList();
        // Throughput counts (over all replicas): (chosen, other) pairs and the tokens the forward pass reads.
        int pairs = examples.Sum(e => e.Candidates.Length - 1);
        long tokens = sequences.Sum(q => (long)q.Prompt.Length + q.Response.Length);
        var counts = Group.Sum(examples.Count, kernel.EntropySum, kernel.Picks, pairs, tokens);
        double n = counts[0],
            entropy = counts[2] > 0 ? counts[1] / counts[2] : 0;
        if (n == 0)
            return null;

        // Forward: the policy's log-probs of every candidate, with the autograd graph kept. The pass is the step's
        // dispose scope: every tensor below is freed when the step ends.
        using var forward = Policy.Forward(sequences); // (B)
        // Loss: each example through the registry row, giving its value, its metrics and ∂loss/∂logp.
        var (weights, sums) = Loss(examples, forward.LogProbs, loss, n);
        // Backward: Σ_i w_i·∂logp_i/∂θ into the gradients, then the sum over the replicas.
        forward.Backward(weights);
        Policy.SumGradient(Group);
        // Clip to the global norm, then the AdamW step (which clears the gradients).
        double gradNorm = Policy.ClipGradient();
        Policy.Step(learningRate);

        var m = Group.Sum(sums).Select(x => x / n).ToArray();
        return new StepMetrics(
            step,
            m[0],
            m[1],
            m[2],
            m[1] - m[2],
            m[3],
            m[4],
            m[5],
            m[6],
            m[7],
            entropy,
            gradNorm,
            (int)counts[3],
            (long)counts[4]
        );
    }

    /// <summary>
    /// The loss of each example (a run of its candidates in <paramref name="logps"/>, chosen first): the weights
    /// ∂loss/∂logp_i / <paramref name="n"/> for the backward, and the sums over examples of loss, rewards
    /// chosen/rejected, accuracy, logps chosen/rejected, rho chosen/rejected (β = the loss's metric β).
    /// </summary>
    private static (double[] Weights, double[] Sums) Loss(
        List<PromptGroup> examples,
        double[] logps,
        AlignmentGroupLoss loss,
        double n
    )
    {
        double beta = loss.MetricBeta;
        var weights = new double[logps.Length];
        var sums = new double[8];
        int offset = 0;
        foreach (var e in examples)
        {
            int k = e.Candidates.Length;
            var inputs = new LossInputs(
                logps[offset..(offset + k)],
                [
                    .. e.Candidates.Select(c =>
                        c.ReferenceLogProb
                        ?? throw new InvalidOperationException(
                            $"prompt {e.PromptId}: candidate {c.CandidateId} has no cached reference log-prob"
                        )
                    ),
                ],
                [.. e.Candidates.Select(c => c.TokenIds.Length)],
                [.. e.Candidates.Select(c => c.Rating)]
            );
            var value = loss.Evaluate(inputs);
            for (int i = 0; i < k; i++)
                weights[offset + i] = value.GradientWrtPolicyLogProbs[i] / n;
            double rhoW = inputs.Rho(0),
                rhoL = Enumerable.Range(1, k - 1).Average(inputs.Rho);
            sums[0] += value.Loss;
            sums[1] += beta * rhoW;
            sums[2] += beta * rhoL;
            sums[3] += rhoW > rhoL ? 1 : 0;
            sums[4] += inputs.PolicyLogProbs[0];
            sums[5] += Enumerable.Range(1, k - 1).Average(i => inputs.PolicyLogProbs[i]);
            sums[6] += rhoW;
            sums[7] += rhoL;
            offset += k;
        }
        return (weights, sums);
    }

    /// <summary>
    /// PerPrompt samples per prompt from the policy (or the reference), decoded as one batch, then scored by both
    /// models
    /// in one batch each. Row (prompt, k) carries the seed Derive(seed, prompt id, k).
    /// </summary>
    public GeneratedResponse[] Generate(GenerateRequest request)
    {
        var sampler = request.FromReference ? Reference : Policy;
        var rows = request
            .Prompts.SelectMany(prompt => Enumerable.Range(0, request.PerPrompt).Select(k => (prompt, k)))
            .ToList();
        var responses = sampler.SampleBatch(
            rows.Select(r => r.prompt.PromptTokenIds).ToList(),
            rows.Select(r => SeededRandom.Derive(request.Seed, r.prompt.PromptId, r.k)).ToList(),
            request.Temperature,
            request.MaxNewTokens
        );
        var sequences = rows.Select((r, i) => new Sequence(r.prompt.PromptTokenIds, responses[i])).ToList();
        var policyLogps = Policy.LogProbs(sequences);
        var referenceLogps = Reference.LogProbs(sequences);
        return rows.Select(
                (r, i) => new GeneratedResponse(r.prompt.PromptId, responses[i], policyLogps[i], referenceLogps[i])
            )
            .ToArray();
    }
}
