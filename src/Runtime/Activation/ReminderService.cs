using System.Collections.Concurrent;
using System.Text.Json;
using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Storage;

namespace AlignCluster.Runtime.Activation;

/// <summary>
/// Durable reminders. Each reminder is a record in the state store (container "reminders", key
/// "{grain id}/{name}"). The silo that owns a reminder's grain id on the consistent-hash ring runs
/// it: every silo re-reads the table at start, on membership changes and every ReminderRefreshPeriod, and keeps a
/// one-shot timer per reminder it owns. A tick calls IRemindable.ReceiveReminder through the normal call path, so
/// it activates the grain where needed — also after a full cluster restart. Ticks fall at
/// start + k·period; ticks missed while no silo owned the reminder are skipped (as in Orleans).
/// </summary>
internal sealed class ReminderService(SiloRuntime silo, IStateStore store)
{
    private const string Container = "reminders";
    private readonly ConcurrentDictionary<string, Scheduled> _scheduled = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private Timer? _refreshTimer;
    private volatile bool _stopped;

    /// <summary>A stored reminder.</summary>
    internal sealed record Entry(string GrainId, string Name, DateTime FirstTickUtc, long PeriodMs);

    private sealed record Reminder(string ReminderName) : IGrainReminder;

    private sealed class Scheduled(Entry entry, Timer timer)
    {
        public Entry Entry { get; } = entry;
        public Timer Timer { get; } = timer;
    }

    public void Start()
    {
        var period = silo.Options.ReminderRefreshPeriod;
        _refreshTimer = new Timer(_ => _ = RefreshAsync(), null, TimeSpan.Zero, period);
    }

    public void Stop()
    {
        _stopped = true;
        _refreshTimer?.Dispose();
        foreach (var key in _scheduled.Keys) Unschedule(key);
    }

    public async Task<IGrainReminder> RegisterOrUpdateAsync(GrainId grain, string name, TimeSpan dueTime, TimeSpan period)
    {
        if (period <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(period), $"Reminder '{name}' of {grain}: period must be positive.");
        var entry = new Entry(grain.ToString(), name, DateTime.UtcNow + dueTime, (long)period.TotalMilliseconds);
        var key = Key(grain, name);
        for (int attempt = 0; ; attempt++)
        {
            var existing = await store.ReadAsync(Container, key).ConfigureAwait(false);
            try
            {
                await store.WriteAsync(Container, key, JsonSerializer.SerializeToUtf8Bytes(entry), existing?.Etag).ConfigureAwait(false);
                break;
            }
            catch (InconsistentStateException) when (attempt < 3)
            {
            }
        }
        if (Owns(grain)) Schedule(key, entry);
        return new Reminder(name);
    }

    public async Task UnregisterAsync(GrainId grain, string name)
    {
        var key = Key(grain, name);
        Unschedule(key);
        await store.DeleteAsync(Container, key, null).ConfigureAwait(false);
    }

    public async Task<IGrainReminder?> GetAsync(GrainId grain, string name) =>
        await ReadAsync(Key(grain, name)).ConfigureAwait(false) is { } e ? new Reminder(e.Name) : null;

    public async Task<List<IGrainReminder>> ListAsync(GrainId grain)
    {
        var result = new List<IGrainReminder>();
        await foreach (var key in store.ListAsync(Container, $"{grain}/").ConfigureAwait(false))
            if (await ReadAsync(key).ConfigureAwait(false) is { } e && e.GrainId == grain.ToString()) result.Add(new Reminder(e.Name));
        return result;
    }

    /// <summary>Re-reads the table and (un)schedules the reminders this silo owns now.</summary>
    public async Task RefreshAsync()
    {
        if (_stopped || !await _refreshing.WaitAsync(0).ConfigureAwait(false)) return;
        try
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            await foreach (var key in store.ListAsync(Container).ConfigureAwait(false))
            {
                if (await ReadAsync(key).ConfigureAwait(false) is not { } entry) continue;
                seen.Add(key);
                if (Owns(Messaging.GrainId.Parse(entry.GrainId)))
                {
                    if (!_scheduled.TryGetValue(key, out var s) || s.Entry != entry) Schedule(key, entry);
                }
                else Unschedule(key);
            }
            foreach (var key in _scheduled.Keys.Where(k => !seen.Contains(k))) Unschedule(key);
        }
        catch (Exception e)
        {
            silo.ReportError("Refreshing reminders", e);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private bool Owns(GrainId grain)
    {
        var view = silo.Membership.Current;
        return !_stopped && view.IsActive(silo.Address) && view.Ring.Owner(grain) == silo.Address;
    }

    private void Schedule(string key, Entry entry)
    {
        if (_stopped) return;
        var timer = new Timer(_ => _ = TickAsync(key), null, Timeout.Infinite, Timeout.Infinite);
        if (_scheduled.TryGetValue(key, out var old)) old.Timer.Dispose();
        _scheduled[key] = new Scheduled(entry, timer);
        timer.Change(Until(NextTick(entry, DateTime.UtcNow)), Timeout.InfiniteTimeSpan);
    }

    private void Unschedule(string key)
    {
        if (_scheduled.TryRemove(key, out var s)) s.Timer.Dispose();
    }

    /// <summary>The first tick time at or after <paramref name="now"/>: first + k·period.</summary>
    internal static DateTime NextTick(Entry entry, DateTime now)
    {
        if (now <= entry.FirstTickUtc) return entry.FirstTickUtc;
        long period = TimeSpan.FromMilliseconds(entry.PeriodMs).Ticks;
        long k = (now - entry.FirstTickUtc).Ticks / period + 1;
        return entry.FirstTickUtc + TimeSpan.FromTicks(k * period);
    }

    private async Task TickAsync(string key)
    {
        if (!_scheduled.TryGetValue(key, out var s) || _stopped) return;
        var tickTime = NextTick(s.Entry, DateTime.UtcNow - TimeSpan.FromMilliseconds(50));
        try
        {
            // Re-read: a reminder unregistered or updated elsewhere must not fire from a stale copy.
            var current = await ReadAsync(key).ConfigureAwait(false);
            var grain = Messaging.GrainId.Parse(s.Entry.GrainId);
            if (current != s.Entry || !Owns(grain)) { if (current is null || !Owns(grain)) Unschedule(key); else Schedule(key, current); return; }
            var status = new TickStatus(s.Entry.FirstTickUtc, TimeSpan.FromMilliseconds(s.Entry.PeriodMs), tickTime);
            await silo.SendReminderTickAsync(grain, s.Entry.Name, status).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            silo.ReportError($"Reminder '{s.Entry.Name}' of {s.Entry.GrainId}", e);
        }
        if (_scheduled.TryGetValue(key, out var still) && ReferenceEquals(still, s) && !_stopped)
        {
            var next = NextTick(s.Entry, DateTime.UtcNow + TimeSpan.FromMilliseconds(1));
            try { s.Timer.Change(Until(next), Timeout.InfiniteTimeSpan); } catch (ObjectDisposedException) { }
        }
    }

    private static TimeSpan Until(DateTime utc) => utc > DateTime.UtcNow ? utc - DateTime.UtcNow : TimeSpan.Zero;

    private async Task<Entry?> ReadAsync(string key)
    {
        var record = await store.ReadAsync(Container, key).ConfigureAwait(false);
        return record is null ? null : JsonSerializer.Deserialize<Entry>(record.Data.Span);
    }

    private static string Key(GrainId grain, string name) => $"{grain}/{name}";
}
