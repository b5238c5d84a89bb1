namespace Parallelize.Orleans.Grains;

/// <summary>How one call ended on the silo: a result, or what the executor threw.</summary>
/// <typeparam name="TOut">The type of the results.</typeparam>
/// <param name="CallId">The call id from the batch.</param>
/// <param name="Status">How it ended.</param>
/// <param name="Result">The result when <paramref name="Status"/> is <see cref="CallStatus.Succeeded"/>.</param>
/// <param name="Failure">What was thrown when <paramref name="Status"/> is <see cref="CallStatus.Failed"/>.</param>
[GenerateSerializer]
[Immutable]
internal sealed record CallOutcome<TOut>(
    [property: Id(0)] long CallId,
    [property: Id(1)] CallStatus Status,
    [property: Id(2)] TOut? Result,
    [property: Id(3)] RemoteFailure? Failure);
