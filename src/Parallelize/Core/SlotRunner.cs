using System.Diagnostics;
using Parallelize.Supervision;

namespace Parallelize.Core;

/// <summary>
/// Runs one executor for the pool: creates it (deferred executors, and slots elsewhere), takes leases of calls from the
/// queue, has the executor run them (see <c>SlotRunner.Calls.cs</c>), and restarts or retires the executor as the
/// fault model says.
/// </summary>
/// <remarks>
/// <para><b>Threads.</b> A synchronous executor gets a dedicated background thread, so executors that block never
/// starve the .NET thread pool and all of them start at once. Asynchronous executors, and executor slots elsewhere (a
/// worker process, a cluster node), run as an async loop on the thread pool and hold no thread while they await. In
/// synchronous mode nothing incomplete is ever awaited, so the shared <see cref="ValueTask"/> methods complete on the
/// runner's own thread.</para>
/// <para><b>Leases.</b> The runner takes up to <c>_maxBatch</c> calls at once into its <see cref="CallLease{TIn, TOut}"/>,
/// which owns the accounting of each call (see there). The size adapts: it doubles while whole leases take under
/// <see cref="FastBatch"/> and halves when one takes over <see cref="SlowBatch"/>, so slow calls go one at a time (every
/// idle executor gets one) and trivial calls share the cost of taking and delivering. A call that turns out slow does not
/// hold the others: an idle runner (<see cref="WatchWhileIdle"/>) or the process's <see cref="LeaseWatcher"/> notices
/// the lease making no progress and releases it — delivers its finished calls and hands the rest back to the queue.</para>
/// <para><b>State.</b> <c>_instance</c>, <c>_call</c>, <c>_plainCall</c>, <c>_callAsync</c>, <c>_slot</c>,
/// <c>_maxBatch</c> and the supervisor's tracker are touched only by this runner's loop; <c>_instance</c> is also read by
/// <c>Executors</c>, hence the volatile access. <c>WatcherEpoch</c> and <c>WatcherNext</c> belong to the
/// <see cref="LeaseWatcher"/> thread.</para>
/// <para><b>No lock is held here while user code runs</b>: executors, factories and <c>Dispose</c> are called with no
/// lock taken and no lease active while a factory or <c>Dispose</c> runs; telemetry (logs, progress) is reported
/// through the pool, which runs it outside the "inside an executor" mark.</para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage(
    "Reliability",
    "CA1001:Types that own disposable fields should be disposable",
    Justification = "The runner disposes its call-timeout source itself when its loop exits (ExitAsync); nothing outside owns it.")]
internal sealed partial class SlotRunner<TIn, TOut> : IWorkTaker<TIn>, ILeaseOwner
{
    /// <summary>The largest lease.</summary>
    internal const int MaxBatch = 256;

    private static readonly long FastBatch = Stopwatch.Frequency / 50_000;  // 20 µs
    private static readonly long SlowBatch = Stopwatch.Frequency / 5_000;   // 200 µs
    private static readonly long SpinTime = Stopwatch.Frequency / 20_000;   // 50 µs
    private static readonly long FastSlotLease = Stopwatch.Frequency / 1_000;  // 1 ms
    private static readonly long SlowSlotLease = Stopwatch.Frequency / 100;    // 10 ms
    private static readonly bool CanSpin = Environment.ProcessorCount > 1;

    private readonly Parallelize<TIn, TOut> _pool;
    private readonly Executor<TIn, TOut> _source;
    private readonly ExecutorSupervisor _supervisor;
    private readonly CallLease<TIn, TOut> _lease;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private object? _instance;
    private IExecutorSlot<TIn, TOut>? _slot;
    private int _maxBatch = 1;
    private int _slotBatch = 1;
    private int _treeIndex;
    private long _lateOutcomes;
    private volatile bool _retired;
    private volatile string? _location;

