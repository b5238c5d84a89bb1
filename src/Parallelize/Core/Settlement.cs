using Parallelize.Supervision;

namespace Parallelize.Core;

/// <summary>
/// The one place where calls end: every call taken from the queue leaves its lease through exactly one of these
/// methods — delivered (<see cref="Succeeded"/>), failed (<see cref="Failed"/>: another attempt, <c>Failures</c>, or an
/// abort), handed back unstarted (<see cref="Return"/>), or aborted by <c>Stop</c> (<see cref="Abort"/>) — and each
/// counts it out of flight once it is in its next place, so <c>Stop</c>'s wait for the drained queue covers it.
/// </summary>
/// <remarks>
/// <para><b>Why no call is lost or counted twice.</b> A call is in exactly one of: the queue (new calls and retries),
/// one lease (see <see cref="CallLease{TIn, TOut}"/> for who may settle each of its calls), the retry scheduler, or its
/// end (<c>Results</c>, <c>Failures</c>, the aborted list). The queue hands calls to a lease atomically; a lease hands
/// each call to one of these methods once; each method moves it to exactly one next place — or, when the queue is
/// closed and it cannot be queued again, to the aborted list. Nothing else moves calls.</para>
/// <para><b>What a failure costs.</b> See <see cref="Failed"/>: the fault model of <see cref="ParallelizeOptions"/>.</para>
/// <para><b>Threads.</b> Called by runners and thieves, sometimes under a lease's lock (<see cref="Succeeded"/> only):
/// no method here calls user code or waits. <see cref="Failed"/>, <see cref="Return"/> and <see cref="Abort"/> are
/// called with no lock held, since a failure may be logged.</para>
/// </remarks>
internal sealed class Settlement<TIn, TOut>
{
    private readonly Parallelize<TIn, TOut> _pool;
    private readonly WorkQueue<TIn> _queue;
    private readonly ResultSink<TIn, TOut> _sink;
    private readonly CallHistories _histories;
    private readonly RetryScheduler<TIn> _scheduler;
    private readonly OutageDetector _outages;
    private readonly ParallelizeOptions _options;
    private readonly Func<Exception, bool> _shouldRetry;

    public Settlement(
        Parallelize<TIn, TOut> pool,
        WorkQueue<TIn> queue,
        ResultSink<TIn, TOut> sink,
        CallHistories histories,
        RetryScheduler<TIn> scheduler,
        OutageDetector outages)
    {
        _pool = pool;
        _queue = queue;
        _sink = sink;
        _histories = histories;
        _scheduler = scheduler;
        _outages = outages;
        _options = pool.Options;
        _shouldRetry = _options.ShouldRetry ?? ParallelizeOptions.IsWorthRetrying;
    }

    /// <summary>Calls that returned their outputs: delivered, and counted out of flight. A call that had failed before settles its blame.</summary>
    /// <param name="calls">The calls.</param>
    /// <param name="outputs">Their outputs, at the same indexes.</param>
    /// <param name="runner">The runner whose executor ran them.</param>
    // PERF: compiled fully optimized at once; tiered compilation took millions of calls to promote the hot path.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Succeeded(ReadOnlySpan<QueuedCall<TIn>> calls, ReadOnlySpan<TOut> outputs, ILeaseOwner runner)
    {
        if (calls.IsEmpty)
        {
            return;
        }

        _sink.DeliverResults(calls, outputs, runner.Index);
        _outages.OnSuccesses(calls.Length);
        _queue.Settled(calls.Length);
    }

