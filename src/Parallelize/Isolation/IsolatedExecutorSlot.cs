using System.Buffers;
using Parallelize.Core;

namespace Parallelize.Isolation;

/// <summary>
/// An isolated executor as the pool's runner drives it: one worker process that runs leases of calls. Sends every
/// call of a lease at once (the worker runs them one after another, in order), settles each by its reply, and when
/// the worker dies fails the call it was running with <see cref="FailureKind.Crashed"/> — the first one not yet
/// answered, since the worker answers in order — before it reports <see cref="Lost"/>; the runner then takes the
/// calls the worker never started back, at no cost to them.
/// </summary>
/// <remarks>
/// <para>How a call ends: its result is delivered; an exception thrown in the worker fails it with a
/// <see cref="RemoteExecutorException"/> (the worker stays up, and if the pool restarts the executor its instance is
/// created again in the same process); a <see cref="RetryException"/> thrown there is one here too; a call that runs
/// past <see cref="IsolationOptions.CallTimeout"/> (counted from the previous call's reply, when the worker started it)
/// kills the worker and fails with a <see cref="WorkerCrashedException"/> carrying a <see cref="TimeoutException"/>.
/// A worker due for recycling is replaced between leases.</para>
/// <para><b>Threads.</b> The runner calls <see cref="RunAsync"/> for one lease at a time and
/// <see cref="DisposeAsync"/> after the last; replies continue on the worker's reader thread; the worker's loss is also
/// watched between leases, from its <see cref="WorkerProcess.Lost"/> continuation. <c>_lock</c> guards
/// <c>_running</c> against that continuation, which decides which of the two reports a loss; no user code runs under
/// it.</para>
/// </remarks>
internal sealed class IsolatedExecutorSlot<TIn, TOut> : IExecutorSlot<TIn, TOut>
{
    private static readonly long MemoryCheckInterval = TimeSpan.FromMilliseconds(100).Ticks;

    private readonly IsolatedExecutorFactory<TIn, TOut> _factory;
    private readonly IsolatedExecutors<TIn, TOut> _set;
    private readonly ArrayBufferWriter<byte> _frame = new(256);
    private readonly TaskCompletionSource<Exception> _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lock = new();
    private WorkerProcess _worker;
    private Task<WorkerProcess>? _replacement;
    private bool _running;
    private bool _restartExpected;
    private long _callsOnWorker;
    private long _lastMemoryCheck;

    public IsolatedExecutorSlot(IsolatedExecutorFactory<TIn, TOut> factory, WorkerProcess worker)
    {
        _factory = factory;
        _set = factory.Set;
        _worker = worker;
        Watch(worker);
    }

    public string Location => "worker process " + _worker.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public int MaxLease => _set.Options.MaxCallsInFlight;

    public Task<Exception> Lost => _lost.Task;

    public async ValueTask RunAsync(LeaseHandle<TIn, TOut> lease, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _running = true;
        }

