using System.CommandLine;
using System.Text.Json;
using AlignCluster.Models;
using AlignCluster.Models.Tokenization;

namespace AlignCluster.Client.Commands;

/// <summary><c>aligncluster tokenize --model DIR</c>: text on stdin → JSON array of ids; <c>--decode</c>: ids →
/// text.</summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model")
        {
            Description = "Model directory holding tokenizer.json",
            Required = true,
        };
        var decode = new Option<bool>("--decode")
        {
            Description = "Read a JSON array of ids on stdin and print their text",
        };
        var special = new Option<bool>("--add-special-tokens")
        {
            Description = "Add the tokenizer's BOS/EOS template when encoding",
        };
        var command = new Command("tokenize", "Tokenize stdin with a model's tokenizer (or decode ids with --decode).");
        command.Options.Add(model);
        command.Options.Add(decode);
        command.Options.Add(special);
        command.SetAction(parse =>
        {
            try
            {
                var tokenizer = LanguageModel.LoadTokenizer(parse.GetValue(model)!);
                using var stdin = new MemoryStream();
                Console.OpenStandardInput().CopyTo(stdin);
                string input = StrictText.Decode(stdin.ToArray(), "stdin");
                if (parse.GetValue(decode))
                {
                    int[] ids;
                    try
                    {
                        ids = JsonSerializer.Deserialize<int[]>(input) ?? [];
                    }
                    catch (JsonException e)
                    {
                        throw new FormatException($"stdin: expected a JSON array of token ids ({e.Message})");
                    }
                    Console.Out.Write(tokenizer.Decode(ids));
                }
                else
                {
                    Console.Out.WriteLine(JsonSerializer.Serialize(tokenizer.Encode(input, parse.GetValue(special))));
                }
                return 0;
            }
            catch (Exception e) when (e is ModelLoadException or TokenizerException or FormatException)
            {
                Console.Error.WriteLine($"tokenize: {e.Message}");
                return 2; // bad input, as for train and losses
            }
        });
        return command;
    }
}
