using System.Diagnostics;
using Parallelize.Supervision;

namespace Parallelize.Core;

/// <summary>
/// Runs one executor: creates it (deferred executors), takes calls from the queue in batches, settles each call, and
/// restarts or retires the executor after a fault.
/// </summary>
/// <remarks>
/// <para><b>Threads.</b> A synchronous executor gets a dedicated background thread, so executors that block never
/// starve the .NET thread pool and all of them start at once. An asynchronous executor runs as an async loop on
/// the thread pool and holds no thread while it awaits. Both loops share every step but the inner loop over a
/// batch; <c>sync</c> only chooses between blocking and awaiting, and in synchronous mode nothing incomplete is ever
/// awaited, so the shared <see cref="ValueTask"/> methods complete on the worker's own thread.</para>
/// <para><b>Batches.</b> The worker takes up to <c>_maxBatch</c> calls at once, runs them one after another and
/// delivers their results in one step. The size adapts: it doubles while whole batches take under
/// <see cref="FastBatch"/> and halves when one takes over <see cref="SlowBatch"/>, so slow calls go one at a time
/// (every idle executor gets one) and trivial calls share the cost of taking and delivering.</para>
/// <para><b>Who owns a batch.</b> <c>_cursor</c> is <see cref="Owned"/> while the worker owns the batch the queue
/// handed it (set under the queue's lock), <see cref="Done"/> once the worker has claimed it back to settle it (at
/// its end, at a fault, or when the queue closed) or holds none, and <see cref="Stolen"/> once <c>Stop</c> took it
/// after its finish timeout (<see cref="StealBatch"/>). Both claims are a compare-and-swap from <see cref="Owned"/>,
/// so exactly one of them settles the batch: the worker delivers and routes its calls, or <c>Stop</c> delivers the
/// results stored so far and aborts the rest, and a worker that finds its batch stolen drops what it has. To tell
/// which results are stored, the worker stores each result and then publishes <c>_finished</c> = its index + 1
/// with a volatile write (release): a plain store, not a fence, so the per-call cost stays that of two stores. A
/// result stored but not yet published when <c>Stop</c> reads <c>_finished</c> is aborted, never delivered twice:
/// its worker can no longer claim the batch. <c>Stop</c> steals only after closing the queue under its lock, so it
/// sees the batch whole. Only the worker writes <c>_batch</c>, <c>_outputs</c> and <c>_end</c>, and never while
/// <c>Stop</c> may read them.</para>
/// <para><b>State.</b> <c>_instance</c>, <c>_call</c>, <c>_callAsync</c>, <c>_maxBatch</c> and <c>_restarts</c> are
/// touched only by this worker's loop; <c>_instance</c> is also read by <c>Executors</c>, hence the volatile access.</para>
/// <para><b>No lock is held here while user code runs</b>: executors, factories and <c>Dispose</c> are called
/// with no lock taken, and no batch is owned while a factory or <c>Dispose</c> runs; routing calls (which takes the
/// queue's, the sink's and the pool's short locks) calls no user code.</para>
/// </remarks>
internal sealed class Worker<TIn, TOut> : IWorkTaker<TIn>
{
    /// <summary>The value of <c>_cursor</c> while the worker owns its batch.</summary>
    internal const int Owned = 0;

    /// <summary>The value of <c>_cursor</c> while the worker owns no batch.</summary>
    internal const int Done = -1;

    /// <summary>The value of <c>_cursor</c> once <c>Stop</c> has stolen the batch.</summary>
    internal const int Stolen = -2;

    /// <summary>Gets or sets a hook the tests use to make starting a worker's thread fail; <see langword="null"/> otherwise.</summary>
    internal static Action<int>? ThreadStartHook { get; set; }

    /// <summary>The largest batch.</summary>
    internal const int MaxBatch = 256;

