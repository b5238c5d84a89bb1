namespace Parallelize;

/// <summary>
/// The names of the metrics every pool publishes through <see cref="System.Diagnostics.Metrics"/>, for
/// <c>dotnet-counters monitor --counters Parallelize</c> and OpenTelemetry (<c>AddMeter(ParallelizeMetrics.MeterName)</c>).
/// </summary>
/// <remarks>
/// <para>The meter comes from <see cref="ParallelizeOptions.MeterFactory"/> when one is given, else from one meter
/// shared by the process. Each measurement carries the tag <see cref="PoolNameTag"/> when the pool has a
/// <see cref="ParallelizeOptions.Name"/>; pools with the same name (or none) add up.</para>
/// <para><b>Cost.</b> The counts are observable instruments read from the counts the pool keeps anyway, only when a
/// listener collects them, so they cost the calls nothing. Only <see cref="CallDuration"/> is recorded per call, and
/// only while a listener is subscribed to it: each executor checks that once per batch of calls.</para>
/// </remarks>
public static class ParallelizeMetrics
{
    /// <summary>The name of the meter: <c>Parallelize</c>.</summary>
    public const string MeterName = "Parallelize";

    /// <summary>The tag that carries <see cref="ParallelizeOptions.Name"/>.</summary>
    public const string PoolNameTag = "parallelize.pool.name";

    /// <summary>Observable counter (<c>{call}</c>): calls accepted.</summary>
    public const string Calls = "parallelize.calls";

    /// <summary>Observable counter (<c>{call}</c>): calls that ended with a result.</summary>
    public const string Succeeded = "parallelize.succeeded";

    /// <summary>Observable counter (<c>{call}</c>): calls that used up their attempts.</summary>
    public const string Failures = "parallelize.failures";

    /// <summary>Observable counter (<c>{restart}</c>): executors restarted after a fault.</summary>
    public const string Restarts = "parallelize.restarts";

    /// <summary>Observable counter (<c>{retry}</c>): calls queued again for another attempt.</summary>
    public const string Retries = "parallelize.retries";

    /// <summary>Observable counter (<c>{call}</c>): calls aborted by <c>Stop</c>.</summary>
    public const string Aborted = "parallelize.aborted";

    /// <summary>Observable up-down counter (<c>{call}</c>): calls queued and not yet taken by an executor.</summary>
    public const string Queued = "parallelize.queued";

    /// <summary>Observable up-down counter (<c>{call}</c>): calls taken by executors and not yet settled.</summary>
    public const string InFlight = "parallelize.in_flight";

    /// <summary>Observable counter (<c>{outage}</c>): outages that paused the pool (see <see cref="OutageOptions"/>).</summary>
    public const string Outages = "parallelize.outages";

    /// <summary>Observable up-down counter (<c>{pool}</c>): pools paused by an outage now (0 or 1 for one pool).</summary>
    public const string Paused = "parallelize.paused";

    /// <summary>Observable up-down counter (<c>{executor}</c>): executors the restart policy has retired.</summary>
    public const string RetiredExecutors = "parallelize.executors.retired";

    /// <summary>Histogram (<c>s</c>): the duration of each call that returned a result, by <see cref="ParallelizeOptions.TimeProvider"/>.</summary>
    public const string CallDuration = "parallelize.call.duration";
}
