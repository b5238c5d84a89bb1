namespace Parallelize.Orleans;

/// <summary>What one silo did for an executor set.</summary>
/// <param name="Node">The silo's address.</param>
/// <param name="SiloName">The silo's name, when known.</param>
/// <param name="IsActive">Whether the cluster's membership lists it as active now.</param>
/// <param name="Executors">Executors placed on it now.</param>
/// <param name="Dispatched">Calls sent to it.</param>
/// <param name="Batches">Grain messages that carried them.</param>
/// <param name="Succeeded">Calls it returned a result for.</param>
/// <param name="Failed">Calls whose executor threw there.</param>
/// <param name="Lost">Calls in flight on it when it was lost (the pool queued each again).</param>
/// <param name="LateReplies">Replies it sent for calls already lost or cancelled, dropped.</param>
public sealed record NodeStatistics(
    string Node,
    string? SiloName,
    bool IsActive,
    int Executors,
    long Dispatched,
    long Batches,
    long Succeeded,
    long Failed,
    long Lost,
    long LateReplies);
