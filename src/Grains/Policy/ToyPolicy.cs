using System.Text.Json;
using AlignCluster.Grains.Demo;
using AlignCluster.Grains.Training;

namespace AlignCluster.Grains.Policy;

/// <summary>
/// The demo policy: a small autoregressive log-linear model over the toy vocabulary, written in plain C# so the demo
/// runs in seconds on two CPU cores. At response position t (previous token p, prompt x of length L):
///   logits(v) = Σ_{f ∈ features} W[f, v],  features = {(t, L)} ∪ {(t, L, j, x_j) : j &lt; L} ∪ {(t, p)},
/// i.e. a bias per position and length, a "which prompt digit sits where" table (enough to represent reversal,
/// not enough to learn it from few noisy demonstrations), and a bigram. π(v) = softmax(logits / T).
/// Gradients are exact: ∂log π(y_t)/∂W[f, v] = 1[v = y_t] − π(v) for each active feature f.
/// </summary>
public sealed class ToyPolicy : IPolicyModel
{
    private const int V = ToyVocabulary.Size;
    private readonly int _maxPrompt,
        _maxResponse; // L_max, T_max
    private readonly int _offsetTable,
        _offsetBigram,
        _features;

    // Weights and Adam moments are stored as float32 (what the checkpoint holds), so a resumed run continues from
    // exactly the numbers an uninterrupted one has; arithmetic is done in double.
    private readonly float[] _w,
        _m,
        _v; // (F, V) each
    private readonly double[] _grad; // (F, V)
    private readonly double _weightDecay,
        _gradClip;
    private long _steps;

    public ToyPolicy(int maxPromptLength, int maxResponseLength, double weightDecay = 0.0, double gradClip = 1.0)
    {
        _maxPrompt = maxPromptLength;
        _maxResponse = maxResponseLength;
        _offsetTable = _maxResponse * (_maxPrompt + 1);
        _offsetBigram = _offsetTable + _maxResponse * (_maxPrompt + 1) * _maxPrompt * 10;
        _features = _offsetBigram + _maxResponse * V;
        _w = new float[_features * V];
        _grad = new double[_w.Length];
        _m = new float[_w.Length];
        _v = new float[_w.Length];
        _weightDecay = weightDecay;
        _gradClip = gradClip;
    }

    public string Kind => "toy";

    public int ParameterCount => _w.Length;

    /// <summary>The accumulated gradient, (F, V) row-major, until the next optimizer step clears it (for tests and
    /// diagnostics).</summary>
    public ReadOnlySpan<double> Gradient => _grad;

    /// <summary>Active feature rows at response position t after token <paramref name="previous"/>.</summary>
    private int[] Features(int[] prompt, int t, int previous)
    {
        if (prompt.Length > _maxPrompt)
            throw new ArgumentException(
                $"prompt has {prompt.Length} tokens; the toy policy covers at most {_maxPrompt}"
            );
        t = Math.Min(t, _maxResponse - 1);
        int L = prompt.Length;
        var rows = new int[L + 2];
        rows[0] = t * (_maxPrompt + 1) + L;
        for (int j = 0; j < L; j++)
        {
            int digit = prompt[j] - ToyVocabulary.FirstDigit;
            if ((uint)digit > 9)
                throw new ArgumentException($"prompt token {prompt[j]} is not a digit of the toy vocabulary");
            rows[1 + j] = _offsetTable + ((t * (_maxPrompt + 1) + L) * _maxPrompt + j) * 10 + digit;
        }
        rows[L + 1] = _offsetBigram + t * V + previous;
        return rows;
    }

    /// <summary>log π(·) at temperature <paramref name="temperature"/> for the given feature rows.</summary>
    private void LogSoftmax(int[] rows, double temperature, Span<double> logProbs)
    {
        logProbs.Clear();
        foreach (int row in rows)
            for (int v = 0; v < V; v++)
                logProbs[v] += _w[row * V + v];
        double max = double.NegativeInfinity;
        for (int v = 0; v < V; v++)
        {
            logProbs[v] /= temperature;
            max = Math.Max(max, logProbs[v]);
        }
        double sum = 0;
        for (int v = 0; v < V; v++)
            sum += Math.Exp(logProbs[v] - max);
        double logZ = max + Math.Log(sum);
        for (int v = 0; v < V; v++)
            logProbs[v] -= logZ;
    }

    public double LogProb(int[] prompt, int[] response)
    {
        Span<double> lp = stackalloc double[V];
        double total = 0;
        int previous = ToyVocabulary.Bos;
        for (int t = 0; t < response.Length; t++)
        {
            LogSoftmax(Features(prompt, t, previous), 1.0, lp);
            total += lp[response[t]];
            previous = response[t];
        }
        return total;
    }

    public double[] LogProbs(IReadOnlyList<Sequence> sequences)
    {
        var result = new double[sequences.Count];
        for (int i = 0; i < result.Length; i++)
            result[i] = LogProb(sequences[i].Prompt, sequences[i].Response);
        return result;
    }

