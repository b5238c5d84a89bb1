namespace Parallelize.Orleans.Grains;

/// <summary>Calls sent to one executor grain in one message (one lease of the pool): each input with the pool's id of its call.</summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <remarks>
/// <paramref name="BatchId"/> grows with every batch a client sends to one grain, so the grain can tell a cancellation
/// that arrives before its batch from one that arrives after.
/// </remarks>
/// <param name="BatchId">The batch's id, unique per grain and increasing.</param>
/// <param name="CallIds">The call ids, one per input.</param>
/// <param name="Inputs">The inputs, in the order they are run.</param>
[GenerateSerializer]
[Immutable]
internal sealed record CallBatch<TIn>(
    [property: Id(0)] long BatchId,
    [property: Id(1)] long[] CallIds,
    [property: Id(2)] TIn[] Inputs);
