namespace Parallelize.Orleans;

/// <summary>
/// The client's ledger of calls sent to the cluster, by call id: each dispatch of an input gets a call id and ends in
/// exactly one state (completed, failed, lost, cancelled by a stop); a reply for a call already lost or cancelled is
/// dropped and counted as late.
/// </summary>
/// <param name="Dispatched">Calls sent to executors (every attempt of every input).</param>
/// <param name="Completed">Calls that returned a result.</param>
/// <param name="Failed">Calls whose executor threw, or that failed in transport.</param>
/// <param name="Lost">Calls in flight on a silo that was lost.</param>
/// <param name="Redispatched">Lost calls whose input was sent again.</param>
/// <param name="CancelledByStop">Calls in flight when the pool's stop cancelled them.</param>
/// <param name="LateReplies">Replies for calls already lost or cancelled, dropped: proof that the call did run.</param>
/// <param name="RecoveredReplies">Replies lost on the way (their gateway died) and taken from the grain by a probe instead.</param>
/// <param name="Resent">Calls lost on the way to a live grain, found not received by a probe (and fenced off there), and sent again.</param>
/// <param name="InFlight">Calls sent and not yet ended.</param>
/// <param name="Nodes">The same, per silo.</param>
public sealed record ClusterStatistics(
    long Dispatched,
    long Completed,
    long Failed,
    long Lost,
    long Redispatched,
    long CancelledByStop,
    long LateReplies,
    long RecoveredReplies,
    long Resent,
    long InFlight,
    IReadOnlyList<NodeStatistics> Nodes);
