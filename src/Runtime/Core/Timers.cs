namespace AlignCluster.Runtime;

/// <summary>A grain timer: lives and dies with its activation; not durable (use reminders for that).</summary>
public interface IGrainTimer : IDisposable
{
    /// <summary>Changes when the timer next fires and its period (<see cref="Timeout.InfiniteTimeSpan"/> = once).</summary>
    void Change(TimeSpan dueTime, TimeSpan period);
}

/// <summary>Options of <see cref="Grain.RegisterGrainTimer{TState}"/> (Orleans' GrainTimerCreationOptions).</summary>
public readonly record struct GrainTimerCreationOptions(TimeSpan DueTime, TimeSpan Period)
{
    /// <summary>When true, ticks interleave with requests; by default a tick is a turn like a request.</summary>
    public bool Interleave { get; init; }

    /// <summary>When false (default), ticks do not reset the activation's idle clock.</summary>
    public bool KeepAlive { get; init; }
}
