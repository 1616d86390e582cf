using System.CommandLine;
using AlignCluster.Client.Cluster;
using AlignCluster.Client.Commands;
using Spectre.Console;

// `aligncluster`: one subcommand per file under Commands/; CommandCatalog lists them.
// Tables and markup carry no escape codes into a pipe or file, nor when NO_COLOR is set (Spectre goes by TERM alone).
if (Console.IsOutputRedirected || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")))
{
    AnsiConsole.Profile.Capabilities.Ansi = false;
    AnsiConsole.Profile.Capabilities.ColorSystem = ColorSystem.NoColors;
}
var root = new RootCommand("aligncluster — iterative preference optimization of language models on an actor cluster");
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);
var parse = root.Parse(args);

// A mistyped option is bad input like any other: one line and exit 2, not the whole help text and exit 1.
if (CommandErrors.DescribeParseErrors(parse) is { } parseError)
{
    Console.Error.WriteLine($"error: {parseError}");
    return 2;
}
RemoteCluster.CommandLineCertificate = parse.GetValue(CommonOptions.Certificate);
ConsoleOutput.Configure();
return await CommandErrors.InvokeAsync(parse);
