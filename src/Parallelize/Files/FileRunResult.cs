using System.Diagnostics;

namespace Parallelize.Files;

/// <summary>
/// How a run of a <see cref="FileSource"/> ended. Every range of the source is in exactly one place: consumed
/// (<see cref="RangesConsumed"/>), in <see cref="RangeFailures"/>, or in <see cref="Aborted"/>; every row of a consumed
/// range was either processed or is in <see cref="RowFailures"/>.
/// </summary>
[DebuggerDisplay("consumed {RangesConsumed}, failed {RangeFailures.Count}, aborted {Aborted.Count}, rows {Rows}, failed rows {RowFailures.Count}")]
public sealed class FileRunResult
{
    internal FileRunResult(int rangesConsumed, long rows, IReadOnlyList<RowFailure> rowFailures, IReadOnlyList<RangeFailure> rangeFailures, IReadOnlyList<FileRange> aborted, bool stopped)
    {
        RangesConsumed = rangesConsumed;
        Rows = rows;
        RowFailures = rowFailures;
        RangeFailures = rangeFailures;
        Aborted = aborted;
        Stopped = stopped;
    }

    /// <summary>Gets how many ranges were handed to the consumer.</summary>
    public int RangesConsumed { get; }

    /// <summary>Gets how many rows the consumed ranges own, failed rows included.</summary>
    public long Rows { get; }

    /// <summary>Gets the rows that failed, in file order, each with its file, line number and byte offset.</summary>
    public IReadOnlyList<RowFailure> RowFailures { get; }

    /// <summary>Gets the ranges that could not be read, in file order.</summary>
    public IReadOnlyList<RangeFailure> RangeFailures { get; }

    /// <summary>
    /// Gets the ranges the run did not hand to the consumer because it was stopped, in file order: never started,
    /// cancelled while running, or done but not yet consumed. Run them again (a source over the same files) to
    /// finish the job; the row action may already have seen some of their rows.
    /// </summary>
    public IReadOnlyList<FileRange> Aborted { get; }

    /// <summary>Gets a value indicating whether the run was stopped by its cancellation token.</summary>
    public bool Stopped { get; }

    /// <summary>Gets a value indicating whether every range was consumed and no row failed.</summary>
    public bool Succeeded => RowFailures.Count == 0 && RangeFailures.Count == 0 && Aborted.Count == 0;
}
