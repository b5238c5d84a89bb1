namespace Parallelize;

/// <summary>The outcome of running a pipeline: the final stage's value, and what became of every stage's inputs.</summary>
/// <typeparam name="TResult">The type of the final stage's value.</typeparam>
/// <param name="Value">The reduced value (for <c>ForEach</c>, the number of items consumed).</param>
/// <param name="Stopped"><see langword="true"/> if the run was cancelled, so stages aborted inputs (see <see cref="StageReport.Aborted"/>).</param>
/// <param name="Stages">One report per stage, in order, the final sequential stage last.</param>
public sealed record PipelineResult<TResult>(TResult Value, bool Stopped, IReadOnlyList<StageReport> Stages);
