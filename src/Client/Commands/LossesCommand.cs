using System.CommandLine;
using AlignCluster.Alignment.Data;
using AlignCluster.Alignment.Losses;

namespace AlignCluster.Client.Commands;

/// <summary>
/// <c>aligncluster losses --input FILE.json</c>: every requested loss's value and gradient w.r.t. each policy
/// log-prob for one group of responses, as JSON on stdout. Input format: docs/alignment.md.
/// </summary>
internal static class LossesCommand
{
    public static Command Create()
    {
        var input = new Option<FileInfo>("--input", "-i")
        {
            Description =
                "JSON file with the group's log-probs (policy, reference), token counts, scores and the losses to "
                + "evaluate",
            Required = true,
        };
        var command = new Command(
            "losses",
            "Compare preference losses on the same numbers: values and gradients as JSON."
        )
        {
            input,
        };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(input)!;
            try
            {
                string text = StrictText.Decode(File.ReadAllBytes(file.FullName), file.FullName);
                var parsed = LossWorkbench.Parse(text, file.FullName);
                var (results, skipped) = LossWorkbench.Evaluate(parsed);
                Console.WriteLine(LossWorkbench.ToJson(parsed.Responses.Count, results, skipped));
                return 0;
            }
            catch (Exception e)
                when (e
                        is DataFormatException
                            or ArgumentException
                            or IOException
                            or UnauthorizedAccessException
                            or FormatException
                )
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
