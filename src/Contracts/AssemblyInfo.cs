global using Orleans;

namespace AlignCluster.Contracts;

/// <summary>
/// The response timeout of calls that do a round's work (SFT, scoring, training, sampling, evaluation, checkpoints):
/// Orleans' default of 30 s would fail a real training call (a timeout does not stop the callee, so the caller would
/// give up on work that goes on). A real round on a large model takes hours; a call that hangs past this is a fault.
/// </summary>
public static class LongCall
{
    /// <summary>12 hours, as the "hh:mm:ss" string <see cref="ResponseTimeoutAttribute"/> takes.</summary>
    public const string Timeout = "12:00:00";
}
