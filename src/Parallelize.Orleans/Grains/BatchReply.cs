namespace Parallelize.Orleans.Grains;

/// <summary>The reply to a <see cref="CallBatch{TIn}"/>: one outcome per call, in the batch's order, and where it ran.</summary>
/// <typeparam name="TOut">The type of the results.</typeparam>
/// <param name="Outcomes">One outcome per call of the batch.</param>
/// <param name="Host">The silo that ran the batch.</param>
[GenerateSerializer]
[Immutable]
internal sealed record BatchReply<TOut>(
    [property: Id(0)] CallOutcome<TOut>[] Outcomes,
    [property: Id(1)] ExecutorHost Host);
