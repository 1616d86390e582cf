using System.CommandLine;
using AlignCluster.Client.Commands;

// `aligncluster`: one subcommand per file under Commands/; CommandCatalog lists them.
var root = new RootCommand("aligncluster — iterative preference optimization of language models on an actor cluster");
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();
