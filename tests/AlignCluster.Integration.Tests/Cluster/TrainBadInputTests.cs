using AlignCluster.Tests.Shared;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>
/// Bad input to `aligncluster train` (issue 6 item 7) beyond what <see cref="TrainCommandTests"/> covers: a broken
/// hf model directory, a missing or too-long dataset, an unreachable cluster. Each gives a clear message naming the
/// file or cause, a non-zero exit and no state (so no checkpoint, partial or whole).
/// </summary>
public class TrainBadInputTests
{
    private static (int Code, string Err) Train(string state, params string[] sets)
    {
        var (code, _, err) = CliProcess.Run(["train", "--state", state, .. sets.SelectMany(s => new[] { "--set", s })]);
        Assert.DoesNotContain("   at ", err); // a message, not a stack trace
        Assert.False(Directory.Exists(state), $"rejected input must not create the state directory {state}");
        return (code, err);
    }

    private static string[] HfText(string model, string data) =>
        [
            "policy.kind=hf",
            $"policy.path={model}",
            "policy.max_response_length=16",
            "data.source=file",
            $"data.path={data}",
            "data.eval_prompts=2",
            "sft.enabled=false",
        ];

    [Fact]
    public void A_model_directory_without_tokenizer_or_weights_is_refused_naming_the_file()
    {
        string dir = TestConfigs.TempDirectory();
        string model = HfTextDataTests.WriteTinyModel(dir);
        string data = HfTextDataTests.WriteTextPairs(dir, 6);

        File.Move(Path.Combine(model, "model.safetensors"), Path.Combine(dir, "weights.bak"));
        var (code, err) = Train(Path.Combine(dir, "s1"), HfText(model, data));
        Assert.Equal(2, code);
        Assert.Contains(Path.Combine(model, "model.safetensors"), err);

        File.Move(Path.Combine(dir, "weights.bak"), Path.Combine(model, "model.safetensors"));
        File.Delete(Path.Combine(model, "tokenizer.json"));
        (code, err) = Train(Path.Combine(dir, "s2"), HfText(model, data));
        Assert.Equal(2, code);
        Assert.Contains($"error: policy.path: {Path.Combine(model, "tokenizer.json")} not found", err);
    }

    [Fact]
    public void Tokenize_and_logprobs_refuse_a_model_without_tokenizer_as_bad_input_exit_code_2()
    {
        string dir = TestConfigs.TempDirectory();
        string model = HfTextDataTests.WriteTinyModel(dir);
        File.Delete(Path.Combine(model, "tokenizer.json"));
        string input = Path.Combine(dir, "rows.jsonl");
        File.WriteAllText(input, "{\"prompt\": \"a\", \"response\": \"b\"}\n");
        foreach (
            var args in new[]
            {
                new[] { "tokenize", "--model", model },
                ["logprobs", "--model", model, "--input", input],
            }
        )
        {
            var (code, _, err) = CliProcess.Run(args);
            Assert.True(code == 2, $"{args[0]}: exit {code}: {err}");
            Assert.Contains("tokenizer.json", err);
            Assert.DoesNotContain("   at ", err);
        }
    }

    [Fact]
    public void A_missing_dataset_or_a_prompt_over_the_limit_is_refused()
    {
        string dir = TestConfigs.TempDirectory();
        var (code, err) = Train(
            Path.Combine(dir, "s1"),
            "data.source=file",
            $"data.path={Path.Combine(dir, "nope.jsonl")}"
        );
        Assert.Equal(2, code);
        Assert.Contains($"data.path: file '{Path.Combine(dir, "nope.jsonl")}' not found", err);

        string model = HfTextDataTests.WriteTinyModel(dir);
        string data = HfTextDataTests.WriteTextPairs(dir, 6);
        (code, err) = Train(Path.Combine(dir, "s2"), [.. HfText(model, data), "data.max_prompt_tokens=4"]);
        Assert.Equal(2, code);
        Assert.Contains($"{data}:1: field 'prompt t0': the prompt has", err); // t0 is the file's first line
        Assert.Contains("data.max_prompt_tokens is 4", err);
    }

    [Fact]
    public void An_unreachable_cluster_is_named_with_exit_code_3()
    {
        string nobody = $"127.0.0.1:{LoopbackPorts.FindFreeBasePort(1)}"; // free right now: nothing listens there
        var (code, _, err) = CliProcess.Run("train", "--cluster", nobody, "--set", "training.rounds=1");
        Assert.Equal(3, code);
        Assert.Contains($"cannot connect to the cluster at {nobody}", err);
        Assert.DoesNotContain("   at ", err);
    }
}
