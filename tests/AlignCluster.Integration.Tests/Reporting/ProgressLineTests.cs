using AlignCluster.Client.Reporting;
using AlignCluster.Contracts;

namespace AlignCluster.Integration.Tests.Reporting;

/// <summary>The progress display's plain form (what CI logs and pipes get) and the texts it shows.</summary>
public class ProgressLineTests
{
    [Fact]
    public void Plain_output_is_one_line_per_change_without_escapes_or_details()
    {
        var output = new StringWriter();
        var progress = new ProgressLine(output, live: false, escapes: true);
        progress.Update("r: round 0/2", "prepare");
        progress.Update("r: round 0/2", "candidates"); // same text, new detail: nothing new to print
        progress.Update("r: round 1/2", "round 2: train");
        progress.Note("warning: something");
        progress.Done("finished");
        Assert.Equal(
            "r: round 0/2\nr: round 1/2\nwarning: something\nfinished\n",
            output.ToString().ReplaceLineEndings("\n")
        );
    }

    [Fact]
    public void A_live_line_without_escapes_redraws_with_carriage_returns_only()
    {
        var output = new StringWriter();
        var progress = new ProgressLine(output, live: true, escapes: false); // a terminal with NO_COLOR set
        progress.Update("long text here", "phase");
        progress.Update("short");
        progress.Done();
        string text = output.ToString();
        Assert.DoesNotContain('\u001b', text);
        // The second draw overwrites the first one's 22 characters ("long text here · phase") with spaces.
        Assert.Equal("\rlong text here · phase\r" + "short".PadRight(22) + Environment.NewLine, text);
    }

    [Fact]
    public void A_live_line_with_escapes_clears_the_line_before_each_draw()
    {
        var output = new StringWriter();
        var progress = new ProgressLine(output, live: true, escapes: true);
        progress.Update("a", "b");
        Assert.Equal("\r\u001b[2Ka · b", output.ToString());
    }

    [Fact]
    public async Task Timed_work_in_plain_form_prints_one_line_when_done_and_none_when_it_fails()
    {
        var output = new StringWriter();
        var progress = new ProgressLine(output, live: false, escapes: false);
        int result = await progress.TimeAsync("eval r: checkpoint of round 2", () => Task.FromResult(42));
        Assert.Equal(42, result);
        var line = Assert.Single(output.ToString().ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'));
        Assert.StartsWith("eval r: checkpoint of round 2: done in ", line);

        // Bad input fails inside the work: the command's one error line must be all that stderr gets.
        var failing = new StringWriter();
        progress = new ProgressLine(failing, live: false, escapes: false);
        await Assert.ThrowsAsync<InvalidDataException>(() =>
            progress.TimeAsync<int>("loading m", () => throw new InvalidDataException())
        );
        Assert.Equal("", failing.ToString());
    }

    [Fact]
    public void Train_text_counts_rounds_and_steps_and_estimates_the_time_left_from_completed_rounds()
    {
        static RoundReport Round(int r, int steps, double seconds) =>
            new(r, Metrics(0), [.. Enumerable.Range(0, steps).Select(Metrics)], 0, 0, null, null, seconds);
        // Two of five rounds done, 10 and 20 s, 6 and 4 steps: 5 steps per round → 25 expected; 15 s × 3 rounds left =
        // 45 s.
        var status = new RunStatus(
            "r",
            RunState.Running,
            2,
            5,
            "round 3: train",
            [Round(1, 6, 10), Round(2, 4, 20)],
            null,
            null,
            0,
            null
        );
        var (text, detail) = ProgressText.Train(status);
        Assert.Equal("r: round 2/5, step 10/25, 15.0 s/round, ETA 45 s", text);
        Assert.Equal("round 3: train", detail);
        // Before any round: no estimate.
        Assert.Equal("r: round 0/5", ProgressText.Train(status with { Round = 0, History = [] }).Text);
    }

    [Fact]
    public void Sizes_and_durations_read_as_people_write_them()
    {
        Assert.Equal("1.5/6.0 MiB (25%)", ProgressText.Bytes(3 << 19, 6 << 20));
        Assert.Equal("0.0/0.0 MiB (100%)", ProgressText.Bytes(0, 0));
        Assert.Equal("59 s", ProgressText.Duration(TimeSpan.FromSeconds(59.9)));
        Assert.Equal("3m05s", ProgressText.Duration(TimeSpan.FromSeconds(185)));
        Assert.Equal("2h03m", ProgressText.Duration(TimeSpan.FromMinutes(123)));
    }

    private static StepMetrics Metrics(int step) => new(step, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}
