using System.Diagnostics;
using AlignCluster.Models;
using AlignCluster.Tests.Shared;

/// <summary>
/// `--reward`: sequences/s of <see cref="RewardModel.Score"/> on a GPT-2-shaped reward model (random weights written as
/// an
/// HF GPT2ForSequenceClassification directory in a temp folder, then loaded), batched vs one sequence at a time, for
/// sequences of mixed lengths (seq/2 … seq tokens). Best of --iters after one warm-up.
/// </summary>
internal static class RewardBench
{
    public static void Run(int layers, int seq, int count, int batch, int iters)
    {
        var config = ModelConfig.Parse(
            $$"""
            {"model_type":"gpt2","vocab_size":50257,"n_embd":768,"n_layer":{{layers}},"n_head":12,"n_positions":1024}
            """
        );
        string dir = Directory.CreateTempSubdirectory("reward-bench-").FullName;
        try
        {
            using (RewardCheckpoint.Write(dir, config, seed: 1, padId: null)) { }
            using var model = RewardModel.Load(dir);
            var rng = new Random(1);
            var sequences = Enumerable
                .Range(0, count)
                .Select(_ =>
                    (IReadOnlyList<int>)
                        Enumerable
                            .Range(0, rng.Next(seq / 2, seq + 1))
                            .Select(_ => rng.Next(config.VocabSize))
                            .ToArray()
                )
                .ToList();
            long tokens = sequences.Sum(s => (long)s.Count);
            Console.WriteLine(
                $"reward model: GPT-2 shape, {layers} layers, float32; {count} sequences of {seq / 2}–{seq} "
                    + $"tokens ({tokens} tokens)"
            );
            foreach (int b in new[] { batch, 1 })
            {
                double best = double.MaxValue;
                for (int i = 0; i < iters + 1; i++)
                {
                    var sw = Stopwatch.StartNew();
                    model.Score(sequences, b);
                    if (i > 0)
                        best = Math.Min(best, sw.Elapsed.TotalSeconds); // the first run is the warm-up
                }
                Console.WriteLine(
                    $"  batch {b, 3}: {best:F3} s, {count / best:F1} sequences/s, {tokens / best:F0} tokens/s"
                );
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
