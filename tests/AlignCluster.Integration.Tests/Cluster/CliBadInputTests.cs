using System.Text;
using System.Text.Json;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>
/// Issue 13's bad inputs, run as a user runs them (the built client as a subprocess: exit code, stderr, files on disk):
/// each ends with one line naming the file:line, field or cause, exit 2 (bad input) or 3 (unusable state), no stack
/// trace, no partial file, and earlier results untouched.
/// </summary>
public class CliBadInputTests
{
    /// <summary>Runs the CLI and checks what every failure shares: the expected code, one "error: " line, no stack
    /// trace.</summary>
    private static string Fails(int expectedCode, params string[] args)
    {
        var (code, output, err) = CliProcess.Run(args);
        Assert.True(
            code == expectedCode,
            $"aligncluster {string.Join(' ', args)}: exit {code}, expected {expectedCode}\n{err}\n{output}"
        );
        Assert.DoesNotContain("   at ", err);
        Assert.DoesNotContain("Usage:", output + err); // a message, not the help text
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{err}");
        Assert.StartsWith("error: ", lines[0]);
        return lines[0].TrimEnd('\r');
    }

    [Theory]
    [InlineData("eval --run r --round abc", "Cannot parse argument 'abc' for option '--round' as an integer")]
    [InlineData("demo --seeds many", "Cannot parse argument 'many' for option '--seeds' as an integer")]
    [InlineData("train --no-such-option", "--no-such-option")]
    [InlineData("export --run r", "--out")] // a required option left out
    [InlineData("no-such-command", "no-such-command")]
    public void An_option_that_does_not_parse_is_one_line_with_exit_code_2(string line, string expected)
    {
        string message = Fails(2, line.Split(' '));
        Assert.Contains(expected, message);
        Assert.Contains("--help", message); // says where the options are listed
    }

