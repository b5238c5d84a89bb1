using Parallelize.Core;
using Parallelize.Supervision;

namespace Parallelize;

// What the pool offers its runners, its lease watchers and its outage detector. Every member here is called without
// any lock of the pool held, and none of them calls user code: telemetry goes through RunOutsideExecutor.
public sealed partial class Parallelize<TIn, TOut>
{
    private readonly (long Epoch, int Next, int Looks)[] _watchSeen;
    private readonly WatchedPool _watched;
    private long _releases;

    internal WorkQueue<TIn> Queue => _queue;

    /// <summary>Gets what the one watching runner saw last (see <see cref="TryBeginWatch"/>).</summary>
    internal Span<(long Epoch, int Next, int Looks)> WatchSeen => _watchSeen;

    internal ResultSink<TIn, TOut> Sink => _sink;

    /// <summary>Gets the records of calls whose attempts failed.</summary>
    internal CallHistories Histories { get; }

    /// <summary>Gets the contexts of calls that run in their caller's.</summary>
    internal CallContexts Contexts { get; } = new();

    /// <summary>Lets go of what the pool keeps beside calls that ended without reaching the sink (aborted).</summary>
    internal void ForgetRecords(ReadOnlySpan<QueuedCall<TIn>> calls)
    {
        foreach (QueuedCall<TIn> call in calls)
        {
            if (call.HasHistory)
            {
                Histories.Forget(call.Sequence);
            }

            if (call.HasContext)
            {
                Contexts.Forget(call.Sequence);
            }
        }
    }

    /// <summary>Gets the token calls receive: cancelled when <c>Stop</c> gives up waiting for calls in flight.</summary>
    internal CancellationToken CallToken => _callsCancelled.Token;

    /// <summary>Gets the token factories and restart backoff receive: cancelled as soon as <c>Stop</c> begins.</summary>
    internal CancellationToken StopToken => _stopRequested.Token;

    internal bool IsStopRequested => _stopRequested.IsCancellationRequested;

    /// <summary>Gets a task that completes when every runner has ended (tests use it to observe late outcomes).</summary>
    internal Task WorkersExited => _workersExited.Task;

    /// <summary>Gets how many executor disposals (or token callbacks during Stop) threw; they are swallowed so the pool goes on.</summary>
    internal long DisposeFaults => Interlocked.Read(ref _disposeFaults);

    /// <summary>Gets how many times a stuck lease was released (its finished calls delivered, its unstarted calls handed back).</summary>
    internal long StuckLeasesReleased => Interlocked.Read(ref _releases);

    /// <summary>Gets the number of executors not retired.</summary>
    internal int LiveExecutors => Volatile.Read(ref _liveRunners);

    /// <summary>Gets the number of executors.</summary>
    internal int RunnerCount => _runners.Length;

    /// <summary>Gets the runners (tests and diagnostics).</summary>
    internal IReadOnlyList<SlotRunner<TIn, TOut>> Runners => _runners;

    /// <summary>Gets how many outcomes arrived for calls already settled or taken back, and were dropped.</summary>
    internal long LateOutcomes
    {
        get
        {
            long late = 0;
            foreach (SlotRunner<TIn, TOut> runner in _runners)
            {
                late += runner.LateOutcomes;
            }

            return late;
        }
    }

    /// <summary>Records calls that can have no further attempt because the pool is stopping; <c>Stop</c> reports them.</summary>
    /// <param name="calls">The calls.</param>
    /// <param name="mayHaveRun">They were running: their outcome is unknown.</param>
    internal void AbortLate(ReadOnlySpan<QueuedCall<TIn>> calls, bool mayHaveRun)
    {
        if (calls.IsEmpty)
        {
            return;
        }

        lock (_stateLock)
        {
            foreach (QueuedCall<TIn> call in calls)
            {
                _abortedLate.Add((call, mayHaveRun));
            }
        }

        Interlocked.Add(ref _abortedCount, calls.Length);
    }

