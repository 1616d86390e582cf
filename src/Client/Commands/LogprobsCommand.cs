using System.CommandLine;
using AlignCluster.Models;
using System.Runtime.InteropServices;
using AlignCluster.Models.Nn;

namespace AlignCluster.Client.Commands;

/// <summary>
/// <c>aligncluster logprobs --model DIR --input FILE.jsonl</c>: one line per input row with the response's summed and
/// mean log-prob and its token count — how reference log-probs are precomputed for a dataset.
/// </summary>
internal static class LogprobsCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Hugging Face model directory", Required = true };
        var input = new Option<string>("--input") { Description = "JSONL rows {\"prompt\", \"response\"} (strings or chat messages)", Required = true };
        var output = new Option<string?>("--output") { Description = "Write results here instead of stdout" };
        var batch = new Option<int>("--batch-size") { Description = "Rows per forward pass", DefaultValueFactory = _ => 8 };
        var command = new Command("logprobs", "Score responses under a model: sum, mean and count of response-token log-probs per row.");
        foreach (var o in new Option[] { model, input, output, batch }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            string inputPath = parse.GetValue(input)!;
            try
            {
                if (!File.Exists(inputPath)) throw new FileNotFoundException($"input file '{inputPath}' not found");
                using var lm = LanguageModel.Load(parse.GetValue(model)!);
                using var reader = new StreamReader(inputPath);
                string? outputPath = parse.GetValue(output);
                if (outputPath is null)
                {
                    ScoringInput.ScoreJsonl(lm, reader, Console.Out, inputPath, parse.GetValue(batch));
                }
                else
                {
                    // Results go to a temp file first so an interrupted run never leaves a partial output behind.
                    string temp = outputPath + ".partial";
                    using (var writer = new StreamWriter(temp)) ScoringInput.ScoreJsonl(lm, reader, writer, inputPath, parse.GetValue(batch));
                    File.Move(temp, outputPath, overwrite: true);
                }
                return 0;
            }
            catch (Exception e) when (e is ModelLoadException or FormatException or FileNotFoundException or ExternalException)
            {
                Console.Error.WriteLine($"logprobs: {(e is ExternalException x ? TorchGaps.Message(x) : e.Message)}");
                return 2; // bad input, as for train and losses
            }
        });
        return command;
    }
}
