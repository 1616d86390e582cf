using AlignCluster.Alignment.Data;
using AlignCluster.Grains.Configuration;
using AlignCluster.Hosting.Checkpoints;

namespace AlignCluster.Client.Cluster;

/// <summary>Turns expected failures into "error: …" on stderr and an exit code (2 bad input, 3 storage, 1 run failed).</summary>
public static class CommandErrors
{
    public static async Task<int> Guard(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (ClientException e)
        {
            return Fail(e.Message, e.ExitCode);
        }
        catch (ConfigException e)
        {
            return Fail(e.Message, 2);
        }
        catch (DataFormatException e)
        {
            return Fail(e.Message, 2);
        }
        catch (StorageUnavailableException e)
        {
            return Fail(e.Message, 3);
        }
        catch (OperationCanceledException)
        {
            return Fail("cancelled", 130);
        }
    }

    private static int Fail(string message, int code)
    {
        Console.Error.WriteLine($"error: {message}");
        return code;
    }
}
