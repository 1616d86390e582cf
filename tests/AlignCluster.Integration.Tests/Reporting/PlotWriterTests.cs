using AlignCluster.Client.Reporting;
using SkiaSharp;

namespace AlignCluster.Integration.Tests.Reporting;

/// <summary>
/// The ScottPlot writer: the files are real PNG/SVG, the SVG holds the labels and one line per series, and the values
/// read back off the picture (through its own tick labels) are the means and spreads computed here by hand.
/// </summary>
public class PlotWriterTests
{
    private static string Hex(int series) => PlotWriter.SeriesColor(series).ToHex()[..7];

    [Fact]
    public void MeanAndSpreadAreTheSampleStatistics()
    {
        // By hand: mean(1, 2, 4) = 7/3; squared deviations 16/9 + 1/9 + 25/9 = 42/9; / (n − 1) = 7/3; sqrt = 1.5275252.
        var (mean, spread) = SeedStatistics.MeanAndSpread([1, 2, 4]);
        Assert.Equal(7.0 / 3, mean, 12);
        Assert.Equal(1.5275252316519468, spread, 12);
        Assert.Equal((5.0, 0.0), SeedStatistics.MeanAndSpread([5])); // one seed: no spread, not NaN
    }

    [Fact]
    public void BandsAverageOnlyTheSeedsThatReachedEachRound()
    {
        // Seed 3 is still running (no round 3 yet) and seed 2 has a NaN at round 1 (not measured).
        var bands = SeedStatistics.Bands([
            [(1, 1.0), (2, 2.0), (3, 3.0)],
            [(1, double.NaN), (2, 4.0), (3, 5.0)],
            [(1, 3.0), (2, 6.0)],
        ]);
        Assert.Equal([1.0, 2.0, 3.0], bands.Select(b => b.X));
        Assert.Equal([2, 3, 2], bands.Select(b => b.Seeds));
        Assert.Equal([2.0, 4.0, 4.0], bands.Select(b => b.Mean));
        // By hand: round 1 {1, 3} → sqrt(2); round 2 {2, 4, 6} → sqrt((4 + 0 + 4) / 2) = 2; round 3 {3, 5} → sqrt(2).
        Assert.Equal([Math.Sqrt(2), 2.0, Math.Sqrt(2)], bands.Select(b => b.Spread));
    }

    /// <summary>Two methods over three seeds each, means and spreads worked out by hand below.</summary>
    private static LinePlot TwoMethods()
    {
        // method "a": seeds (1, 2, 4), (2, 3, 4), (3, 3, 3) at rounds 1, 2, 3 → means 7/3, 3, 3; spreads 1.5275, 1, 0.
        // method "b": a single seed, so no band.
        var a = SeedStatistics.Bands([
            [(1, 1.0), (2, 2.0), (3, 3.0)],
            [(1, 2.0), (2, 3.0), (3, 3.0)],
            [(1, 4.0), (2, 4.0), (3, 3.0)],
        ]);
        var b = SeedStatistics.Bands([
            [(1, 0.5), (2, 1.0), (3, 1.5)],
        ]);
        return new LinePlot(
            "Training loss",
            "round",
            "loss (nats)",
            [new PlotSeries("a", a), new PlotSeries("b", b)],
            new ReferenceLine("SFT (round 0): 0.25", 0.25)
        );
    }

    [Fact]
    public void SvgHasTheLabelsOneLinePerSeriesAndTheLegend()
    {
        var svg = new SvgPlot(PlotWriter.RenderSvg(TwoMethods()));
        Assert.Contains("round", svg.Texts);
        Assert.Contains("loss (nats)", svg.Texts);
        Assert.Contains(svg.Texts, t => t.StartsWith("Training loss", StringComparison.Ordinal));
        Assert.Contains("a (3 seeds)", svg.Texts); // legend: seeds counted
        Assert.Contains("b", svg.Texts); // one seed: just the name
        Assert.Contains("SFT (round 0): 0.25", svg.Texts);
        Assert.Single(svg.Lines(Hex(0))); // one data line per series, three vertices each
        Assert.Single(svg.Lines(Hex(1)));
        Assert.Equal(3, svg.Lines(Hex(0))[0].Count);
        Assert.Single(svg.Filled(Hex(0))); // the 3-seed series has a band …
        Assert.Empty(svg.Filled(Hex(1))); // … the 1-seed series none
    }

