using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Parallelize.Orleans;

/// <summary>
/// Options of the executors that <see cref="OrleansExecutors"/> creates on an Orleans cluster. Every property has a
/// documented default; values are checked when set.
/// </summary>
/// <remarks>
/// The pool's own options (<see cref="ParallelizeOptions"/>: attempts, restarts, bounded capacity, progress, its
/// logger and meter) still apply on the client; these say how the executors live on the cluster.
/// </remarks>
public sealed record OrleansExecutorOptions
{
    private readonly string? _name;
    private readonly TimeSpan _membershipRefreshInterval = TimeSpan.FromSeconds(1);
    private readonly TimeSpan _suspectDuration = TimeSpan.FromSeconds(10);
    private readonly TimeSpan _stopTimeout = TimeSpan.FromSeconds(5);
    private readonly TimeSpan _replyProbeInterval = TimeSpan.FromSeconds(2);
    private readonly int _maxBatchSize = 64;

    /// <summary>
    /// Gets the name of the executor set: the first part of its grains' keys, the <c>parallelize.pool.name</c> tag of
    /// its metrics and the pool name in its log messages. Two clients running at once must use different names.
    /// </summary>
    /// <value>Not empty and without <c>/</c>, or <see langword="null"/> for a new unique name each time. The default is <see langword="null"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is empty or contains <c>/</c>.</exception>
    public string? Name
    {
        get => _name;
        init => _name = value is null || (value.Length > 0 && !value.Contains('/', StringComparison.Ordinal))
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Name), value, "Name must not be empty or contain '/'.");
    }

    /// <summary>
    /// Gets how often the client reads the cluster's active silos. A silo the membership no longer lists as active is
    /// lost: the calls in flight on it are queued again at once, without using their attempts. A silo that joins
    /// receives executors.
    /// </summary>
    /// <value>Greater than zero. The default is one second.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public TimeSpan MembershipRefreshInterval
    {
        get => _membershipRefreshInterval;
        init => _membershipRefreshInterval = value > TimeSpan.Zero
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MembershipRefreshInterval), value, "MembershipRefreshInterval must be greater than zero.");
    }

    /// <summary>
    /// Gets how long a silo that a call could not reach is avoided when executors are placed, even while the
    /// membership still lists it as active (it may be dying).
    /// </summary>
    /// <value>Zero or more; zero never avoids one. The default is ten seconds.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan SuspectDuration
    {
        get => _suspectDuration;
        init => _suspectDuration = value >= TimeSpan.Zero
            ? value
            : throw new ArgumentOutOfRangeException(nameof(SuspectDuration), value, "SuspectDuration must not be negative.");
    }

    /// <summary>
    /// Gets how long a call waits for its reply before asking its grain (and again each time this passes) whether the
    /// call is still running. A call to a live silo loses its reply when the gateway it went through dies, and Orleans
    /// would time it out only after its response timeout; the probe instead finds the reply on the grain, or finds that
    /// the call never arrived, fences it off there and sends it again. A probe that gets no answer means the silo is lost.
    /// </summary>
    /// <value>Greater than zero. The default is two seconds.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public TimeSpan ReplyProbeInterval
    {
        get => _replyProbeInterval;
        init => _replyProbeInterval = value > TimeSpan.Zero
            ? value
            : throw new ArgumentOutOfRangeException(nameof(ReplyProbeInterval), value, "ReplyProbeInterval must be greater than zero.");
    }

    /// <summary>
    /// Gets the most calls one grain message carries. The pool sizes each executor's lease of calls itself — one call
    /// when calls are slow, more when they are tiny — and a lease goes to the grain as one message, so this only caps
    /// it: larger batches spread the cost of a message over more calls, and hold the results of a batch until its last
    /// call is done on the silo.
    /// </summary>
    /// <value>From 1 (one call per message) to 256, the pool's largest lease. The default is 64.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1 or more than 256.</exception>
    public int MaxBatchSize
    {
        get => _maxBatchSize;
        init => _maxBatchSize = value is >= 1 and <= Parallelize.Core.SlotRunner<int, int>.MaxBatch
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), value, "MaxBatchSize must be from 1 to 256.");
    }

    /// <summary>Gets how long disposing an executor waits for its grain to dispose the user's executor.</summary>
    /// <value>Zero or more. The default is five seconds.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan StopTimeout
    {
        get => _stopTimeout;
        init => _stopTimeout = value >= TimeSpan.Zero
            ? value
            : throw new ArgumentOutOfRangeException(nameof(StopTimeout), value, "StopTimeout must not be negative.");
    }

    /// <summary>
    /// Gets a value indicating whether executors move to a silo that joins the cluster, so that it receives work:
    /// while one silo hosts two or more executors more than another, an executor of the busier one moves between two
    /// leases of calls (a new grain is created on the other silo, then the old one is stopped); a move is not a restart.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool Rebalance { get; init; } = true;

    /// <summary>Gets the logger for where executors run: placements, lost silos, moves, late replies.</summary>
    /// <value>The default is <see langword="null"/> (silent).</value>
    public ILogger? Logger { get; init; }

    /// <summary>Gets the factory of the <c>Parallelize.Orleans</c> meter (see <see cref="ClusterMetrics"/>).</summary>
    /// <value>The default is <see langword="null"/>: a meter of this executor set's own.</value>
    public IMeterFactory? MeterFactory { get; init; }
}