    private static readonly long FastBatch = Stopwatch.Frequency / 50_000;  // 20 µs
    private static readonly long SlowBatch = Stopwatch.Frequency / 5_000;   // 200 µs
    private static readonly long SpinTime = Stopwatch.Frequency / 20_000;   // 50 µs
    private static readonly bool CanSpin = Environment.ProcessorCount > 1;

    private readonly Parallelize<TIn, TOut> _pool;
    private readonly Executor<TIn, TOut> _source;
    private readonly RestartTracker _restarts;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private object? _instance;
    private Func<TIn, CancellationToken, TOut>? _call;
    private Func<TIn, TOut>? _plainCall;
    private Func<TIn, CancellationToken, ValueTask<TOut>>? _callAsync;
    private QueuedCall<TIn>[] _batch = new QueuedCall<TIn>[1];
    private TOut[] _outputs = new TOut[1];
    private int _maxBatch = 1;
    private int _treeIndex;
    private int _end;
    private PaddedInt32 _cursor = new() { Value = Done };
    private PaddedInt32 _finished;
    private volatile bool _retired;

    public Worker(Parallelize<TIn, TOut> pool, Executor<TIn, TOut> source, int index)
    {
        _pool = pool;
        _source = source;
        _restarts = new RestartTracker(pool.Options);
        Index = index;

        // An executor given directly exists from the start, so it is owned (and disposed at the end) even if the
        // pool stops before this worker runs.
        if (!source.IsDeferred)
        {
            Install(source.Instance!, source.Call, source.CallAsync);
        }
    }

    /// <summary>Gets the position of the executor in the list given to the pool.</summary>
    public int Index { get; }

    /// <summary>Gets a value indicating whether the executor is asynchronous (a thread-pool loop) rather than synchronous (a dedicated thread).</summary>
    public bool IsAsynchronous => _source.IsAsynchronous;

    /// <inheritdoc/>
    public SemaphoreSlim Signal { get; } = new(0);

    /// <summary>Gets a task that completes once the executor exists, or the worker has retired or exited.</summary>
    public Task Ready => _ready.Task;

    /// <summary>Gets the live executor instance, or <see langword="null"/> if there is none now.</summary>
    public object? Instance => _retired ? null : Volatile.Read(ref _instance);

    /// <summary>Gets a value indicating whether the restart policy retired this executor.</summary>
    public bool IsRetired => _retired;

    /// <summary>Gets a value indicating whether the worker holds calls taken from the queue (running or about to run).</summary>
    public bool IsBusy => Volatile.Read(ref _cursor.Value) == Owned;

    /// <summary>Gets the last fault of this executor.</summary>
    public Exception? LastError { get; private set; }

    /// <inheritdoc/>
    public void BeginBatch(int count)
    {
        _end = count;
        _finished.Value = 0;
        Volatile.Write(ref _cursor.Value, Owned);
    }

    /// <summary>
    /// Takes the worker's batch away from it, for <c>Stop</c> after its finish timeout: delivers the calls that
    /// finished and adds the others to <paramref name="aborted"/>. See "Who owns a batch" in the remarks.
    /// </summary>
    /// <param name="aborted">Where the calls not finished go.</param>
    /// <returns>How many calls the stolen batch held (for the queue's in-flight count); 0 if there was none to steal.</returns>
    public int StealBatch(List<QueuedCall<TIn>> aborted)
    {
        if (Interlocked.CompareExchange(ref _cursor.Value, Stolen, Owned) != Owned)
        {
            return 0;
        }

        // Every call below the count read here has its result stored (the worker stores it before it counts it); a
        // call that finishes after this read is aborted, and its worker drops it when it fails to claim the batch.
        int finished = Volatile.Read(ref _finished.Value);
        int end = _end;
        _pool.Sink.DeliverResults(_batch.AsSpan(0, finished), _outputs.AsSpan(0, finished));
        aborted.AddRange(_batch.AsSpan(finished, end - finished));
        return end;
    }

