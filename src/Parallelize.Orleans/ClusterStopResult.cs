namespace Parallelize.Orleans;

/// <summary>The inputs a stopped cluster pool aborted, split by what may have happened to them.</summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <param name="NeverStarted">Inputs never sent to a silo: no executor saw them.</param>
/// <param name="OutcomeUnknown">Inputs that were running on a silo when the run stopped (or whose silo was lost and
/// that were not sent again): the executor may have run them, in part or in full.</param>
/// <remarks>Together they are exactly the inputs the pool's <c>Stop</c> returned, each in call order. Inputs are told
/// apart by value (<see cref="EqualityComparer{T}.Default"/>): of two equal inputs, either may be counted as the one
/// that ran.</remarks>
public sealed record ClusterStopResult<TIn>(IReadOnlyList<TIn> NeverStarted, IReadOnlyList<TIn> OutcomeUnknown)
{
    /// <summary>Gets the number of aborted inputs.</summary>
    public int Count => NeverStarted.Count + OutcomeUnknown.Count;
}
