namespace Parallelize;

/// <summary>What became of the inputs of one stage of a pipeline.</summary>
/// <param name="Name">The stage's name: the one given, or its position and kind (for example <c>2: Then</c>).</param>
/// <param name="Completed">How many inputs the stage completed and passed on (for the final stage: how many it consumed).</param>
/// <param name="Aborted">The inputs the stage aborted because the pipeline was stopped: queued, in flight past the deadline, or refused on arrival.</param>
/// <param name="Failures">The inputs that failed for good in this stage, with their exceptions.</param>
public sealed record StageReport(string Name, long Completed, IReadOnlyList<object?> Aborted, IReadOnlyList<Failure<object?>> Failures);
