using System.Diagnostics;
using System.Text.Json;
using AlignCluster.Grains.Configuration;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>
/// What the CLI writes to a terminal and to a pipe: escape codes only on a terminal without NO_COLOR, piped tables
/// unwrapped, `status --json` on the embedded cluster. The terminal is a real pseudo-terminal from util-linux
/// `script` (part of every Debian install), so the CLI sees what a user's shell gives it.
/// </summary>
public sealed class ConsoleOutputTests
{
    // Long enough that the status row is wider than 80 columns: Spectre.Console wrapped piped output there.
    private const string LongRun = "a-run-with-a-name-long-enough-to-push-its-status-row-past-eighty-columns";

    [Fact]
    public void NO_COLOR_on_a_terminal_and_piped_output_carry_no_escape_codes_and_status_does_not_wrap()
    {
        string dir = TestConfigs.TempDirectory();
        string state = Path.Combine(dir, "state");
        string config = Path.Combine(dir, "run.yaml");
        File.WriteAllText(config, RunConfigLoader.ToYaml(TestConfigs.Tiny(LongRun, rounds: 1)));

        // The control: on a terminal the CLI does style its output (so the check below could fail).
        var (code, styled) = OnTerminal(noColor: false, "train", "--config", config, "--state", state);
        Assert.True(code == 0, $"train on a terminal exited {code}: {styled}");
        Assert.Contains('\u001b', styled);

        (code, string plain) = OnTerminal(
            noColor: true,
            "train",
            "--config",
            config,
            "--set",
            "run_id=second",
            "--state",
            state
        );
        Assert.True(code == 0, $"train with NO_COLOR exited {code}: {plain}");
        Assert.Contains("Run second: Completed", plain);
        Assert.DoesNotContain('\u001b', plain);

        // Piped (CliProcess redirects stdout): plain, and the long run's row whole on one line.
        var (status, output, err) = CliProcess.Run("status", "--state", state);
        Assert.True(status == 0, $"status exited {status}: {err}\n{output}");
        Assert.DoesNotContain('\u001b', output);
        string row = output.Split('\n').Single(l => l.Contains(LongRun));
        Assert.Contains("Completed", row);
        Assert.Contains("1/1", row);
        Assert.Matches(@"oracle reward \d\.\d{3}", row);
        Assert.True(row.Length > 80, $"the row is {row.Length} characters: it could not show wrapping");

        (status, output, err) = CliProcess.Run("status", "--state", state, "--json");
        Assert.True(status == 0, $"status --json exited {status}: {err}\n{output}");
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal("embedded", root.GetProperty("cluster").GetProperty("mode").GetString());
        var silo = Assert
            .Single(root.GetProperty("cluster").GetProperty("silos").EnumerateArray())
            .GetProperty("address")
            .GetString();
        var runs = root.GetProperty("runs").EnumerateArray().ToDictionary(r => r.GetProperty("runId").GetString()!);
        Assert.Equal([LongRun, "second"], runs.Keys.Order(StringComparer.Ordinal));
        foreach (var run in runs.Values)
        {
            Assert.Equal("Completed", run.GetProperty("state").GetString());
            Assert.Equal(1, run.GetProperty("round").GetInt32());
            Assert.Equal(
                [1],
                run.GetProperty("rounds").EnumerateArray().Select(r => r.GetProperty("round").GetInt32())
            );
            Assert.Contains(1, run.GetProperty("checkpoints").EnumerateArray().Select(c => c.GetInt32()));
            // This status command's own silo hosts the coordinator it asked.
            Assert.Equal(silo, run.GetProperty("coordinator").GetString());
        }
    }

    /// <summary>The CLI on a pseudo-terminal (`script -qec CMD /dev/null`): exit code and everything it
    /// wrote.</summary>
    private static (int Code, string Output) OnTerminal(bool noColor, params string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "aligncluster.dll");
        string command = string.Join(
            ' ',
            new[] { "dotnet", cli }.Concat(args).Select(a => $"'{a.Replace("'", "'\\''")}'")
        );
        var info = new ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "-qec", command, "/dev/null" })
            info.ArgumentList.Add(a);
        info.Environment["TERM"] = "xterm-256color";
        if (noColor)
            info.Environment["NO_COLOR"] = "1";
        else
            info.Environment.Remove("NO_COLOR");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(180_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"aligncluster {string.Join(' ', args)} on a terminal did not finish");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
