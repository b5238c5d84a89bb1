using System.Diagnostics;
using Parallelize.Core;

namespace Parallelize;

public sealed partial class Parallelize<TIn, TOut>
{
    /// <summary>
    /// Stops the pool: refuses new calls, aborts every queued call not yet started, lets calls in flight finish
    /// until <paramref name="finishTimeout"/>, then cancels their token and aborts any still running (a result
    /// that arrives later is discarded). Executors are then disposed.
    /// </summary>
    /// <param name="finishTimeout">How long calls in flight may take to finish; <see langword="null"/>, <see cref="Timeout.InfiniteTimeSpan"/> or anything longer than a wait supports (about 24.8 days, e.g. <see cref="TimeSpan.MaxValue"/>) for no limit; <see cref="TimeSpan.Zero"/> to abort them at once.</param>
    /// <returns>
    /// The aborted inputs, in call order. Every other input is in <see cref="Results"/> or <see cref="Failures"/>
    /// by the time this returns. Idempotent: after <see cref="Wait()"/> or a first <c>Stop</c> it returns an
    /// empty list (a concurrent second call first waits for the first to finish).
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="finishTimeout"/> is negative and not <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <exception cref="InvalidOperationException">Called from inside one of this pool's own executors, where it would wait for itself.</exception>
    /// <remarks>The aborted inputs stay readable afterwards in <see cref="Aborted"/>; those whose call was running (outcome unknown) also in <see cref="AbortedWhileRunning"/>.</remarks>
    public IReadOnlyList<TIn> Stop(TimeSpan? finishTimeout = null)
    {
        ValidateFinishTimeout(finishTimeout);
        ThrowIfInsideExecutor(nameof(Stop));
        return StopCore(finishTimeout);
    }

    /// <summary>Stops the pool like <see cref="Stop(TimeSpan?)"/> without blocking a thread.</summary>
    /// <param name="finishTimeout">How long calls in flight may take to finish; <see langword="null"/> for no limit.</param>
    /// <param name="cancellationToken">Cuts the finish period short: when cancelled, calls still in flight are cancelled and aborted at once. The stop itself always completes, so no input is lost.</param>
    /// <returns>The aborted inputs, in call order.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="finishTimeout"/> is negative and not <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <exception cref="InvalidOperationException">Called from inside one of this pool's own executors.</exception>
    public Task<IReadOnlyList<TIn>> StopAsync(TimeSpan? finishTimeout = null, CancellationToken cancellationToken = default)
    {
        ValidateFinishTimeout(finishTimeout);
        ThrowIfInsideExecutor(nameof(StopAsync));
        return StopCoreAsync(sync: false, finishTimeout, cancellationToken).AsTask();
    }