        try
        {
            if (await EnsureWorkerAsync(cancellationToken).ConfigureAwait(false))
            {
                await RunOnAsync(_worker, lease, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            WorkerExit? exit = null;
            lock (_lock)
            {
                _running = false;
                if (_replacement is null && _worker.Lost.IsCompleted)
                {
                    exit = _worker.Lost.Result;
                }
            }

            if (exit is not null)
            {
                // Died with no call of this lease left to blame (or between its last reply and now).
                _lost.TrySetResult(new WorkerCrashedException(exit, "between calls"));
            }
        }
    }

    /// <summary>Lets go of the worker: keeps it for the restart that follows an executor exception, else asks it to exit. Never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        Task<WorkerProcess>? replacement = Interlocked.Exchange(ref _replacement, null);
        if (replacement is not null)
        {
            try
            {
                WorkerProcess next = await replacement.ConfigureAwait(false);
                await next.DisposeAsync().ConfigureAwait(false);
            }
#pragma warning disable CA1031 // A replacement that failed to start has nothing left to release.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        if (_restartExpected && !_worker.IsLost)
        {
            _factory.Keep(_worker);
            return;
        }

        await _worker.DisposeAsync().ConfigureAwait(false);
    }

    private async Task RunOnAsync(WorkerProcess worker, LeaseHandle<TIn, TOut> lease, CancellationToken cancellationToken)
    {
        IsolationOptions options = _set.Options;
        int count = lease.Count;
        if (options.RecycleAfterCalls is { } recycleAfter)
        {
            // A worker recycled after N calls runs no more: the rest of the lease goes back to the queue, unsent.
            count = (int)Math.Min(count, Math.Max(1, recycleAfter - _callsOnWorker));
        }

        var replies = new Task<WorkerReply>?[count];
        var inputs = new TIn[count];
        byte[]?[]? keys = options.MaxCrashesPerInput is null ? null : new byte[]?[count];
        _restartExpected = false;
        for (int i = 0; i < count; i++)
        {
            if (!lease.TryRead(i, out inputs[i], out _))
            {
                continue; // taken back already
            }

            Frame.Begin(_frame);
            long id = worker.NextCallId();
            try
            {
                _set.InputCodec.Encode(inputs[i], _frame);
            }
#pragma warning disable CA1031 // The codec's failure is this call's, like any executor exception.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                lease.TryFail(i, ex, FailureKind.Threw);
                continue;
            }

            ReadOnlyMemory<byte> frame = Frame.End(_frame, FrameKind.Call, id);
            if (keys is not null && !_set.Ledger.IsEmpty)
            {
                byte[] key = frame[Frame.HeaderSize..].ToArray();
                keys[i] = key;
                if (_set.Ledger.TryGetExhausted(key, options.MaxCrashesPerInput!.Value, out WorkerCrashedException? last))
                {
                    lease.TryFail(i, new RetryException($"The input crashed its worker {options.MaxCrashesPerInput} time(s) and is not run again: {last!.Message}", last), FailureKind.Threw);
                    continue;
                }
            }

            if (!lease.MarkSent(i))
            {
                continue;
            }

            replies[i] = worker.SendAsync(id, frame.Span, null, WorkerExitReason.CallTimeout, cancellationToken);
        }

        for (int i = 0; i < count; i++)
        {
            if (replies[i] is not { } pending)
            {
                continue;
            }

            WorkerReply reply;
            if (options.CallTimeout is { } limit && !pending.IsCompleted)
            {
                // The worker runs the calls in order: this one started when the previous one's reply came.
                using ITimer deadline = options.TimeProvider.CreateTimer(
                    static state => ((WorkerProcess)state!).Kill(WorkerExitReason.CallTimeout), worker, limit, Timeout.InfiniteTimeSpan);
                reply = await pending.ConfigureAwait(false);
            }
            else
            {
                reply = await pending.ConfigureAwait(false);
            }

            if (reply.Exit is { } exit)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return; // Stop abandons the lease
                }

                // The first call without a reply is the one the worker was running: it takes the blame. The calls after
                // it never started, and the runner takes them back.
                WorkerCrashedException crash = exit.Reason == WorkerExitReason.CallTimeout
                    ? new WorkerCrashedException(exit, "while running a call", new TimeoutException($"The call ran past its timeout of {options.CallTimeout}."))
                    : new WorkerCrashedException(exit, "while running a call");
                if (keys is not null)
                {
                    _set.Ledger.Record(keys[i] ?? InputBytes(inputs[i]), crash);
                }

                lease.TryFail(i, crash, FailureKind.Crashed);
                _lost.TrySetResult(crash);
                return;
            }