    public SlotRunner(Parallelize<TIn, TOut> pool, Settlement<TIn, TOut> settlement, Executor<TIn, TOut> source, int index)
    {
        _pool = pool;
        _source = source;
        _supervisor = new ExecutorSupervisor(pool.Options);
        _lease = new CallLease<TIn, TOut>(settlement, this, anyOrder: source.SlotFactory is not null);
        Index = index;

        // An executor given directly exists from the start, so it is owned (and disposed at the end) even if the
        // pool stops before this runner runs.
        if (!source.IsDeferred)
        {
            Install(source.Instance!, source.Call, source.CallAsync);
        }
    }

    /// <summary>Gets or sets a hook the tests use to make starting a runner's thread fail; <see langword="null"/> otherwise.</summary>
    internal static Action<int>? ThreadStartHook { get; set; }

    /// <inheritdoc/>
    public int Index { get; }

    /// <inheritdoc/>
    public int Generation => _supervisor.Generation;

    /// <summary>Gets a value indicating whether the executor is asynchronous (a thread-pool loop) rather than synchronous (a dedicated thread).</summary>
    public bool IsAsynchronous => _source.IsAsynchronous;

    /// <inheritdoc/>
    public bool RunsOnThreadPool => IsAsynchronous;

    /// <inheritdoc/>
    public SemaphoreSlim Signal { get; } = new(0);

    /// <summary>Gets the runner's lease.</summary>
    public CallLease<TIn, TOut> Lease => _lease;

    /// <summary>Gets the supervisor that collects the faults blamed on this executor.</summary>
    public ExecutorSupervisor Supervisor => _supervisor;

    /// <summary>Gets a task that completes once the executor exists, or the runner has retired or exited.</summary>
    public Task Ready => _ready.Task;

    /// <summary>Gets the live executor instance (or slot), or <see langword="null"/> if there is none now.</summary>
    public object? Instance => _retired ? null : Volatile.Read(ref _instance);

    /// <summary>Gets where the executor runs: "thread" or "thread pool", or the slot's location, read live (an executor on a cluster may move).</summary>
    public string Location => Volatile.Read(ref _slot)?.Location ?? _location ?? (IsAsynchronous ? "thread pool" : "thread");

    /// <summary>Gets a value indicating whether the restart policy retired this executor.</summary>
    public bool IsRetired => _retired;

    /// <summary>Gets the last fault of this executor.</summary>
    public Exception? LastError { get; private set; }

    /// <summary>Gets how many outcomes arrived for calls already settled or taken back, and were dropped.</summary>
    public long LateOutcomes => Interlocked.Read(ref _lateOutcomes);

    /// <summary>Gets or sets the lease number the <see cref="LeaseWatcher"/> saw last (its thread only).</summary>
    internal long WatcherEpoch { get; set; }

    /// <summary>Gets or sets the progress the <see cref="LeaseWatcher"/> saw last (its thread only).</summary>
    internal int WatcherNext { get; set; }

    /// <inheritdoc/>
    public void BeginBatch(int count, bool probe) => _lease.Begin(count, probe);

    /// <inheritdoc/>
    public void OnLateOutcome() => Interlocked.Increment(ref _lateOutcomes);

    /// <summary>Starts an asynchronous runner's loop on the thread pool.</summary>
    public void StartAsynchronous() =>
        ThreadPool.UnsafeQueueUserWorkItem(static runner => _ = runner.RunAsync(sync: false), this, preferLocal: false);

    /// <summary>Starts a synchronous runner's dedicated thread.</summary>
    /// <param name="treeIndex">The runner's place among the pool's synchronous runners; once running, it starts the two after it in the start tree (see <see cref="Parallelize{TIn, TOut}.StartSynchronousRunner"/>).</param>
    public void StartThread(int treeIndex)
    {
        ThreadStartHook?.Invoke(treeIndex);

        // A parked dedicated thread, or a new one; either way the runner starts from the empty context, never the
        // creating thread's (and with it another pool's "inside an executor" mark).
        _treeIndex = treeIndex;
        DedicatedThreads.Run(static state => ((SlotRunner<TIn, TOut>)state).RunSync(), this, $"Parallelize executor {Index}");
    }

    /// <summary>The runner's thread could not be started: it retires and exits without running, so the pool can still account for it.</summary>
    /// <param name="exception">Why.</param>
    public void FailToStart(Exception exception)
    {
        Crash(exception);
        ExitAsync(sync: true).AsTask().GetAwaiter().GetResult();
    }

