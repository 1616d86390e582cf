using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace AlignCluster.Integration.Tests.Reporting;

/// <summary>
/// Reads a plot back from its SVG the way a person reads the picture: the y axis' tick labels give the pixel → value
/// map, so a line's or band's values can be checked without asking the plotting library how it scaled anything.
/// </summary>
internal sealed class SvgPlot
{
    private static readonly XNamespace Ns = "http://www.w3.org/2000/svg";
    private readonly (double Pixel, double Value)[] _yTicks;

    public XDocument Document { get; }

    /// <summary>Every text element's content, trimmed (titles, axis labels, tick labels, legend entries).</summary>
    public List<string> Texts { get; }

    /// <summary>
    /// The groups drawn inside the data area: ScottPlot clips each plottable to it in a group of its own (the first
    /// clip group is the data area's; the legend's has another rectangle).
    /// </summary>
    public List<XElement> DataArea { get; }

    public SvgPlot(string svg)
    {
        Document = XDocument.Parse(svg);
        Texts = Document.Descendants(Ns + "text").Select(t => t.Value.Trim()).ToList();
        var clipped = Document.Descendants(Ns + "g").Where(g => g.Attribute("clip-path") is not null).ToList();
        string dataRect = ClipRect(clipped[0]);
        DataArea = clipped.Where(g => ClipRect(g) == dataRect).ToList();
        // Numeric labels placed by translate(x y); the y axis' are the column furthest left, each centred on its tick.
        var numeric = Document
            .Descendants(Ns + "text")
            .Select(t =>
                (
                    Translate: Translate(t),
                    Ok: double.TryParse(
                        t.Value.Trim().Replace('−', '-'),
                        NumberStyles.Float,
                        CultureInfo.InvariantCulture,
                        out double v
                    ),
                    Value: v
                )
            )
            .Where(t => t.Ok && t.Translate is not null)
            .ToList();
        double left = numeric.Min(t => t.Translate!.Value.X);
        _yTicks = numeric
            .Where(t => Math.Abs(t.Translate!.Value.X - left) < 0.5)
            .Select(t => (t.Translate!.Value.Y, t.Value))
            .OrderBy(t => t.Y)
            .ToArray();
        Assert.True(_yTicks.Length >= 2, "the y axis has fewer than two tick labels");
    }

    /// <summary>The value at pixel row <paramref name="y"/>, linear between the outermost y tick labels.</summary>
    public double ValueAt(double y)
    {
        var (p0, v0) = _yTicks[0];
        var (p1, v1) = _yTicks[^1];
        return v0 + (y - p0) * (v1 - v0) / (p1 - p0);
    }

    /// <summary>Value per pixel: how far off a value read back from a pixel may be (SVG rounds to 0.001 px).</summary>
    public double ValuePerPixel =>
        Math.Abs((_yTicks[^1].Value - _yTicks[0].Value) / (_yTicks[^1].Pixel - _yTicks[0].Pixel));

    /// <summary>Paths in the data area stroked (a line) in <paramref name="hex"/> without a fill.</summary>
    public List<List<(double X, double Y)>> Lines(string hex) =>
        DataArea
            .SelectMany(g => g.Descendants(Ns + "path"))
            .Where(p => Is(p, "stroke", hex) && (string?)p.Attribute("fill") == "none")
            .Select(Vertices)
            .ToList();

    /// <summary>
    /// Filled paths in the data area in <paramref name="hex"/>: a seed band's polygon, or a dashed line (ScottPlot
    /// draws each dash as a small filled rectangle).
    /// </summary>
    public List<List<(double X, double Y)>> Filled(string hex) =>
        DataArea.SelectMany(g => g.Descendants(Ns + "path")).Where(p => Is(p, "fill", hex)).Select(Vertices).ToList();

    private string ClipRect(XElement group)
    {
        string id = Regex.Match((string)group.Attribute("clip-path")!, @"url\(#(.+)\)").Groups[1].Value;
        var rect = Document
            .Descendants(Ns + "clipPath")
            .First(c => (string?)c.Attribute("id") == id)
            .Element(Ns + "rect")!;
        return string.Join(",", new[] { "x", "y", "width", "height" }.Select(a => (string?)rect.Attribute(a)));
    }

    private static bool Is(XElement e, string attribute, string hex) =>
        string.Equals((string?)e.Attribute(attribute), hex, StringComparison.OrdinalIgnoreCase);

    /// <summary>The M/L vertices of a path's d attribute (what ScottPlot emits for lines and fills).</summary>
    public static List<(double X, double Y)> Vertices(XElement path) =>
        Regex
            .Matches((string)path.Attribute("d")!, @"[ML]\s*(-?[\d.]+)[ ,](-?[\d.]+)")
            .Select(m => (Number(m.Groups[1].Value), Number(m.Groups[2].Value)))
            .ToList();

    private static double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    private static (double X, double Y)? Translate(XElement text)
    {
        var m = Regex.Match((string?)text.Attribute("transform") ?? "", @"^translate\((-?[\d.]+)[ ,](-?[\d.]+)\)$");
        return m.Success ? (Number(m.Groups[1].Value), Number(m.Groups[2].Value)) : null;
    }

    /// <summary>Even-odd ray casting: is <paramref name="point"/> strictly inside <paramref name="polygon"/>?</summary>
    public static bool Inside(IReadOnlyList<(double X, double Y)> polygon, (double X, double Y) point)
    {
        bool inside = false;
        for (int i = 0, j = polygon.Count - 1; i < polygon.Count; j = i++)
        {
            var (a, b) = (polygon[i], polygon[j]);
            if ((a.Y > point.Y) != (b.Y > point.Y) && point.X < (b.X - a.X) * (point.Y - a.Y) / (b.Y - a.Y) + a.X)
                inside = !inside;
        }
        return inside;
    }
}
