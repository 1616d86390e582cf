using System.Diagnostics;
using System.Globalization;
using System.Security;
using System.Text;

namespace AlignCluster.Client.Reporting;

/// <summary>One named line of a plot: (x, y) points in x order.</summary>
public sealed record Series(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <summary>
/// Writes line plots as SVG and converts them to PNG with <c>rsvg-convert</c> (librsvg2-bin).
/// No plotting library restores from our NuGet source, so this is a small hand-written SVG writer.
/// </summary>
public static class PlotWriter
{
    private const int Width = 720, Height = 440;
    private const int Left = 70, Right = 170, Top = 40, Bottom = 55; // margins; the legend sits in the right margin

    private static readonly string[] Palette =
        ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];

    /// <summary>
    /// Writes <c>{pathWithoutExtension}.svg</c> and, when rsvg-convert is available, <c>.png</c>.
    /// Returns the PNG path, or null when only the SVG could be written (the reason goes to <paramref name="log"/>).
    /// </summary>
    public static string? WriteLinePlot(string pathWithoutExtension, string title, string xLabel, string yLabel,
        IReadOnlyList<Series> series, TextWriter? log = null)
    {
        string svgPath = pathWithoutExtension + ".svg";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(svgPath))!);
        WriteAtomically(svgPath, RenderSvg(title, xLabel, yLabel, series));

        string pngPath = pathWithoutExtension + ".png";
        string? error = ConvertToPng(svgPath, pngPath);
        if (error is null) return pngPath;
        log?.WriteLine($"warning: {svgPath} was written but not converted to PNG: {error}");
        return null;
    }

    /// <summary>Renders the plot as an SVG document (axes with nice ticks, one polyline per series, a legend).</summary>
    public static string RenderSvg(string title, string xLabel, string yLabel, IReadOnlyList<Series> series)
    {
        var finite = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        var (xMin, xMax) = finite.Count > 0 ? (finite.Min(p => p.X), finite.Max(p => p.X)) : (0.0, 1.0);
        var (yMin, yMax) = finite.Count > 0 ? (finite.Min(p => p.Y), finite.Max(p => p.Y)) : (0.0, 1.0);
        var xTicks = NiceTicks(xMin, xMax);
        var yTicks = NiceTicks(yMin, yMax);
        (xMin, xMax) = (xTicks[0], xTicks[^1]);
        (yMin, yMax) = (yTicks[0], yTicks[^1]);

        double plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        double Px(double x) => Left + (x - xMin) / (xMax - xMin) * plotW;
        double Py(double y) => Top + plotH - (y - yMin) / (yMax - yMin) * plotH;

        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"12\">\n");
        svg.Append($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        svg.Append($"<text x=\"{Width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Escape(title)}</text>\n");

        foreach (double t in yTicks)
        {
            string y = F(Py(t));
            svg.Append($"<line x1=\"{Left}\" y1=\"{y}\" x2=\"{F(Left + plotW)}\" y2=\"{y}\" stroke=\"#e5e5e5\"/>\n");
            svg.Append($"<text x=\"{Left - 6}\" y=\"{y}\" text-anchor=\"end\" dominant-baseline=\"middle\">{Tick(t)}</text>\n");
        }
        foreach (double t in xTicks)
        {
            string x = F(Px(t));
            svg.Append($"<line x1=\"{x}\" y1=\"{Top}\" x2=\"{x}\" y2=\"{F(Top + plotH)}\" stroke=\"#f0f0f0\"/>\n");
            svg.Append($"<text x=\"{x}\" y=\"{F(Top + plotH + 16)}\" text-anchor=\"middle\">{Tick(t)}</text>\n");
        }
        svg.Append($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{F(plotW)}\" height=\"{F(plotH)}\" fill=\"none\" stroke=\"#333\"/>\n");
        svg.Append($"<text x=\"{F(Left + plotW / 2)}\" y=\"{Height - 12}\" text-anchor=\"middle\">{Escape(xLabel)}</text>\n");
        svg.Append($"<text transform=\"translate(16,{F(Top + plotH / 2)}) rotate(-90)\" text-anchor=\"middle\">{Escape(yLabel)}</text>\n");

        for (int i = 0; i < series.Count; i++)
        {
            string color = Palette[i % Palette.Length];
            var points = series[i].Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y))
                .Select(p => $"{F(Px(p.X))},{F(Py(p.Y))}").ToList();
            if (points.Count == 1)
            {
                var xy = points[0].Split(',');
                svg.Append($"<circle cx=\"{xy[0]}\" cy=\"{xy[1]}\" r=\"3\" fill=\"{color}\"/>\n");
            }
            else if (points.Count > 1)
                svg.Append($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(' ', points)}\"/>\n");

            double ly = Top + 10 + i * 20;
            svg.Append($"<line x1=\"{Width - Right + 12}\" y1=\"{F(ly)}\" x2=\"{Width - Right + 36}\" y2=\"{F(ly)}\" stroke=\"{color}\" stroke-width=\"3\"/>\n");
            svg.Append($"<text x=\"{Width - Right + 42}\" y=\"{F(ly)}\" dominant-baseline=\"middle\">{Escape(series[i].Name)}</text>\n");
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>Tick values covering [min, max] with a 1/2/5 × 10^k step, about five of them.</summary>
    public static double[] NiceTicks(double min, double max, int target = 5)
    {
        if (max <= min) { double pad = min == 0 ? 1 : Math.Abs(min) * 0.1; (min, max) = (min - pad, max + pad); }
        double rough = (max - min) / target;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double step = new[] { 1.0, 2.0, 5.0, 10.0 }.Select(m => m * magnitude).First(s => s >= rough);
        double start = Math.Floor(min / step) * step, end = Math.Ceiling(max / step) * step;
        int count = (int)Math.Round((end - start) / step) + 1;
        return Enumerable.Range(0, count).Select(i => Math.Round(start + i * step, 12)).ToArray();
    }

    private static string? ConvertToPng(string svgPath, string pngPath)
    {
        string tempPng = pngPath + ".tmp";
        try
        {
            var psi = new ProcessStartInfo("rsvg-convert", ["-f", "png", "-o", tempPng, svgPath])
            { RedirectStandardError = true, UseShellExecute = false };
            using var process = Process.Start(psi)!;
            string stderr = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(60_000)) { process.Kill(); return "rsvg-convert timed out"; }
            if (process.ExitCode != 0) return $"rsvg-convert exited {process.ExitCode}: {stderr.Trim()}";
            File.Move(tempPng, pngPath, overwrite: true);
            return null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "rsvg-convert was not found (install librsvg2-bin; scripts/setup.sh does)";
        }
        finally
        {
            if (File.Exists(tempPng)) File.Delete(tempPng);
        }
    }

    private static void WriteAtomically(string path, string text)
    {
        string temp = path + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
    private static string Tick(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
    private static string Escape(string s) => SecurityElement.Escape(s) ?? "";
}