    /// <summary>Delivers a call that failed for good to <c>Failures</c>, then logs it.</summary>
    internal void DeliverFailure(in QueuedCall<TIn> call)
    {
        Failure<TIn> failure = _sink.DeliverFailure(call);
        if (_telemetry.Logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Warning))
        {
            long sequence = call.Sequence;
            RunOutsideExecutor(() => _telemetry.OnFailure(sequence, failure.Attempts, failure.Exceptions.Count > 0 ? failure.Exceptions[^1] : null));
        }
    }

    /// <summary>Blames executor <paramref name="executor"/> (its generation <paramref name="generation"/>) for a fault: an input it failed succeeded elsewhere, or it was lost.</summary>
    internal void Blame(int executor, int generation, Exception cause) => _runners[executor].Supervisor.Charge(generation, cause);

    /// <summary>Counts a restart of executor <paramref name="executorIndex"/>, which threw <paramref name="cause"/>, and logs it.</summary>
    internal void OnRestart(int executorIndex, Exception cause)
    {
        long restarts = Interlocked.Increment(ref _restarts);
        string location = _runners[executorIndex].Location;
        RunOutsideExecutor(() => _telemetry.OnRestart(executorIndex, location, cause, restarts));
    }

    internal void OnRetry() => Interlocked.Increment(ref _retries);

    internal void OnDisposeFault() => Interlocked.Increment(ref _disposeFaults);

    internal void OnRunnerRetired(SlotRunner<TIn, TOut> retired)
    {
        int live = Interlocked.Decrement(ref _liveRunners);
        _queue.TakerRetired();
        string location = retired.Location;
        RunOutsideExecutor(() => _telemetry.OnRetired(retired.Index, location, retired.LastError, live));
        if (live != 0)
        {
            return;
        }

        var causes = new List<Exception>(_runners.Length);
        foreach (SlotRunner<TIn, TOut> runner in _runners)
        {
            if (runner.LastError is { } error)
            {
                causes.Add(error);
            }
        }

        ParallelizeException fault;
        lock (_stateLock)
        {
            fault = _fault ??= ParallelizeException.CannotRun(_runners.Length, causes);
        }

        _faulted.TrySetResult();

        // No call can run any more: refuse new ones, release callers blocked on a full queue (they now get the
        // fault's refusal), and end the result stream with the fault instead of leaving its readers waiting.
        _queue.StopAdding();
        CancelQuietly(_noMoreCalls);
        _sink.Fault(fault);
        RunOutsideExecutor(() => _telemetry.OnFaulted(fault, _runners.Length));
    }

    internal void OnRunnerExited()
    {
        if (Interlocked.Decrement(ref _runningRunners) == 0)
        {
            _workersExited.TrySetResult();
        }
    }

    /// <summary>Lets go of one use of an executor instance given directly to the pool.</summary>
    /// <returns><see langword="true"/> if it was the last use of a disposable instance: the caller disposes it.</returns>
    internal bool ReleaseShared(object instance)
    {
        lock (_stateLock)
        {
            if (!_sharedInstances.TryGetValue(instance, out int uses))
            {
                return false;
            }

            if (uses > 1)
            {
                _sharedInstances[instance] = uses - 1;
                return false;
            }

            _sharedInstances.Remove(instance);
            return true;
        }
    }

    /// <summary>An idle runner asks to keep watch over the others' leases; one at a time.</summary>
    internal bool TryBeginWatch() => Interlocked.CompareExchange(ref _watching, 1, 0) == 0;

    /// <summary>The watching runner is done.</summary>
    internal void EndWatch() => Volatile.Write(ref _watching, 0);

    /// <summary>
    /// Looks at every other runner's lease once: one that made no progress since the last look (same lease, same
    /// call) is released — its finished calls delivered, its unstarted calls handed back to the queue.
    /// </summary>
    /// <param name="seen">What the caller saw last time, by runner (the pool's own buffer for its one watching runner, or the backstop's).</param>
    /// <param name="self">The watching runner, or <see langword="null"/> for the backstop.</param>
    /// <returns><see langword="true"/> if some lease could still hold calls back.</returns>
    internal bool WatchLeases(Span<(long Epoch, int Next, int Looks)> seen, SlotRunner<TIn, TOut>? self)
    {
        bool atRisk = false;
        for (int i = 0; i < _runners.Length; i++)
        {
            SlotRunner<TIn, TOut> runner = _runners[i];
            if (ReferenceEquals(runner, self) || !runner.Lease.IsStuckCandidate(out int next))
            {
                continue;
            }

            // Stuck means the same call running for two looks in a row (at least one whole interval): a runner merely
            // preempted for a moment is left alone, since releasing costs a process-wide barrier.
            atRisk = true;
            long epoch = runner.Lease.Epoch;
            ref (long Epoch, int Next, int Looks) last = ref seen[i % seen.Length];
            int looks = last.Epoch == epoch && last.Next == next ? last.Looks + 1 : 0;
            if (looks >= 2 && runner.Lease.Release())
            {
                Interlocked.Increment(ref _releases);
                looks = 0;
            }

            last = (epoch, next, looks);
        }

        return atRisk;
    }

    /// <summary>
    /// Hands telemetry (a logger, a progress handler: user code) to the pool's <see cref="Telemetry.SerialDispatcher"/>:
    /// it runs in order, off the runners and outside the "inside an executor" mark, so that it may stop or wait for the pool.
    /// </summary>
    internal void RunOutsideExecutor(Action report) => _telemetry.Dispatcher.Post(report);

    /// <summary>The pool as the process's lease watcher sees it; holds the pool weakly through the watcher's registry.</summary>
    private sealed class WatchedPool(Parallelize<TIn, TOut> pool) : IWatchedPool
    {
        public bool WatchFromBackstop()
        {
            // What a starved thread pool would hold back (see LeaseWatcher): looked at every millisecond while a retry or
            // a probe is due soon, or calls wait with runners idle. No lock of the pool is held here.
            bool atRisk = pool._scheduler.ReleaseOverdue();
            atRisk |= pool._outages.LetProbeThroughIfOverdue();
            atRisk |= pool._queue.WakeIfStalled();
            foreach (SlotRunner<TIn, TOut> runner in pool._runners)
            {
                CallLease<TIn, TOut> lease = runner.Lease;
                if (!lease.IsStuckCandidate(out int next))
                {
                    continue;
                }

                atRisk = true;
                long epoch = lease.Epoch;
                if (runner.WatcherEpoch == epoch && runner.WatcherNext == next && lease.Release())
                {
                    Interlocked.Increment(ref pool._releases);
                }

                runner.WatcherEpoch = epoch;
                runner.WatcherNext = next;
            }

            return atRisk;
        }
    }

    /// <summary>What the outage detector acts on.</summary>
    private sealed class OutageHost(Parallelize<TIn, TOut> pool) : IOutageHost
    {
        public int LiveExecutors => pool.LiveExecutors;

        public void Pause() => pool._queue.Pause();

        public void AllowProbe() => pool._queue.AllowProbe();

        public void Resume() => pool._queue.Resume();

        public int Refund(long from) => pool._scheduler.Refund(from, pool.Histories) + pool._queue.Refund(from, pool.Histories);

        public void OnOutageStarted(int failures, int window, int executors, int refunded) =>
            pool.RunOutsideExecutor(() => pool._telemetry.OnOutageStarted(failures, window, executors, refunded));

        public void OnOutageEnded(TimeSpan duration) =>
            pool.RunOutsideExecutor(() => pool._telemetry.OnOutageEnded(duration));

        public void OnOutageGaveUp(TimeSpan duration) =>
            pool.RunOutsideExecutor(() => pool._telemetry.OnOutageGaveUp(duration));
    }
}
