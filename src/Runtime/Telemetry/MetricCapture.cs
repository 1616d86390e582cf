using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace AlignCluster.Runtime.Telemetry;

/// <summary>One metric point at collection time: its tags and value (sum or gauge), or count and sum for a histogram.</summary>
public sealed record MetricPointSnapshot(IReadOnlyDictionary<string, object?> Tags, double Value, long HistogramCount, double HistogramSum);

/// <summary>One metric (instrument) at collection time, with cumulative values.</summary>
public sealed record MetricSnapshot(string Name, string MeterName, string? Unit, MetricType Type, IReadOnlyList<MetricPointSnapshot> Points)
{
    /// <summary>Sum of the values of all points whose tags include every given tag (e.g. a counter over one rpc.method).</summary>
    public double Total(params (string Key, object? Value)[] tags) =>
        Points.Where(p => tags.All(t => p.Tags.TryGetValue(t.Key, out var v) && Equals(v, t.Value))).Sum(p => p.Value);
}

/// <summary>
/// Reads metrics on demand through a MetricReader and copies them (the SDK reuses its Metric objects between
/// collections), so tests can assert instrument values.
/// </summary>
public sealed class MetricCapture
{
    private readonly SnapshotExporter _exporter = new();

    public MetricCapture() =>
        Reader = new BaseExportingMetricReader(_exporter) { TemporalityPreference = MetricReaderTemporalityPreference.Cumulative };

    /// <summary>The reader to add to a MeterProvider.</summary>
    public MetricReader Reader { get; }

    /// <summary>Collects now and returns every metric with at least one point.</summary>
    public IReadOnlyList<MetricSnapshot> Collect()
    {
        lock (_exporter)
        {
            _exporter.Latest = [];
            Reader.Collect();
            return _exporter.Latest;
        }
    }

    /// <summary>The metric with this name from a fresh collection, or null.</summary>
    public MetricSnapshot? Find(string name) => Collect().FirstOrDefault(m => m.Name == name);

    private sealed class SnapshotExporter : BaseExporter<Metric>
    {
        public List<MetricSnapshot> Latest = [];

        public override ExportResult Export(in Batch<Metric> batch)
        {
            foreach (var metric in batch)
            {
                var points = new List<MetricPointSnapshot>();
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    var tags = new Dictionary<string, object?>();
                    foreach (var tag in point.Tags) tags[tag.Key] = tag.Value;
                    points.Add(metric.MetricType switch
                    {
                        MetricType.LongSum or MetricType.LongSumNonMonotonic => new(tags, point.GetSumLong(), 0, 0),
                        MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic => new(tags, point.GetSumDouble(), 0, 0),
                        MetricType.LongGauge => new(tags, point.GetGaugeLastValueLong(), 0, 0),
                        MetricType.DoubleGauge => new(tags, point.GetGaugeLastValueDouble(), 0, 0),
                        _ => new(tags, 0, point.GetHistogramCount(), point.GetHistogramSum()),
                    });
                }
                if (points.Count > 0) Latest.Add(new MetricSnapshot(metric.Name, metric.MeterName, metric.Unit, metric.MetricType, points));
            }
            return ExportResult.Success;
        }
    }
}
