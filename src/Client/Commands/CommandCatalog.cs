using System.CommandLine;

namespace AlignCluster.Client.Commands;

/// <summary>Every subcommand of the CLI. Each lives in its own file and exposes <c>Create()</c>.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All() =>
        [
            VersionCommand.Create(),
            LossesCommand.Create(),
            DevicesCommand.Create(),
            DemoCommand.Create(),
            TrainCommand.Create(),
            StatusCommand.Create(),
            PlotCommand.Create(),
            EvalCommand.Create(),
            ExportCommand.Create(),
            TokenizeCommand.Create(),
            LogprobsCommand.Create(),
        ];
}
