using Spectre.Console;

namespace AlignCluster.Client.Cluster;

/// <summary>
/// How the command line writes: escape codes (colour, bold, progress bars) only to a terminal and never with
/// NO_COLOR set; piped output is plain text that is not wrapped, so a table row stays on one line (Spectre.Console
/// otherwise assumes 80 columns when it cannot ask a terminal, and breaks long rows mid-number).
/// </summary>
public static class ConsoleOutput
{
    /// <summary>Width of piped output: wide enough for any row we print, so nothing wraps.</summary>
    public const int PipedWidth = 4096;

    public static void Configure()
    {
        bool piped = Console.IsOutputRedirected;
        bool noColor = Environment.GetEnvironmentVariable("NO_COLOR") is { Length: > 0 };
        if (!piped && !noColor)
            return;
        // .NET switches a terminal's keypad mode (ESC[?1h ESC=) when it first sets the terminal up (on Ctrl+C
        // handling), from TERM's terminfo entry: a terminal without capabilities writes no escape code at all.
        if (noColor && !piped)
            Environment.SetEnvironmentVariable("TERM", "dumb");
        AnsiConsole.Console = AnsiConsole.Create(
            new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = piped ? InteractionSupport.No : InteractionSupport.Detect,
            }
        );
        if (piped)
            AnsiConsole.Profile.Width = PipedWidth;
    }
}
