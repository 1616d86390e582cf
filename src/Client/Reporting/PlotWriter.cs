using ScottPlot;

namespace AlignCluster.Client.Reporting;

/// <summary>One x of a series: the mean over seeds, its spread (sample standard deviation), how many seeds.</summary>
public sealed record BandPoint(double X, double Mean, double Spread, int Seeds);

/// <summary>One named line of a plot (a method or a run), with a band of ± spread where several seeds ran.</summary>
public sealed record PlotSeries(string Name, IReadOnlyList<BandPoint> Points)
{
    public int Seeds => Points.Count == 0 ? 0 : Points.Max(p => p.Seeds);
}

/// <summary>A horizontal reference line, e.g. the SFT policy (round 0) that preference training starts from.</summary>
public sealed record ReferenceLine(string Label, double Y);

/// <summary>A line plot over rounds: axis labels carry their units; <see cref="Reference"/> is drawn dashed.</summary>
public sealed record LinePlot(
    string Title,
    string XLabel,
    string YLabel,
    IReadOnlyList<PlotSeries> Series,
    ReferenceLine? Reference = null
);

/// <summary>Which files <see cref="PlotWriter.Write"/> produces.</summary>
[Flags]
public enum PlotFormats
{
    Png = 1,
    Svg = 2,
    Both = Png | Svg,
}

/// <summary>
/// Renders <see cref="LinePlot"/>s with ScottPlot (SkiaSharp underneath) to PNG and SVG. Seeds become a translucent
/// band of mean ± spread behind each series' mean line; the legend sits right of the data so it never hides a curve.
/// </summary>
public static class PlotWriter
{
    public const int Width = 960,
        Height = 540;

    /// <summary>
    /// The font every label uses. Fixed rather than "whatever the system's default is" so plots look the same on every
    /// machine; scripts/setup.sh installs it (Debian: fonts-dejavu-core).
    /// </summary>
    public const string FontName = "DejaVu Sans";

    // Category10, the palette matplotlib/TensorBoard users know; a series keeps its color in every plot of a set.
    private static readonly ScottPlot.Palettes.Category10 Palette = new();

    /// <summary>
    /// Writes <c>{pathWithoutExtension}.png</c> and/or <c>.svg</c> (each to a temporary name, then renamed, so a reader
    /// never sees half a file); returns the paths written.
    /// </summary>
    public static IReadOnlyList<string> Write(
        string pathWithoutExtension,
        LinePlot plot,
        PlotFormats formats = PlotFormats.Both
    )
    {
        RequireFont();
        string directory = Path.GetDirectoryName(Path.GetFullPath(pathWithoutExtension))!;
        Directory.CreateDirectory(directory);
        var scott = Build(plot);
        var written = new List<string>();
        if (formats.HasFlag(PlotFormats.Png))
        {
            string png = pathWithoutExtension + ".png";
            WriteAtomically(png, temp => scott.SavePng(temp, Width, Height));
            written.Add(png);
        }
        if (formats.HasFlag(PlotFormats.Svg))
        {
            string svg = pathWithoutExtension + ".svg";
            WriteAtomically(svg, temp => File.WriteAllText(temp, RenderSvg(plot)));
            written.Add(svg);
        }
        return written;
    }

    /// <summary>The plot as an SVG document (what <see cref="Write"/> puts in the .svg file).</summary>
    public static string RenderSvg(LinePlot plot)
    {
        RequireFont();
        return Build(plot).GetSvgXml(Width, Height);
    }

    /// <summary>The color of the <paramref name="index"/>-th series (its line, markers and band).</summary>
    public static Color SeriesColor(int index) => Palette.GetColor(index);

    private static Plot Build(LinePlot plot)
    {
        var scott = new Plot();
        scott.Font.Set(FontName);
        // Rounds are whole numbers: no 0.2, 0.4, … ticks between them.
        scott.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            MinorTickGenerator = new ScottPlot.TickGenerators.EvenlySpacedMinorTickGenerator(1),
        };
        bool anyBand = false;
        for (int i = 0; i < plot.Series.Count; i++)
        {
            var series = plot.Series[i];
            var points = series
                .Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Mean))
                .OrderBy(p => p.X)
                .ToArray();
            if (points.Length == 0)
                continue;
            var color = SeriesColor(i);
            double[] xs = points.Select(p => p.X).ToArray();
            if (points.Any(p => p.Seeds > 1))
            {
                // Behind the line, so it is added first. A single-seed x has spread 0: the band pinches there.
                double[] spread = points.Select(p => double.IsFinite(p.Spread) ? p.Spread : 0).ToArray();
                var band = scott.Add.FillY(
                    xs,
                    points.Select((p, k) => p.Mean - spread[k]).ToArray(),
                    points.Select((p, k) => p.Mean + spread[k]).ToArray()
                );
                band.FillColor = color.WithAlpha(0.2);
                band.LineWidth = 0;
                anyBand = true;
            }
            var line = scott.Add.Scatter(xs, points.Select(p => p.Mean).ToArray(), color);
            line.LineWidth = 2;
            line.MarkerSize = 6;
            int seeds = series.Seeds;
            line.LegendText = seeds > 1 ? $"{series.Name} ({seeds} seeds)" : series.Name;
        }
        if (plot.Reference is { } reference && double.IsFinite(reference.Y))
        {
            var line = scott.Add.HorizontalLine(
                reference.Y,
                width: 1.5f,
                color: Colors.DimGray,
                pattern: LinePattern.Dashed
            );
            line.LegendText = reference.Label;
        }
        scott.Title(anyBand ? $"{plot.Title}\nline: mean over seeds, band: ± 1 sample std" : plot.Title, size: 16);
        scott.XLabel(plot.XLabel, size: 14);
        scott.YLabel(plot.YLabel, size: 14);
        scott.Legend.FontSize = 13;
        scott.ShowLegend(Edge.Right);
        return scott;
    }

    /// <summary>
    /// Without the font Skia finds no typeface and ScottPlot draws every label as nothing, silently: fail loudly.
    /// </summary>
    private static void RequireFont()
    {
        string found = Fonts.GetTypeface(FontName, bold: false, italic: false).FamilyName;
        if (!string.Equals(found, FontName, StringComparison.Ordinal))
            throw new Cluster.ClientException(
                $"plots need the font '{FontName}' "
                    + "(Debian: apt-get install fonts-dejavu-core; scripts/setup.sh installs it)",
                exitCode: 3
            );
    }

    private static void WriteAtomically(string path, Action<string> write)
    {
        // The temporary name keeps the extension: ScottPlot picks nothing from it, but a half-written file that
        // survives a crash still reads as what it is.
        string temp = Path.Combine(
            Path.GetDirectoryName(Path.GetFullPath(path))!,
            $".{Path.GetFileNameWithoutExtension(path)}.{Guid.NewGuid():N}{Path.GetExtension(path)}"
        );
        try
        {
            write(temp);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }
}
