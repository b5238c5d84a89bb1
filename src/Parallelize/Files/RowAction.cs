namespace Parallelize.Files;

/// <summary>Processes one row of a range into the range's output. Runs on an executor's thread.</summary>
/// <typeparam name="TOutput">The per-range output the row writes to.</typeparam>
/// <param name="row">The row: its bytes and position, valid only during the call.</param>
/// <param name="output">The output of the row's range; only this call's executor touches it until the range is consumed.</param>
/// <remarks>
/// An exception fails this row only: the row ends in <see cref="FileRunResult.RowFailures"/> with its position, and
/// the next row is processed. Write to <paramref name="output"/> only once nothing can throw any more, so that a failed
/// row leaves no trace in it.
/// </remarks>
public delegate void RowAction<in TOutput>(FileRow row, TOutput output);
