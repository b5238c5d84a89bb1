namespace Parallelize;

/// <summary>
/// A snapshot of a pool's progress: where its calls are, how fast they end, and how long the rest may take.
/// Get one with <see cref="Parallelize{TIn, TOut}.GetProgress"/>, or have the pool push one to
/// <see cref="ParallelizeOptions.Progress"/> every <see cref="ParallelizeOptions.ProgressInterval"/>.
/// </summary>
/// <remarks>
/// The counts are read one after another without stopping the pool, so while it runs they may be a batch apart
/// (a call may show as ended before it no longer shows as running). Once the pool has stopped
/// (<see cref="IsStopped"/>) they are final and <c>Accepted = Succeeded + Failed + Aborted</c>.
/// </remarks>
public sealed record ParallelizeProgress
{
    /// <summary>Gets the calls accepted so far (each input counts once, however often it is retried).</summary>
    public long Accepted { get; init; }

    /// <summary>Gets the calls waiting in the queue, not yet taken by an executor (retries waiting their turn included).</summary>
    public int Queued { get; init; }

    /// <summary>Gets the calls taken by executors and not yet settled: running, or next in an executor's batch.</summary>
    public int Running { get; init; }

    /// <summary>Gets the calls that ended with a result (in <c>Results</c> or the result stream).</summary>
    public long Succeeded { get; init; }

    /// <summary>Gets the calls that used up their attempts (in <c>Failures</c>).</summary>
    public long Failed { get; init; }

    /// <summary>Gets how many times a call was queued again for another attempt.</summary>
    public long Retried { get; init; }

    /// <summary>Gets how many times an executor was restarted after a fault.</summary>
    public long Restarted { get; init; }

    /// <summary>Gets the calls aborted by <c>Stop</c> (those it returned, and while it runs those known so far).</summary>
    public long Aborted { get; init; }

    /// <summary>
    /// Gets the calls ending (with a result or a failure) per second over the last few seconds (about five); 0 until
    /// the pool has run for a measurable time.
    /// </summary>
    public double Throughput { get; init; }

    /// <summary>
    /// Gets an estimate of the time the calls left need to end at <see cref="Throughput"/>: <see cref="TimeSpan.Zero"/>
    /// when none are left, <see langword="null"/> when unknown (nothing has ended recently). The calls left are those not
    /// yet ended of <see cref="ExpectedCalls"/> when the total is known — calls not yet made included, so the estimate
    /// holds under backpressure — and otherwise the calls queued and running.
    /// </summary>
    public TimeSpan? EstimatedTimeLeft { get; init; }

    /// <summary>Gets the time since the pool was created, by <see cref="ParallelizeOptions.TimeProvider"/>; it stops growing when the pool has stopped.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Gets a value indicating whether the pool has stopped (or been disposed): the counts are final.</summary>
    public bool IsStopped { get; init; }

    /// <summary>Gets the number of executors the pool was created with.</summary>
    public int Executors { get; init; }

    /// <summary>Gets the number of executors the restart policy has retired; they run no more calls.</summary>
    public int RetiredExecutors { get; init; }

    /// <summary>Gets a value indicating whether the pool is faulted: no executor can run, so the calls still queued never will.</summary>
    public bool IsFaulted { get; init; }

    /// <summary>Gets a value indicating whether an outage has paused the pool: no call is handed out but a probe (see <see cref="OutageOptions"/>).</summary>
    public bool IsPaused { get; init; }

    /// <summary>Gets how many calls the pool will be given in all, when known (<see cref="ParallelizeOptions.ExpectedCalls"/>); <see langword="null"/> otherwise.</summary>
    public long? ExpectedCalls { get; init; }

    /// <summary>Gets the share of <see cref="ExpectedCalls"/> ended (with a result, a failure or an abort), from 0 to 100; <see langword="null"/> when the total is unknown.</summary>
    public double? PercentComplete { get; init; }

    /// <summary>Gets how many outages have paused the pool so far.</summary>
    public long Outages { get; init; }

    /// <summary>
    /// Gets how many outcomes arrived for calls that had ended already — a result from a worker process or cluster node
    /// that the pool had given up on and run elsewhere, or a call <c>Stop</c> had aborted — and were dropped: the call was
    /// counted once, though it ran more than once (execution is at least once, accounting exactly once).
    /// </summary>
    public long LateOutcomes { get; init; }
}
