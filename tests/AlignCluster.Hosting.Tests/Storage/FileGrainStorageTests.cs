using AlignCluster.Hosting.Storage;
using AlignCluster.Hosting.Tests.Infrastructure;
using AlignCluster.Hosting.Tests.TestGrains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace AlignCluster.Hosting.Tests.Storage;

/// <summary>
/// <see cref="FileGrainStorage"/> behind a real silo (InProcessTestCluster) and a test grain. Expected values are the
/// lines the test appended itself.
/// </summary>
public sealed class FileGrainStorageTests : IAsyncLifetime, IDisposable
{
    private readonly TempFolder _folder = new();
    private InProcessTestCluster _cluster = null!;

    private IGrainFactory Grains => _cluster.Client;

    public Task InitializeAsync() => StartClusterAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    public void Dispose() => _folder.Dispose();

    private async Task StartClusterAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo(
            (_, silo) => silo.AddFileGrainStorage(ClusterStorageOptions.GrainStorageName, _folder.Path)
        );
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    /// <summary>The file the silo uses for a notebook, and a second storage on the same directory (a rival).</summary>
    private (string File, FileGrainStorage Rival) Inspect(string key)
    {
        var serializer = _cluster.Silos[0].ServiceProvider.GetRequiredService<Serializer>();
        var rival = new FileGrainStorage(ClusterStorageOptions.GrainStorageName, _folder.Path, serializer);
        GrainId id = Grains.GetGrain<INotebookGrain>(key).GetGrainId();
        return (rival.PathOf("notebook", id), rival);
    }

    [Fact]
    public async Task State_round_trips_and_the_etag_counts_writes()
    {
        var grain = Grains.GetGrain<INotebookGrain>("round-trip");
        Assert.Null(await grain.ETag());
        await grain.Append("first");
        long v1 = long.Parse((await grain.ETag())!);
        await grain.Append("second");
        Assert.Equal(v1 + 1, long.Parse((await grain.ETag())!));

        await _cluster.DeactivateAsync(grain); // the next call reads the file again
        NotebookState read = await grain.Read();
        Assert.Equal(["first", "second"], read.Lines);
        Assert.Equal(2, read.Writes);
        Assert.Equal((v1 + 1).ToString(), await grain.ETag());
    }

    [Fact]
    public async Task State_survives_a_restart_of_the_silo()
    {
        await Grains.GetGrain<INotebookGrain>("restart").Append("before the restart");
        await _cluster.DisposeAsync();
        await StartClusterAsync();
        NotebookState read = await Grains.GetGrain<INotebookGrain>("restart").Read();
        Assert.Equal(["before the restart"], read.Lines);
    }

    [Fact]
    public async Task A_write_that_lost_a_race_raises_InconsistentStateException()
    {
        var grain = Grains.GetGrain<INotebookGrain>("race");
        await grain.Append("mine");
        (string file, FileGrainStorage rival) = Inspect("race");

        // Another writer (a duplicate activation elsewhere) reads the same version and writes first.
        var theirs = new GrainState<NotebookState>(new NotebookState());
        await rival.ReadStateAsync("notebook", grain.GetGrainId(), theirs);
        theirs.State!.Lines.Add("theirs");
        await rival.WriteStateAsync("notebook", grain.GetGrainId(), theirs);

        var e = await Assert.ThrowsAsync<InconsistentStateException>(() => grain.Append("mine again"));
        Assert.Contains($"write of {file} lost a race", e.Message);
        Assert.Equal(theirs.ETag, e.StoredEtag);

        // The winner's state is what is stored.
        var stored = new GrainState<NotebookState>(new NotebookState());
        await rival.ReadStateAsync("notebook", grain.GetGrainId(), stored);
        Assert.Equal(["mine", "theirs"], stored.State!.Lines);
    }

    [Fact]
    public async Task Clear_deletes_the_file_and_a_new_write_cannot_be_mistaken_for_the_old_one()
    {
        var grain = Grains.GetGrain<INotebookGrain>("clear");
        await grain.Append("x");
        string before = (await grain.ETag())!;
        (string file, _) = Inspect("clear");
        Assert.True(File.Exists(file));

        await grain.Clear();
        Assert.False(File.Exists(file));
        Assert.Null(await grain.ETag());

        await _cluster.DeactivateAsync(grain);
        Assert.Empty((await grain.Read()).Lines);
        await grain.Append("y");
        // A re-created file starts from a fresh version, so an ETag held from before the clear cannot match it.
        Assert.NotEqual(before, await grain.ETag());
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("flipped byte")]
    [InlineData("not ours")]
    public async Task A_corrupt_file_fails_activation_with_a_message_naming_the_file(string damage)
    {
        string key = "corrupt-" + damage.Replace(' ', '-');
        var grain = Grains.GetGrain<INotebookGrain>(key);
        await grain.Append("some text that will be damaged");
        await _cluster.DeactivateAsync(grain);
        (string file, _) = Inspect(key);
        byte[] bytes = await File.ReadAllBytesAsync(file);
        switch (damage)
        {
            case "truncated":
                bytes = bytes[..^5];
                break;
            case "flipped byte":
                bytes[^3] ^= 0xFF;
                break;
            default:
                bytes = "{\"lines\": []}"u8.ToArray();
                break;
        }
        await File.WriteAllBytesAsync(file, bytes);

        Exception e = await Assert.ThrowsAnyAsync<Exception>(() => grain.Read());
        Exception corrupt = Innermost(e);
        Assert.IsType<CorruptStateException>(corrupt);
        Assert.StartsWith($"state is corrupt: {file} (", corrupt.Message);
    }

    private static Exception Innermost(Exception e)
    {
        while (e is not CorruptStateException && e.InnerException is not null)
            e = e.InnerException;
        return e;
    }
}
