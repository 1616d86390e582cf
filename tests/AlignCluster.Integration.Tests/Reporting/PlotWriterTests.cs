using System.Xml.Linq;
using AlignCluster.Client.Reporting;

namespace AlignCluster.Integration.Tests.Reporting;

public class PlotWriterTests
{
    [Fact]
    public void NiceTicksUseOneTwoFiveSteps()
    {
        // By hand: range 0.74 / 5 targets = 0.148 → step 0.2; floor(0.13/0.2)=0, ceil(0.87/0.2)=5 → 0..1.0.
        Assert.Equal(new[] { 0.0, 0.2, 0.4, 0.6, 0.8, 1.0 }, PlotWriter.NiceTicks(0.13, 0.87));
        // By hand: range 300 / 5 = 60 → step 100; -100..200.
        Assert.Equal(new[] { -100.0, 0.0, 100.0, 200.0 }, PlotWriter.NiceTicks(-100, 200));
        // A flat series still gets a non-empty axis around its value.
        var flat = PlotWriter.NiceTicks(3, 3);
        Assert.True(flat[0] < 3 && flat[^1] > 3);
    }

    [Fact]
    public void SvgIsWellFormedWithOnePolylinePerSeries()
    {
        var series = new[]
        {
            new Series("dpo <random>", [(0, 1.0), (1, 0.5), (2, 0.25)]),
            new Series("mc-po & max", [(0, 0.9), (1, double.NaN), (2, 0.1)]),
        };
        var doc = XDocument.Parse(PlotWriter.RenderSvg("loss", "round", "loss", series));
        XNamespace ns = "http://www.w3.org/2000/svg";
        var polylines = doc.Descendants(ns + "polyline").ToList();
        Assert.Equal(2, polylines.Count);
        Assert.Equal(3, polylines[0].Attribute("points")!.Value.Split(' ').Length);
        Assert.Equal(2, polylines[1].Attribute("points")!.Value.Split(' ').Length); // the NaN point is dropped
        Assert.Contains(doc.Descendants(ns + "text"), t => t.Value == "mc-po & max"); // escaped, then parsed back
    }

    [Fact]
    public void WritesSvgAndPngFiles()
    {
        string dir = Path.Combine(Path.GetTempPath(), "plot-" + Guid.NewGuid().ToString("N"));
        try
        {
            string? png = PlotWriter.WriteLinePlot(Path.Combine(dir, "margins"), "margins", "step", "margin",
                [new Series("a", [(0, 0), (10, 2)])]);
            Assert.True(File.Exists(Path.Combine(dir, "margins.svg")));
            Assert.NotNull(png); // scripts/setup.sh installs librsvg2-bin, so rsvg-convert must be present
            byte[] head = File.ReadAllBytes(png!)[..8];
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, head); // PNG signature
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