    /// <summary>
    /// An attempt failed. Decides what it costs and where the call goes:
    /// <list type="bullet">
    /// <item><description><c>Stop</c> cancelled it: aborted (it may have run).</description></item>
    /// <item><description>The executor was lost (<see cref="FailureKind.Lost"/>): queued again at once without using an attempt; the executor is blamed.</description></item>
    /// <item><description>A <see cref="RetryException"/>: one attempt, no blame, no restart.</description></item>
    /// <item><description>Not worth retrying (<see cref="ParallelizeOptions.ShouldRetry"/>): to <c>Failures</c> at once.</description></item>
    /// <item><description>During an outage: no attempt used (see <see cref="OutageOptions"/>).</description></item>
    /// <item><description>Otherwise one attempt; the executor becomes the suspect until the input's next attempt tells whose fault it was (see <see cref="CallHistory"/>).</description></item>
    /// </list>
    /// A call with attempts left waits <see cref="ParallelizeOptions.RetryDelay"/> (doubling, jittered, capped) in the
    /// retry scheduler, then goes first in line, to another executor if one is idle; one without goes to <c>Failures</c>.
    /// </summary>
    /// <param name="call">The call, which the caller hands over.</param>
    /// <param name="error">What the attempt threw.</param>
    /// <param name="kind">How it failed.</param>
    /// <param name="runner">The runner whose executor ran it.</param>
    /// <param name="generation">The executor's generation when its lease began, which a blame goes to.</param>
    /// <param name="probe">It was the outage detector's probe.</param>
    /// <returns>Whether the executor must be restarted now.</returns>
    public FaultAction Failed(ref QueuedCall<TIn> call, Exception error, FailureKind kind, ILeaseOwner runner, int generation, bool probe)
    {
        if (error is OperationCanceledException && _pool.CallToken.IsCancellationRequested)
        {
            // Stop cancelled the call: an abort, not a fault.
            Abort(new ReadOnlySpan<QueuedCall<TIn>>(in call), mayHaveRun: true);
            return FaultAction.None;
        }

        if (kind == FailureKind.Lost || error is ExecutorLostException)
        {
            // Not the input's fault: it goes back first in line without using an attempt, and the executor takes the blame.
            _pool.Blame(runner.Index, generation, error);
            if (call.HasHistory)
            {
                _histories.Find(call.Sequence)?.Errors.Add(error);
            }

            // It ran, or may have: if the pool is stopping, it is aborted as one whose outcome is unknown.
            Return(new ReadOnlySpan<QueuedCall<TIn>>(in call), probe, mayHaveRun: true);
            return FaultAction.Restart;
        }

        bool requested = false;
        if (error is RetryException retry)
        {
            requested = true;
            if (retry.HasReplacementInput)
            {
                if (retry.ReplacementInput is TIn replacement)
                {
                    call.Input = replacement;
                }
                else if (retry.ReplacementInput is null && default(TIn) is null)
                {
                    call.Input = default!;
                }
                else
                {
                    requested = false;
                    error = new InvalidCastException(
                        $"The executor asked for a retry with a replacement input of type {retry.ReplacementInput?.GetType().FullName ?? "null"}, but this pool's inputs are {typeof(TIn).FullName}.",
                        retry);
                }
            }
        }

        CallHistory history = _histories.Record(ref call);
        history.Errors.Add(error);
        bool worthRetrying = requested || ShouldRetry(error);
        // The probe's outcome always reaches the detector, whatever it threw, or the pool would stay paused.
        long outcome = (worthRetrying && !requested) || probe ? _outages.OnFailure(runner.Index, call.Sequence, probe) : -1;
        if (outcome != 0)
        {
            history.Counted++;
            history.LastCountedOutcome = Math.Max(0, outcome);
            if (!requested)
            {
                Blame(history, runner.Index, generation);
            }
        }

        if (kind == FailureKind.Crashed)
        {
            history.Crashes++;
        }

        if (!history.FailedOn.Contains(runner.Index))
        {
            history.FailedOn.Add(runner.Index);
        }

        history.LastExecutor = runner.Index;
        if (worthRetrying && !requested && history.Counted >= _options.MaxAttempts && !history.Graced && _outages.IsSuspicious)
        {
            // Half the recent attempts fail: this may be an outage starting, which would give the attempt back. Hold
            // the call until the detector has decided, then let it try once more.
            history.Graced = true;
            _pool.OnRetry();
            _scheduler.Schedule(call, runner.Index, firmly: false, _outages.GraceDelay);
        }
        else if (!worthRetrying || history.Counted >= _options.MaxAttempts)
        {
            _pool.DeliverFailure(call);
            _queue.Settled(1);
        }
        else
        {
            // Until it has failed on two executors nobody knows whose fault it was: its next attempt goes elsewhere.
            _pool.OnRetry();
            _scheduler.Schedule(call, runner.Index, firmly: history.FailedOn.Count == 1, RetryDelay(history.Errors.Count));
        }

        bool restart = kind == FailureKind.Crashed || (!requested && _options.RestartOnEveryFault);
        return restart ? FaultAction.Restart : FaultAction.None;
    }

