using System.Diagnostics;

namespace Parallelize.Files;

/// <summary>A processed range as the consumer sees it: its output and its row counts.</summary>
/// <typeparam name="TOutput">The per-range output.</typeparam>
[DebuggerDisplay("{Range}: {Rows} rows, {FailedRows} failed")]
public sealed class RangeResult<TOutput>
{
    internal RangeResult(FileRange range, long? firstLine, int rows, int failedRows, TOutput output)
    {
        Range = range;
        FirstLine = firstLine;
        Rows = rows;
        FailedRows = failedRows;
        Output = output;
    }

    /// <summary>Gets the range.</summary>
    public FileRange Range { get; }

    /// <summary>
    /// Gets the 1-based line number, in its file, of the range's first row; <see langword="null"/> while an earlier
    /// range of the file has not been counted (with <see cref="FileSourceOptions.Ordered"/> off, an earlier range
    /// still running; in either mode, an earlier range that failed).
    /// </summary>
    public long? FirstLine { get; }

    /// <summary>Gets the number of rows (lines) the range owns, failed ones included.</summary>
    public int Rows { get; }

    /// <summary>Gets how many of the rows failed; they are in <see cref="FileRunResult.RowFailures"/> when the run ends.</summary>
    public int FailedRows { get; }

    /// <summary>
    /// Gets the output the range's rows were written to. Valid until the consumer returns: when the run was given a
    /// reset action, the object is then reset and reused for another range.
    /// </summary>
    public TOutput Output { get; }
}
