using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.LiveView;
using AlignCluster.Integration.Tests.Cluster;
using SkiaSharp;

namespace AlignCluster.Integration.Tests.LiveView;

/// <summary>
/// The live view in a real browser: an embedded cluster trains a toy run with the view on, headless Chromium loads the
/// run page and the Orleans Dashboard, and the rendered DOM and a screenshot are checked against the cluster's own
/// answers (the coordinator's status, Orleans' membership), not against what the page's endpoint says.
/// </summary>
public class LiveViewBrowserTests
{
    // The run page's series colours (run.html, COLORS): the first and second series of a chart.
    private static readonly SKColor Blue = new(0x1f, 0x77, 0xb4),
        Red = new(0xd6, 0x27, 0x28);

    [ChromiumFact]
    public async Task RunPageAndDashboardRenderTheRunningClusterInABrowser()
    {
        await using var cluster = await EmbeddedCluster.StartAsync(
            TestConfigs.TempDirectory(),
            cpuDevices: 2,
            liveView: new LiveViewOptions(Port: 0)
        );
        Uri baseUrl = cluster.LiveViewUrl ?? throw new InvalidOperationException("the live view did not start");
        Assert.Equal(IPAddress.Loopback.ToString(), baseUrl.Host); // loopback by default

        // A run long enough to be caught in the middle: paused once three rounds are done, so the trainer still holds
        // its device and the coordinator, shards and trainer are all active while the browser looks.
        var coordinator = cluster.Client.GetGrain<ICoordinatorGrain>("live");
        await coordinator.StartAsync(TestConfigs.Tiny("live", rounds: 50));
        var status = await coordinator.GetStatusAsync();
        for (int polls = 0; status.Round < 3 && !RunWatcher.IsFinished(status.State) && polls < 1200; polls++)
        {
            await Task.Delay(250);
            status = await coordinator.GetStatusAsync();
        }
        Assert.True(
            status.Round >= 3 && status.State == RunState.Running,
            $"{status.State} at round {status.Round}: {status.Error}"
        );
        await coordinator.PauseAsync(); // the round in progress still completes
        var hosts = await cluster.Client.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
        string silo = Assert.Single(hosts).SiloName;

        // The DOM after the page fetched run/data and drew it, checked against the coordinator's status read after it.
        string dom = Chromium.DumpDom(new Uri(baseUrl, "run").ToString());
        status = await coordinator.GetStatusAsync();
        string text = WebUtility.HtmlDecode(Regex.Replace(dom, "<[^>]+>", "|"));
        Assert.Contains("run live", text);
        var header = Regex.Match(text, @"Paused · round (\d+) of 50");
        Assert.True(header.Success, "no 'Paused · round N of 50' line on the page");
        int shown = int.Parse(header.Groups[1].Value);
        Assert.InRange(shown, 3, status.Round);
        // The table has a row per completed round, with the coordinator's loss for it (4 decimals, as shown).
        var rows = Regex
            .Matches(text, @"\|round (\d+)\|\|(-?[0-9.]+)\|")
            .Select(m => (Round: int.Parse(m.Groups[1].Value), Loss: m.Groups[2].Value))
            .ToArray();
        Assert.Equal(Enumerable.Range(1, shown), rows.Select(r => r.Round));
        Assert.All(rows, r => Assert.Equal(status.History[r.Round - 1].Mean.Loss.ToString("F4"), r.Loss));
        // Where the grains live and the device table: the only silo hosts the coordinator, both shards and the trainer,
        // which holds one of the two devices.
        foreach (
            var grain in new[]
            {
                "Coordinator||live",
                "Shard||live/shard-0",
                "Shard||live/shard-1",
                "Trainer||live/trainer-0",
            }
        )
            Assert.Contains($"|{grain}||{silo}|", text);
        Assert.Matches($@"\|{Regex.Escape(silo)}\|\|cpu:[01]\|\|live/trainer-0\|", text);
        Assert.Matches($@"\|{Regex.Escape(silo)}\|\|cpu:[01]\|\|free\|", text);

        // Where the charts are (the page writes their boxes into #layout), then their pixels in a screenshot.
        string layoutJson = WebUtility.HtmlDecode(
            Regex.Match(dom, "<pre id=\"layout\"[^>]*>([^<]*)</pre>").Groups[1].Value
        );
        var charts = JsonSerializer
            .Deserialize<ChartBox[]>(layoutJson, new JsonSerializerOptions(JsonSerializerDefaults.Web))!
            .ToDictionary(c => c.Chart);
        Assert.Equal(["loss", "oracle", "rewards", "selection"], charts.Keys.Order());
        Assert.All(charts.Values, c => Assert.Equal(shown, c.Rounds));

        byte[] png = Chromium.Screenshot(new Uri(baseUrl, "run").ToString());
        Keep("run.png", png);
        using var shot = SKBitmap.Decode(png);
        Assert.Equal((Chromium.Width, Chromium.Height), (shot.Width, shot.Height));
        // A curve over ≥ 3 rounds is a 3-px polyline across the plot (≈ 350 px wide): well over 300 pixels of its
        // colour. A chart that failed to draw (no data, a script error) has none; the page's white background has none.
        int lossBlue = Count(shot, charts["loss"], Blue);
        Assert.True(lossBlue > 300, $"loss chart: {lossBlue} pixels of the loss curve's colour");
        int rejectedRed = Count(shot, charts["rewards"], Red);
        Assert.True(rejectedRed > 300, $"rewards chart: {rejectedRed} pixels of rewards/rejected's colour");
        int changeBlue = Count(shot, charts["selection"], Blue);
        Assert.True(changeBlue > 300, $"selection chart: {changeBlue} pixels of the change rate's colour");
        // Outside every chart (the strip left of them, below the title) there is no curve colour: the counts above
        // come from the charts, not from a page painted over.
        Assert.Equal(0, Count(shot, new ChartBox("", "margin", 0, 130, 12, 900, 0), Blue));

        // The Orleans Dashboard, rendered by its own scripts from the same silo.
        Keep("dashboard.png", Chromium.Screenshot(new Uri(baseUrl, "dashboard/").ToString()));
        string dashboard = Chromium.DumpDom(new Uri(baseUrl, "dashboard/").ToString());
        var silos = Regex.Match(dashboard, "Active Silos</span><span class=\"info-box-number\">(\\d+)<");
        Assert.True(silos.Success, "the dashboard did not render its overview (no 'Active Silos' box)");
        Assert.Equal("1", silos.Groups[1].Value);
        var activations = Regex.Match(dashboard, "Total Activations</span><span class=\"info-box-number\">(\\d+)<");
        Assert.True(activations.Success, "the dashboard did not render its overview (no 'Total Activations' box)");
        Assert.True(
            int.Parse(activations.Groups[1].Value) >= 4,
            $"{activations.Groups[1].Value} activations: " + "the coordinator, two shards and the trainer are active"
        );

        await coordinator.CancelAsync();
    }

    /// <summary>Leaves the screenshots for a person to look at: TMP/aligncluster-liveview/.</summary>
    private static void Keep(string name, byte[] png)
    {
        string dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "aligncluster-liveview")).FullName;
        File.WriteAllBytes(Path.Combine(dir, name), png);
    }

    /// <summary>Pixels within <paramref name="box"/> that are <paramref name="colour"/> (± 12 per channel: antialiasing
    /// keeps the line's core exact).</summary>
    private static int Count(SKBitmap shot, ChartBox box, SKColor colour)
    {
        int n = 0;
        for (int y = (int)box.Y; y < Math.Min(shot.Height, (int)(box.Y + box.Height)); y++)
        for (int x = (int)box.X; x < Math.Min(shot.Width, (int)(box.X + box.Width)); x++)
        {
            var p = shot.GetPixel(x, y);
            if (
                Math.Abs(p.Red - colour.Red) <= 12
                && Math.Abs(p.Green - colour.Green) <= 12
                && Math.Abs(p.Blue - colour.Blue) <= 12
            )
                n++;
        }
        return n;
    }

    private sealed record ChartBox(
        string Run,
        string Chart,
        double X,
        double Y,
        double Width,
        double Height,
        int Rounds
    );
}
