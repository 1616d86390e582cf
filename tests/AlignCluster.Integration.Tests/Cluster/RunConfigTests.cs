using AlignCluster.Grains.Configuration;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>YAML run configs: defaults, overrides, and errors that name the file, line or field.</summary>
public class RunConfigTests
{
    private static string Write(string yaml)
    {
        string path = Path.Combine(TestConfigs.TempDirectory(), "run.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public void EmbeddedDefaultIsValidAndOverridesApply()
    {
        var config = RunConfigLoader.Load(
            null,
            ["training.rounds=7", "loss.name=cd", "loss.parameters.beta=0.25", "candidates.temperatures=[0.5, 2]"]
        );
        Assert.Equal(7, config.Training.Rounds);
        Assert.Equal("cd", config.Loss.Name);
        Assert.Equal(0.25, config.Loss.Parameters["beta"]);
        Assert.Equal([0.5, 2.0], config.Candidates.Temperatures);
        Assert.Equal(1024, config.Data.TrainPrompts); // untouched default
    }

    [Fact]
    public void YamlFileIsReadWithSnakeCaseKeys()
    {
        var config = RunConfigLoader.Load(
            Write("run_id: my-run\nseed: 9\nselection:\n  strategy: max\n  per: round\ntraining:\n  rounds: 2\n")
        );
        Assert.Equal("my-run", config.RunId);
        Assert.Equal(9UL, config.Seed);
        Assert.Equal("max", config.Selection.Strategy);
        Assert.Equal("round", config.Selection.Per);
    }

    [Fact]
    public void RoundTripsThroughYaml()
    {
        var config = RunConfigLoader.Load(null, ["run_id=x", "online.every=2"]);
        var again = RunConfigLoader.FromYaml(RunConfigLoader.ToYaml(config), "test");
        Assert.Equal(RunConfigLoader.ToYaml(config), RunConfigLoader.ToYaml(again));
    }

    [Fact]
    public void UnknownKeyNamesFileAndLine()
    {
        string path = Write("run_id: a\ntraining:\n  rounds: 2\n  roundz: 3\n");
        var e = Assert.Throws<ConfigException>(() => RunConfigLoader.Load(path));
        Assert.StartsWith(
            $"{path}:4:3: training.roundz: unknown key; known here: rounds, batch_size, learning_rate, trainers",
            e.Message
        );
    }

    [Fact]
    public void ErrorsKeepTheFilesLinesWhenOverridesAreGiven()
    {
        string path = Write("run_id: a\ntraining:\n  rounds: 2\n  roundz: 3\n");
        var e = Assert.Throws<ConfigException>(() => RunConfigLoader.Load(path, ["seed=2"]));
        Assert.StartsWith($"{path}:4:3: training.roundz: unknown key", e.Message);
        var bad = Assert.Throws<ConfigException>(() => RunConfigLoader.Load(null, ["training.roundz=3"]));
        Assert.StartsWith("--set: training.roundz: unknown key", bad.Message);
    }

    [Fact]
    public void WrongTypeNamesTheField()
    {
        var scalar = Assert.Throws<ConfigException>(() => RunConfigLoader.Load(Write("training: { rounds: two }\n")));
        Assert.EndsWith(":1:21: training.rounds: invalid value 'two' (the default is '4')", scalar.Message);
        var mapping = Assert.Throws<ConfigException>(() => RunConfigLoader.Load(Write("run_id: a\ntraining: 5\n")));
        Assert.EndsWith(
            ":2:11: training: expected a mapping with keys rounds, batch_size, learning_rate, trainers, device_wait, got '5'",
            mapping.Message
        );
        var item = Assert.Throws<ConfigException>(() =>
            RunConfigLoader.Load(null, ["candidates.temperatures=[0.5, hot]"])
        );
        Assert.Equal(
            "--set: candidates.temperatures[1]: invalid value 'hot' (the default list is [0.7, 1, 1.5])",
            item.Message
        );
    }

    /// <summary>
    /// Text the deserializer cannot take, with and without --set: an unclosed '{' (YamlDotNet's scanner throws a bare
    /// InvalidOperationException, which escaped as a stack trace with --set) and a key given twice (silently last-wins
    /// without --set, a crash with it). Both name the file's own line and column.
    /// </summary>
    [Theory]
    [InlineData(
        "run_id: x\ntraining: { rounds: 2\nloss: {name: dpo}\n",
        ":2:11: malformed YAML: this '{' is not closed",
        false
    )]
    [InlineData(
        "run_id: x\ntraining: { rounds: 2\nloss: {name: dpo}\n",
        ":2:11: malformed YAML: this '{' is not closed",
        true
    )]
    [InlineData("training: { rounds: 2 }\ntraining: { rounds: 3 }\n", ":2:1: Duplicate key training", false)]
    [InlineData("training: { rounds: 2 }\ntraining: { rounds: 3 }\n", ":2:1: Duplicate key training", true)]
    public void MalformedTextNamesTheFilesLineAndNeverCrashes(string yaml, string expected, bool withOverride)
    {
        string path = Write(yaml);
        var e = Assert.Throws<ConfigException>(() => RunConfigLoader.Load(path, withOverride ? ["seed=2"] : []));
        Assert.Equal(path + expected, e.Message);
    }

    [Fact]
    public void WrongTypeNamesFileAndLine()
    {
        string path = Write("training:\n  rounds: many\n");
        var e = Assert.Throws<ConfigException>(() => RunConfigLoader.Load(path));
        Assert.Contains($"{path}:2:", e.Message);
    }

    [Fact]
    public void InvalidValuesAreListedByField()
    {
        var e = Assert.Throws<ConfigException>(() =>
            RunConfigLoader.Load(Write("loss:\n  name: dpoo\nselection:\n  strategy: best\ntraining:\n  rounds: 0\n"))
        );
        Assert.Contains("loss.name: unknown loss 'dpoo'", e.Message);
        Assert.Contains("selection.strategy: unknown 'best'", e.Message);
        Assert.Contains("training.rounds: 0 must be ≥ 1", e.Message);
    }

    [Fact]
    public void MissingFileAndBadOverrideAreClear()
    {
        Assert.Contains(
            "config file not found",
            Assert.Throws<ConfigException>(() => RunConfigLoader.Load("/nonexistent/run.yaml")).Message
        );
        Assert.Contains(
            "expected key.path=value",
            Assert.Throws<ConfigException>(() => RunConfigLoader.Load(null, ["training.rounds"])).Message
        );
    }
}