    [Fact]
    public void LineAndBandReadBackAsMeanAndMeanPlusMinusSpread()
    {
        var svg = new SvgPlot(PlotWriter.RenderSvg(TwoMethods()));
        double tolerance = 2 * svg.ValuePerPixel;
        var line = svg.Lines(Hex(0))[0];
        double[] means = [7.0 / 3, 3, 3],
            spreads = [1.5275252316519468, 1, 0]; // by hand, see TwoMethods
        for (int i = 0; i < 3; i++)
            Assert.Equal(means[i], svg.ValueAt(line[i].Y), tolerance);
        Assert.Equal([0.5, 1.0, 1.5], svg.Lines(Hex(1))[0].Select(p => Math.Round(svg.ValueAt(p.Y), 2)));

        var band = svg.Filled(Hex(0))[0];
        for (int i = 0; i < 3; i++)
        {
            // The band's two vertices above and below round i's mean point: mean + spread and mean − spread.
            var column = band.Where(p => Math.Abs(p.X - line[i].X) < 0.01).Select(p => svg.ValueAt(p.Y)).ToList();
            Assert.Equal(means[i] + spreads[i], column.Max(), tolerance);
            Assert.Equal(means[i] - spreads[i], column.Min(), tolerance);
        }
        // The band encloses the mean line where the spread is positive (midpoint of the first segment, second vertex).
        Assert.True(SvgPlot.Inside(band, ((line[0].X + line[1].X) / 2, (line[0].Y + line[1].Y) / 2)));
        Assert.True(SvgPlot.Inside(band, line[1]));
        // …and not a point well outside it (round 2, 2·spread above the mean).
        Assert.False(SvgPlot.Inside(band, (line[1].X, line[1].Y - 2 * (line[1].Y - band.Min(p => p.Y)))));
    }

    [Fact]
    public void ReferenceLineIsDashedAndHorizontalAtItsValue()
    {
        var svg = new SvgPlot(PlotWriter.RenderSvg(TwoMethods()));
        // Dim gray (#696969): the reference line's color; ScottPlot draws a dashed line as one rectangle per dash.
        var dashes = Assert.Single(svg.Filled("#696969"));
        Assert.True(dashes.Count >= 4 * 10, $"{dashes.Count / 4} dash(es): not a dashed line across the plot");
        double top = dashes.Min(p => p.Y),
            bottom = dashes.Max(p => p.Y);
        Assert.True(bottom - top < 3, "the reference line is not horizontal");
        Assert.Equal(0.25, svg.ValueAt((top + bottom) / 2), 2 * svg.ValuePerPixel);
    }

    [Fact]
    public void WritesPngAndSvgWithVisibleTextAndNoTemporaryFiles()
    {
        string dir = Path.Combine(Path.GetTempPath(), "plot-" + Guid.NewGuid().ToString("N"));
        try
        {
            var files = PlotWriter.Write(Path.Combine(dir, "loss"), TwoMethods());
            Assert.Equal([Path.Combine(dir, "loss.png"), Path.Combine(dir, "loss.svg")], files);
            Assert.Equal(["loss.png", "loss.svg"], Directory.GetFiles(dir).Select(Path.GetFileName).Order());
            byte[] png = File.ReadAllBytes(files[0]);
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]); // PNG signature
            using var bitmap = SKBitmap.Decode(png);
            Assert.Equal((PlotWriter.Width, PlotWriter.Height), (bitmap.Width, bitmap.Height));
            // The title row holds only text: without a usable font ScottPlot draws nothing there, silently.
            int ink = 0;
            for (int y = 0; y < 30; y++)
            for (int x = 0; x < bitmap.Width; x++)
                if (bitmap.GetPixel(x, y) is var c && c.Red < 128 && c.Green < 128 && c.Blue < 128)
                    ink++;
            Assert.True(ink > 100, $"the title row has {ink} dark pixels: the text did not render");
            _ = new SvgPlot(File.ReadAllText(files[1])); // well-formed, with a y axis

            Assert.Equal(
                [Path.Combine(dir, "only.svg")],
                PlotWriter.Write(Path.Combine(dir, "only"), TwoMethods(), PlotFormats.Svg)
            );
            Assert.False(File.Exists(Path.Combine(dir, "only.png")));
        }
        finally
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
    }
}
