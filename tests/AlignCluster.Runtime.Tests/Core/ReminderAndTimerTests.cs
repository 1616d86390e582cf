using AlignCluster.Runtime.Storage;

namespace AlignCluster.Runtime.Tests.Core;

public interface IAlarmGrain : IGrainWithStringKey
{
    Task Arm(TimeSpan due, TimeSpan period);
    Task Disarm();
    Task<List<string>> Names();
    Task StartTicking(TimeSpan period);
}

public sealed class AlarmGrain : Grain, IAlarmGrain, IRemindable
{
    private int _ticks;

    public async Task Arm(TimeSpan due, TimeSpan period) => await RegisterOrUpdateReminder("alarm", due, period);

    public async Task Disarm()
    {
        if (await GetReminder("alarm") is { } r) await UnregisterReminder(r);
    }

    public async Task<List<string>> Names() => [.. (await GetReminders()).Select(r => r.ReminderName)];

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        Probe.Record(this.GetPrimaryKeyString(), $"reminder:{reminderName}@{GrainContext.Silo}");
        return Task.CompletedTask;
    }

    public Task StartTicking(TimeSpan period)
    {
        RegisterGrainTimer(_ =>
        {
            Probe.Record(this.GetPrimaryKeyString(), $"tick:{++_ticks}");
            return Task.CompletedTask;
        }, period, period);
        return Task.CompletedTask;
    }
}

public class ReminderAndTimerTests
{
    private static RuntimeOptions Options(IStateStore store)
    {
        var options = Fixture.Options(store);
        options.ReminderRefreshPeriod = TimeSpan.FromMilliseconds(100);
        return options;
    }

    [Fact]
    public async Task ReminderFiresAfterAFullRestart()
    {
        const string key = "reminder-restart";
        var store = new MemoryStateStore();
        var first = await Fixture.StartAsync(2, Options(store));
        // Due in 1.5 s: the first cluster is gone long before that.
        await first.Client.GetGrain<IAlarmGrain>(key).Arm(TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(1));
        var firstSilos = first.Silos.Select(s => s.Address.ToString()).ToArray();
        await first.DisposeAsync();
        Assert.DoesNotContain(Probe.Of(key), e => e.StartsWith("reminder:"));

        // A new cluster on the same store, and nobody calls the grain: the reminder alone re-activates it.
        await using var second = await Fixture.StartAsync(2, Options(store));
        await Fixture.WaitUntil(() => Probe.Of(key).Any(e => e.StartsWith("reminder:alarm@")), "reminder tick in the new cluster");
        var tick = Probe.Of(key).First(e => e.StartsWith("reminder:"));
        Assert.Contains(second.Silos, s => tick.EndsWith("@" + s.Address));
        Assert.DoesNotContain(firstSilos, a => tick.EndsWith("@" + a));
        await second.Client.GetGrain<IAlarmGrain>(key).Disarm();
    }

    [Fact]
    public async Task RemindersCanBeListedAndRemoved()
    {
        const string key = "reminder-list";
        await using var cluster = await Fixture.StartAsync(1, Options(new MemoryStateStore()));
        var grain = cluster.Client.GetGrain<IAlarmGrain>(key);
        await grain.Arm(TimeSpan.FromHours(1), TimeSpan.FromHours(1));
        Assert.Equal(["alarm"], await grain.Names());
        await grain.Disarm();
        Assert.Empty(await grain.Names());
    }

    [Fact]
    public async Task GrainTimerTicksAsTurns()
    {
        const string key = "timer-ticks";
        await using var cluster = await Fixture.StartAsync(1, Options(new MemoryStateStore()));
        await cluster.Client.GetGrain<IAlarmGrain>(key).StartTicking(TimeSpan.FromMilliseconds(20));
        await Fixture.WaitUntil(() => Probe.Of(key).Length >= 3, "three timer ticks");
        Assert.Equal(["tick:1", "tick:2", "tick:3"], Probe.Of(key)[..3]);
    }

    [Fact]
    public void NextTickFollowsFirstTickPlusWholePeriods()
    {
        // By hand: first tick 10:00:00, period 1 min; at 10:02:30 the next tick is 10:03:00; before the first, the first.
        var first = new DateTime(2026, 1, 1, 10, 0, 0, DateTimeKind.Utc);
        var entry = new Activation.ReminderService.Entry("t/k", "r", first, 60_000);
        Assert.Equal(first.AddMinutes(3), Activation.ReminderService.NextTick(entry, first.AddMinutes(2.5)));
        Assert.Equal(first, Activation.ReminderService.NextTick(entry, first.AddMinutes(-5)));
    }
}
