using System.Buffers.Binary;
using System.Text;
using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Integration.Tests.Cluster;

namespace AlignCluster.Integration.Tests.Reporting;

/// <summary>
/// `train` writes TensorBoard event files that a reader built from the format alone accepts, with the values of the
/// run's own round reports. The reader below is written from the TFRecord and Event specifications (TensorFlow's
/// record_writer and event.proto / summary.proto), not from our writer: its CRC32C is the bitwise Castagnoli
/// algorithm, checked against the standard check value, and its protobuf decoder walks the wire format field by field.
/// </summary>
public class TensorBoardEventTests
{
    private static readonly string[] TrlTags =
    [
        "loss",
        "rewards/chosen",
        "rewards/rejected",
        "rewards/margins",
        "rewards/accuracies",
        "logps/chosen",
        "logps/rejected",
    ];

    [Fact]
    public void Crc32cOfTheReaderMatchesTheStandardCheckValue()
    {
        // The CRC catalogue's check value for CRC-32C (Castagnoli), reflected, init and xorout 0xFFFFFFFF.
        Assert.Equal(0xE3069283u, EventReader.Crc32C(Encoding.ASCII.GetBytes("123456789")));
        // RFC 3720 (iSCSI) B.4: 32 bytes of zeros → 0x8A9136AA, of 0xFF → 0x62A8AB43.
        Assert.Equal(0x8A9136AAu, EventReader.Crc32C(new byte[32]));
        Assert.Equal(0x62A8AB43u, EventReader.Crc32C(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
    }

    [Fact]
    public async Task Train_writes_the_round_reports_as_scalars_and_a_resume_appends_a_new_file()
    {
        string dir = TestConfigs.TempDirectory();
        string state = Path.Combine(dir, "state"),
            logdir = Path.Combine(dir, "tb");
        double before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        string[] run =
        [
            "--set",
            "run_id=tb",
            "--set",
            "data.train_prompts=48",
            "--set",
            "data.eval_prompts=8",
            "--set",
            "training.rounds=2",
            "--set",
            "shards=2",
            "--set",
            "selection.strategy=mc",
            "--set",
            "selection.per=step",
        ];
        var (code, output, err) = CliProcess.Run(["train", "--state", state, "--logdir", logdir, .. run]);
        Assert.True(code == 0, $"train failed ({code}): {err}\n{output}");
        double after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

        // Progress went to stderr as plain lines (not a terminal): one per round, no escape codes, no carriage returns.
        Assert.Contains("tb: round 2/2, step ", err);
        Assert.DoesNotContain('\u001b', err + output);
        Assert.DoesNotContain('\r', err);

        string runDirectory = Path.Combine(logdir, "tb");
        var file = Assert.Single(Directory.GetFiles(runDirectory, "events.out.tfevents.*"));
        var events = EventReader.Read(file);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.All(events, e => Assert.InRange(e.WallTime, before - 1, after + 1)); // Unix seconds, not ticks
        Assert.Equal(events.Select(e => e.WallTime).Order(), events.Select(e => e.WallTime));

        RunStatus status;
        await using (var cluster = await EmbeddedCluster.StartAsync(state, autoResume: false))
            status = await cluster.Client.GetGrain<ICoordinatorGrain>("tb").GetStatusAsync();
        Assert.Equal(RunState.Completed, status.State);
        Assert.Equal(2, status.History.Length);

        // Every (step, tag) once; the reader's view as a map.
        var scalars = new Dictionary<(long, string), float>();
        foreach (var e in events)
        foreach (var (tag, value) in e.Values)
            Assert.True(scalars.TryAdd((e.Step, tag), value), $"step {e.Step}: tag {tag} written twice");
        float At(long step, string tag) =>
            scalars.TryGetValue((step, tag), out var v)
                ? v
                : throw new Xunit.Sdk.XunitException($"no {tag} at step {step}");

        // Baseline (SFT) evaluation at step 0.
        Assert.Equal((float)status.Baseline!.OracleReward, At(0, "eval/oracle_reward"));

        long offset = 0;
        foreach (var round in status.History)
        {
            Assert.NotEmpty(round.Steps);
            Assert.Equal(round.Steps.Length, round.StepSeconds!.Length);
            for (int i = 0; i < round.Steps.Length; i++)
            {
                var s = round.Steps[i];
                long step = offset + i + 1;
                double[] expected =
                [
                    s.Loss,
                    s.RewardsChosen,
                    s.RewardsRejected,
                    s.RewardsMargins,
                    s.RewardsAccuracies,
                    s.LogpsChosen,
                    s.LogpsRejected,
                ];
                for (int t = 0; t < TrlTags.Length; t++)
                    Assert.Equal((float)expected[t], At(step, TrlTags[t]));
                Assert.Equal((float)s.KernelEntropy, At(step, "kernel/entropy"));
                double seconds = round.StepSeconds![i];
                Assert.True(s.Pairs > 0 && s.Tokens >= 2L * s.Pairs && seconds > 0, $"step {step}: {s}, {seconds} s");
                Assert.Equal((float)(s.Pairs / seconds), At(step, "throughput/pairs_per_second"));
                Assert.Equal((float)(s.Tokens / seconds), At(step, "throughput/tokens_per_second"));
            }
            long last = offset + round.Steps.Length;
            Assert.Equal(round.Round, At(last, "round"));
            Assert.Equal((float)round.SelectionChangeRate, At(last, "selection/change_rate"));
            Assert.Equal((float)round.Eval!.OracleReward, At(last, "eval/oracle_reward"));
            Assert.Equal((float)round.Eval.WinRate, At(last, "eval/win_rate"));
            Assert.Equal((float)round.Eval.KlToReference, At(last, "eval/kl_to_reference"));
            Assert.Equal(0f, At(last, "run/restarts"));
            // The round's kernel entropy comes from the shards' selection records; with one negative per prompt each
            // step's entropy is the mean over its pairs, so the pair-weighted mean of the trainer's per-step values is
            // a
            // second computation of it.
            Assert.True(round.KernelEntropy > 0, "MC selection over several candidates has positive entropy");
            double weighted = round.Steps.Sum(x => x.KernelEntropy * x.Pairs) / round.Steps.Sum(x => x.Pairs);
            Assert.Equal(weighted, round.KernelEntropy, 9);
            Assert.Equal((float)round.KernelEntropy, At(last, "selection/kernel_entropy"));
            offset = last;
        }
        Assert.Equal(offset, events.Max(e => e.Step));

        // A second process on the same run starts its own file and leaves the first as it was; the run is complete, so
        // it has no round to add.
        byte[] first = await File.ReadAllBytesAsync(file);
        (code, output, err) = CliProcess.Run("train", "--state", state, "--logdir", logdir, "--resume", "--run", "tb");
        Assert.True(code == 0, $"resume failed ({code}): {err}\n{output}");
        Assert.Equal(first, await File.ReadAllBytesAsync(file));
        var second = Assert.Single(Directory.GetFiles(runDirectory, "events.out.tfevents.*"), f => f != file);
        var appended = EventReader.Read(second);
        Assert.Equal("brain.Event:2", Assert.Single(appended).FileVersion);
    }

    [Fact]
    public void A_logdir_under_a_file_is_refused_before_any_work()
    {
        string dir = TestConfigs.TempDirectory();
        string blocker = Path.Combine(dir, "file"),
            state = Path.Combine(dir, "state");
        File.WriteAllText(blocker, "not a directory");
        var (code, _, err) = CliProcess.Run(
            "train",
            "--state",
            state,
            "--logdir",
            Path.Combine(blocker, "tb"),
            "--set",
            "training.rounds=1"
        );
        Assert.Equal(2, code);
        Assert.Contains($"--logdir: '{blocker}' is a file", err);
        Assert.False(Directory.Exists(state), "a refused --logdir must not start a run");
    }

    /// <summary>An event as event.proto defines it, with only the fields a scalar summary uses.</summary>
    private sealed record Event(
        double WallTime,
        long Step,
        string? FileVersion,
        List<(string Tag, float Value)> Values
    );

    /// <summary>TFRecord + Event decoding from the specifications.</summary>
    private static class EventReader
    {
        /// <summary>CRC-32C, bit by bit: reflected polynomial 0x82F63B78, register preset to all ones, inverted at the
        /// end.</summary>
        public static uint Crc32C(ReadOnlySpan<byte> data)
        {
            uint crc = 0xFFFFFFFF;
            foreach (byte b in data)
            {
                crc ^= b;
                for (int k = 0; k < 8; k++)
                    crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
            }
            return ~crc;
        }

        /// <summary>TFRecord's masked CRC: rotate right by 15 bits, add 0xa282ead8 (mod 2^32).</summary>
        private static uint Masked(ReadOnlySpan<byte> data)
        {
            uint crc = Crc32C(data);
            return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8);
        }

        /// <summary>Each record: uint64 length, uint32 masked CRC of those 8 bytes, data, uint32 masked CRC of data
        /// (little endian).</summary>
        public static List<Event> Read(string path)
        {
            var bytes = File.ReadAllBytes(path);
            var events = new List<Event>();
            int at = 0;
            while (at < bytes.Length)
            {
                Assert.True(bytes.Length - at >= 12, $"{path}: truncated record header at {at}");
                var lengthBytes = bytes.AsSpan(at, 8);
                ulong length = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
                Assert.Equal(Masked(lengthBytes), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8, 4)));
                Assert.True((ulong)(bytes.Length - at - 16) >= length, $"{path}: truncated record at {at}");
                var data = bytes.AsSpan(at + 12, (int)length);
                Assert.Equal(
                    Masked(data),
                    BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12 + (int)length, 4))
                );
                events.Add(ParseEvent(data.ToArray()));
                at += 16 + (int)length;
            }
            return events;
        }

        // Event: wall_time = 1 (double), step = 2 (int64), file_version = 3 (string), summary = 5 (Summary).
        private static Event ParseEvent(byte[] data)
        {
            double wallTime = 0;
            long step = 0;
            string? version = null;
            var values = new List<(string, float)>();
            foreach (var f in Fields(data))
                switch (f.Number)
                {
                    case 1:
                        Assert.Equal(1, f.WireType);
                        wallTime = BitConverter.Int64BitsToDouble((long)f.Scalar);
                        break;
                    case 2:
                        Assert.Equal(0, f.WireType);
                        step = (long)f.Scalar;
                        break;
                    case 3:
                        Assert.Equal(2, f.WireType);
                        version = Encoding.UTF8.GetString(f.Bytes!);
                        break;
                    case 5:
                        Assert.Equal(2, f.WireType);
                        values.AddRange(ParseSummary(f.Bytes!));
                        break;
                }
            return new Event(wallTime, step, version, values);
        }

        // Summary: value = 1 (repeated Value); Value: tag = 1 (string), simple_value = 2 (float).
        private static IEnumerable<(string, float)> ParseSummary(byte[] data)
        {
            foreach (var v in Fields(data).Where(f => f.Number == 1))
            {
                string? tag = null;
                float? value = null;
                foreach (var f in Fields(v.Bytes!))
                {
                    if (f.Number == 1)
                        tag = Encoding.UTF8.GetString(f.Bytes!);
                    if (f.Number == 2)
                    {
                        Assert.Equal(5, f.WireType);
                        value = BitConverter.Int32BitsToSingle((int)f.Scalar);
                    }
                }
                yield return (
                    tag ?? throw new Xunit.Sdk.XunitException("a Value without a tag"),
                    value ?? throw new Xunit.Sdk.XunitException($"{tag}: no simple_value")
                );
            }
        }

        private sealed record Field(int Number, int WireType, ulong Scalar, byte[]? Bytes);

        /// <summary>Protobuf wire format: key = varint (field number &lt;&lt; 3 | wire type); 0 varint, 1 fixed64, 2
        /// length-delimited, 5 fixed32.</summary>
        private static List<Field> Fields(byte[] data)
        {
            var fields = new List<Field>();
            int at = 0;
            ulong Varint()
            {
                ulong result = 0;
                for (int shift = 0; ; shift += 7)
                {
                    byte b = data[at++];
                    result |= (ulong)(b & 0x7F) << shift;
                    if (b < 0x80)
                        return result;
                }
            }
            while (at < data.Length)
            {
                ulong key = Varint();
                int number = (int)(key >> 3),
                    wire = (int)(key & 7);
                switch (wire)
                {
                    case 0:
                        fields.Add(new Field(number, wire, Varint(), null));
                        break;
                    case 1:
                        fields.Add(
                            new Field(number, wire, BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(at, 8)), null)
                        );
                        at += 8;
                        break;
                    case 5:
                        fields.Add(
                            new Field(number, wire, BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at, 4)), null)
                        );
                        at += 4;
                        break;
                    case 2:
                        int length = (int)Varint();
                        fields.Add(new Field(number, wire, 0, data[at..(at + length)]));
                        at += length;
                        break;
                    default:
                        throw new Xunit.Sdk.XunitException($"unexpected wire type {wire} for field {number}");
                }
            }
            return fields;
        }
    }
}
