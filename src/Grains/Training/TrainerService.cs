using AlignCluster.Grains.Policy;
using AlignCluster.Grains.Selection;
using AlignCluster.Interfaces;

namespace AlignCluster.Grains.Training;

/// <summary>
/// The trainer's logic without the grain: a policy and its frozen reference, no-grad scoring, preference steps with a
/// named loss (and per-step MC re-selection), supervised fine-tuning, sampling. Deterministic: every random choice
/// comes from a seed the caller passes, so a resumed run repeats an uninterrupted one exactly.
/// </summary>
public sealed class TrainerService : IDisposable
{
    private IPolicyModel? _policy, _reference;

    /// <summary>Where a libtorch policy's weights live: the device this trainer was leased (CPU unless a GPU).</summary>
    public TorchSharp.torch.Device Device { get; set; } = TorchSharp.torch.CPU;

    /// <summary>The data-parallel replicas this trainer trains with (the group of one unless the coordinator formed one).</summary>
    public TrainerGroup Group { get; set; } = TrainerGroup.Solo;

    public bool IsInitialized => _policy is not null;
    public IPolicyModel Policy => _policy ?? throw new InvalidOperationException("the trainer has no policy yet: call InitializeAsync first");
    public IPolicyModel Reference => _reference ?? throw new InvalidOperationException("the trainer has no reference yet: call InitializeAsync first");

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

    /// <summary>Installs a new policy and reference and frees the ones they replace (libtorch policies hold native memory).</summary>
    private void Replace(IPolicyModel policy, IPolicyModel reference)
    {
        var (oldPolicy, oldReference) = (_policy, _reference);
        (_policy, _reference) = (policy, reference);
        if (!ReferenceEquals(oldPolicy, policy)) (oldPolicy as IDisposable)?.Dispose();
        if (!ReferenceEquals(oldReference, reference)) (oldReference as IDisposable)?.Dispose();
    }

    /// <summary>Frees policy and reference now (a GPU's memory must not wait for the finalizer), and leaves the group.</summary>
    public void Dispose()
    {
        (_policy as IDisposable)?.Dispose();
        (_reference as IDisposable)?.Dispose();
        (_policy, _reference) = (null, null);
        LeaveGroup();
    }

