namespace Parallelize.Files;

/// <summary>A row that failed, as its executor saw it: its line number is resolved later, on the consumer's thread.</summary>
internal readonly record struct PendingRowFailure(int IndexInRange, long Offset, string Text, Exception Exception);

/// <summary>What an executor hands back for one range: its output and counts, or the exception that stopped it.</summary>
/// <typeparam name="TOutput">The per-range output.</typeparam>
internal sealed class RangeOutcome<TOutput>(FileRange range, TOutput? output, int rows, List<PendingRowFailure>? failures, Exception? exception)
    where TOutput : class
{
    public FileRange Range { get; } = range;

    /// <summary>Gets the output; <see langword="null"/> when the range failed before one was taken.</summary>
    public TOutput? Output { get; } = output;

    public int Rows { get; } = rows;

    public List<PendingRowFailure>? Failures { get; } = failures;

    /// <summary>Gets why the range failed as a whole; <see langword="null"/> when it was read to its end.</summary>
    public Exception? Exception { get; } = exception;
}
