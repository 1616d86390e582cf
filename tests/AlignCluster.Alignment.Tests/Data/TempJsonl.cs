using System.Text;
using AlignCluster.Alignment.Data;

namespace AlignCluster.Alignment.Tests.Data;

/// <summary>Writes JSONL test files into a temp directory and reads them back through the public reader.</summary>
internal static class TempJsonl
{
    public static string Write(params string[] lines) =>
        WriteBytes(Encoding.UTF8.GetBytes(string.Join('\n', lines) + (lines.Length > 0 ? "\n" : "")));

    public static string WriteBytes(byte[] bytes)
    {
        string dir = Path.Combine(Path.GetTempPath(), "aligncluster-alignment-tests");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, Guid.NewGuid().ToString("n") + ".jsonl");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public static (List<PromptCandidates> Prompts, ReadReport Report) Read(params string[] lines) =>
        PreferenceReader.ReadAll(Write(lines));

    public static DataFormatException Fails(params string[] lines)
    {
        string path = Write(lines);
        return Assert.Throws<DataFormatException>(() => PreferenceReader.ReadAll(path));
    }
}