    /// <summary>Calls handed back without an outcome (not started, or their executor was lost): queued again first in line — or, if the pool is stopping, aborted.</summary>
    /// <param name="calls">The calls; they hold no place.</param>
    /// <param name="probe">One of them was the outage detector's probe: it lets another through.</param>
    /// <param name="mayHaveRun">They were sent or running when their executor was lost: aborted (if the pool is stopping) as calls whose outcome is unknown.</param>
    public void Return(ReadOnlySpan<QueuedCall<TIn>> calls, bool probe, bool mayHaveRun = false)
    {
        if (calls.IsEmpty)
        {
            return;
        }

        if (!_queue.TryRequeue(calls, atFront: true))
        {
            _pool.AbortLate(calls, mayHaveRun);
            _pool.ForgetRecords(calls);
        }

        _queue.Settled(calls.Length);
        if (probe)
        {
            _outages.OnProbeReturned();
        }
    }

    /// <summary>Calls <c>Stop</c> took back: aborted.</summary>
    /// <param name="calls">The calls.</param>
    /// <param name="mayHaveRun">They were running: their outcome is unknown.</param>
    public void Abort(ReadOnlySpan<QueuedCall<TIn>> calls, bool mayHaveRun)
    {
        if (calls.IsEmpty)
        {
            return;
        }

        _pool.AbortLate(calls, mayHaveRun);
        _pool.ForgetRecords(calls);
        _queue.Settled(calls.Length);
    }

    /// <summary>Gets how many attempts of a call have failed so far (read by the call's owner only).</summary>
    public int FailedAttempts(long sequence) => _histories.Find(sequence)?.Errors.Count ?? 0;

    /// <summary>The delay before the next attempt of a call that has failed <paramref name="failures"/> times: <see cref="ParallelizeOptions.RetryDelay"/> doubled each time, capped at <see cref="ParallelizeOptions.MaxRetryDelay"/>, of which a random half is taken off.</summary>
    internal TimeSpan RetryDelay(int failures)
    {
        TimeSpan delay = _options.RetryDelay;
        TimeSpan max = _options.MaxRetryDelay;
        if (delay <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        for (int i = 1; i < failures && delay < max; i++)
        {
            delay = delay <= max - delay ? delay + delay : max;
        }

        delay = delay < max ? delay : max;
        return (delay / 2) + (delay / 2 * Random.Shared.NextDouble());
    }

    // Blame of a counted fault of a call: see CallHistory.
    private void Blame(CallHistory history, int executor, int generation)
    {
        if (history.Suspect >= 0)
        {
            if (history.Suspect != executor)
            {
                // It fails elsewhere too: the input's fault, nobody's to pay.
                history.Suspect = -1;
            }

            return;
        }

        foreach (int other in history.FailedOn)
        {
            if (other != executor)
            {
                return;
            }
        }

        if (history.FailedOn.Count == 0 && _pool.LiveExecutors > 1)
        {
            history.Suspect = executor;
            history.SuspectGeneration = generation;
        }
    }

    private bool ShouldRetry(Exception error)
    {
        try
        {
            return _shouldRetry(error);
        }
#pragma warning disable CA1031 // The user's predicate threw: retry, as if it had said nothing.
        catch (Exception)
#pragma warning restore CA1031
        {
            return true;
        }
    }
}
