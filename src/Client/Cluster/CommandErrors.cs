using System.CommandLine;
using System.CommandLine.Help;
using System.Text.RegularExpressions;
using AlignCluster.Alignment.Data;
using AlignCluster.Grains.Configuration;
using AlignCluster.Hosting.Checkpoints;

namespace AlignCluster.Client.Cluster;

/// <summary>
/// Turns expected failures into "error: …" on stderr and an exit code: 2 bad input, 3 unusable state or an
/// unreachable cluster, 1 the run failed (or an unexpected error), 130 cancelled. No stack trace unless asked for.
/// </summary>
public static partial class CommandErrors
{
    /// <summary>Set to 1 to get the stack trace of an unexpected error (a bug) on stderr.</summary>
    public const string TraceVariable = "ALIGNCLUSTER_TRACE";

    public static async Task<int> Guard(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (ClientException e)
        {
            return Fail(e.Message, e.ExitCode);
        }
        catch (ConfigException e)
        {
            return Fail(e.Message, 2);
        }
        catch (DataFormatException e)
        {
            return Fail(e.Message, 2);
        }
        catch (StorageUnavailableException e)
        {
            return Fail(CorruptState.Describe(e) ?? e.Message, 3);
        }
        catch (OperationCanceledException)
        {
            return Fail("cancelled", 130);
        }
        catch (Exception e) when (CorruptState.Describe(e) is { } corrupt) // whatever the runtime wrapped it in
        {
            return Fail(corrupt, 3);
        }
    }

    /// <summary>
    /// One line for the command-line parser's errors (unknown option, a value that does not parse, a missing required
    /// option), prefixed by the subcommand; null when the line parsed (or only asks for help).
    /// </summary>
    public static string? DescribeParseErrors(ParseResult parse)
    {
        if (parse.Errors.Count == 0 || parse.Action is HelpAction)
            return null;
        var parsed = parse.CommandResult.Command;
        string command = parsed is RootCommand ? "aligncluster" : $"aligncluster {parsed.Name}";
        var messages = parse
            .Errors.Select(e => FriendlyTypeName().Replace(e.Message, m => $"as {Friendly(m.Groups[1].Value)}"))
            .Distinct();
        return $"{command}: {string.Join("; ", messages)} (see {command} --help)";
    }

    /// <summary>Runs the parsed command; an exception no command expected becomes one line and exit 1.</summary>
    public static async Task<int> InvokeAsync(ParseResult parse)
    {
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (CorruptState.Describe(e) is { } corrupt)
        {
            return Fail(corrupt, 3);
        }
        catch (Exception e)
        {
            bool trace = Environment.GetEnvironmentVariable(TraceVariable) is "1";
            Console.Error.WriteLine(
                $"error: unexpected {e.GetType().Name}: {e.Message}"
                    + (trace ? $"{Environment.NewLine}{e}" : $" (set {TraceVariable}=1 for the stack trace)")
            );
            return 1;
        }
    }

    private static string Friendly(string type) =>
        type switch
        {
            _ when type.Contains("System.Int32") || type.Contains("System.Int64") => "an integer",
            _ when type.Contains("System.Double") || type.Contains("System.Single") => "a number",
            _ when type.Contains("System.Boolean") => "true or false",
            _ => $"'{type}'",
        };

    // "Cannot parse argument 'abc' for option '--round' as expected type 'System.Nullable`1[System.Int32]'."
    [GeneratedRegex("as expected type '([^']*)'")]
    private static partial Regex FriendlyTypeName();

    private static int Fail(string message, int code)
    {
        Console.Error.WriteLine($"error: {message}");
        return code;
    }
}
