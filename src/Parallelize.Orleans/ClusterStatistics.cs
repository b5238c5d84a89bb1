namespace Parallelize.Orleans;

/// <summary>
/// What the executors of a set did on the cluster, as their client saw it: calls sent, grain messages, how the calls
/// ended there, and replies that came too late to count.
/// </summary>
/// <remarks>
/// The pool itself accounts for every input exactly once (<c>Results</c>, <c>Failures</c>, <c>Aborted</c>); these counts
/// say what happened on the way. A call sent ends here in one of <see cref="Succeeded"/>, <see cref="Failed"/>,
/// <see cref="Lost"/> or <see cref="CancelledByStop"/> (or is still in flight); a reply for a call already lost or
/// cancelled is counted in <see cref="LateReplies"/> too, and dropped by the pool
/// (<see cref="ParallelizeProgress.LateOutcomes"/>).
/// </remarks>
/// <param name="Dispatched">Calls sent to executors (every attempt of every input; a call sent again after a lost message counts once).</param>
/// <param name="Batches">Grain messages that carried calls: <see cref="Dispatched"/> divided by this is the mean batch.</param>
/// <param name="Succeeded">Calls that returned a result the pool took.</param>
/// <param name="Failed">Calls whose executor threw (or whose reply could not be read), reported to the pool as a failed attempt.</param>
/// <param name="Lost">Calls in flight on an executor when it was lost with its silo; the pool queued each again without using an attempt.</param>
/// <param name="Redispatched">Lost calls sent again to an executor.</param>
/// <param name="CancelledByStop">Calls in flight when the pool's stop gave up on them: cancelled on their silos, and aborted with their outcome unknown.</param>
/// <param name="LateReplies">Replies for calls already lost or cancelled, dropped: proof that the call did run.</param>
/// <param name="RecoveredReplies">Replies lost on the way (their gateway died) and taken from the grain by a probe instead.</param>
/// <param name="Resent">Grain messages lost on the way to a live grain, found not received by a probe (and fenced off there), and sent again.</param>
/// <param name="Nodes">The same, per silo.</param>
public sealed record ClusterStatistics(
    long Dispatched,
    long Batches,
    long Succeeded,
    long Failed,
    long Lost,
    long Redispatched,
    long CancelledByStop,
    long LateReplies,
    long RecoveredReplies,
    long Resent,
    IReadOnlyList<NodeStatistics> Nodes);
