using Parallelize.Telemetry;

namespace Parallelize;

// Progress, logging and metrics: read from counts the pool keeps anyway (see PoolTelemetry).
public sealed partial class Parallelize<TIn, TOut>
{
    internal PoolTelemetry Telemetry => _telemetry;

    /// <summary>
    /// Gets a snapshot of the pool's progress: calls queued, running, completed, failed, retried, aborted, restarts,
    /// throughput and an estimate of the time left. Cheap: it reads the counts the pool keeps anyway, without
    /// stopping or slowing the calls. To be told periodically instead, set <see cref="ParallelizeOptions.Progress"/>.
    /// </summary>
    /// <returns>The snapshot; after the pool has stopped, the final counts.</returns>
    public ParallelizeProgress GetProgress() => _telemetry.Snapshot();

    /// <summary>
    /// Tells the pool how many calls it will be given in all (see <see cref="ParallelizeOptions.ExpectedCalls"/>), once
    /// that is known: progress reports a percentage and estimates the time left from it.
    /// </summary>
    /// <param name="total">The number of calls in all, made and to be made.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="total"/> is negative.</exception>
    public void SetExpectedCalls(long total)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        Interlocked.Exchange(ref _expectedCalls, total);
    }

    // Lock-free reads. Delivered is read before Failures, and a failure is added to Failures before it counts as
    // delivered, so a failure never shows as a completion; at worst one shows late.
    private PoolCounts ReadCounts()
    {
        long delivered = _sink.Delivered;
        long failed = _sink.Failures.Count;
        int waiting = _scheduler.Count;
        return new PoolCounts(
            Accepted: _queue.Accepted,
            Queued: _queue.Count + _queue.RetriesQueued + waiting,
            Running: Math.Max(0, _queue.InFlight - waiting),
            Succeeded: Math.Max(0, delivered - failed),
            Failed: failed,
            Retried: Interlocked.Read(ref _retries),
            Restarted: Interlocked.Read(ref _restarts),
            Aborted: Interlocked.Read(ref _abortedCount),
            Executors: _runners.Length,
            RetiredExecutors: _runners.Length - Volatile.Read(ref _liveRunners),
            IsFaulted: Volatile.Read(ref _fault) is not null,
            IsPaused: _outages.IsPaused,
            ExpectedCalls: Interlocked.Read(ref _expectedCalls),
            Outages: _outages.Pauses,
            LateOutcomes: LateOutcomes);
    }
}