    private void RunSync()
    {
        // Starting a thread waits for it to run, so starting hundreds one after another takes long; each runner
        // starts two more before it does anything else, and they start in parallel.
        _pool.StartSynchronousRunner((2 * _treeIndex) + 2);
        _pool.StartSynchronousRunner((2 * _treeIndex) + 3);

        // In synchronous mode nothing incomplete is ever awaited (see remarks): the loop runs to its end right here.
        try
        {
            Task loop = RunAsync(sync: true);
            Debug.Assert(loop.IsCompleted, "A synchronous-mode step awaited something incomplete.");
            loop.GetAwaiter().GetResult();
        }
        finally
        {
            // The thread goes back to the dedicated threads for another pool: it is this pool's no more.
            Parallelize<TIn, TOut>.LeaveRunnerThread();
        }
    }

    /// <summary>The runner's loop: create the executor, then take, run and settle leases until the queue closes or the executor retires.</summary>
    /// <param name="sync">Run a synchronous executor, blocking this dedicated thread; otherwise await.</param>
    private async Task RunAsync(bool sync)
    {
        // The context the runner starts in is the empty one: calls made from such a context run directly.
        _ownContext = ExecutionContext.Capture();
        _pool.EnterWorker();
        if (sync)
        {
            _pool.EnterRunnerThread();
        }
        try
        {
            if (!await CreateAsync(sync).ConfigureAwait(false))
            {
                return;
            }

            WorkQueue<TIn> queue = _pool.Queue;
            bool searching = false;
            while (true)
            {
                if (_supervisor.HasCharges)
                {
                    // About to restart (with a backoff) or retire before looking at the queue: whoever woke this runner
                    // counted it as searching, and the calls it was woken for must go to another runner meanwhile.
                    queue.Leave(searching);
                    searching = false;
                    if (!await ResolveFaultsAsync(sync, restartWanted: false).ConfigureAwait(false))
                    {
                        return;
                    }
                }

                int maxBatch = _slot is { } slot ? Math.Min(_slotBatch, Math.Max(1, slot.MaxLease)) : _maxBatch;
                _lease.NextGeneration = _supervisor.Generation;
                _lease.EnsureCapacity(maxBatch);
                QueuedCall<TIn>[] batch = _lease.Calls;

                // Calls gather into leases of at least a quarter of the lease size while another runner searches.
                int minimum = Math.Max(1, maxBatch / 4);
                int taken = queue.TakeOrPark(this, batch, maxBatch, minimum, searching, park: false, out bool closed);
                if (taken == 0 && !closed)
                {
                    // Not enough queued. Spin briefly if no other runner does (a producer that keeps up then wakes no
                    // one), keep watch while another runner's lease may be stuck, then look once more and park.
                    searching = sync && CanSpin && queue.TryStartSearching();
                    if (searching)
                    {
                        SpinUntilWork(queue, minimum);
                    }

                    taken = queue.TakeOrPark(this, batch, maxBatch, searching ? 1 : minimum, searching, park: false, out closed);
                    searching = false;
                    if (taken == 0 && !closed && sync && WatchWhileIdle(queue))
                    {
                        continue;
                    }

                    if (taken == 0 && !closed)
                    {
                        taken = queue.TakeOrPark(this, batch, maxBatch, 1, searching: false, park: true, out closed);
                    }

                    if (taken == 0 && !closed)
                    {
                        if (sync)
                        {
                            Signal.Wait();
                        }
                        else
                        {
                            await Signal.WaitAsync().ConfigureAwait(false);
                        }

                        // Whoever woke this runner counted it as searching.
                        searching = true;
                        continue;
                    }
                }

                searching = false;
                if (closed)
                {
                    return;
                }

                if (taken > 1)
                {
                    LeaseWatcher.Shared.Nudge();
                }

                long started = Stopwatch.GetTimestamp();
                LeaseOutcome outcome = _slot is not null
                    ? await RunSlotLeaseAsync().ConfigureAwait(false)
                    : sync ? RunLease() : await RunLeaseAsync().ConfigureAwait(false);
                if (outcome.Succeeded > 0)
                {
                    _supervisor.OnSuccess();
                }

                if (_supervisor.HasCharges || outcome.Action == FaultAction.Restart)
                {
                    if (!await ResolveFaultsAsync(sync, outcome.Action == FaultAction.Restart).ConfigureAwait(false))
                    {
                        return;
                    }
                }
                else if (outcome.Failed is null)
                {
                    if (_slot is null)
                    {
                        AdaptBatchSize(taken, Stopwatch.GetTimestamp() - started);
                    }
                    else
                    {
                        // On the calls' own run time if the slot reported it, else on the round trip.
                        long reported = _lease.TakeReportedRunTicks();
                        AdaptSlotBatchSize(taken, reported > 0 ? reported : Stopwatch.GetTimestamp() - started);
                    }
                }
            }
        }
#pragma warning disable CA1031 // The backstop for a bug in the pool itself; see Crash.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Crash(ex);
        }
        finally
        {
            await ExitAsync(sync).ConfigureAwait(false);
        }
    }

    private static void SpinUntilWork(WorkQueue<TIn> queue, int minimum)
    {
        // Looks at the queue's count only every few hundred nanoseconds: each look pulls the line the producer writes.
        long deadline = Stopwatch.GetTimestamp() + SpinTime;
        while (queue.Count + queue.RetriesQueued < minimum && !queue.IsClosed && Stopwatch.GetTimestamp() < deadline)
        {
            Thread.SpinWait(64);
        }
    }

    /// <summary>
    /// An idle synchronous runner keeps watch over the other runners' leases while one of them may be stuck in a slow
    /// call with calls behind it: every <see cref="PreciseSleep.WatchInterval"/> it looks, and a lease that has made
    /// no progress since the last look is released (its finished calls delivered, its unstarted calls handed back for
    /// this and other idle runners). One runner of a pool watches at a time.
    /// </summary>
    /// <returns><see langword="true"/> if calls came into the queue meanwhile (or it closed): look again. Calls that were there already, which this runner could not take (a retry kept from it, a paused queue), do not count: it parks.</returns>
    private bool WatchWhileIdle(WorkQueue<TIn> queue)
    {
        if (!_pool.TryBeginWatch())
        {
            return false;
        }

        try
        {
            long pushes = queue.Pushes;
            Span<(long Epoch, int Next, int Looks)> seen = _pool.WatchSeen;
            seen.Clear();
            while (_pool.WatchLeases(seen, this))
            {
                PreciseSleep.Watch();
                if (queue.Pushes != pushes || queue.IsClosed)
                {
                    return true;
                }
            }

            return queue.Pushes != pushes;
        }
        finally
        {
            _pool.EndWatch();
        }
    }

    /// <summary>
    /// A slot elsewhere pays a round trip per lease (tens of microseconds to a worker process, hundreds to a cluster
    /// node), so its leases are sized on their own scale: they double while a full lease takes under
    /// <see cref="FastSlotLease"/> — many small calls share one round trip — and halve above <see cref="SlowSlotLease"/>,
    /// so that calls of a millisecond or more go one at a time, to every idle executor, up to the slot's own limit. A
    /// slot that reports its calls' run time (<see cref="LeaseHandle{TIn, TOut}.ReportRunTime"/>) is sized on that
    /// instead, so that a slow transport (a round trip of a millisecond or more) still gets many small calls a message.
    /// </summary>
    private void AdaptSlotBatchSize(int taken, long elapsed)
    {
        if (elapsed > SlowSlotLease)
        {
            _slotBatch = Math.Max(1, _slotBatch / 2);
        }
        else if (taken == _slotBatch && elapsed < FastSlotLease)
        {
            // Never beyond what the slot takes, or the first slow lease would only halve it back to the slot's limit.
            int limit = Math.Min(MaxBatch, Math.Max(1, _slot?.MaxLease ?? MaxBatch));
            _slotBatch = Math.Min(_slotBatch * 2, limit);
        }
    }

    private void AdaptBatchSize(int taken, long elapsed)
    {
        if (elapsed > SlowBatch)
        {
            _maxBatch = Math.Max(1, _maxBatch / 2);
        }
        else if (taken == _maxBatch && elapsed < FastBatch && _maxBatch < MaxBatch)
        {
            _maxBatch *= 2;
        }
    }

    /// <summary>Faults were blamed on this executor, or one needs a restart: counts the blamed ones first (they may retire it), then restarts it if needed.</summary>
    /// <param name="sync">Block rather than await.</param>
    /// <param name="restartWanted">The last lease's fault asks for a restart whatever the blame.</param>
    /// <returns><see langword="false"/> if the runner must end.</returns>
    private async ValueTask<bool> ResolveFaultsAsync(bool sync, bool restartWanted)
    {
        ExecutorSupervisor.Verdict verdict = ExecutorSupervisor.Verdict.None;
        Exception? cause = null;
        if (_supervisor.HasCharges)
        {
            verdict = _supervisor.TakeCharges(out cause);
        }

        if (verdict == ExecutorSupervisor.Verdict.Retire)
        {
            await RetireAsync(sync, cause!).ConfigureAwait(false);
            return false;
        }

        return verdict == ExecutorSupervisor.Verdict.Restart || restartWanted
            ? await RestartAsync(sync, cause ?? LastError).ConfigureAwait(false)
            : true;
    }

    /// <summary>
    /// Only an exception from the pool's own code reaches here (user code is always called inside a try). Rather than
    /// crash the process (a dedicated thread) or vanish (a fire-and-forget loop) and leave <c>Wait</c> hanging, the
    /// runner gives back its lease and retires with the exception as its cause, so the pool faults visibly if it was the last.
    /// </summary>
    private void Crash(Exception exception)
    {
        LastError = exception;
        _lease.Salvage();
        if (!_retired)
        {
            _retired = true;
            _pool.OnRunnerRetired(this);
        }
    }

    private async ValueTask RetireAsync(bool sync, Exception cause)
    {
        LastError = cause;
        _retired = true;
        await ReleaseInstanceAsync(sync).ConfigureAwait(false);
        _pool.OnRunnerRetired(this);
    }

    /// <summary>Restarts the executor after <paramref name="cause"/>: waits its backoff, then a deferred executor (or slot) is created again; one given directly is kept.</summary>
    /// <returns><see langword="false"/> if the runner must end: the executor was retired or the pool is stopping.</returns>
    private async ValueTask<bool> RestartAsync(bool sync, Exception? cause)
    {
        if (_pool.IsStopRequested)
        {
            return false;
        }

        LastError = cause ?? LastError;
        if (_source.IsDeferred)
        {
            await ReleaseInstanceAsync(sync).ConfigureAwait(false);
        }

        TimeSpan delay = _supervisor.BeginRestart();
        if (delay > TimeSpan.Zero && !await DelayAsync(delay, sync).ConfigureAwait(false))
        {
            return false;
        }

        _pool.OnRestart(Index, LastError ?? new InvalidOperationException("The executor was restarted."));
        return await CreateAsync(sync).ConfigureAwait(false);
    }

    /// <summary>Creates a deferred executor (or slot), retrying a factory that fails under the restart policy: a factory's failure is the executor's.</summary>
    /// <returns><see langword="false"/> if the runner must end.</returns>
    private async ValueTask<bool> CreateAsync(bool sync)
    {
        while (true)
        {
            if (_pool.IsStopRequested)
            {
                return false;
            }

            if (!_source.IsDeferred)
            {
                // Installed by the constructor and kept across restarts.
                return true;
            }

            Exception? cause;
            try
            {
                cause = await TryCreateAsync(sync).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_pool.IsStopRequested)
            {
                return false;
            }

            if (cause is null)
            {
                if (_pool.IsStopRequested)
                {
                    await ReleaseInstanceAsync(sync).ConfigureAwait(false);
                    return false;
                }

                return true;
            }

            LastError = cause;
            if (!_supervisor.ChargeNow())
            {
                await RetireAsync(sync, cause).ConfigureAwait(false);
                return false;
            }

            TimeSpan delay = _supervisor.BeginRestart();
            if (delay > TimeSpan.Zero && !await DelayAsync(delay, sync).ConfigureAwait(false))
            {
                return false;
            }

            _pool.OnRestart(Index, cause);
        }
    }

    /// <returns>The factory's failure, or <see langword="null"/> once the executor is installed.</returns>
    private async ValueTask<Exception?> TryCreateAsync(bool sync)
    {
        try
        {
            if (_source.SlotFactory is { } slotFactory)
            {
                IExecutorSlot<TIn, TOut>? slot = await slotFactory(Index, _pool.StopToken).ConfigureAwait(false);
                if (slot is null)
                {
                    return new InvalidOperationException($"The slot factory of executor {Index} returned null.");
                }

                _slot = slot;
                _location = slot.Location;
                Install(slot, null, null);
                return null;
            }

            object? created = sync
                ? _source.Factory!()
                : await _source.FactoryAsync!(_pool.StopToken).ConfigureAwait(false);
            switch (created)
            {
                case null:
                    return new InvalidOperationException($"The factory of deferred executor {Index} returned null.");
                case IExecutor<TIn, TOut> executor when sync:
                    Install(executor, executor.Execute, null);
                    return null;
                default:
                    var asyncExecutor = (IAsyncExecutor<TIn, TOut>)created;
                    Install(asyncExecutor, null, asyncExecutor.ExecuteAsync);
                    return null;
            }
        }
        catch (OperationCanceledException) when (_pool.IsStopRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // A factory that throws is a fault of the executor, under the restart policy.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return ex;
        }
    }

    private void Install(object instance, Func<TIn, CancellationToken, TOut>? call, Func<TIn, CancellationToken, ValueTask<TOut>>? callAsync)
    {
        _call = call;
        _plainCall = instance as Func<TIn, TOut>;
        _callAsync = callAsync;
        Volatile.Write(ref _instance, instance);
        _ready.TrySetResult();
    }

    /// <returns><see langword="false"/> if the pool was asked to stop meanwhile.</returns>
    private async ValueTask<bool> DelayAsync(TimeSpan delay, bool sync)
    {
        if (sync && ReferenceEquals(_pool.Options.TimeProvider, TimeProvider.System) && delay.TotalMilliseconds <= int.MaxValue)
        {
            // A kernel wait on the runner's own thread: the system clock's timer would complete a Task.Delay from a
            // thread-pool thread, so a starved thread pool would hold a synchronous executor's restart back.
            return !_pool.StopToken.WaitHandle.WaitOne(delay);
        }

        Task wait = Task.Delay(delay, _pool.Options.TimeProvider, _pool.StopToken);
        try
        {
            if (sync)
            {
                wait.GetAwaiter().GetResult();
            }
            else
            {
                await wait.ConfigureAwait(false);
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async ValueTask ExitAsync(bool sync)
    {
        await ReleaseInstanceAsync(sync).ConfigureAwait(false);
        _callTimeoutLink.Dispose();
        _callTimeout?.Dispose();
        _ready.TrySetResult();
        _pool.OnRunnerExited();
    }

    /// <summary>Lets go of the live executor, disposing it if the pool owns it and no other runner shares it.</summary>
    private async ValueTask ReleaseInstanceAsync(bool sync)
    {
        object? instance = Interlocked.Exchange(ref _instance, null);
        _call = null;
        _plainCall = null;
        _callAsync = null;
        _slot = null;
        if (instance is null || (!_source.IsDeferred && !_pool.ReleaseShared(instance)))
        {
            return;
        }

        try
        {
            if (instance is IAsyncDisposable asyncDisposable && !(sync && instance is IDisposable))
            {
                ValueTask disposal = asyncDisposable.DisposeAsync();
                if (sync)
                {
                    disposal.AsTask().GetAwaiter().GetResult();
                }
                else
                {
                    await disposal.ConfigureAwait(false);
                }
            }
            else if (instance is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }
#pragma warning disable CA1031 // A throwing Dispose must not take the runner, or the pool, down with it.
        catch (Exception)
#pragma warning restore CA1031
        {
            _pool.OnDisposeFault();
        }
    }

    /// <summary>What became of a lease: how many of its calls succeeded, the fault that ended it (if one did) and what to do about the executor.</summary>
    private readonly record struct LeaseOutcome(int Succeeded, Exception? Failed, FaultAction Action);
}
