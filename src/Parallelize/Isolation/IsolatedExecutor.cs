using System.Buffers;

namespace Parallelize.Isolation;

/// <summary>
/// The executor the pool calls: sends each input to its worker process and returns what came back. A thin layer over
/// <see cref="WorkerProcess"/> that maps each outcome onto the pool's rules.
/// </summary>
/// <remarks>
/// <para>How a call ends: a result is returned; an exception thrown in the worker is thrown as a
/// <see cref="RemoteExecutorException"/> (if the pool restarts the executor, its instance is created again in the same
/// process); a <see cref="RetryException"/> in the worker is thrown as one here (no restart); the worker lost during
/// the call is a <see cref="WorkerCrashedException"/>, which uses an attempt of the input (a new process is started
/// before the next call, or by the pool's restart); a call the pool cancelled ends with
/// <see cref="OperationCanceledException"/> (an abort); no worker to be had at all is an
/// <see cref="ExecutorLostException"/>, which costs the input nothing.</para>
/// <para>A worker found dead before a call is sent (it died between calls) is replaced first, so that no input is
/// blamed for a death it did not see; a worker due for recycling is replaced after its call.</para>
/// <para>The pool calls one executor from one call at a time, so the fields are not shared between threads, except
/// that <see cref="DisposeAsync"/> may follow the last call on another thread (the pool orders them).</para>
/// </remarks>
internal sealed class IsolatedExecutor<TIn, TOut> : IAsyncExecutor<TIn, TOut>, IAsyncDisposable
{
    private static readonly long MemoryCheckInterval = TimeSpan.FromMilliseconds(100).Ticks;

    private readonly IsolatedSlot<TIn, TOut> _slot;
    private readonly IsolatedExecutors<TIn, TOut> _set;
    private readonly ArrayBufferWriter<byte> _frame = new(256);
    private WorkerProcess _worker;
    private Task<WorkerProcess>? _replacement;
    private long _callsOnWorker;
    private long _lastMemoryCheck;
    private bool _restartExpected;

    public IsolatedExecutor(IsolatedSlot<TIn, TOut> slot, WorkerProcess worker)
    {
        _slot = slot;
        _set = slot.Set;
        _worker = worker;
    }

    public async ValueTask<TOut> ExecuteAsync(TIn input, CancellationToken cancellationToken)
    {
        WorkerProcess worker = _replacement is null && !_worker.IsLost
            ? _worker
            : await ReplaceWorkerAsync(cancellationToken).ConfigureAwait(false);
        IsolationOptions options = _set.Options;
        long id = worker.NextCallId();
        Frame.Begin(_frame);
        _set.InputCodec.Encode(input, _frame);
        ReadOnlyMemory<byte> frame = Frame.End(_frame, FrameKind.Call, id);
        byte[]? key = null;
        if (options.MaxCrashesPerInput is { } maxCrashes && !_set.Ledger.IsEmpty)
        {
            key = frame[Frame.HeaderSize..].ToArray();
            if (_set.Ledger.TryGetExhausted(key, maxCrashes, out WorkerCrashedException? last))
            {
                throw new RetryException($"The input crashed its worker {maxCrashes} time(s) and is not run again: {last!.Message}", last);
            }
        }

        WorkerReply reply = await worker.SendAsync(id, frame.Span, options.CallTimeout, WorkerExitReason.CallTimeout, cancellationToken).ConfigureAwait(false);
        if (reply.Exit is { } exit)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("The pool stopped the call, and its worker process was killed.", cancellationToken);
            }

            var crash = exit.Reason == WorkerExitReason.CallTimeout
                ? new WorkerCrashedException(exit, "while running a call", new TimeoutException($"The call ran past its timeout of {options.CallTimeout}."))
                : new WorkerCrashedException(exit, "while running a call");
            if (options.MaxCrashesPerInput is not null)
            {
                _set.Ledger.Record(key ?? frame[Frame.HeaderSize..].ToArray(), crash);
            }

            throw crash;
        }

        _callsOnWorker++;
        switch (reply.Kind)
        {
            case FrameKind.Result:
                TOut output = _set.OutputCodec.Decode(reply.Payload);
                if (key is not null)
                {
                    _set.Ledger.Forget(key);
                }

                RecycleIfDue(worker);
                return output;
            case FrameKind.Error:
                RemoteError error = RemoteError.Read(reply.Payload);
                if (error.IsCancellation && cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException(error.Message, cancellationToken);
                }

                if (error.IsRetry)
                {
                    throw error.Replacement is { } replacement
                        ? RetryException.WithInput(_set.InputCodec.Decode(replacement), error.Message)
                        : new RetryException(error.Message, error.ToException(worker.ProcessId));
                }

                _restartExpected = true;
                throw error.ToException(worker.ProcessId);
            default:
                worker.Kill(WorkerExitReason.ProtocolError);
                throw new WorkerCrashedException(await worker.Lost.ConfigureAwait(false), "while running a call");
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
            _slot.Keep(_worker);
            return;
        }

        await _worker.DisposeAsync().ConfigureAwait(false);
    }

    private async Task<WorkerProcess> ReplaceWorkerAsync(CancellationToken cancellationToken)
    {
        WorkerProcess old = _worker;
        Task<WorkerProcess>? replacement = _replacement;
        _replacement = null;
        _callsOnWorker = 0;
        if (replacement is not null)
        {
            try
            {
                _worker = await replacement.ConfigureAwait(false);
                return _worker;
            }
            catch (Exception ex) when (ex is WorkerCrashedException or RemoteExecutorException)
            {
                // Start one more below; if that fails too, this call fails with it.
            }
        }

        // The worker died between calls (or its replacement failed to start): not this input's doing. If no worker can
        // be had now, the executor is lost: the input goes back without using an attempt, and the pool restarts it.
        await old.DisposeAsync().ConfigureAwait(false);
        try
        {
            _worker = await _slot.StartReadyAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WorkerCrashedException or RemoteExecutorException)
        {
            throw new ExecutorLostException($"The isolated executor could not start a new worker process: {ex.Message}", ex);
        }

        return _worker;
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

        if (!due)
        {
            return;
        }

        _set.OnRecycle();
        _callsOnWorker = 0;
        _ = worker.DisposeAsync().AsTask();
        _replacement = _slot.StartReadyAsync(_slot.StopToken);
    }
}
