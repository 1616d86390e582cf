using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models.Nn;

/// <summary>
/// Rotary position embedding in HF's "rotate half" layout: channel i and i + D/2 of each head form a pair rotated by
/// angle position·inv_freq[i], with inv_freq[i] = θ^(−2i/D), optionally rescaled (linear, or Llama-3.1's llama3 rule).
/// </summary>
public static class Rope
{
    /// <summary>The D/2 inverse frequencies, computed in double precision.</summary>
    public static double[] InverseFrequencies(int headDim, double theta, RopeScaling? scaling)
    {
        var inv = new double[headDim / 2];
        for (int i = 0; i < inv.Length; i++)
            inv[i] = 1.0 / Math.Pow(theta, 2.0 * i / headDim);
        if (scaling is null)
            return inv;
        if (scaling.Type == "linear")
            return Array.ConvertAll(inv, f => f / scaling.Factor);

        // llama3: long wavelengths (low frequencies) are slowed down by `factor`, short ones kept, and the band between
        // interpolated smoothly (transformers' _compute_llama3_parameters).
        double oldContext = scaling.OriginalMaxPositionEmbeddings;
        double lowFreqWavelen = oldContext / scaling.LowFreqFactor;
        double highFreqWavelen = oldContext / scaling.HighFreqFactor;
        for (int i = 0; i < inv.Length; i++)
        {
            double wavelen = 2 * Math.PI / inv[i];
            if (wavelen < highFreqWavelen)
                continue;
            if (wavelen > lowFreqWavelen)
            {
                inv[i] /= scaling.Factor;
                continue;
            }
            double smooth =
                (oldContext / wavelen - scaling.LowFreqFactor) / (scaling.HighFreqFactor - scaling.LowFreqFactor);
            inv[i] = (1 - smooth) * inv[i] / scaling.Factor + smooth * inv[i];
        }
        return inv;
    }

    /// <summary>cos and sin tables (B, 1, T, D) for the given (B, T) positions, in <paramref name="dtype"/>.</summary>
    public static (Tensor Cos, Tensor Sin) Tables(Tensor positions, Tensor inverseFrequencies, ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        var angles = positions.to_type(ScalarType.Float32).unsqueeze(-1) * inverseFrequencies; // (B, T, D/2)
        var both = torch.cat([angles, angles], -1).unsqueeze(1); // (B, 1, T, D)
        return (
            both.cos().to_type(dtype).MoveToOuterDisposeScope(),
            both.sin().to_type(dtype).MoveToOuterDisposeScope()
        );
    }

    /// <summary>x·cos + rotate_half(x)·sin for x (B, H, T, D), where rotate_half([x1, x2]) = [−x2, x1].</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = torch.NewDisposeScope();
        long half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        var rotated = torch.cat([-x2, x1], -1);
        return (x * cos + rotated * sin).MoveToOuterDisposeScope();
    }
}
