namespace Parallelize.Orleans.Client;

/// <summary>The counts for one silo. Written with interlocked operations by the slots on that silo; read by snapshots.</summary>
internal sealed class NodeCounters(string node)
{
    public long Dispatched;
    public long Batches;
    public long Succeeded;
    public long Failed;
    public long Lost;
    public long LateReplies;

    public string Node { get; } = node;

    /// <summary>Gets or sets the silo's name, once a start told it.</summary>
    public string? SiloName { get; set; }
}