    [Fact]
    public void Help_still_prints_the_options_and_exits_0()
    {
        var (code, output, _) = CliProcess.Run("eval", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--round", output);
    }

    [Fact]
    public void Prompts_with_fewer_than_two_candidates_are_reported_with_their_lines()
    {
        string dir = TestConfigs.TempDirectory();
        var lines = FileDataTests.WriteDataset(dir, 12);
        var records = File.ReadAllLines(lines).ToList();
        // Line 3: no candidates at all; line 7: a single one. Both are skipped (docs/alignment.md), never silently.
        records[2] = """{"id": "empty", "prompt": "123", "candidates": []}""";
        records[6] = """{"id": "single", "prompt": "456", "candidates": [{"text": "654", "score": 1}]}""";
        File.WriteAllLines(lines, records);
        var (code, output, err) = CliProcess.Run(
            "train",
            "--state",
            Path.Combine(dir, "state"),
            "--set",
            "data.source=file",
            "--set",
            $"data.path={lines}",
            "--set",
            "data.eval_prompts=2",
            "--set",
            "sft.enabled=false",
            "--set",
            "training.rounds=1",
            "--set",
            "eval.samples_per_prompt=1"
        );
        Assert.True(code == 0, $"exit {code}: {err}\n{output}");
        Assert.Contains($"warning: {lines}: 12 records, 10 prompts, 2 skipped (< 2 distinct candidates)", err);
        Assert.Contains("skipped lines: 3, 7", err);
    }

    [Fact]
    public void Logprobs_on_a_cut_short_tokenizer_json_names_it_with_exit_code_2()
    {
        string dir = TestConfigs.TempDirectory();
        string model = HfTextDataTests.WriteTinyModel(dir);
        string tokenizer = Path.Combine(model, "tokenizer.json");
        var bytes = File.ReadAllBytes(tokenizer);
        File.WriteAllBytes(tokenizer, bytes[..(bytes.Length / 2)]);
        string input = Rows(dir, Row("a", "b"));
        Assert.Contains("tokenizer.json", Fails(2, "logprobs", "--model", model, "--input", input));
    }

    [Fact]
    public void Logprobs_output_is_replaced_only_by_a_complete_result()
    {
        string dir = TestConfigs.TempDirectory();
        string model = HfTextDataTests.WriteTinyModel(dir); // 96 positions, one token per byte
        string output = Path.Combine(dir, "out.jsonl");

        // A good file: every row scored, nothing else left in the directory.
        string good = Rows(dir, Row("a", "b"), Row("c", "d"), Row("e", "f"));
        var (code, _, err) = CliProcess.Run(
            "logprobs",
            "--model",
            model,
            "--input",
            good,
            "--output",
            output,
            "--batch-size",
            "1"
        );
        Assert.True(code == 0, err);
        Assert.Equal(3, File.ReadAllLines(output).Length);
        const string earlier = "earlier results\n";
        File.WriteAllText(output, earlier);

        // Batch size 1: rows 1 and 2 are scored and written before row 3 fails; none of it may land anywhere.
        string badJson = Rows(dir, Row("a", "b"), Row("c", "d"), "{\"prompt\": ");
        Assert.Contains(
            $"{badJson}:3: not valid JSON",
            Fails(2, "logprobs", "--model", model, "--input", badJson, "--output", output, "--batch-size", "1")
        );
        AssertOnlyEarlierOutput();

        // Invalid UTF-8 (a lone continuation byte) is refused with its line, as train's reader does, not replaced by
        // U+FFFD.
        string badUtf8 = Path.Combine(dir, "utf8.jsonl");
        File.WriteAllBytes(
            badUtf8,
            [
                .. Encoding.UTF8.GetBytes(Row("a", "b") + "\n{\"prompt\": \"x"),
                0x80,
                .. Encoding.UTF8.GetBytes("\", \"response\": \"y\"}\n"),
            ]
        );
        Assert.Contains(
            $"{badUtf8}:2: invalid UTF-8 at byte 14 of the line",
            Fails(2, "logprobs", "--model", model, "--input", badUtf8, "--output", output)
        );
        AssertOnlyEarlierOutput();

        // A row longer than the model's positions is named by its line before it reaches the model.
        string tooLong = Rows(dir, Row("a", "b"), Row("a", new string('x', 200)));
        string message = Fails(2, "logprobs", "--model", model, "--input", tooLong, "--output", output);
        Assert.Contains($"{tooLong}:2: prompt (", message);
        Assert.Contains("exceed the model's 96 positions", message);
        AssertOnlyEarlierOutput();

        foreach (var size in new[] { "0", "-3" })
        {
            Assert.Contains(
                $"--batch-size: {size} must be ≥ 1",
                Fails(2, "logprobs", "--model", model, "--input", good, "--output", output, "--batch-size", size)
            );
            AssertOnlyEarlierOutput();
        }

        void AssertOnlyEarlierOutput()
        {
            Assert.Equal(earlier, File.ReadAllText(output));
            var left = Directory.GetFiles(dir).Select(Path.GetFileName).Where(f => f!.Contains("out.jsonl")).ToList();
            Assert.Equal(["out.jsonl"], left); // no out.jsonl.partial or other temp file
        }
    }

    [Theory]
    [InlineData("train --resume --run r1", "--resume: run 'r1' does not exist: no cluster state in")]
    [InlineData("eval --run r1", "run 'r1' does not exist: no cluster state in")]
    [InlineData("export --run r1 --out exported", "run 'r1' does not exist: no cluster state in")]
    [InlineData("status", "no cluster state in")]
    public void A_state_directory_that_does_not_exist_is_named_and_not_created(string line, string expected)
    {
        string dir = TestConfigs.TempDirectory();
        string state = Path.Combine(dir, "no-such-state");
        string message = Fails(2, [.. line.Split(' '), "--state", state]);
        Assert.Contains(expected, message);
        Assert.Contains(state, message);
        Assert.False(Directory.Exists(state), $"{state} was created");
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void A_truncated_coordinator_record_is_corrupt_state_with_exit_code_3()
    {
        string dir = TestConfigs.TempDirectory();
        string state = Path.Combine(dir, "state");
        var (code, output, err) = CliProcess.Run(
            "train",
            "--state",
            state,
            "--set",
            "run_id=r1",
            "--set",
            "training.rounds=1",
            "--set",
            "data.train_prompts=64",
            "--set",
            "data.eval_prompts=8",
            "--set",
            "sft.epochs=1",
            "--set",
            "eval.samples_per_prompt=1"
        );
        Assert.True(code == 0, $"exit {code}: {err}\n{output}");

        // The coordinator's state of run r1: STATE/grains/<state name>/<grain type>/<key>.state (file grain storage).
        var record = Assert.Single(Directory.GetFiles(state, "*.state", SearchOption.AllDirectories), f =>
            !f.Contains("/.")
            && Path.GetRelativePath(state, f).Contains("coordinator")
            && Path.GetFileName(f) == "r1.state"
        );
        var bytes = File.ReadAllBytes(record);
        File.WriteAllBytes(record, bytes[..(bytes.Length / 2)]); // cut short, as by a full disk or a bad copy
        var before = Snapshot(state);

        foreach (var line in new[] { "train --resume --run r1", "status", "status --run r1", "eval --run r1" })
        {
            string message = Fails(3, [.. line.Split(' '), "--state", state]);
            Assert.StartsWith($"error: state is corrupt: {record}", message);
        }
        Assert.Equal(before, Snapshot(state)); // nothing was rewritten: the record and the checkpoints are as they were

        static Dictionary<string, string> Snapshot(string root) =>
            Directory
                .GetFiles(root, "*", SearchOption.AllDirectories)
                .Where(f => !f.Contains("/.") && !Path.GetFileName(f).StartsWith('.'))
                .Where(f => !f.Contains("membership") && !f.Contains("directory")) // the silo's own bookkeeping, not results
                .ToDictionary(
                    f => f,
                    f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))
                );
    }

    private static string Row(string prompt, string response) => JsonSerializer.Serialize(new { prompt, response });

    private static string Rows(string dir, params string[] rows)
    {
        string path = Path.Combine(dir, $"rows-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, rows);
        return path;
    }
}