            _callsOnWorker++;
            Settle(lease, i, reply, worker, keys?[i], cancellationToken);
        }

        RecycleIfDue(worker);
    }

    private void Settle(LeaseHandle<TIn, TOut> lease, int index, WorkerReply reply, WorkerProcess worker, byte[]? key, CancellationToken cancellationToken)
    {
        switch (reply.Kind)
        {
            case FrameKind.Result:
                TOut output;
                try
                {
                    output = _set.OutputCodec.Decode(reply.Payload);
                }
#pragma warning disable CA1031 // The codec's failure is this call's.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    lease.TryFail(index, ex, FailureKind.Threw);
                    return;
                }

                if (key is not null)
                {
                    _set.Ledger.Forget(key);
                }

                lease.TryComplete(index, output);
                return;
            case FrameKind.Error:
                RemoteError error = RemoteError.Read(reply.Payload);
                Exception failure;
                if (error.IsCancellation && cancellationToken.IsCancellationRequested)
                {
                    failure = new OperationCanceledException(error.Message, cancellationToken);
                }
                else if (error.IsRetry)
                {
                    failure = error.Replacement is { } replacement
                        ? RetryException.WithInput(_set.InputCodec.Decode(replacement), error.Message)
                        : new RetryException(error.Message, error.ToException(worker.ProcessId));
                }
                else
                {
                    _restartExpected = true;
                    failure = error.ToException(worker.ProcessId);
                }

                lease.TryFail(index, failure, FailureKind.Threw);
                return;
            default:
                worker.Kill(WorkerExitReason.ProtocolError);
                return;
        }
    }

    private byte[] InputBytes(TIn input)
    {
        var buffer = new ArrayBufferWriter<byte>();
        _set.InputCodec.Encode(input, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Puts the replacement of a recycled worker in place before a lease.</summary>
    /// <returns><see langword="false"/> if there is no worker to run the lease on: the slot is lost.</returns>
    private async ValueTask<bool> EnsureWorkerAsync(CancellationToken cancellationToken)
    {
        Task<WorkerProcess>? replacement = Volatile.Read(ref _replacement);
        if (replacement is null)
        {
            return !_worker.Lost.IsCompleted;
        }

        try
        {
            WorkerProcess next = await replacement.WaitAsync(cancellationToken).ConfigureAwait(false);
            lock (_lock)
            {
                _worker = next;
                _replacement = null;
            }

            Watch(next);
            return true;
        }
        catch (Exception ex) when (ex is WorkerCrashedException or RemoteExecutorException)
        {
            Volatile.Write(ref _replacement, null);
            _lost.TrySetResult(new ExecutorLostException($"The isolated executor could not start a new worker process: {ex.Message}", ex));
            return false;
        }
    }

    private void RecycleIfDue(WorkerProcess worker)
    {
        IsolationOptions options = _set.Options;
        bool due = options.RecycleAfterCalls is { } calls && _callsOnWorker >= calls;
        if (!due && options.MaxMemory is { } limit)
        {
            long now = options.TimeProvider.GetUtcNow().Ticks;
            if (now - _lastMemoryCheck >= MemoryCheckInterval)
            {
                _lastMemoryCheck = now;
                due = worker.ReadResidentBytes() > limit;
            }
        }

        if (!due || worker.IsLost)
        {
            return;
        }

        _set.OnRecycle();
        _callsOnWorker = 0;
        _restartExpected = false;
        lock (_lock)
        {
            _replacement = _factory.StartReadyAsync(_factory.StopToken);
        }

        _ = worker.DisposeAsync().AsTask();
    }

    /// <summary>Reports the loss of a worker that died while no lease was running on it.</summary>
    private void Watch(WorkerProcess worker)
    {
        _ = worker.Lost.ContinueWith(
            static (lost, state) =>
            {
                var (slot, worker) = ((IsolatedExecutorSlot<TIn, TOut>, WorkerProcess))state!;
                lock (slot._lock)
                {
                    if (slot._running || slot._worker != worker || slot._replacement is not null)
                    {
                        return; // the lease reports it, or the worker was replaced on purpose
                    }
                }

                if (lost.Result.Reason != WorkerExitReason.Shutdown)
                {
                    slot._lost.TrySetResult(new WorkerCrashedException(lost.Result, "between calls"));
                }
            },
            (this, worker),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
