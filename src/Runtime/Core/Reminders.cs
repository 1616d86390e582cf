namespace AlignCluster.Runtime;

/// <summary>Implemented by grains that register reminders: the runtime calls it for every tick, activating the grain
/// if needed (also after a full cluster restart: reminders are stored in the state store).</summary>
public interface IRemindable : IGrain
{
    /// <summary>A reminder tick.</summary>
    Task ReceiveReminder(string reminderName, TickStatus status);
}

/// <summary>A registered reminder.</summary>
public interface IGrainReminder
{
    /// <summary>The reminder's name, unique per grain.</summary>
    string ReminderName { get; }
}

/// <summary>Timing of one reminder tick.</summary>
/// <param name="FirstTickTime">When the reminder first fired (registration time + due time), UTC.</param>
/// <param name="Period">The reminder period.</param>
/// <param name="CurrentTickTime">The scheduled time of this tick, UTC.</param>
public readonly record struct TickStatus(DateTime FirstTickTime, TimeSpan Period, DateTime CurrentTickTime);
