using System.Diagnostics;
using Parallelize.Supervision;

namespace Parallelize.Core;

/// <summary>
/// Runs one executor: creates it (deferred executors), takes calls from the queue, settles each call, and
/// restarts or retires the executor after a fault.
/// </summary>
/// <remarks>
/// <para><b>Threads.</b> A synchronous executor gets a dedicated background thread, so executors that block never
/// starve the .NET thread pool and all of them start at once. An asynchronous executor runs as an async loop on
/// the thread pool and holds no thread while it awaits. Both loops share every step; <c>sync</c> only chooses
/// between blocking and awaiting, and in synchronous mode nothing incomplete is ever awaited, so the shared
/// <see cref="ValueTask"/> methods complete on the worker's own thread.</para>
/// <para><b>State.</b> <c>_instance</c>, <c>_call</c>, <c>_callAsync</c> and <c>_restarts</c> are touched only by
/// this worker's loop; <c>_instance</c> is also read by <c>Executors</c>, hence the volatile access.
/// <see cref="Current"/> is written by the queue under its lock and read by <c>Stop</c>.</para>
/// <para><b>No lock is held here while user code runs</b>: executors, factories and <c>Dispose</c> are called
/// with no lock taken, and routing a settled call (which takes the queue's and the pool's short locks) calls
/// no user code.</para>
/// </remarks>
internal sealed class Worker<TIn, TOut> : IWorkTaker<TIn>
{
    private readonly Parallelize<TIn, TOut> _pool;
    private readonly Executor<TIn, TOut> _source;
    private readonly RestartTracker _restarts;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private object? _instance;
    private Func<TIn, CancellationToken, TOut>? _call;
    private Func<TIn, CancellationToken, ValueTask<TOut>>? _callAsync;
    private volatile WorkItem<TIn>? _current;
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

    /// <inheritdoc/>
    public WorkItem<TIn>? Current
    {
        get => _current;
        set => _current = value;
    }

    /// <inheritdoc/>
    public SemaphoreSlim Signal { get; } = new(0);

    /// <summary>Gets a task that completes once the executor exists, or the worker has retired or exited.</summary>
    public Task Ready => _ready.Task;

    /// <summary>Gets the live executor instance, or <see langword="null"/> if there is none now.</summary>
    public object? Instance => _retired ? null : Volatile.Read(ref _instance);

    /// <summary>Gets a value indicating whether the restart policy retired this executor.</summary>
    public bool IsRetired => _retired;

    /// <summary>Gets the last fault of this executor.</summary>
    public Exception? LastError { get; private set; }

    /// <summary>Starts the worker: a dedicated thread for a synchronous executor, a thread-pool loop for an asynchronous one.</summary>
    public void Start()
    {
        if (_source.IsAsynchronous)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static worker => _ = worker.RunAsync(sync: false), this, preferLocal: false);
        }
        else
        {
            // UnsafeStart: the worker must not inherit the creating thread's ExecutionContext (and with it
            // another pool's "inside an executor" marker); it starts from a clean context.
            var thread = new Thread(static state => ((Worker<TIn, TOut>)state!).RunSync())
            {
                IsBackground = true,
                Name = $"Parallelize executor {Index}",
            };
            thread.UnsafeStart(this);
        }
    }

    private void RunSync()
    {
        // In synchronous mode nothing incomplete is ever awaited (see remarks): the loop runs to its end right here.
        Task loop = RunAsync(sync: true);
        Debug.Assert(loop.IsCompleted, "A synchronous-mode step awaited something incomplete.");
        loop.GetAwaiter().GetResult();
    }

    /// <summary>The worker's loop: start the executor, then take, run and settle calls until the queue closes.</summary>
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

            while (true)
            {
                WorkItem<TIn>? item;
                if (sync)
                {
                    _pool.Queue.TryTake(this, out item);
                }
                else
                {
                    item = await _pool.Queue.TakeAsync(this).ConfigureAwait(false);
                }

                if (item is null)
                {
                    return;
                }

                TOut output = default!;
                Exception? error = null;
                try
                {
                    output = sync
                        ? _call!(item.Input, _pool.CallToken)
                        : await _callAsync!(item.Input, _pool.CallToken).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    error = ex;
                }

                if (Settle(item, output, error) && !await StartAsync(sync, error).ConfigureAwait(false))
                {
                    return;
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

    /// <summary>
    /// Only an exception from the pool's own code reaches here (user code is always called inside a try). Rather
    /// than crash the process (a dedicated thread) or vanish (a fire-and-forget loop) and leave <c>Wait</c>
    /// hanging, the worker retires with the exception as its cause, so the pool faults visibly if it was the last.
    /// </summary>
    private void Crash(Exception exception)
    {
        LastError = exception;
        if (!_retired)
        {
            _retired = true;
            _pool.OnWorkerRetired();
        }
    }

    /// <summary>Routes a finished call to its one destination.</summary>
    /// <returns><see langword="true"/> if the executor faulted and must be restarted.</returns>
    private bool Settle(WorkItem<TIn> item, TOut output, Exception? error)
    {
        _current = null;
        if (!item.TryClaim())
        {
            // Stop aborted this call after its finish timeout and reported it; the late outcome is dropped.
            return false;
        }

        WorkQueue<TIn> queue = _pool.Queue;
        if (error is null)
        {
            _restarts.OnSuccess();
            _pool.Collector.AddResult(item, output);
            queue.Complete();
            return false;
        }

        if (error is OperationCanceledException && _pool.CallToken.IsCancellationRequested)
        {
            // Stop cancelled the call: an abort, not a fault.
            _pool.AbortLate(item);
            queue.Complete();
            return false;
        }

        bool fault = true;
        if (error is RetryException retry)
        {
            fault = false;
            if (retry.HasReplacementInput)
            {
                if (retry.ReplacementInput is TIn replacement)
                {
                    item.Input = replacement;
                }
                else if (retry.ReplacementInput is null && default(TIn) is null)
                {
                    item.Input = default!;
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

        item.RecordAttempt(error);
        if (item.Attempts >= _pool.Options.MaxAttempts)
        {
            _pool.Collector.AddFailure(item);
        }
        else if (!queue.TryRequeue(item))
        {
            // The pool is stopping: the call can have no further attempt, so it is aborted.
            _pool.AbortLate(item);
        }

        queue.Complete();
        return fault;
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
                    _pool.OnWorkerRetired();
                    return false;
                }

                if (delay > TimeSpan.Zero && !await DelayAsync(delay, sync).ConfigureAwait(false))
                {
                    return false;
                }

                _pool.OnRestart();
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
        _current = null;
        await ReleaseInstanceAsync(sync).ConfigureAwait(false);
        _ready.TrySetResult();
        _pool.OnWorkerExited();
    }

    /// <summary>Lets go of the live executor, disposing it if the pool owns it and no other worker shares it.</summary>
    private async ValueTask ReleaseInstanceAsync(bool sync)
    {
        object? instance = Interlocked.Exchange(ref _instance, null);
        _call = null;
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