    public void AccumulateGradient(IReadOnlyList<Sequence> sequences, IReadOnlyList<double> weights)
    {
        Span<double> lp = stackalloc double[V];
        for (int i = 0; i < sequences.Count; i++)
        {
            double weight = weights[i];
            if (weight == 0)
                continue;
            var (prompt, response) = sequences[i];
            int previous = ToyVocabulary.Bos;
            for (int t = 0; t < response.Length; t++)
            {
                var rows = Features(prompt, t, previous);
                LogSoftmax(rows, 1.0, lp);
                foreach (int row in rows)
                    for (int v = 0; v < V; v++)
                        _grad[row * V + v] += weight * ((v == response[t] ? 1 : 0) - Math.Exp(lp[v]));
                previous = response[t];
            }
        }
    }

    public void SumGradient(TrainerGroup group) => group.Sum(_grad);

    public IForwardPass Forward(IReadOnlyList<Sequence> sequences) => new RescoringForwardPass(this, sequences);

    public double ClipGradient()
    {
        double norm = Math.Sqrt(_grad.Sum(g => g * g));
        if (_gradClip > 0 && norm > _gradClip)
        {
            double scale = _gradClip / norm;
            for (int i = 0; i < _grad.Length; i++)
                _grad[i] *= scale;
        }
        return norm;
    }

    public void Step(double learningRate)
    {
        // The buffer holds ∂(Σ weight·logp)/∂θ where weights are ∂loss/∂logp, i.e. ∂loss/∂θ: descend it.
        const double beta1 = 0.9,
            beta2 = 0.999,
            eps = 1e-8;
        _steps++;
        double c1 = 1 - Math.Pow(beta1, _steps),
            c2 = 1 - Math.Pow(beta2, _steps);
        for (int i = 0; i < _w.Length; i++)
        {
            double g = _grad[i];
            double m = beta1 * _m[i] + (1 - beta1) * g,
                v = beta2 * _v[i] + (1 - beta2) * g * g;
            _m[i] = (float)m;
            _v[i] = (float)v;
            _w[i] = (float)(_w[i] - learningRate * (m / c1 / (Math.Sqrt(v / c2) + eps) + _weightDecay * _w[i]));
            _grad[i] = 0;
        }
    }

    public (int[] Response, double LogProb) Sample(
        int[] prompt,
        double temperature,
        int maxNewTokens,
        SeededRandom random
    )
    {
        Span<double> lp = stackalloc double[V];
        var response = new List<int>();
        int previous = ToyVocabulary.Bos;
        for (int t = 0; t < Math.Min(maxNewTokens, _maxResponse); t++)
        {
            LogSoftmax(Features(prompt, t, previous), temperature, lp);
            double u = random.NextDouble(),
                cumulative = 0;
            int token = V - 1;
            for (int v = 0; v < V; v++)
            {
                cumulative += Math.Exp(lp[v]);
                if (u < cumulative)
                {
                    token = v;
                    break;
                }
            }
            response.Add(token);
            previous = token;
            if (token == ToyVocabulary.Eos)
                break;
        }
        var ids = response.ToArray();
        return (ids, LogProb(prompt, ids));
    }

    public IPolicyModel Snapshot()
    {
        var copy = new ToyPolicy(_maxPrompt, _maxResponse, _weightDecay, _gradClip);
        Array.Copy(_w, copy._w, _w.Length);
        return copy;
    }

    public PolicyState Save()
    {
        var config = JsonSerializer.Serialize(
            new Dictionary<string, object>
            {
                ["model_type"] = "aligncluster-toy",
                ["vocab_size"] = V,
                ["max_prompt_length"] = _maxPrompt,
                ["max_response_length"] = _maxResponse,
            }
        );
        long[] shape = [_features, V];
        return new PolicyState(
            config,
            [
                new NamedTensor("weight", shape, (float[])_w.Clone()),
                new NamedTensor("optimizer.exp_avg", shape, (float[])_m.Clone()),
                new NamedTensor("optimizer.exp_avg_sq", shape, (float[])_v.Clone()),
                new NamedTensor("optimizer.step", [1], [(float)_steps]),
            ]
        );
    }

    public void Load(PolicyState state)
    {
        foreach (var tensor in state.Tensors)
        {
            float[]? target = tensor.Name switch
            {
                "weight" => _w,
                "optimizer.exp_avg" => _m,
                "optimizer.exp_avg_sq" => _v,
                _ => null,
            };
            if (tensor.Name == "optimizer.step")
            {
                _steps = (long)tensor.Values[0];
                continue;
            }
            if (target is null)
                throw new InvalidDataException($"toy policy checkpoint has an unknown tensor '{tensor.Name}'");
            if (tensor.Values.Length != target.Length)
                throw new InvalidDataException(
                    $"toy policy tensor '{tensor.Name}' has {tensor.Values.Length} values; expected {target.Length} (shape [{_features}, {V}])"
                );
            Array.Copy(tensor.Values, target, target.Length);
        }
        Array.Clear(_grad);
    }
}
