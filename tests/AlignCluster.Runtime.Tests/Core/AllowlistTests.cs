using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Serialization;

namespace AlignCluster.Runtime.Tests.Core;

/// <summary>Not marked [GenerateSerializer]/[Serializable] and not registered.</summary>
public sealed class Unregistered
{
    public int Value { get; set; }
}

[GenerateSerializer]
public sealed class HidesAnObject
{
    public object? Payload { get; set; }
}

[GenerateSerializer]
public sealed record Allowed(string Name, int[] Values, Dictionary<string, double> Scores, Allowed? Next);

// Internal: AddAssembly registers public types only, so hosts that load this test assembly as a grain assembly
// (the multi-process tests) do not meet these deliberately bad interfaces.
internal interface IBadArgumentGrain : IGrainWithStringKey
{
    Task Take(Unregistered value);
}

internal interface IBadMemberGrain : IGrainWithStringKey
{
    Task<HidesAnObject> Give();
}

public class AllowlistTests
{
    [Fact]
    public void InterfaceWithAnUnregisteredArgumentTypeIsRefusedNamingIt()
    {
        var options = new RuntimeOptions().AddGrainInterface<IBadArgumentGrain>();
        var e = Assert.Throws<NotSupportedException>(() => new ClusterClient(options, new InProcessTransport(), new InProcessMembership()));
        Assert.Contains("IBadArgumentGrain.Take parameter 'value'", e.Message);
        Assert.Contains(typeof(Unregistered).FullName!, e.Message);
        Assert.Contains("[GenerateSerializer]", e.Message);
    }

    [Fact]
    public void ObjectTypedMembersAreRefused()
    {
        var options = new RuntimeOptions().AddGrainInterface<IBadMemberGrain>();
        var e = Assert.Throws<NotSupportedException>(() => new ClusterClient(options, new InProcessTransport(), new InProcessMembership()));
        Assert.Contains("member Payload", e.Message);
        Assert.Contains("System.Object", e.Message);
    }

    [Fact]
    public void RegisteringTheTypeAllowsIt()
    {
        var allowlist = new TypeAllowlist([typeof(Unregistered)]);
        Assert.True(allowlist.IsAllowed(typeof(Unregistered)));
        Assert.True(allowlist.IsAllowed(typeof(List<Unregistered>)));
        Assert.True(allowlist.IsAllowed(typeof(Allowed)));
        Assert.False(new TypeAllowlist([]).IsAllowed(typeof(Unregistered)));
        Assert.False(new TypeAllowlist([]).IsAllowed(typeof(Dictionary<string, object>)));
    }

    [Fact]
    public async Task SiloRefusesRequestsForUnregisteredInterfacesAndTypes()
    {
        await using var cluster = await Fixture.StartAsync(1);
        var silo = cluster.Silos[0];
        var forged = new InvocationRequest
        {
            CorrelationId = 1,
            Target = new GrainId("Evil.IGrain", "x"),
            Interface = "Evil.IGrain",
            Method = "Run",
            Arguments = [],
        };
        var response = await silo.HandleAsync(forged, default);
        Assert.Equal(InvocationStatus.Error, response.Status);
        Assert.Equal(typeof(NotSupportedException).FullName, response.ErrorType);
        Assert.Contains("Evil.IGrain.Run is not part of a registered grain interface", response.ErrorMessage);

        var wrongType = forged with { Target = new GrainId("Evil.IGrain", "x"), Interface = typeof(ICounterGrain).FullName!, Method = "Get" };
        response = await silo.HandleAsync(wrongType, default);
        Assert.Contains("grain type Evil.IGrain has no registered grain class", response.ErrorMessage);
    }

    [Fact]
    public void JsonPayloadIsDecodedOnlyAsTheDeclaredType()
    {
        var serializer = new WireSerializer(new TypeAllowlist([]), new NoGrainReferences());
        var value = new Allowed("a", [1, 2], new() { ["x"] = 0.5 }, new Allowed("b", [], [], null));
        var bytes = serializer.Serialize(value, typeof(Allowed));
        Assert.Equal(value.Next!.Name, ((Allowed)serializer.Deserialize(bytes, typeof(Allowed), "test")!).Next!.Name);
        // A type discriminator in the payload does not make the reader build another type.
        var forged = System.Text.Encoding.UTF8.GetBytes("""{"$type":"System.IO.FileInfo","Name":"a","Values":[],"Scores":{},"Next":null}""");
        Assert.IsType<Allowed>(serializer.Deserialize(forged, typeof(Allowed), "test"));
        Assert.Throws<NotSupportedException>(() => serializer.Serialize(new Unregistered(), typeof(Unregistered)));
    }
}
