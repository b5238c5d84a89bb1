namespace Parallelize.Orleans.Grains;

/// <summary>The reply to a <see cref="CallBatch{TIn}"/>: one outcome per call, in the batch's order, where it ran and for how long.</summary>
/// <typeparam name="TOut">The type of the results.</typeparam>
/// <param name="Outcomes">One outcome per call of the batch.</param>
/// <param name="Host">The silo that ran the batch.</param>
/// <param name="RunTime">How long the batch's calls ran on the silo, without the round trip (zero if none ran): the client sizes its next messages on it.</param>
[GenerateSerializer]
[Immutable]
internal sealed record BatchReply<TOut>(
    [property: Id(0)] CallOutcome<TOut>[] Outcomes,
    [property: Id(1)] ExecutorHost Host,
    [property: Id(2)] TimeSpan RunTime = default);
