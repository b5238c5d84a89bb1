namespace Parallelize.Orleans;

/// <summary>The names of the <c>Parallelize.Orleans</c> meter and its instruments, tagged by pool and silo.</summary>
/// <remarks>
/// The counts are observable: a collection reads the executors' counts, so calls pay nothing for them. Watch them with
/// <c>dotnet-counters monitor --counters Parallelize.Orleans</c> or add the meter to OpenTelemetry.
/// </remarks>
public static class ClusterMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Parallelize.Orleans";

    /// <summary>Calls sent to a silo (counter, tagged with the silo).</summary>
    public const string Dispatched = "parallelize.cluster.dispatched";

    /// <summary>Grain messages that carried calls to a silo (counter): calls sent divided by this is the mean batch.</summary>
    public const string Batches = "parallelize.cluster.batches";

    /// <summary>Calls a silo returned a result for (counter).</summary>
    public const string Succeeded = "parallelize.cluster.succeeded";

    /// <summary>Calls whose executor threw on a silo (counter).</summary>
    public const string Failed = "parallelize.cluster.failed";

    /// <summary>Calls in flight on a silo when it was lost (counter); the pool queued each again without using an attempt.</summary>
    public const string Lost = "parallelize.cluster.lost";

    /// <summary>Replies dropped because their call was already lost or cancelled (counter).</summary>
    public const string LateReplies = "parallelize.cluster.late_replies";

    /// <summary>Executors placed on a silo now (up-down counter).</summary>
    public const string Executors = "parallelize.cluster.executors";

    /// <summary>The tag naming the pool (<see cref="OrleansExecutorOptions.Name"/>).</summary>
    public const string PoolNameTag = "parallelize.pool.name";

    /// <summary>The tag naming the silo (its address).</summary>
    public const string NodeTag = "parallelize.node";
}
