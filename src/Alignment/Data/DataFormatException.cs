namespace AlignCluster.Alignment.Data;

/// <summary>The classes of bad input a preference-data reader reports.</summary>
public enum DataErrorKind
{
    /// <summary>The line is not valid JSON, or not a JSON object.</summary>
    MalformedJson,

    /// <summary>A required field is absent (or null).</summary>
    MissingField,

    /// <summary>A field has the wrong JSON type (e.g. a string where a number is expected).</summary>
    WrongType,

    /// <summary>The bytes of the line are not valid UTF-8.</summary>
    BadUtf8,

    /// <summary>A score or rank is NaN or infinite (or too large to represent).</summary>
    NonFiniteNumber,

    /// <summary>Two records have the same prompt id.</summary>
    DuplicatePromptId,

    /// <summary>The file holds no records.</summary>
    EmptyFile,

    /// <summary>A value is well-typed but not allowed (e.g. a record matching no known format).</summary>
    InvalidValue,
}

/// <summary>
/// Bad preference data. <see cref="Exception.Message"/> reads <c>file:line: field: what is wrong</c>, so a user
/// can open the file at the right place without a stack trace.
/// </summary>
public sealed class DataFormatException(DataErrorKind kind, string file, int line, string? field, string detail)
    : Exception(Format(file, line, field, detail))
{
    public DataErrorKind Kind { get; } = kind;
    public string File { get; } = file;

    /// <summary>1-based line number; 0 when the error concerns the whole file.</summary>
    public int Line { get; } = line;

    /// <summary>JSON path of the offending field, e.g. <c>answers[2].rank</c>; null when not field-specific.</summary>
    public string? Field { get; } = field;
    public string Detail { get; } = detail;

    private static string Format(string file, int line, string? field, string detail) =>
        (line > 0 ? $"{file}:{line}" : file) + (field is null ? "" : $": field '{field}'") + $": {detail}";
}
