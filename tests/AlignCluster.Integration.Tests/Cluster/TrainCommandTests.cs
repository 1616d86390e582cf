using System.Diagnostics;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>`aligncluster train` as a user runs it (a subprocess): bad input → a clear message, non-zero exit, nothing
/// saved.</summary>
public class TrainCommandTests
{
    private static (int Code, string Out, string Err) Cli(params string[] args) => CliProcess.Run(args);

    [Fact]
    public void MalformedConfigFailsWithFileAndLineAndWritesNothing()
    {
        string dir = TestConfigs.TempDirectory();
        string config = Path.Combine(dir, "run.yaml");
        File.WriteAllText(config, "run_id: bad\ntraining:\n  rounds: [1, 2\n");
        string state = Path.Combine(dir, "state");
        var (code, _, err) = Cli("train", "--config", config, "--state", state);
        Assert.Equal(2, code);
        Assert.Contains($"error: {config}:", err);
        Assert.DoesNotContain("   at ", err); // no stack trace
        Assert.False(Directory.Exists(state), "a rejected config must not create any state");
    }

    [Fact]
    public void InvalidValueAndMissingFileFailClearly()
    {
        string dir = TestConfigs.TempDirectory();
        var (code, _, err) = Cli("train", "--set", "loss.name=nope", "--state", Path.Combine(dir, "s"));
        Assert.Equal(2, code);
        Assert.Contains("loss.name: unknown loss 'nope'", err);
        (code, _, err) = Cli("train", "--config", Path.Combine(dir, "missing.yaml"), "--state", Path.Combine(dir, "s"));
        Assert.Equal(2, code);
        Assert.Contains("config file not found", err);
        Assert.False(Directory.Exists(Path.Combine(dir, "s")));
    }

    [Fact]
    public void DatasetErrorNamesFileAndLineAndWritesNothing()
    {
        string dir = TestConfigs.TempDirectory();
        string data = FileDataTests.WriteDataset(dir, 30);
        File.AppendAllText(
            data,
            "{\"id\": \"bad\", \"prompt\": \"123\", \"completions\": [{\"response\": \"321\", \"score\": \"high\"}]}\n"
        );
        string state = Path.Combine(dir, "state");
        var (code, _, err) = Cli(
            "train",
            "--set",
            "data.source=file",
            "--set",
            $"data.path={data}",
            "--set",
            "data.eval_prompts=5",
            "--state",
            state
        );
        Assert.Equal(2, code);
        Assert.Contains($"{data}:31", err); // the appended record is line 31
        Assert.Contains("score", err);
        Assert.False(Directory.Exists(state), "a rejected dataset must not create any state");
    }

    [Fact]
    public void UnwritableStateDirectoryIsReportedBeforeAnyWork()
    {
        string dir = TestConfigs.TempDirectory();
        string blocker = Path.Combine(dir, "file");
        File.WriteAllText(blocker, "not a directory");
        var (code, _, err) = Cli("train", "--state", Path.Combine(blocker, "state"), "--set", "training.rounds=1");
        Assert.Equal(3, code);
        Assert.Contains("is not usable", err);
    }

    [Fact]
    public void TrainsThenRefusesTheSameRunIdAndResumesAndExports()
    {
        string dir = TestConfigs.TempDirectory();
        string state = Path.Combine(dir, "state");
        string[] small =
        [
            "--set",
            "run_id=cli",
            "--set",
            "data.train_prompts=64",
            "--set",
            "data.eval_prompts=16",
            "--set",
            "training.rounds=1",
            "--set",
            "shards=1",
        ];
        var (code, output, err) = Cli(["train", "--state", state, .. small]);
        Assert.True(code == 0, $"train failed ({code}): {err}\n{output}");
        (code, _, err) = Cli(["train", "--state", state, .. small]);
        Assert.Equal(2, code);
        Assert.Contains("already exists", err);
        (code, _, err) = Cli("train", "--state", state, "--resume", "--run", "cli", "--set", "training.rounds=5");
        Assert.Equal(2, code);
        Assert.Contains("differs from the one run 'cli' was started with", err);
        (code, output, err) = Cli("train", "--state", state, "--resume", "--run", "cli"); // already complete: reports it
        Assert.True(code == 0, err);
        Assert.Contains("Completed", output);
        (code, output, err) = Cli("export", "--state", state, "--run", "cli", "--out", Path.Combine(dir, "hf"));
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(dir, "hf", "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(dir, "hf", "config.json")));
    }
}