    /// <summary>
    /// Refuses new calls, waits for every queued call to end, then stops the pool and disposes its executors: the
    /// context manager of the original. Never throws: if the pool was faulted (no executor can run), the calls it could
    /// not run are aborted and in <see cref="Aborted"/>. Does nothing if the pool is already disposed; if it was stopped,
    /// only releases it.
    /// </summary>
    /// <remarks>
    /// Called from inside one of this pool's own executors, where waiting would wait for itself, it refuses new calls
    /// and lets the pool finish and stop in the background instead, returning at once.
    /// </remarks>
    public void Dispose()
    {
        if (_disposed || _disposing && IsInsideExecutor)
        {
            return;
        }

        if (IsInsideExecutor)
        {
            _ = DisposeInBackgroundAsync();
            return;
        }

        try
        {
            if (BeginDispose())
            {
                WaitQuietly();
            }

            StopCore(finishTimeout: null);
        }
#pragma warning disable CA1031 // Dispose never throws: a failure of the pool's own code here must not replace an exception leaving a using block.
        catch (Exception)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref _disposeFaults);
        }
        finally
        {
            _disposed = true;
        }
    }

    /// <summary>Waits for every queued call to end, then stops the pool, like <see cref="Dispose"/>, without blocking a thread; never throws.</summary>
    /// <returns>A task that completes when the pool is stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed || _disposing && IsInsideExecutor)
        {
            return;
        }

        if (IsInsideExecutor)
        {
            _ = DisposeInBackgroundAsync();
            return;
        }

        try
        {
            if (BeginDispose())
            {
                try
                {
                    await WaitAsync().ConfigureAwait(false);
                }
                catch (ParallelizeException)
                {
                    // Faulted: what could not run is aborted by the stop below.
                }
            }

            await StopCoreAsync(sync: false, null, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // DisposeAsync never throws either.
        catch (Exception)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref _disposeFaults);
        }
        finally
        {
            _disposed = true;
        }
    }

    /// <summary>Disposing from inside an executor: refuse new calls now, and wait and stop on the thread pool, outside the pool's mark.</summary>
    private async Task DisposeInBackgroundAsync()
    {
        BeginDispose();
        await Task.Yield();
        using (ExecutionContext.SuppressFlow())
        {
            await Task.Run(async () =>
            {
                try
                {
                    await WaitAsync().ConfigureAwait(false);
                }
#pragma warning disable CA1031 // A faulted pool: the stop aborts what is left.
                catch (Exception)
#pragma warning restore CA1031
                {
                }

                await StopCoreAsync(sync: false, null, CancellationToken.None).ConfigureAwait(false);
                _disposed = true;
            }).ConfigureAwait(false);
        }
    }

    private void WaitQuietly()
    {
        try
        {
            Wait();
        }
        catch (ParallelizeException)
        {
            // Faulted: what could not run is aborted by the stop that follows.
        }
    }

    /// <summary>
    /// Refuses new calls before waiting, so that a call racing <c>Dispose</c> is either waited for or refused with
    /// an exception, never accepted and then silently aborted. Retries of accepted calls still run.
    /// </summary>
    /// <returns><see langword="true"/> if the pool was still accepting calls, so there is work to wait for.</returns>
    private bool BeginDispose()
    {
        if (!_accepting)
        {
            return false;
        }

        _disposing = true;
        _queue.StopAdding();
        CancelQuietly(_noMoreCalls);
        return true;
    }

    // The synchronous Stop blocks on the same steps instead of awaiting them, so it never needs a thread-pool thread
    // to finish: several threads stopping the pool at once cannot starve the pool of the threads it would resume on.
    private IReadOnlyList<TIn> StopCore(TimeSpan? finishTimeout)
    {
        ValueTask<IReadOnlyList<TIn>> stop = StopCoreAsync(sync: true, finishTimeout, CancellationToken.None);
        Debug.Assert(stop.IsCompleted, "A synchronous stop awaited something incomplete.");
        return stop.IsCompleted ? stop.Result : stop.AsTask().GetAwaiter().GetResult();
    }

    private async ValueTask<IReadOnlyList<TIn>> StopCoreAsync(bool sync, TimeSpan? finishTimeout, CancellationToken cancellationToken)
    {
        TaskCompletionSource<IReadOnlyList<TIn>> ours;
        Task<IReadOnlyList<TIn>>? first;
        lock (_stateLock)
        {
            first = _stopTask;
            ours = new TaskCompletionSource<IReadOnlyList<TIn>>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (first is null)
            {
                _stopTask = ours.Task;
                _accepting = false;
            }
        }

        if (first is not null)
        {
            await WaitUntilAsync(sync, first, 0, null, CancellationToken.None).ConfigureAwait(false);
            return [];
        }

        try
        {
            IReadOnlyList<TIn> aborted = await StopOnceAsync(sync, finishTimeout, cancellationToken).ConfigureAwait(false);
            ours.SetResult(aborted);
            return aborted;
        }
        catch (Exception ex)
        {
            // Not expected: StopOnceAsync catches what it waits on. Never leave later Stop or Dispose calls hanging.
            ours.SetException(ex);
            throw;
        }
    }

    /// <remarks>
    /// Why no input is lost or counted twice: closing the queue hands every queued call (new ones and retries) to this
    /// method, and from then on no call is taken; taking the retry scheduler's calls hands over those waiting for their
    /// next attempt. Every other call is in some runner's lease, and each call of a lease is settled by exactly one
    /// party (see <see cref="CallLease{TIn, TOut}"/>): its runner, or this method, which first releases every lease (the
    /// calls not started come back and, the queue being closed, are aborted) and, after the finish timeout, abandons the
    /// leases still running. Each settlement counts its calls out of flight only once they are in their place, so when
    /// <see cref="WorkQueue{TIn}.Drained"/> completes, <c>_abortedLate</c> is complete. The pending count then falls
    /// to zero once the sink has counted the aborted calls.
    /// </remarks>
    private async ValueTask<IReadOnlyList<TIn>> StopOnceAsync(bool sync, TimeSpan? finishTimeout, CancellationToken cancellationToken)
    {
        TimeProvider clock = Options.TimeProvider;
        long started = clock.GetTimestamp();
        var retries = new List<QueuedCall<TIn>>();
        using WorkQueue<TIn>.DrainedCalls drained = _queue.Close(retries);
        int queuedRetries = retries.Count;
        _scheduler.TakeAll(retries);
        Interlocked.Add(ref _abortedCount, drained.Count + retries.Count);
        _queue.Settled(retries.Count - queuedRetries);
        CancelQuietly(_noMoreCalls);
        CancelQuietly(_stopRequested);
        ForgetRecords(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(retries));
        for (int i = 0; i < drained.Count; i++)
        {
            if (drained[i].HasRecords)
            {
                ForgetRecords(new ReadOnlySpan<QueuedCall<TIn>>(in drained[i]));
            }
        }

        // Calls taken but not started are queued calls still: they come back now, and are aborted.
        foreach (SlotRunner<TIn, TOut> runner in _runners)
        {
            runner.Lease.Release();
        }

        bool finished = await WaitUntilAsync(sync, _queue.Drained, started, finishTimeout, cancellationToken).ConfigureAwait(false);
        if (!finished)
        {
            CancelQuietly(_callsCancelled);
            foreach (SlotRunner<TIn, TOut> runner in _runners)
            {
                runner.Lease.Abandon();
            }

            // What remains is runners routing calls they claimed first: our own code, no user code, so this is brief.
            await WaitUntilAsync(sync, _queue.Drained, started, null, CancellationToken.None).ConfigureAwait(false);
        }

        var others = new List<QueuedCall<TIn>>(retries);
        var running = new List<QueuedCall<TIn>>();
        lock (_stateLock)
        {
            foreach ((QueuedCall<TIn> call, bool mayHaveRun) in _abortedLate)
            {
                others.Add(call);
                if (mayHaveRun)
                {
                    running.Add(call);
                }
            }

            _abortedLate.Clear();
        }

        _sink.EndAborted(drained, others);
        await WaitUntilAsync(sync, _pending.IdleTask, started, null, CancellationToken.None).ConfigureAwait(false);

        // Let idle runners leave and dispose their executors; a runner still stuck in a call past the deadline is
        // abandoned and disposes its executor when that call returns.
        if (finished)
        {
            await WaitUntilAsync(sync, _workersExited.Task, started, finishTimeout, cancellationToken).ConfigureAwait(false);
        }

        _outages.Dispose();
        LeaseWatcher.Shared.Unregister(_watched);

        TIn[] aborted = ToInputsInCallOrder(drained, others);
        running.Sort(static (a, b) => a.Sequence.CompareTo(b.Sequence));
        Volatile.Write(ref _abortedWhileRunning, running.ConvertAll(static call => call.Input));
        Volatile.Write(ref _aborted, aborted);

        // The counts are final (late outcomes of abandoned leases are dropped): log, last progress report, leave the meter.
        _telemetry.OnStopped();
        return aborted;
    }

    /// <summary>Lists the aborted inputs in call order.</summary>
    /// <remarks>
    /// PERF: the calls drained from the queue are nearly always in call order already (only calls put back after a
    /// fault break it), and the others are few; so the others are sorted and merged in, which keeps a stop with a
    /// million queued calls in milliseconds. Only when the queue itself is out of order is everything sorted.
    /// </remarks>
    private static TIn[] ToInputsInCallOrder(in WorkQueue<TIn>.DrainedCalls drained, List<QueuedCall<TIn>> others)
    {
        var inputs = new TIn[drained.Count + others.Count];
        bool sorted = true;
        for (int i = 1; i < drained.Count && sorted; i++)
        {
            sorted = drained[i - 1].Sequence < drained[i].Sequence;
        }

        if (!sorted)
        {
            long[] keys = new long[inputs.Length];
            for (int i = 0; i < drained.Count; i++)
            {
                keys[i] = drained[i].Sequence;
                inputs[i] = drained[i].Input;
            }

            for (int i = 0; i < others.Count; i++)
            {
                keys[drained.Count + i] = others[i].Sequence;
                inputs[drained.Count + i] = others[i].Input;
            }

            Array.Sort(keys, inputs);
            return inputs;
        }

        others.Sort(static (a, b) => a.Sequence.CompareTo(b.Sequence));
        int next = 0;
        int other = 0;
        for (int i = 0; i < drained.Count; i++)
        {
            while (other < others.Count && others[other].Sequence < drained[i].Sequence)
            {
                inputs[next++] = others[other++].Input;
            }

            inputs[next++] = drained[i].Input;
        }

        while (other < others.Count)
        {
            inputs[next++] = others[other++].Input;
        }

        return inputs;
    }

    // Waits for a task that never faults, until the deadline `timeout` after `started` (null: none); false if the
    // deadline passed or the token was cancelled first. With `sync` it blocks instead of awaiting: the task's
    // completion wakes a blocked thread directly, and with the system clock the timed wait is the kernel's.
    private async ValueTask<bool> WaitUntilAsync(bool sync, Task task, long started, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (task.IsCompleted)
        {
            return true;
        }

        TimeProvider clock = Options.TimeProvider;
        bool unlimited = timeout is null || timeout == Timeout.InfiniteTimeSpan || timeout > ParallelizeOptions.MaxWait;
        TimeSpan left = unlimited ? Timeout.InfiniteTimeSpan : timeout!.Value - clock.GetElapsedTime(started);
        if (!unlimited && left <= TimeSpan.Zero)
        {
            return false;
        }

        if (sync && clock == TimeProvider.System)
        {
            return task.Wait(left, cancellationToken);
        }

        Task waiting = unlimited ? task.WaitAsync(cancellationToken) : task.WaitAsync(left, clock, cancellationToken);
        try
        {
            if (sync)
            {
                waiting.GetAwaiter().GetResult();
            }
            else
            {
                await waiting.ConfigureAwait(false);
            }

            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (AggregateException)
        {
            // A callback that user code registered on the token threw; stopping goes on regardless.
            Interlocked.Increment(ref _disposeFaults);
        }
    }

    private static void ValidateFinishTimeout(TimeSpan? finishTimeout)
    {
        if (finishTimeout is { } timeout && timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(finishTimeout), timeout, "The finish timeout must be zero or more, null, or Timeout.InfiniteTimeSpan.");
        }
    }
}
