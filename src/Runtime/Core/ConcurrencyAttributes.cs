namespace AlignCluster.Runtime;

/// <summary>The grain class accepts a new request while another one awaits (interleaving at awaits). Grain code
/// still runs single-threaded: interleaving never means parallel execution.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class ReentrantAttribute : Attribute;

/// <summary>This interface method may interleave with any other request of a non-reentrant grain.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AlwaysInterleaveAttribute : Attribute;

/// <summary>Overrides the default per-call timeout for this interface method (Orleans' ResponseTimeout).</summary>
/// <param name="timeout">A <see cref="TimeSpan"/> in invariant format, e.g. "00:00:05".</param>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ResponseTimeoutAttribute(string timeout) : Attribute
{
    /// <summary>The parsed timeout.</summary>
    public TimeSpan Timeout { get; } = TimeSpan.Parse(timeout, System.Globalization.CultureInfo.InvariantCulture);
}
