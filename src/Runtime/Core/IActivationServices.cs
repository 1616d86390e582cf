namespace AlignCluster.Runtime;

/// <summary>What the runtime gives a <see cref="Grain"/>: implemented by the activation that hosts it.</summary>
internal interface IActivationServices
{
    IGrainContext Context { get; }
    IGrainFactory GrainFactory { get; }
    IServiceProvider Services { get; }
    void DeactivateOnIdle();
    void DelayDeactivation(TimeSpan timeSpan);
    IGrainTimer RegisterTimer(Func<CancellationToken, Task> callback, GrainTimerCreationOptions options);
    Task<IGrainReminder> RegisterOrUpdateReminder(string reminderName, TimeSpan dueTime, TimeSpan period);
    Task UnregisterReminder(IGrainReminder reminder);
    Task<IGrainReminder?> GetReminder(string reminderName);
    Task<List<IGrainReminder>> GetReminders();
}
