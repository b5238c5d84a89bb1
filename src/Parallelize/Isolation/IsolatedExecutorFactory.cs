namespace Parallelize.Isolation;

/// <summary>
/// One isolated executor as the pool sees it (its slot factory): creates an <see cref="IsolatedExecutorSlot{TIn, TOut}"/>
/// each time the pool (re)creates the executor, and keeps a worker process alive across a restart that was not the
/// process's fault (the executor threw), so that only the executor instance inside it is created again.
/// </summary>
/// <remarks>
/// <c>_lock</c> guards <c>_spare</c>, <c>_spareTimer</c> and <c>_stop</c>. The pool calls the factory and disposes
/// slots from its runner, one at a time per executor, but the stop callback and the spare's timer run on other
/// threads. No user code runs here.
/// </remarks>
internal sealed class IsolatedExecutorFactory<TIn, TOut>
{
    /// <summary>How long a worker kept for a restart waits for the pool to create its executor again before it is shut down.</summary>
    private static readonly TimeSpan SpareLifetime = TimeSpan.FromSeconds(10);

    private readonly IsolatedExecutors<TIn, TOut> _set;
    private readonly Lock _lock = new();
    private WorkerProcess? _spare;
    private ITimer? _spareTimer;
    private CancellationToken _stop;
    private bool _stopRegistered;

    public IsolatedExecutorFactory(IsolatedExecutors<TIn, TOut> set)
    {
        _set = set;
    }

    public IsolatedExecutors<TIn, TOut> Set => _set;

    /// <summary>Gets the pool's stop token, as the first factory call received it.</summary>
    public CancellationToken StopToken
    {
        get
        {
            lock (_lock)
            {
                return _stop;
            }
        }
    }

    /// <summary>The slot factory: a worker (the spare, or a new one) with its executor created.</summary>
    public async ValueTask<Core.IExecutorSlot<TIn, TOut>> CreateSlotAsync(int index, CancellationToken stop)
    {
        RegisterStop(stop);
        WorkerProcess? worker = TakeSpare();
        if (worker is null || worker.IsLost)
        {
            if (worker is not null)
            {
                await worker.DisposeAsync().ConfigureAwait(false);
            }

            worker = await _set.StartAsync(stop).ConfigureAwait(false);
        }

        await CreateOnAsync(worker, stop).ConfigureAwait(false);
        return new IsolatedExecutorSlot<TIn, TOut>(this, worker);
    }

    /// <summary>Starts a worker and creates its executor, for a slot that replaces its worker between leases.</summary>
    public async Task<WorkerProcess> StartReadyAsync(CancellationToken cancellationToken)
    {
        WorkerProcess worker = await _set.StartAsync(cancellationToken).ConfigureAwait(false);
        await CreateOnAsync(worker, cancellationToken).ConfigureAwait(false);
        return worker;
    }

    /// <summary>Keeps a live worker for the pool's next call of the factory (the executor is being restarted).</summary>
    public void Keep(WorkerProcess worker)
    {
        WorkerProcess? old;
        ITimer timer = _set.Options.TimeProvider.CreateTimer(
            static state =>
            {
                var (slot, worker) = ((IsolatedExecutorFactory<TIn, TOut>, WorkerProcess))state!;
                slot.DropSpare(worker);
            },
            (this, worker),
            SpareLifetime,
            Timeout.InfiniteTimeSpan);
        bool stopped;
        lock (_lock)
        {
            old = _spare;
            _spareTimer?.Dispose();
            _spare = worker;
            _spareTimer = timer;
            stopped = _stop.IsCancellationRequested;
        }

        if (old is not null && old != worker)
        {
            _ = old.DisposeAsync().AsTask();
        }

        if (stopped)
        {
            DropSpare(worker);
        }
    }

    private async Task CreateOnAsync(WorkerProcess worker, CancellationToken cancellationToken)
    {
        try
        {
            await _set.CreateAsync(worker, cancellationToken).ConfigureAwait(false);
        }
        catch (RemoteExecutorException)
        {
            // The factory threw, and the process is fine: the pool's restart will try again in it.
            Keep(worker);
            throw;
        }
        catch (Exception)
        {
            await worker.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private WorkerProcess? TakeSpare()
    {
        lock (_lock)
        {
            WorkerProcess? spare = _spare;
            _spare = null;
            _spareTimer?.Dispose();
            _spareTimer = null;
            return spare;
        }
    }

    private void DropSpare(WorkerProcess worker)
    {
        lock (_lock)
        {
            if (_spare != worker)
            {
                return;
            }

            _spare = null;
            _spareTimer?.Dispose();
            _spareTimer = null;
        }

        _ = worker.DisposeAsync().AsTask();
    }

    private void RegisterStop(CancellationToken stop)
    {
        lock (_lock)
        {
            if (_stopRegistered)
            {
                return;
            }

            _stopRegistered = true;
            _stop = stop;
        }

        // The pool stopped: a spare has nothing left to do. Killed rather than asked, since no call is in it.
        stop.UnsafeRegister(
            static state =>
            {
                var slot = (IsolatedExecutorFactory<TIn, TOut>)state!;
                WorkerProcess? spare = slot.TakeSpare();
                if (spare is not null)
                {
                    spare.Kill(WorkerExitReason.Shutdown);
                    _ = spare.DisposeAsync().AsTask();
                }
            },
            this);
    }
}
