using Parallelize.Core;

namespace Parallelize;

public sealed partial class Parallelize<TIn, TOut>
{
    /// <summary>
    /// Stops the pool: refuses new calls, aborts every queued call not yet started, lets calls in flight finish
    /// until <paramref name="finishTimeout"/>, then cancels their token and aborts any still running (a result
    /// that arrives later is discarded). Executors are then disposed.
    /// </summary>
    /// <param name="finishTimeout">How long calls in flight may take to finish; <see langword="null"/> or <see cref="Timeout.InfiniteTimeSpan"/> for no limit; <see cref="TimeSpan.Zero"/> to abort them at once.</param>
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
        return StopCoreAsync(finishTimeout, CancellationToken.None).GetAwaiter().GetResult();
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
        return StopCoreAsync(finishTimeout, cancellationToken);
    }

    /// <summary>
    /// Waits for every queued call to end, then stops the pool and disposes its executors: the context manager of
    /// the original. Does nothing if the pool is already disposed; if it was stopped, only releases it.
    /// </summary>
    /// <exception cref="ParallelizeException">The pool was faulted (every executor retired) and calls were still queued: they were aborted. Call <see cref="Stop(TimeSpan?)"/> before disposing to get them back.</exception>
    /// <exception cref="InvalidOperationException">Called from inside one of this pool's own executors.</exception>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        ThrowIfInsideExecutor(nameof(Dispose));
        ParallelizeException? fault = null;
        if (_accepting)
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

        IReadOnlyList<TIn> aborted = StopCoreAsync(null, CancellationToken.None).GetAwaiter().GetResult();
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
        if (_accepting)
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

        IReadOnlyList<TIn> aborted = await StopCoreAsync(null, CancellationToken.None).ConfigureAwait(false);
        _disposed = true;
        ThrowIfAbortedByDispose(fault, aborted);
    }

    private static void ThrowIfAbortedByDispose(ParallelizeException? fault, IReadOnlyList<TIn> aborted)
    {
        if (fault is not null && aborted.Count > 0)
        {
            throw new ParallelizeException(
                $"{fault.Message} Dispose aborted {aborted.Count} queued call(s); call Stop before Dispose to get them back.",
                fault.InnerExceptions);
        }
    }

    private async Task<IReadOnlyList<TIn>> StopCoreAsync(TimeSpan? finishTimeout, CancellationToken cancellationToken)
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
            await first.ConfigureAwait(false);
            return [];
        }

        IReadOnlyList<TIn> aborted = await StopOnceAsync(finishTimeout, cancellationToken).ConfigureAwait(false);
        ours.SetResult(aborted);
        return aborted;
    }

    /// <remarks>
    /// Why no input is lost or counted twice: closing the queue hands every queued item to this method, and from
    /// then on no item is taken. Each item already taken is settled by exactly one winner of
    /// <see cref="WorkItem{TIn}.TryClaim"/>: its worker (to Results, Failures, or <c>_abortedLate</c> when it
    /// can no longer be retried) or this method after the finish timeout. <see cref="WorkQueue{TIn}.Drained"/>
    /// completes only when every winner has finished routing, so <c>_abortedLate</c> is complete when read. The
    /// pending count then falls to zero once the collector has recorded every call that finished.
    /// </remarks>
    private async Task<IReadOnlyList<TIn>> StopOnceAsync(TimeSpan? finishTimeout, CancellationToken cancellationToken)
    {
        TimeProvider clock = Options.TimeProvider;
        long started = clock.GetTimestamp();
        List<WorkItem<TIn>> aborted = _queue.Close();
        CancelQuietly(_stopRequested);

        bool finished = await WaitUntilAsync(_queue.Drained, started, finishTimeout, cancellationToken).ConfigureAwait(false);
        if (!finished)
        {
            CancelQuietly(_callsCancelled);
            foreach (Worker<TIn, TOut> worker in _workers)
            {
                if (worker.Current is { } item && item.TryClaim())
                {
                    aborted.Add(item);
                    _queue.Complete();
                }
            }

            // What remains is workers routing calls they claimed first: our own code, no user code, so this is brief.
            await _queue.Drained.ConfigureAwait(false);
        }

        lock (_stateLock)
        {
            aborted.AddRange(_abortedLate);
            _abortedLate.Clear();
        }

        _pending.Remove(aborted.Count);
        await _pending.IdleTask.ConfigureAwait(false);

        // Let idle workers leave and dispose their executors; a worker still stuck in a call past the deadline is
        // abandoned and disposes its executor when that call returns.
        if (finished)
        {
            await WaitUntilAsync(_workersExited.Task, started, finishTimeout, cancellationToken).ConfigureAwait(false);
        }

        return ToInputsInCallOrder(aborted);
    }

    private static TIn[] ToInputsInCallOrder(List<WorkItem<TIn>> items)
    {
        // PERF: items drained from the queue are already in call order but for retried ones, and the in-flight
        // items come last; sorting on primitive keys keeps a stop with a million queued calls in milliseconds.
        WorkItem<TIn>[] array = [.. items];
        bool sorted = true;
        for (int i = 1; i < array.Length && sorted; i++)
        {
            sorted = array[i - 1].Sequence < array[i].Sequence;
        }

        if (!sorted)
        {
            long[] keys = new long[array.Length];
            for (int i = 0; i < keys.Length; i++)
            {
                keys[i] = array[i].Sequence;
            }

            Array.Sort(keys, array);
        }

        var inputs = new TIn[array.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = array[i].Input;
        }

        return inputs;
    }

    private async Task<bool> WaitUntilAsync(Task task, long started, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (task.IsCompleted)
        {
            return true;
        }

        try
        {
            if (timeout is null || timeout == Timeout.InfiniteTimeSpan)
            {
                await task.WaitAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }

            TimeSpan left = timeout.Value - Options.TimeProvider.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            await task.WaitAsync(left, Options.TimeProvider, cancellationToken).ConfigureAwait(false);
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
