namespace Parallelize.Orleans.Grains;

/// <summary>The answer to a probe: where a batch is, and its reply if it has ended.</summary>
/// <typeparam name="TOut">The type of the results.</typeparam>
/// <param name="Progress">Where the batch is.</param>
/// <param name="Reply">The batch's reply when <paramref name="Progress"/> is <see cref="BatchProgress.Done"/>.</param>
/// <param name="Host">Where the answering activation runs. An answer from another activation than the one the batch
/// was sent to says nothing of the batch: the first activation is gone (with its silo), and the batch may have run there.</param>
[GenerateSerializer]
[Immutable]
internal sealed record ProbeReply<TOut>(
    [property: Id(0)] BatchProgress Progress,
    [property: Id(1)] BatchReply<TOut>? Reply,
    [property: Id(2)] ExecutorHost Host);