    /// <summary>Starts an asynchronous worker's loop on the thread pool.</summary>
    public void StartAsynchronous() =>
        ThreadPool.UnsafeQueueUserWorkItem(static worker => _ = worker.RunAsync(sync: false), this, preferLocal: false);

    /// <summary>Starts a synchronous worker's dedicated thread.</summary>
    /// <param name="treeIndex">The worker's place among the pool's synchronous workers; once running, it starts the two after it in the start tree (see <see cref="Parallelize{TIn, TOut}.StartSynchronousWorker"/>).</param>
    public void StartThread(int treeIndex)
    {
        ThreadStartHook?.Invoke(treeIndex);
        // UnsafeStart: the worker must not inherit the creating thread's ExecutionContext (and with it another pool's
        // "inside an executor" marker); it starts from a clean context.
        var thread = new Thread(static state => ((Worker<TIn, TOut>)state!).RunSync())
        {
            IsBackground = true,
            Name = $"Parallelize executor {Index}",
        };
        _treeIndex = treeIndex;
        thread.UnsafeStart(this);
    }

    /// <summary>The worker's thread could not be started: it retires and exits without running, so the pool can still account for it.</summary>
    /// <param name="exception">Why.</param>
    public void FailToStart(Exception exception)
    {
        Crash(exception);
        ExitAsync(sync: true).AsTask().GetAwaiter().GetResult();
    }

    private void RunSync()
    {
        // Starting a thread waits for it to run, so starting hundreds one after another takes long; each worker
        // starts two more before it does anything else, and they start in parallel.
        _pool.StartSynchronousWorker((2 * _treeIndex) + 2);
        _pool.StartSynchronousWorker((2 * _treeIndex) + 3);

        // In synchronous mode nothing incomplete is ever awaited (see remarks): the loop runs to its end right here.
        Task loop = RunAsync(sync: true);
        Debug.Assert(loop.IsCompleted, "A synchronous-mode step awaited something incomplete.");
        loop.GetAwaiter().GetResult();
    }

