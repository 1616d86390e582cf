using System.Text;
using AlignCluster.Torch.SafeTensors;

namespace AlignCluster.Torch.Tests.SafeTensors;

public sealed class SafeTensorsFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("st-test").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>Builds a file byte by byte (length prefix + header text + data), independent of our writer.</summary>
    private string Handmade(string name, string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = BitConverter.GetBytes((ulong)h.Length).Concat(h).Concat(data).ToArray();
        File.WriteAllBytes(PathOf(name), bytes);
        return PathOf(name);
    }

    [Fact]
    public void ReadsAHandmadeFile()
    {
        // 1.0f = 0x3F800000 and -2.0f = 0xC0000000, little-endian; int64 7 = 07 00.. (by hand)
        byte[] data = [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0, 7, 0, 0, 0, 0, 0, 0, 0];
        string path = Handmade("a.safetensors",
            """{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"n":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}""",
            data);
        using var f = SafeTensorsFile.Open(path);
        Assert.Equal("pt", f.Metadata["format"]);
        Assert.Equal([1f, -2f], f.ReadFloat32("w"));
        Assert.Equal([7L], f.ReadInt64("n"));
        Assert.Empty(f.Info("n").Shape);
    }

    [Theory]
    [InlineData(SafeTensorDType.F32)]
    [InlineData(SafeTensorDType.F64)]
    [InlineData(SafeTensorDType.BF16)]
    [InlineData(SafeTensorDType.F16)]
    [InlineData(SafeTensorDType.I64)]
    [InlineData(SafeTensorDType.BOOL)]
    [InlineData(SafeTensorDType.I32)]
    [InlineData(SafeTensorDType.U8)]
    public void RoundTripsEveryDType(SafeTensorDType dtype)
    {
        var rng = new Random(1);
        long[] shape = [3, 5];
        var bytes = new byte[15 * dtype.ElementSize()];
        rng.NextBytes(bytes);
        if (dtype == SafeTensorDType.BOOL) for (int i = 0; i < bytes.Length; i++) bytes[i] &= 1;
        var empty = SafeTensorEntry.FromBytes("empty", dtype, [0, 4], Array.Empty<byte>());
        SafeTensorsWriter.Write(PathOf("rt.safetensors"), [SafeTensorEntry.FromBytes("x", dtype, shape, bytes), empty]);

        using var f = SafeTensorsFile.Open(PathOf("rt.safetensors"));
        var info = f.Expect("x", dtype, shape);
        Assert.Equal(bytes, f.Bytes("x").ToArray());
        Assert.Equal(0, f.Info("empty").ByteCount);
        // The data section starts 8-byte aligned (header padded), as the reference writer does.
        Assert.Equal(0, (8 + BitConverter.ToInt64(File.ReadAllBytes(PathOf("rt.safetensors")), 0)) % 8);
        Assert.Equal(15, info.ElementCount);
    }

    [Fact]
    public void FloatEncodingsMatchHandComputedBits()
    {
        // bf16: 1.0 = 0x3F80; 1 + 2^-8 is a tie between 0x3F80 and 0x3F81 → even 0x3F80; 1 + 3·2^-9·... checked by hand below.
        Assert.Equal(0x3F80, SafeTensorValues.FloatToBFloat16(1f));
        Assert.Equal(0x3F80, SafeTensorValues.FloatToBFloat16(1f + 1f / 256));       // exact tie → round to even
        Assert.Equal(0x3F81, SafeTensorValues.FloatToBFloat16(1f + 1f / 256 + 1f / 4096)); // above the tie → up
        Assert.Equal(0xC000, SafeTensorValues.FloatToBFloat16(-2f));
        Assert.Equal(-2f, SafeTensorValues.BFloat16ToFloat(0xC000));
        // f16: 1.0 = 0x3C00 (IEEE 754 half)
        Assert.Equal(new byte[] { 0x00, 0x3C }, SafeTensorValues.Encode([1f], SafeTensorDType.F16));

        float[] values = [0.5f, -3.25f, 1024f, 0f];
        foreach (var dtype in new[] { SafeTensorDType.F32, SafeTensorDType.F64, SafeTensorDType.BF16, SafeTensorDType.F16 })
        {
            string path = PathOf($"v{dtype}.safetensors");
            SafeTensorsWriter.Write(path, [SafeTensorEntry.FromBytes("v", dtype, [4], SafeTensorValues.Encode(values, dtype))]);
            using var f = SafeTensorsFile.Open(path);
            Assert.Equal(values, f.ReadFloat32("v")); // all four values are exact in every one of these formats
        }
    }

    [Fact]
    public void StreamingWriterProducingTheWrongByteCountIsRejectedAndLeavesNoFile()
    {
        string path = PathOf("bad.safetensors");
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensorsWriter.Write(path,
            [new SafeTensorEntry("w", SafeTensorDType.F32, [2], 8, s => s.Write(new byte[4]))]));
        Assert.Contains("'w'", e.Message);
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles(_dir)); // no temp file left behind
    }

    [Fact]
    public void FailedWriteKeepsThePreviousFile()
    {
        string path = PathOf("keep.safetensors");
        SafeTensorsWriter.Write(path, [SafeTensorEntry.FromBytes("a", SafeTensorDType.U8, [1], new byte[] { 42 })]);
        Assert.Throws<InvalidOperationException>(() => SafeTensorsWriter.Write(path,
            [new SafeTensorEntry("a", SafeTensorDType.U8, [1], 1, _ => throw new InvalidOperationException("disk gone"))]));
        using var f = SafeTensorsFile.Open(path);
        Assert.Equal(42, f.Bytes("a")[0]);
    }

    [Fact]
    public void WriterRejectsShapeByteCountMismatch()
    {
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensorsWriter.Write(PathOf("m.safetensors"),
            [SafeTensorEntry.FromBytes("w", SafeTensorDType.F32, [3], new byte[8])]));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("needs 12 bytes", e.Message);
    }

    [Fact]
    public void TruncatedFileNamesTheFile()
    {
        SafeTensorsWriter.Write(PathOf("t.safetensors"), [SafeTensorEntry.FromBytes("w", SafeTensorDType.F32, [4], new byte[16])]);
        var bytes = File.ReadAllBytes(PathOf("t.safetensors"));

        File.WriteAllBytes(PathOf("t1.safetensors"), bytes[..5]);
        var e1 = Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(PathOf("t1.safetensors")));
        Assert.Contains("t1.safetensors", e1.Message);
        Assert.Contains("truncated", e1.Message);

        File.WriteAllBytes(PathOf("t2.safetensors"), bytes[..20]); // inside the header
        var e2 = Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(PathOf("t2.safetensors")));
        Assert.Contains("truncated", e2.Message);

        File.WriteAllBytes(PathOf("t3.safetensors"), bytes[..^4]); // inside the data
        var e3 = Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(PathOf("t3.safetensors")));
        Assert.Contains("t3.safetensors", e3.Message);
        Assert.Contains("'w'", e3.Message);
        Assert.Contains("past the end", e3.Message);
    }

    [Fact]
    public void BadHeaderJsonNamesTheFile()
    {
        string path = Handmade("j.safetensors", """{"w": {"dtype": "F32", """, new byte[4]);
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("j.safetensors", e.Message);
        Assert.Contains("not valid JSON", e.Message);
    }

    [Fact]
    public void DataOffsetsPastTheEndNameTheTensor()
    {
        string path = Handmade("o.safetensors", """{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", new byte[8]);
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("past the end", e.Message);
    }

    [Fact]
    public void ShapeAndByteCountMismatchNamesTheTensor()
    {
        string path = Handmade("s.safetensors", """{"w":{"dtype":"BF16","shape":[3],"data_offsets":[0,8]}}""", new byte[8]);
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("needs 6 bytes", e.Message);
    }

    [Fact]
    public void UnknownDTypeAndOverlapAreRejected()
    {
        string p1 = Handmade("d.safetensors", """{"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}""", new byte[1]);
        Assert.Contains("unsupported dtype 'F8_E4M3'", Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(p1)).Message);
        string p2 = Handmade("ov.safetensors",
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", new byte[8]);
        Assert.Contains("overlap", Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(p2)).Message);
    }

    [Fact]
    public void ExpectNamesTensorAndBothShapes()
    {
        SafeTensorsWriter.Write(PathOf("e.safetensors"), [SafeTensorEntry.FromBytes("w", SafeTensorDType.F32, [2, 3], new byte[24])]);
        using var f = SafeTensorsFile.Open(PathOf("e.safetensors"));
        var e = Assert.Throws<SafeTensorsException>(() => f.Expect("w", SafeTensorDType.F32, [3, 2]));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("[3, 2]", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        var d = Assert.Throws<SafeTensorsException>(() => f.Expect("w", SafeTensorDType.BF16, [2, 3]));
        Assert.Contains("BF16", d.Message);
        Assert.Contains("missing", Assert.Throws<SafeTensorsException>(() => f.Expect("nope", SafeTensorDType.F32, [1])).Message);
    }
}
