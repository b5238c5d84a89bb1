using System.Diagnostics;
using System.Text;

namespace Parallelize.Files;

/// <summary>
/// One line of a file as UTF-8 bytes, without its line break (<c>\n</c> or <c>\r\n</c>), with where it is. Valid
/// only during the call it is passed to: the bytes are the executor's read buffer, reused for the next range.
/// </summary>
[DebuggerDisplay("{Path} @{Offset}: {ToString()}")]
public readonly ref struct FileRow
{
    internal FileRow(ReadOnlySpan<byte> bytes, string path, long offset, int indexInRange)
    {
        Bytes = bytes;
        Path = path;
        Offset = offset;
        IndexInRange = indexInRange;
    }

    /// <summary>Gets the line's bytes (UTF-8), without the line break; empty for an empty line.</summary>
    public ReadOnlySpan<byte> Bytes { get; }

    /// <summary>Gets the file the line is in.</summary>
    public string Path { get; }

    /// <summary>Gets the byte offset of the line's first byte in its file.</summary>
    public long Offset { get; }

    /// <summary>
    /// Gets the line's 0-based index among the lines of its range. Its line number in the file is known only once
    /// the earlier ranges have been counted: see <see cref="RangeResult{TOutput}.FirstLine"/> and
    /// <see cref="RowFailure.Line"/>.
    /// </summary>
    public int IndexInRange { get; }

    /// <summary>Decodes the line as a string (an allocation per call: use <see cref="Bytes"/> on hot paths).</summary>
    /// <returns>The line's text.</returns>
    public override string ToString() => Encoding.UTF8.GetString(Bytes);
}
