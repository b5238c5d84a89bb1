using System.Diagnostics;
using System.Globalization;

namespace Parallelize.Files;

/// <summary>A row that failed: its position, its text (shortened) and the exception.</summary>
[DebuggerDisplay("{ToString()}")]
public sealed class RowFailure
{
    internal RowFailure(FileRange range, long line, long offset, string text, Exception exception)
    {
        Range = range;
        Line = line;
        Offset = offset;
        Text = text;
        Exception = exception;
    }

    /// <summary>Gets the file the row is in.</summary>
    public string Path => Range.Path;

    /// <summary>Gets the row's 1-based line number in its file.</summary>
    public long Line { get; }

    /// <summary>Gets the byte offset of the row's first byte in its file.</summary>
    public long Offset { get; }

    /// <summary>Gets the row's text, decoded from UTF-8, cut to its first 256 bytes.</summary>
    public string Text { get; }

    /// <summary>Gets what the row action threw, or the <see cref="InvalidDataException"/> of a line longer than <see cref="FileSourceOptions.MaxLineLength"/>.</summary>
    public Exception Exception { get; }

    /// <summary>Gets the range the row belongs to.</summary>
    public FileRange Range { get; }

    /// <summary>Describes the failure as <c>path:line (byte offset N): message</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Path}:{Line} (byte offset {Offset}): {Exception.Message}");
}
