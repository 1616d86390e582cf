using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;

namespace AlignCluster.Hosting.Storage;

public static class FileGrainStorageExtensions
{
    /// <summary>
    /// Registers <see cref="FileGrainStorage"/> as the grain storage <paramref name="name"/> (use it with
    /// <c>[PersistentState("state", name)]</c>), keeping every grain's state under <paramref name="directory"/>.
    /// </summary>
    public static ISiloBuilder AddFileGrainStorage(this ISiloBuilder builder, string name, string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        builder.Services.AddGrainStorage(name, (services, storageName) =>
            new FileGrainStorage(storageName, directory, services.GetRequiredService<Serializer>())
        );
        return builder;
    }
}
