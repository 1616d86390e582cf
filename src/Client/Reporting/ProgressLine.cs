using System.Diagnostics;
using AlignCluster.Contracts;

namespace AlignCluster.Client.Reporting;

/// <summary>
/// Progress of long work on stderr. On a terminal: one line rewritten in place (carriage return; the line is cleared
/// with ESC[2K unless NO_COLOR is set or TERM is dumb, then overwritten with spaces), with a transient detail (the
/// phase, the elapsed time) after the text. Otherwise (a pipe, a file, CI): a plain line each time the text changes,
/// never an escape code or a carriage return, and no transient detail.
/// </summary>
public sealed class ProgressLine : IDisposable
{
    private readonly TextWriter _out;
    private readonly Lock _gate = new();
    private string? _text;
    private int _shown; // characters on the live line now
    private bool _closed;

    public ProgressLine(TextWriter output, bool live, bool escapes)
    {
        (_out, Live, Escapes) = (output, live, live && escapes);
    }

    /// <summary>Live when stderr is a terminal; escapes unless NO_COLOR is set or TERM=dumb.</summary>
    public static ProgressLine ForStandardError()
    {
        bool live = !Console.IsErrorRedirected;
        bool escapes =
            string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"))
            && Environment.GetEnvironmentVariable("TERM") != "dumb";
        return new ProgressLine(Console.Error, live, escapes);
    }

    public bool Live { get; }
    public bool Escapes { get; }

    /// <summary>Shows <paramref name="text"/>; <paramref name="detail"/> only on a live line.</summary>
    public void Update(string text, string? detail = null)
    {
        lock (_gate)
        {
            if (_closed)
                return;
            if (!Live)
            {
                if (text != _text)
                    _out.WriteLine(text);
                _text = text;
                return;
            }
            _text = text;
            string line = detail is { Length: > 0 } ? $"{text} · {detail}" : text;
            int width = Width();
            if (line.Length > width)
                line = line[..Math.Max(0, width - 1)] + "…";
            if (Escapes)
                _out.Write($"\r\u001b[2K{line}");
            else
                _out.Write("\r" + line.PadRight(_shown));
            _shown = line.Length;
            _out.Flush();
        }
    }

    /// <summary>A line that stays (a warning): printed above the live line, which the next update redraws.</summary>
    public void Note(string line)
    {
        lock (_gate)
        {
            if (Live && _shown > 0)
                _out.Write(Escapes ? "\r\u001b[2K" : "\r" + new string(' ', _shown) + "\r");
            _out.WriteLine(line);
            (_shown, _text) = (0, Live ? _text : null);
            _out.Flush();
        }
    }

    /// <summary>Ends the display: the live line is finished with a newline; <paramref name="final"/>, if any, is the
    /// last line.</summary>
    public void Done(string? final = null)
    {
        lock (_gate)
        {
            if (_closed)
                return;
            if (Live && _shown > 0)
            {
                if (final is not null)
                    _out.Write(Escapes ? "\r\u001b[2K" : "\r" + new string(' ', _shown) + "\r");
                else
                    _out.WriteLine();
            }
            if (final is not null)
                _out.WriteLine(final);
            _out.Flush();
            _closed = true;
        }
    }

    public void Dispose() => Done();

    /// <summary>
    /// Runs opaque work (a grain call, a model load) under <paramref name="text"/>: a live line ticks the elapsed time;
    /// plain output gets one line when it is done ("… done in N s"), so work that fails on bad input still prints
    /// nothing but its one error line.
    /// </summary>
    public async Task<T> TimeAsync<T>(string text, Func<Task<T>> work)
    {
        var clock = Stopwatch.StartNew();
        if (Live)
            Update(text, "0 s");
        using var ticker = Live
            ? new Timer(_ => Update(text, ProgressText.Duration(clock.Elapsed)), null, 1000, 1000)
            : null;
        T result;
        try
        {
            result = await work();
        }
        catch
        {
            ticker?.Dispose();
            Done(); // the error goes on a line of its own
            throw;
        }
        ticker?.Dispose();
        Done($"{text}: done in {clock.Elapsed.TotalSeconds:F1} s");
        return result;
    }

    private static int Width()
    {
        try
        {
            return Console.WindowWidth > 10 ? Console.WindowWidth - 1 : 120;
        }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException)
        {
            return 120;
        }
    }
}

/// <summary>The texts of the progress lines, as pure functions of what is known (tested in their plain form).</summary>
public static class ProgressText
{
    /// <summary>
    /// `train`: rounds done of all, optimizer steps done of the expected total (steps per round so far × rounds), and
    /// the
    /// ETA from the mean wall time of the completed rounds. The phase is the live detail.
    /// </summary>
    public static (string Text, string Detail) Train(RunStatus s)
    {
        string text = $"{s.RunId}: round {s.Round}/{s.TotalRounds}";
        if (s.History.Length > 0)
        {
            int steps = s.History.Sum(r => r.Steps.Length);
            long expected = (long)Math.Round((double)steps / s.History.Length * s.TotalRounds);
            double perRound = s.History.Average(r => r.Seconds);
            int left = Math.Max(0, s.TotalRounds - s.Round);
            text +=
                $", step {steps}/{expected}, {perRound:F1} s/round, ETA "
                + $"{Duration(TimeSpan.FromSeconds(perRound * left))}";
        }
        return (text, s.Phase);
    }

    /// <summary>Bytes done of a total, in MiB, with the percentage.</summary>
    public static string Bytes(long done, long total) =>
        $"{done / 1048576.0:F1}/{total / 1048576.0:F1} MiB ({(total == 0 ? 100 : 100.0 * done / total):F0}%)";

    /// <summary>12 s, 3m05s, 2h03m.</summary>
    public static string Duration(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m"
        : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds:D2}s"
        : $"{(int)t.TotalSeconds} s";
}