    /// <summary>Back to training alone; the group's native resources (and its connections to the peers) are freed.</summary>
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
        var sequences = groups.SelectMany(g => g.Candidates.Select(c => new Sequence(g.PromptTokenIds, c.TokenIds))).ToList();
        var logps = model.LogProbs(sequences);
        var result = new GroupScores[groups.Length];
        for (int i = 0, offset = 0; i < groups.Length; offset += groups[i].Candidates.Length, i++)
            result[i] = new GroupScores(groups[i].PromptId, logps[offset..(offset + groups[i].Candidates.Length)]);
        return result;
    }

    /// <summary>
    /// Next-token NLL on the demonstrations. A data-parallel replica runs its share of each batch; the loss is normalised
    /// by the whole batch's tokens and the gradients are summed, so the step is the one-trainer step.
    /// </summary>
    public SftReport SupervisedFineTune(SftRequest request)
    {
        var policy = Policy;
        var demos = request.Demonstrations
            .Select(g => new Sequence(g.PromptTokenIds, g.Candidates[g.ChosenIndex].TokenIds)).ToList();
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
                // Loss = −Σ logp / tokens, so ∂loss/∂logp_i = −1/tokens for every sequence.
                var share = Group.Share(batch);
                nll -= policy.LogProbsAndGradient(share, logps => Enumerable.Repeat(-1.0 / batchTokens, logps.Length).ToArray()).Sum();
                tokens += batchTokens;
                policy.SumGradient(Group);
                policy.OptimizerStep(request.LearningRate);
            }
            losses[epoch] = Group.Sum(nll)[0] / tokens;
        }
        // Preference training starts from the fine-tuned weights with a fresh optimizer; the reference is frozen here.
        Replace(policy.Snapshot(), policy.Snapshot());
        return new SftReport(losses);
    }

    public TrainReport Train(TrainRequest request)
    {
        var loss = LossRegistry.Create(request.Loss);
        double beta = LossRegistry.MetricBeta(request.Loss);
        var groups = request.Groups.ToList();
        new SeededRandom(SeededRandom.Derive(request.Seed, "order")).Shuffle(groups);
        var steps = new List<StepMetrics>();
        var selections = new List<SelectionRecord>();
        int step = 0;
        foreach (var batch in groups.Chunk(request.BatchSize))
        {
            // A data-parallel replica builds and back-propagates only its share of the batch; Step sums the rest.
            var examples = BuildExamples(Group.Share(batch), loss, request, step, selections, out var kernel);
            if (Step(examples, loss, beta, request.LearningRate, step, kernel) is { } metrics) steps.Add(metrics);
            step++;
        }
        return new TrainReport([.. steps], [.. selections]);
    }

    /// <summary>Chosen-first examples for one batch: whole groups, per-step selections, or the groups as selected per round.</summary>
    private List<PromptGroup> BuildExamples(PromptGroup[] batch, IGroupLoss loss, TrainRequest request, int step,
        List<SelectionRecord> selections, out (double EntropySum, int Picks) kernel)
    {
        kernel = (0, 0);
        if (loss.WholeGroup)
            return batch.Select(g => WholeGroupExample(g, loss.IncludesTies)).Where(g => g.Candidates.Length > 1).ToList();
        if (!request.Selection.PerStep)
            return batch.Where(g => g.Candidates.Length > 1).ToList();

        // Per-step selection: score this batch's candidates with the policy as it is now, then pick negatives.
        var scores = Score(batch, reference: false);
        var examples = new List<PromptGroup>();
        double entropySum = 0;
        int picks = 0;
        for (int i = 0; i < batch.Length; i++)
        {
            var picked = NegativeSelector.Select(batch[i], scores[i].LogProbs, request.Selection, request.Seed, step);
            if (picked.NegativeIndices.Length == 0) continue;
            entropySum += picked.KernelEntropy;
            picks++;
            selections.Add(new SelectionRecord(batch[i].PromptId,
                picked.NegativeIndices.Select(k => batch[i].Candidates[k].CandidateId).ToArray(), picked.KernelEntropy));
            examples.AddRange(NegativeSelector.Examples(batch[i], picked, pairsForAll: request.Selection.Strategy == "all"));
        }
        kernel = (entropySum, picks);
        return examples;
    }

    /// <summary>The chosen first, then every other candidate (exo_rw, list_mle, point_*) or every candidate rated below it (pair_*).</summary>
    private static PromptGroup WholeGroupExample(PromptGroup g, bool includeTies)
    {
        var chosen = g.Candidates[g.ChosenIndex];
        var rest = includeTies
            ? g.Candidates.Where((_, i) => i != g.ChosenIndex)
            : NegativeSelector.Eligible(g).Select(i => g.Candidates[i]);
        return g with { Candidates = [chosen, .. rest], ChosenIndex = 0 };
    }

    /// <summary>
    /// One optimizer step on this replica's examples; null when no replica has any. Loss gradients are divided by the
    /// examples of all replicas and the parameter gradients summed over them, so the update (and every metric, a mean
    /// over all examples) is what one trainer computes on the whole batch.
    /// </summary>
    private StepMetrics? Step(List<PromptGroup> examples, IGroupLoss loss, double beta, double learningRate, int step,
        (double EntropySum, int Picks) kernel)
    {
        var counts = Group.Sum(examples.Count, kernel.EntropySum, kernel.Picks);
        double n = counts[0], entropy = counts[2] > 0 ? counts[1] / counts[2] : 0;
        if (n == 0) return null;
        var sequences = new List<Sequence>();
        foreach (var e in examples) sequences.AddRange(e.Candidates.Select(c => new Sequence(e.PromptTokenIds, c.TokenIds)));
        // Sums over examples: loss, rewards chosen/rejected, accuracy, logps chosen/rejected, rho chosen/rejected.
        var sums = new double[8];
        // One forward: the loss reads the policy log-probs, and its gradient w.r.t. them is back-propagated.
        Policy.LogProbsAndGradient(sequences, logps =>
        {
            var weights = new double[logps.Length];
            int offset = 0;
            foreach (var e in examples)
            {
                int k = e.Candidates.Length;
                var inputs = new LossInputs(logps[offset..(offset + k)],
                    e.Candidates.Select(c => c.ReferenceLogProb ?? throw new InvalidOperationException(
                        $"prompt {e.PromptId}: candidate {c.CandidateId} has no cached reference log-prob")).ToArray(),
                    e.Candidates.Select(c => c.TokenIds.Length).ToArray(),
                    e.Candidates.Select(c => c.Rating).ToArray());
                var value = loss.Evaluate(inputs);
                for (int i = 0; i < k; i++) weights[offset + i] = value.GradientWrtPolicyLogProbs[i] / n;
                double rhoW = inputs.Rho(0), rhoL = Enumerable.Range(1, k - 1).Average(inputs.Rho);
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
            return weights;
        });
        Policy.SumGradient(Group);
        double gradNorm = Policy.OptimizerStep(learningRate);
        var m = Group.Sum(sums).Select(x => x / n).ToArray();
        return new StepMetrics(step, m[0], m[1], m[2], m[1] - m[2], m[3], m[4], m[5], m[6], m[7], entropy, gradNorm);
    }

    /// <summary>
    /// PerPrompt samples per prompt from the policy (or the reference), decoded as one batch, then scored by both models
    /// in one batch each. Row (prompt, k) carries the seed Derive(seed, prompt id, k).
    /// </summary>
    public GeneratedResponse[] Generate(GenerateRequest request)
    {
        var sampler = request.FromReference ? Reference : Policy;
        var rows = request.Prompts.SelectMany(prompt => Enumerable.Range(0, request.PerPrompt).Select(k => (prompt, k))).ToList();
        var responses = sampler.SampleBatch(rows.Select(r => r.prompt.PromptTokenIds).ToList(),
            rows.Select(r => SeededRandom.Derive(request.Seed, r.prompt.PromptId, r.k)).ToList(), request.Temperature, request.MaxNewTokens);
        var sequences = rows.Select((r, i) => new Sequence(r.prompt.PromptTokenIds, responses[i])).ToList();
        var policyLogps = Policy.LogProbs(sequences);
        var referenceLogps = Reference.LogProbs(sequences);
        return rows.Select((r, i) => new GeneratedResponse(r.prompt.PromptId, responses[i], policyLogps[i], referenceLogps[i])).ToArray();
    }
}
