using AlignCluster.Contracts;
using AlignCluster.Grains.Coordinator;
using AlignCluster.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization.TypeSystem;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>
/// What a silo deserializes: a payload names the types of its values, and the silo resolves a name only for types it
/// was built to carry (our contracts, Orleans' own); any other name is refused before an instance exists.
/// </summary>
public class ContractTypesTests
{
    [Fact]
    public async Task ASiloResolvesOurContractTypesAndRefusesAnyOtherTypeName()
    {
        await using var silo = await LoopbackSilo.StartAsync(
            TestConfigs.TempDirectory(),
            LoopbackPorts.FreePort(),
            LoopbackPorts.FreePort(),
            null,
            []
        );
        var types = silo.Host.Services.GetRequiredService<TypeConverter>();

        // Contract types round-trip through their names.
        foreach (var contract in new[] { typeof(Candidate), typeof(RunConfig), typeof(TrainRequest) })
            Assert.Equal(contract, types.Parse(types.Format(contract)));

        // Names a hostile payload could carry: a process launcher, a file handle, and one of our own classes that is
        // not a contract. Each must be refused (an exception or a failed parse), never loaded.
        foreach (
            var name in new[]
            {
                typeof(System.Diagnostics.Process).AssemblyQualifiedName!,
                typeof(FileInfo).AssemblyQualifiedName!,
                typeof(CoordinatorService).AssemblyQualifiedName!,
            }
        )
        {
            bool resolved;
            try
            {
                resolved = types.TryParse(name, out _);
            }
            catch (InvalidOperationException)
            {
                resolved = false;
            }
            Assert.False(resolved, $"the silo resolved a type outside the contracts: {name}");
        }
    }
}
