using AlignCluster.Grains.Checkpoints;
using AlignCluster.Models.SafeTensors;
using AlignCluster.Tests.Shared;

namespace AlignCluster.Integration.Tests.Checkpoints;

/// <summary>
/// The checkpoint reader goes through the one safetensors header parser: it reports a corrupt checkpoint blob with
/// the message a corrupt model file gets (<see cref="SafeTensorsBytes"/>: bytes and messages written by hand from the
/// format), whether the blob's stream knows its length or not.
/// </summary>
public sealed class SafeTensorsCodecTests
{
    [Fact]
    public async Task A_valid_blob_reads_into_its_tensors_in_header_order()
    {
        var tensors = await SafeTensorsCodec.ReadAsync(new ForwardOnlyStream(SafeTensorsBytes.Valid()), "store/x");
        Assert.Equal(["a", "b"], tensors.Select(t => t.Name));
        Assert.Equal([1.5f, -2f], tensors[0].Values); // the floats the bytes were built from
        Assert.Equal([2L], tensors[0].Shape);
        Assert.Equal([0.25f], tensors[1].Values);
        Assert.Equal([1L, 1L], tensors[1].Shape);
    }

    [Fact]
    public async Task A_corrupt_blob_is_reported_as_a_corrupt_file_is()
    {
        int cases = 0;
        foreach (var (name, bytes, tensor, problem) in SafeTensorsBytes.Corrupt())
        {
            string expected = SafeTensorsBytes.Message(
                "store/run/round-0001/policy/model.safetensors",
                tensor,
                problem
            );
            foreach (Stream stream in new Stream[] { new MemoryStream(bytes), new ForwardOnlyStream(bytes) })
            {
                var e = await Assert.ThrowsAsync<SafeTensorsException>(() =>
                    SafeTensorsCodec.ReadAsync(stream, "store/run/round-0001/policy/model.safetensors")
                );
                // Read forward only, a cut in the data is found where the data ends, not from the header.
                string want =
                    name == "cut inside the data" && stream is ForwardOnlyStream
                        ? SafeTensorsBytes.Message(
                            "store/run/round-0001/policy/model.safetensors",
                            "b",
                            "data_offsets [8, 12] run past the end of the data section (file truncated?)"
                        )
                        : expected;
                Assert.True(e.Message.StartsWith(want, StringComparison.Ordinal), $"{name}: {e.Message}");
                // Callers that treat unreadable input as bad input catch it as an IOException.
                Assert.IsAssignableFrom<IOException>(e);
            }
            cases++;
        }
        Assert.Equal(9, cases);
    }

    [Fact]
    public async Task A_blob_of_another_dtype_is_refused_naming_the_tensor()
    {
        byte[] bytes = SafeTensorsBytes.File("""{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}""", new byte[4]);
        var e = await Assert.ThrowsAsync<SafeTensorsException>(() =>
            SafeTensorsCodec.ReadAsync(new MemoryStream(bytes), "store/x")
        );
        Assert.Equal("safetensors file 'store/x', tensor 'h': is F16; checkpoints hold F32", e.Message);
    }
}
