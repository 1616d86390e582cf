using AlignCluster.Models.SafeTensors;
using AlignCluster.Tests.Shared;

namespace AlignCluster.Models.Tests;

/// <summary>
/// The one safetensors header parser, reached from a mapped file (<see cref="SafeTensorsFile"/>) and from a stream
/// (<see cref="SafeTensorsHeader.ReadAsync"/>, what checkpoints are read through): the same tensors from the same
/// bytes, the same message for the same corruption. The bytes and messages come from <see cref="SafeTensorsBytes"/>
/// (built by hand from the format's definition).
/// </summary>
public sealed class SafeTensorsHeaderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("safetensors-header").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_root, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public async Task A_valid_file_reads_the_same_from_a_file_and_from_a_stream()
    {
        byte[] bytes = SafeTensorsBytes.Valid();
        using var file = SafeTensorsFile.Open(Write("valid.safetensors", bytes));
        var stream = new ForwardOnlyStream(bytes);
        SafeTensorsHeader header = await SafeTensorsHeader.ReadAsync(stream, "valid");

        foreach (IReadOnlyList<SafeTensorInfo> tensors in new[] { file.Tensors, header.Tensors })
        {
            Assert.Equal(["a", "b"], tensors.Select(t => t.Name));
            Assert.All(tensors, t => Assert.Equal(SafeTensorDType.F32, t.DType));
            Assert.Equal([2L], tensors[0].Shape);
            Assert.Equal([1L, 1L], tensors[1].Shape);
            Assert.Equal((0L, 8L, 8L, 12L), (tensors[0].Begin, tensors[0].End, tensors[1].Begin, tensors[1].End));
        }
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("pt", header.Metadata["format"]);
        Assert.Equal(SafeTensorsBytes.Floats(1.5f, -2f), file.Bytes("a").ToArray());
        // The stream was left at the data section: its next bytes are tensor a's.
        var next = new byte[8];
        Assert.Equal(8, stream.Read(next, 0, 8));
        Assert.Equal(SafeTensorsBytes.Floats(1.5f, -2f), next);
    }

    [Fact]
    public async Task Every_corruption_is_reported_with_the_same_message_from_a_file_and_from_a_stream()
    {
        int i = 0;
        foreach (var (name, bytes, tensor, problem) in SafeTensorsBytes.Corrupt())
        {
            string path = Write($"corrupt-{i++}.safetensors", bytes);
            string expected = SafeTensorsBytes.Message(path, tensor, problem);

            var fromFile = Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(path).Dispose());
            Assert.True(fromFile.Message.StartsWith(expected, StringComparison.Ordinal), $"{name}: {fromFile.Message}");
            Assert.Equal(path, fromFile.FilePath);
            Assert.Equal(tensor, fromFile.TensorName);

            var fromStream = await Assert.ThrowsAsync<SafeTensorsException>(() =>
                SafeTensorsHeader.ReadAsync(new MemoryStream(bytes), path)
            );
            Assert.Equal(fromFile.Message, fromStream.Message);

            // A stream of unknown length cannot see a cut in the data from the header: the reader of the data does.
            if (name == "cut inside the data")
                continue;
            var fromForwardOnly = await Assert.ThrowsAsync<SafeTensorsException>(() =>
                SafeTensorsHeader.ReadAsync(new ForwardOnlyStream(bytes), path)
            );
            Assert.Equal(fromFile.Message, fromForwardOnly.Message);
        }
        Assert.Equal(9, i);
    }
}
