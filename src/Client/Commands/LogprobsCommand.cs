using System.CommandLine;
using System.Runtime.InteropServices;
using AlignCluster.Client.Cluster;
using AlignCluster.Client.Reporting;
using AlignCluster.Models;
using AlignCluster.Models.Nn;
using AlignCluster.Models.Tokenization;

namespace AlignCluster.Client.Commands;

/// <summary>
/// <c>aligncluster logprobs --model DIR --input FILE.jsonl</c>: one line per input row with the response's summed and
/// mean log-prob and its token count — how reference log-probs are precomputed for a dataset. Bad input (a broken
/// model directory, a malformed or over-long row, invalid UTF-8) exits 2 naming the file and line, and with
/// <c>--output</c> leaves no file behind and an earlier output untouched.
/// </summary>
internal static class LogprobsCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Hugging Face model directory", Required = true };
        var input = new Option<string>("--input")
        {
            Description = "JSONL rows {\"prompt\", \"response\"} (strings or chat messages)",
            Required = true,
        };
        var output = new Option<string?>("--output")
        {
            Description = "Write results here instead of stdout (replaced only once every row is scored)",
        };
        var batch = new Option<int>("--batch-size")
        {
            Description = "Rows per forward pass",
            DefaultValueFactory = _ => 8,
        };
        var command = new Command(
            "logprobs",
            "Score responses under a model: sum, mean and count of response-token log-probs per row."
        );
        foreach (var o in new Option[] { model, input, output, batch })
            command.Options.Add(o);
        command.SetAction(
            async (parse, _) =>
                await CommandErrors.Guard(async () =>
                {
                    string inputPath = parse.GetValue(input)!;
                    int batchSize = parse.GetValue(batch);
                    if (batchSize < 1)
                        throw new ClientException($"--batch-size: {batchSize} must be ≥ 1");
                    if (!File.Exists(inputPath))
                        throw new ClientException($"--input: file '{inputPath}' not found");
                    if (parse.GetValue(output) is { } target)
                    {
                        if (Directory.Exists(target))
                            throw new ClientException($"--output: '{target}' is a directory; name a file");
                        string folder = Path.GetDirectoryName(Path.GetFullPath(target))!;
                        if (!Directory.Exists(folder))
                            throw new ClientException($"--output: directory '{folder}' does not exist");
                    }
                    try
                    {
                        using var lm = await LoadAsync(parse.GetValue(model)!);
                        if (parse.GetValue(output) is not { } outputPath)
                            ScoringInput.ScoreLines(lm, StrictText.Lines(inputPath), Console.Out, inputPath, batchSize);
                        else
                            WriteReplacing(outputPath, writer =>
                                ScoringInput.ScoreLines(lm, StrictText.Lines(inputPath), writer, inputPath, batchSize)
                            );
                        return 0;
                    }
                    catch (Exception e)
                        when (e
                                is ModelLoadException
                                    or TokenizerException
                                    or FormatException
                                    or IOException
                                    or UnauthorizedAccessException
                                    or ExternalException
                        )
                    {
                        // bad input, as for train and losses
                        throw new ClientException(e is ExternalException x ? TorchGaps.Message(x) : e.Message);
                    }
                })
        );
        return command;
    }

    /// <summary>
    /// A model load (seconds to minutes for a large checkpoint) under a progress line, on a terminal only: piped, this
    /// command's stderr carries nothing but its one error line, as a bad row is found only after the load.
    /// </summary>
    private static async Task<LanguageModel> LoadAsync(string directory)
    {
        using var progress = ProgressLine.ForStandardError();
        if (!progress.Live)
            return LanguageModel.Load(directory);
        long bytes = Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "*.safetensors").Sum(f => new FileInfo(f).Length)
            : 0;
        return await progress.TimeAsync($"loading {directory} ({bytes / 1048576.0:F1} MiB of weights)", () =>
            Task.Run(() => LanguageModel.Load(directory))
        );
    }

    /// <summary>
    /// Writes to a hidden temp file beside <paramref name="path"/> and renames it over <paramref name="path"/> only
    /// when <paramref name="write"/> finished; on any failure the temp file is deleted and an earlier output stays.
    /// </summary>
    private static void WriteReplacing(string path, Action<TextWriter> write)
    {
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(
            Path.GetDirectoryName(full)!,
            $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.partial"
        );
        try
        {
            using (var writer = new StreamWriter(temp))
                write(writer);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }
}
