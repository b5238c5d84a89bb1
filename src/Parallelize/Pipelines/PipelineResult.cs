namespace Parallelize.Pipelines;

/// <summary>The outcome of running a pipeline: the final stage's value, and what became of every stage's inputs.</summary>
/// <typeparam name="TResult">The type of the final stage's value.</typeparam>
/// <param name="Value">The reduced value (for <c>ForEach</c>, the number of items consumed).</param>
/// <param name="Stopped"><see langword="true"/> if the run was cancelled, so stages aborted inputs (see <see cref="StageReport.AbortedCount"/>).</param>
/// <param name="Stages">One report per stage, in order, the final sequential stage last.</param>
public sealed record PipelineResult<TResult>(TResult Value, bool Stopped, IReadOnlyList<StageReport> Stages)
{
    /// <summary>Gets the report of stage <paramref name="index"/> (0 for the first) with its inputs typed.</summary>
    /// <typeparam name="TIn">The type of the stage's inputs.</typeparam>
    /// <param name="index">The stage's position.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not the position of a stage.</exception>
    /// <exception cref="InvalidCastException">The stage's inputs are not of type <typeparamref name="TIn"/>.</exception>
    public StageReport<TIn> Stage<TIn>(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Stages.Count);
        return Stages[index] as StageReport<TIn>
            ?? throw new InvalidCastException($"Stage {index} ({Stages[index].Name}) takes inputs of another type than {typeof(TIn).Name}.");
    }
}
