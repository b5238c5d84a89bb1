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
    /// context manager of the original. Does nothing if the pool is already disposed; if it was stopped, only releases it.
    /// </summary>
    /// <exception cref="ParallelizeException">The pool was faulted (every executor retired) and calls were still queued: they were aborted and are in <see cref="ParallelizeException.AbortedInputs"/>. Call <see cref="Stop(TimeSpan?)"/> before disposing to get them typed.</exception>
    /// <exception cref="InvalidOperationException">Called from inside one of this pool's own executors.</exception>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        ThrowIfInsideExecutor(nameof(Dispose));
        ParallelizeException? fault = null;
        if (BeginDispose())
        {
            try
            {
                Wait();
            }
            catch (ParallelizeException ex)
            {
                fault = ex;
            }
        }

        IReadOnlyList<TIn> aborted = StopCore(finishTimeout: null);
        _disposed = true;
        ThrowIfAbortedByDispose(fault, aborted);
    }

    /// <summary>Waits for every queued call to end, then stops the pool, like <see cref="Dispose"/>, without blocking a thread.</summary>
    /// <returns>A task that completes when the pool is stopped.</returns>
    /// <exception cref="ParallelizeException">The pool was faulted and calls were still queued: they were aborted.</exception>
    /// <exception cref="InvalidOperationException">Called from inside one of this pool's own executors.</exception>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        ThrowIfInsideExecutor(nameof(DisposeAsync));
        ParallelizeException? fault = null;
        if (BeginDispose())
        {
            try
            {
                await WaitAsync().ConfigureAwait(false);
            }
            catch (ParallelizeException ex)
            {
                fault = ex;
            }
        }

        IReadOnlyList<TIn> aborted = await StopCoreAsync(sync: false, null, CancellationToken.None).ConfigureAwait(false);
        _disposed = true;
        ThrowIfAbortedByDispose(fault, aborted);
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
        _queue.CompleteAdding();
        CancelQuietly(_noMoreCalls);
        return true;
    }

    private static void ThrowIfAbortedByDispose(ParallelizeException? fault, IReadOnlyList<TIn> aborted)
    {
        if (fault is not null && aborted.Count > 0)
        {
            throw new ParallelizeException(
                $"{fault.Message} Dispose aborted {aborted.Count} queued call(s); they are in AbortedInputs (call Stop before Dispose to get them typed).",
                fault.InnerExceptions,
                [.. aborted.Select(static input => (object?)input)]);
        }
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
    /// Why no input is lost or counted twice: closing the queue hands every queued call to this method, and from
    /// then on no call is taken. Every call already taken sits in one worker's batch, and each batch is settled by
    /// exactly one owner (see <see cref="Worker{TIn, TOut}"/>): its worker (to Results, Failures, the queue again, or
    /// <c>_abortedLate</c> when it can no longer run) or this method, which steals the batches still running after
    /// the finish timeout. <see cref="WorkQueue{TIn}.Drained"/> completes only when every owner has finished routing,
    /// so <c>_abortedLate</c> is complete when read. The pending count then falls to zero once the sink has counted
    /// the aborted calls.
    /// </remarks>
    private async ValueTask<IReadOnlyList<TIn>> StopOnceAsync(bool sync, TimeSpan? finishTimeout, CancellationToken cancellationToken)
    {
        TimeProvider clock = Options.TimeProvider;
        long started = clock.GetTimestamp();
        using WorkQueue<TIn>.DrainedCalls drained = _queue.Close();
        var aborted = new List<QueuedCall<TIn>>();
        Interlocked.Add(ref _aborted, drained.Count);
        CancelQuietly(_noMoreCalls);
        CancelQuietly(_stopRequested);

        bool finished = await WaitUntilAsync(sync, _queue.Drained, started, finishTimeout, cancellationToken).ConfigureAwait(false);
        if (!finished)
        {
            CancelQuietly(_callsCancelled);
            int before = aborted.Count;
            foreach (Worker<TIn, TOut> worker in _workers)
            {
                int stolen = worker.StealBatch(aborted);
                if (stolen > 0)
                {
                    _queue.Complete(stolen);
                }
            }

            Interlocked.Add(ref _aborted, aborted.Count - before);

            // What remains is workers routing calls they claimed first: our own code, no user code, so this is brief.
            await WaitUntilAsync(sync, _queue.Drained, started, null, CancellationToken.None).ConfigureAwait(false);
        }

        lock (_stateLock)
        {
            aborted.AddRange(_abortedLate);
            _abortedLate.Clear();
        }

        _sink.EndAborted(drained, aborted);
        await WaitUntilAsync(sync, _pending.IdleTask, started, null, CancellationToken.None).ConfigureAwait(false);

        // Let idle workers leave and dispose their executors; a worker still stuck in a call past the deadline is
        // abandoned and disposes its executor when that call returns.
        if (finished)
        {
            await WaitUntilAsync(sync, _workersExited.Task, started, finishTimeout, cancellationToken).ConfigureAwait(false);
        }

        // The counts are final (late outcomes of stolen batches are dropped): log, last progress report, leave the meter.
        _telemetry.OnStopped();
        return ToInputsInCallOrder(drained, aborted);
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