    /// <summary>The worker's loop: start the executor, then take, run and settle batches of calls until the queue closes.</summary>
    /// <param name="sync">Run a synchronous executor, blocking this dedicated thread; otherwise await an asynchronous one.</param>
    private async Task RunAsync(bool sync)
    {
        _pool.EnterWorker();
        try
        {
            if (!await StartAsync(sync, cause: null).ConfigureAwait(false))
            {
                return;
            }

            WorkQueue<TIn> queue = _pool.Queue;
            bool searching = false;
            while (true)
            {
                if (_batch.Length < _maxBatch)
                {
                    _batch = new QueuedCall<TIn>[_maxBatch];
                    _outputs = new TOut[_maxBatch];
                }

                // Calls gather into batches of at least a quarter of the batch size while another worker searches.
                int minimum = Math.Max(1, _maxBatch / 4);
                int taken = queue.TakeOrPark(this, _batch, _maxBatch, minimum, searching, park: false, out bool closed);
                if (taken == 0 && !closed)
                {
                    // Not enough queued. Spin briefly if no other worker does (a producer that keeps up then wakes no
                    // one), then look once more and park.
                    searching = sync && CanSpin && queue.TryStartSearching();
                    if (searching)
                    {
                        SpinUntilWork(queue, minimum);
                    }

                    taken = queue.TakeOrPark(this, _batch, _maxBatch, searching ? 1 : minimum, searching, park: true, out closed);
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

                        // Whoever woke this worker counted it as searching.
                        searching = true;
                        continue;
                    }
                }

                searching = false;
                if (closed)
                {
                    return;
                }

                long started = Stopwatch.GetTimestamp();
                Exception? fault = sync ? RunBatch(taken) : await RunBatchAsync(taken).ConfigureAwait(false);
                if (fault is not null)
                {
                    if (!await StartAsync(sync, fault).ConfigureAwait(false))
                    {
                        return;
                    }
                }
                else
                {
                    AdaptBatchSize(taken, Stopwatch.GetTimestamp() - started);
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
        while (queue.Count < minimum && !queue.IsClosed && Stopwatch.GetTimestamp() < deadline)
        {
            Thread.SpinWait(64);
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

    /// <summary>
    /// Runs a batch on a synchronous executor. The twin of <see cref="RunBatchAsync"/>, kept apart so the hot loop has
    /// no state machine. While a listener records call durations (checked once per batch), each successful call is
    /// timed on the pool's clock; otherwise no clock is read.
    /// </summary>
    /// <returns>The fault the executor must be restarted for, if any.</returns>
    // PERF: compiled fully optimized at once; tiered compilation took millions of calls to promote the hot path.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private Exception? RunBatch(int count)
    {
        QueuedCall<TIn>[] batch = _batch;
        TOut[] outputs = _outputs;
        Func<TIn, CancellationToken, TOut> call = _call!;
        Func<TIn, TOut>? plain = _plainCall;
        CancellationToken token = _pool.CallToken;
        WorkQueue<TIn> queue = _pool.Queue;
        Telemetry.PoolTelemetry telemetry = _pool.Telemetry;
        bool timed = telemetry.CallDuration.Enabled;
        for (int i = 0; i < count; i++)
        {
            if (queue.IsClosed)
            {
                return EndBatchEarly(i, count);
            }

            long started = timed ? telemetry.Clock.GetTimestamp() : 0;
            try
            {
                // A plain function is called directly rather than through the wrapper that adds the token.
                outputs[i] = plain is not null ? plain(batch[i].Input) : call(batch[i].Input, token);
            }
            catch (Exception ex)
            {
                return SettleFault(i, count, ex);
            }

            if (timed)
            {
                RecordDuration(telemetry, started);
            }

            Volatile.Write(ref _finished.Value, i + 1);
        }

        FinishBatch(count);
        return null;
    }

    /// <summary>Runs a batch on an asynchronous executor; see <see cref="RunBatch"/>.</summary>
    /// <returns>The fault the executor must be restarted for, if any.</returns>
    private async ValueTask<Exception?> RunBatchAsync(int count)
    {
        QueuedCall<TIn>[] batch = _batch;
        TOut[] outputs = _outputs;
        Func<TIn, CancellationToken, ValueTask<TOut>> call = _callAsync!;
        CancellationToken token = _pool.CallToken;
        WorkQueue<TIn> queue = _pool.Queue;
        Telemetry.PoolTelemetry telemetry = _pool.Telemetry;
        bool timed = telemetry.CallDuration.Enabled;
        for (int i = 0; i < count; i++)
        {
            if (queue.IsClosed)
            {
                return EndBatchEarly(i, count);
            }

            long started = timed ? telemetry.Clock.GetTimestamp() : 0;
            try
            {
                outputs[i] = await call(batch[i].Input, token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                return SettleFault(i, count, ex);
            }

            if (timed)
            {
                RecordDuration(telemetry, started);
            }

            Volatile.Write(ref _finished.Value, i + 1);
        }

        FinishBatch(count);
        return null;
    }

    /// <summary>Settles a batch whose calls all succeeded: delivers the results, unless <c>Stop</c> stole the batch.</summary>
    private void FinishBatch(int count)
    {
        if (Interlocked.CompareExchange(ref _cursor.Value, Done, Owned) != Owned)
        {
            return;
        }

        DeliverSucceeded(count);
        Release(count);
    }

    /// <summary>The queue closed (the pool is stopping): delivers the calls that finished and aborts those not started.</summary>
    private Exception? EndBatchEarly(int next, int count)
    {
        if (Interlocked.CompareExchange(ref _cursor.Value, Done, Owned) == Owned)
        {
            DeliverSucceeded(next);
            _pool.AbortLate(_batch.AsSpan(next, count - next));
            Release(count);
        }

        return null;
    }

    /// <summary>
    /// Settles a batch at a failed call: delivers the calls before it, routes the failed one (another attempt, a
    /// failure, or an abort when the pool is stopping) and puts the calls after it back at the front of the queue.
    /// </summary>
    /// <returns>The fault the executor must be restarted for; <see langword="null"/> for a retry the executor asked for, an abort, or a stolen batch.</returns>
    private Exception? SettleFault(int failed, int count, Exception error)
    {
        if (Interlocked.CompareExchange(ref _cursor.Value, Done, Owned) != Owned)
        {
            // Stop aborted this call after its finish timeout and reported it; the late outcome is dropped.
            return null;
        }

        DeliverSucceeded(failed);
        Exception? fault = RouteFailedAttempt(ref _batch[failed], error);
        ReadOnlySpan<QueuedCall<TIn>> rest = _batch.AsSpan(failed + 1, count - failed - 1);
        if (!_pool.Queue.TryRequeue(rest, atFront: true))
        {
            _pool.AbortLate(rest);
        }

        Release(count);
        return fault;
    }

    /// <summary>Records the duration of a call that started at <paramref name="started"/>; a listener that throws is the user's bug, never the pool's problem.</summary>
    private static void RecordDuration(Telemetry.PoolTelemetry telemetry, long started)
    {
        try
        {
            telemetry.CallDuration.Record(telemetry.Clock.GetElapsedTime(started).TotalSeconds, telemetry.Tags);
        }
#pragma warning disable CA1031 // A MeterListener callback runs inside Record: its exception must not take the worker down.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>Delivers the first calls of the batch, which succeeded; a success clears the executor's restart history.</summary>
    private void DeliverSucceeded(int count)
    {
        if (count > 0)
        {
            _restarts.OnSuccess();
            _pool.Sink.DeliverResults(_batch.AsSpan(0, count), _outputs.AsSpan(0, count));
        }
    }

    /// <summary>Routes a call whose attempt threw, which the caller owns.</summary>
    /// <returns>The fault the executor must be restarted for, or <see langword="null"/>.</returns>
    private Exception? RouteFailedAttempt(ref QueuedCall<TIn> call, Exception error)
    {
        if (error is OperationCanceledException && _pool.CallToken.IsCancellationRequested)
        {
            // Stop cancelled the call: an abort, not a fault.
            _pool.AbortLate(new ReadOnlySpan<QueuedCall<TIn>>(in call));
            return null;
        }

        bool fault = true;
        if (error is RetryException retry)
        {
            fault = false;
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
                    fault = true;
                    error = new InvalidCastException(
                        $"The executor asked for a retry with a replacement input of type {retry.ReplacementInput?.GetType().FullName ?? "null"}, but this pool's inputs are {typeof(TIn).FullName}.",
                        retry);
                }
            }
        }

        if (call.RecordAttempt(_pool.Histories, error) >= _pool.Options.MaxAttempts)
        {
            _pool.DeliverFailure(call);
        }
        else if (_pool.Queue.TryRequeue(new ReadOnlySpan<QueuedCall<TIn>>(in call), atFront: false))
        {
            _pool.OnRetry();
        }
        else
        {
            // The pool is stopping: the call can have no further attempt, so it is aborted.
            _pool.AbortLate(new ReadOnlySpan<QueuedCall<TIn>>(in call));
        }

        return fault ? error : null;
    }

    /// <summary>Lets go of a settled batch: clears references the pool no longer needs and counts the calls out of flight.</summary>
    private void Release(int count)
    {
        _batch.AsSpan(0, count).Clear();
        if (System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<TOut>())
        {
            _outputs.AsSpan(0, count).Clear();
        }

        _pool.Queue.Complete(count);
    }

    /// <summary>
    /// Only an exception from the pool's own code reaches here (user code is always called inside a try). Rather
    /// than crash the process (a dedicated thread) or vanish (a fire-and-forget loop) and leave <c>Wait</c>
    /// hanging, the worker retires with the exception as its cause, so the pool faults visibly if it was the last.
    /// </summary>
    private void Crash(Exception exception)
    {
        LastError = exception;

        // A batch still held would never be settled, and Wait and Stop would wait for it for ever: deliver what
        // finished and put the rest back (or abort it, if the pool is stopping), unless Stop has stolen it.
        if (Interlocked.CompareExchange(ref _cursor.Value, Done, Owned) == Owned)
        {
            int finished = Volatile.Read(ref _finished.Value);
            int end = _end;
            DeliverSucceeded(finished);
            ReadOnlySpan<QueuedCall<TIn>> rest = _batch.AsSpan(finished, end - finished);
            if (!_pool.Queue.TryRequeue(rest, atFront: true))
            {
                _pool.AbortLate(rest);
            }

            Release(end);
        }

        if (!_retired)
        {
            _retired = true;
            _pool.OnWorkerRetired(this);
        }
    }

    /// <summary>Creates (or, after a fault, restarts) the executor under the restart policy.</summary>
    /// <param name="sync">Block rather than await; only for the synchronous worker thread.</param>
    /// <param name="cause">The fault that requires a restart; <see langword="null"/> for the first start.</param>
    /// <returns><see langword="false"/> if the worker must end: the executor was retired or the pool is stopping.</returns>
    private async ValueTask<bool> StartAsync(bool sync, Exception? cause)
    {
        if (cause is not null && _source.IsDeferred)
        {
            await ReleaseInstanceAsync(sync).ConfigureAwait(false);
        }

        while (true)
        {
            if (cause is not null)
            {
                LastError = cause;
                if (_pool.IsStopRequested)
                {
                    return false;
                }

                if (!_restarts.TryRestart(out TimeSpan delay))
                {
                    _retired = true;
                    await ReleaseInstanceAsync(sync).ConfigureAwait(false);
                    _pool.OnWorkerRetired(this);
                    return false;
                }

                if (delay > TimeSpan.Zero && !await DelayAsync(delay, sync).ConfigureAwait(false))
                {
                    return false;
                }

                _pool.OnRestart(Index, cause);
            }

            if (_pool.IsStopRequested)
            {
                return false;
            }

            if (!_source.IsDeferred)
            {
                // Installed by the constructor and kept across restarts.
                return true;
            }

            object? created;
            try
            {
                created = sync
                    ? _source.Factory!()
                    : await _source.FactoryAsync!(_pool.StopToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_pool.IsStopRequested)
            {
                return false;
            }
            catch (Exception ex)
            {
                cause = ex;
                continue;
            }

            if (created is null)
            {
                cause = new InvalidOperationException($"The factory of deferred executor {Index} returned null.");
                continue;
            }

            if (sync)
            {
                var executor = (IExecutor<TIn, TOut>)created;
                Install(executor, executor.Execute, null);
            }
            else
            {
                var executor = (IAsyncExecutor<TIn, TOut>)created;
                Install(executor, null, executor.ExecuteAsync);
            }

            if (_pool.IsStopRequested)
            {
                await ReleaseInstanceAsync(sync).ConfigureAwait(false);
                return false;
            }

            return true;
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

    private async ValueTask<bool> DelayAsync(TimeSpan delay, bool sync)
    {
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
        _ready.TrySetResult();
        _pool.OnWorkerExited();
    }

    /// <summary>Lets go of the live executor, disposing it if the pool owns it and no other worker shares it.</summary>
    private async ValueTask ReleaseInstanceAsync(bool sync)
    {
        object? instance = Interlocked.Exchange(ref _instance, null);
        _call = null;
        _plainCall = null;
        _callAsync = null;
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
#pragma warning disable CA1031 // A throwing Dispose must not take the worker, or the pool, down with it.
        catch (Exception)
#pragma warning restore CA1031
        {
            _pool.OnDisposeFault();
        }
    }
}
