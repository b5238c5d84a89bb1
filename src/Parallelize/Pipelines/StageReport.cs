namespace Parallelize.Pipelines;

/// <summary>What became of the inputs of one stage of a pipeline; <see cref="StageReport{TIn}"/> has them, typed.</summary>
/// <param name="Name">The stage's name: the one given, or its position and kind (for example <c>2: Then</c>).</param>
/// <param name="Succeeded">How many inputs the stage ran successfully and passed on (for the final stage: how many it consumed).</param>
public abstract record StageReport(string Name, long Succeeded)
{
    /// <summary>Gets how many inputs the stage aborted because the pipeline was stopped.</summary>
    public abstract int AbortedCount { get; }

    /// <summary>Gets how many inputs failed for good in this stage.</summary>
    public abstract int FailedCount { get; }

    /// <summary>Gets the last exception of each input that failed for good, with its place in the stage's inputs (1-based), in the order they failed.</summary>
    public abstract IReadOnlyList<(long CallNumber, Exception Exception)> FailureExceptions { get; }
}

/// <summary>What became of the inputs of one stage of a pipeline whose inputs are <typeparamref name="TIn"/>.</summary>
/// <typeparam name="TIn">The type of the stage's inputs.</typeparam>
/// <param name="Name">The stage's name.</param>
/// <param name="Succeeded">How many inputs the stage ran successfully and passed on.</param>
/// <param name="Aborted">The inputs the stage aborted because the pipeline was stopped: queued, in flight past the deadline, or refused on arrival.</param>
/// <param name="Failures">The inputs that failed for good in this stage, with their exceptions and their place in the stage's inputs (<see cref="Failure{TIn}.CallNumber"/>).</param>
public sealed record StageReport<TIn>(string Name, long Succeeded, IReadOnlyList<TIn> Aborted, IReadOnlyList<Failure<TIn>> Failures)
    : StageReport(Name, Succeeded)
{
    /// <inheritdoc/>
    public override int AbortedCount => Aborted.Count;

    /// <inheritdoc/>
    public override int FailedCount => Failures.Count;

    /// <inheritdoc/>
    public override IReadOnlyList<(long CallNumber, Exception Exception)> FailureExceptions =>
        [.. Failures.Select(static f => (f.CallNumber, f.Exceptions.Count > 0 ? f.Exceptions[^1] : new InvalidOperationException("The input failed.")))];
}
