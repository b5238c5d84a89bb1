using System.Diagnostics;
using Parallelize.Core;
using Parallelize.Supervision;
using Parallelize.Telemetry;

namespace Parallelize;

/// <summary>
/// A pool of executors that runs one call per input, from any number of threads, and accounts for every input:
/// each ends in exactly one of <see cref="Results"/>, <see cref="Failures"/>, or the list <see cref="Stop(TimeSpan?)"/> returns.
/// </summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <typeparam name="TOut">The type of the results.</typeparam>
/// <remarks>
/// <para>Call the pool like a delegate, once per input (<see cref="Invoke(TIn)"/>, or the <see cref="Action{T}"/> it
/// converts to), or with many at once (<see cref="InvokeMany(ReadOnlySpan{TIn})"/>). Results reach <see cref="Results"/>
/// as their calls finish. <see cref="Wait()"/> returns when every queued call has ended; <see cref="Stop(TimeSpan?)"/>
/// stops mid-run and returns the inputs it aborted. A failed call is retried, on another executor when one is free;
/// the pool tells bad inputs from broken executors and outages, so one fault never sinks the run: see
/// <see cref="ParallelizeOptions"/> for the fault model.</para>
/// <para>Disposing the pool is the <c>with</c> block of the original: it waits for the queued work, then stops. It
/// never throws; what it had to abort is in <see cref="Aborted"/>.</para>
/// <para>This type is fully thread-safe.</para>
/// <example>
/// <code>
/// using var pool = new Parallelize&lt;int, int&gt;(Sleeper, count: 50);
/// for (int i = 0; i &lt; 250; i++) pool.Invoke(1);
/// pool.Wait();
/// Console.WriteLine(pool.Results.Count); // 250
/// </code>
/// </example>
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed partial class Parallelize<TIn, TOut> : IDisposable, IAsyncDisposable
{
    // Threads and locks, in one place (LOCK LEVELS: a lock may be taken while holding only locks above it):
    // 1. A lease's lock (CallLease): who settles each call of a lease.
    // 2. The outage detector's lock (OutageDetector): its window and state.
    // 3. The work queue's, the result sink's and the retry scheduler's locks, each documented where it lives.
    // 4. The pending tracker's lock and an executor supervisor's lock: leaves, taken inside the sink's and the
    //    histories' work; they take no other lock.
    // 5. _stateLock guards _stopTask, _fault, _abortedLate, _aborted and _sharedInstances. It is held only for a few
    //    field and collection operations and taken with no other lock held.
    // No lock is held while user code runs: executors, factories, executors' Dispose, ShouldRetry, cancellation
    // callbacks, loggers and progress handlers run on runner threads, timers or in Stop, with no lock of the pool
    // held; loggers and progress handlers raised by runners run on the pool's serial dispatcher, off the runners and
    // outside the "inside an executor" mark (RunOutsideExecutor).
    private static readonly AsyncLocal<Parallelize<TIn, TOut>?> s_insideExecutorOf = new();

    [ThreadStatic]
    private static Parallelize<TIn, TOut>? t_runnerOf;


    private readonly SlotRunner<TIn, TOut>[] _runners;
    private readonly SlotRunner<TIn, TOut>[] _synchronousRunners;
    private readonly PendingTracker _pending = new();
    private readonly ResultSink<TIn, TOut> _sink;
    private readonly PoolTelemetry _telemetry;
    private readonly WorkQueue<TIn> _queue;
    private readonly RetryScheduler<TIn> _scheduler;
    private readonly OutageDetector _outages;
    private readonly Settlement<TIn, TOut> _settlement;
    private readonly bool _flowContext;

    // The empty context calls from a fresh thread carry (see CaptureContext); an instance field, so the hot path reads
    // no static.
    private readonly ExecutionContext? _emptyContext = Core.EmptyContext.Value;
    private readonly SemaphoreSlim? _slots;
    private readonly IReadOnlyList<TOut> _results;
    private readonly CancellationTokenSource _noMoreCalls = new();
    private readonly CancellationTokenSource _stopRequested = new();
    private readonly CancellationTokenSource _callsCancelled = new();
    private readonly TaskCompletionSource _faulted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _workersExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _stateLock = new();
    private readonly Dictionary<object, int> _sharedInstances = new(ReferenceEqualityComparer.Instance);
    private readonly List<(QueuedCall<TIn> Call, bool MayHaveRun)> _abortedLate = [];
    private Task<IReadOnlyList<TIn>>? _stopTask;
    private ParallelizeException? _fault;
    private IReadOnlyList<TIn> _aborted = [];
    private IReadOnlyList<TIn> _abortedWhileRunning = [];

    // Read without a lock on every Invoke; written once each. A call that slips past a stale read is still
    // refused by the closed queue, so the flags only make the common refusal fast and its message precise.
    private volatile bool _accepting = true;
    private volatile bool _completed;
    private volatile bool _disposing;
    private volatile bool _disposed;
    private long _restarts;
    private long _retries;
    private long _abortedCount;
    private long _expectedCalls = -1;
    private long _disposeFaults;
    private int _liveRunners;
    private int _runningRunners;
    private int _watching;
    private Action<TIn>? _asAction;

    /// <summary>Creates a pool of the given executors and starts them; deferred executors are created in parallel.</summary>
    /// <param name="executors">The executors: delegates, callable objects, deferred factories, or a mix (see <see cref="Executor{TIn, TOut}"/>).</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="executors"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="executors"/> is empty or holds a <see langword="null"/>.</exception>
    public Parallelize(IEnumerable<Executor<TIn, TOut>> executors, ParallelizeOptions? options = null)
    {
        List<Executor<TIn, TOut>> sources = ToList(executors, static executor => executor);
        Options = options ?? new ParallelizeOptions();
        _flowContext = Options.FlowExecutionContext;
        _expectedCalls = Options.ExpectedCalls ?? -1;
        _queue = new WorkQueue<TIn>(Options.BoundedCapacity, _pending, Contexts);
        if (Options.BoundedCapacity is int capacity)
        {
            _slots = new SemaphoreSlim(capacity + sources.Count);
        }

        Histories = new CallHistories(Blame);
        _sink = new ResultSink<TIn, TOut>(Histories, Contexts, _pending, Options, _slots, () => _noMoreCalls.IsCancellationRequested);
        _telemetry = new PoolTelemetry(Options, ReadCounts);
        _scheduler = new RetryScheduler<TIn>(Options.TimeProvider, _queue, call => AbortLate(new ReadOnlySpan<QueuedCall<TIn>>(in call), mayHaveRun: false));
        _outages = new OutageDetector(Options.Outages, Options.TimeProvider, new OutageHost(this));
        _settlement = new Settlement<TIn, TOut>(this, _queue, _sink, Histories, _scheduler, _outages);
        _results = _sink.CallResults is { } completions ? new Collections.OutputView<TIn, TOut>(completions) : [];
        _watchSeen = new (long, int, int)[sources.Count];
        _runners = new SlotRunner<TIn, TOut>[sources.Count];
        for (int i = 0; i < sources.Count; i++)
        {
            if (sources[i].Instance is IDisposable or IAsyncDisposable)
            {
                object instance = sources[i].Instance!;
                _sharedInstances[instance] = _sharedInstances.GetValueOrDefault(instance) + 1;
            }

            _runners[i] = new SlotRunner<TIn, TOut>(this, _settlement, sources[i], i);
        }

        _liveRunners = _runners.Length;
        _runningRunners = _runners.Length;
        _queue.SetLiveTakers(_runners.Length);
        _synchronousRunners = Array.FindAll(_runners, static runner => !runner.IsAsynchronous);
        LeaseWatcher.Shared.Register(_watched = new WatchedPool(this));
        foreach (SlotRunner<TIn, TOut> runner in _runners)
        {
            if (runner.IsAsynchronous)
            {
                runner.StartAsynchronous();
            }
        }

        StartSynchronousRunner(0);
        StartSynchronousRunner(1);
    }

    /// <summary>
    /// Starts the dedicated thread of the synchronous runner at <paramref name="treeIndex"/>, if there is one. The
    /// threads start as a binary tree: the constructor starts the first two, and runner <c>k</c>'s thread starts
    /// <c>2k + 2</c> and <c>2k + 3</c> first thing, so every runner is started exactly once and many at a time.
    /// </summary>
    internal void StartSynchronousRunner(int treeIndex)
    {
        if (treeIndex >= _synchronousRunners.Length)
        {
            return;
        }

        SlotRunner<TIn, TOut> runner = _synchronousRunners[treeIndex];
        try
        {
            runner.StartThread(treeIndex);
        }
#pragma warning disable CA1031 // Out of threads: the runner retires (faulting the pool if it was the last) rather than vanish.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            runner.FailToStart(ex);

            // Its thread would have started these two: start them here, so none of the tree is left unstarted.
            StartSynchronousRunner((2 * treeIndex) + 2);
            StartSynchronousRunner((2 * treeIndex) + 3);
        }
    }

    /// <summary>Creates a pool of synchronous functions, each on its own thread.</summary>
    /// <param name="executors">The functions.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="executors"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="executors"/> is empty or holds a <see langword="null"/>.</exception>
    public Parallelize(IEnumerable<Func<TIn, TOut>> executors, ParallelizeOptions? options = null)
        : this(ToList(executors, Executor.Create), options)
    {
    }

    /// <summary>Creates a pool of synchronous functions that observe cancellation, each on its own thread.</summary>
    /// <param name="executors">The functions.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="executors"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="executors"/> is empty or holds a <see langword="null"/>.</exception>
    public Parallelize(IEnumerable<Func<TIn, CancellationToken, TOut>> executors, ParallelizeOptions? options = null)
        : this(ToList(executors, Executor.Create), options)
    {
    }

    /// <summary>Creates a pool of asynchronous functions.</summary>
    /// <param name="executors">The functions.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="executors"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="executors"/> is empty or holds a <see langword="null"/>.</exception>
    public Parallelize(IEnumerable<Func<TIn, CancellationToken, ValueTask<TOut>>> executors, ParallelizeOptions? options = null)
        : this(ToList(executors, Executor.Create), options)
    {
    }

    /// <summary>Creates a pool of synchronous callable objects, each on its own thread. The pool owns them.</summary>
    /// <param name="executors">The executor instances; the same instance may appear more than once.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="executors"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="executors"/> is empty or holds a <see langword="null"/>.</exception>
    public Parallelize(IEnumerable<IExecutor<TIn, TOut>> executors, ParallelizeOptions? options = null)
        : this(ToList(executors, Executor.Create), options)
    {
    }

    /// <summary>Creates a pool of asynchronous callable objects. The pool owns them.</summary>
    /// <param name="executors">The executor instances; the same instance may appear more than once.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="executors"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="executors"/> is empty or holds a <see langword="null"/>.</exception>
    public Parallelize(IEnumerable<IAsyncExecutor<TIn, TOut>> executors, ParallelizeOptions? options = null)
        : this(ToList(executors, Executor.Create), options)
    {
    }

    /// <summary>Creates a pool that runs one synchronous function on <paramref name="count"/> threads: the original's <c>Parallelize([f] * count)</c>.</summary>
    /// <param name="executor">The function.</param>
    /// <param name="count">How many executors run it at once.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="executor"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    public Parallelize(Func<TIn, TOut> executor, int count, ParallelizeOptions? options = null)
        : this(Repeat(Executor.Create(executor ?? throw new ArgumentNullException(nameof(executor))), count), options)
    {
    }

    /// <summary>Creates a pool that runs one synchronous function that observes cancellation on <paramref name="count"/> threads.</summary>
    /// <param name="executor">The function.</param>
    /// <param name="count">How many executors run it at once.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="executor"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    public Parallelize(Func<TIn, CancellationToken, TOut> executor, int count, ParallelizeOptions? options = null)
        : this(Repeat(Executor.Create(executor ?? throw new ArgumentNullException(nameof(executor))), count), options)
    {
    }

    /// <summary>Creates a pool that runs one asynchronous function with <paramref name="count"/> calls at once.</summary>
    /// <param name="executor">The function.</param>
    /// <param name="count">How many calls run at once.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="executor"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    public Parallelize(Func<TIn, CancellationToken, ValueTask<TOut>> executor, int count, ParallelizeOptions? options = null)
        : this(Repeat(Executor.Create(executor ?? throw new ArgumentNullException(nameof(executor))), count), options)
    {
    }

    /// <summary>Gets the options the pool runs with.</summary>
    public ParallelizeOptions Options { get; }

    /// <summary>
    /// Gets the results, in completion order (call order with <see cref="ParallelizeOptions.OrderedResults"/>): a
    /// live list that the runners append to as calls finish — a result is never held back by a slow call after it. Reading it never blocks the workers; an
    /// enumeration sees the items present when it starts. After <see cref="Wait()"/> returns it holds one result per
    /// call that succeeded. Always empty when <see cref="ParallelizeOptions.RetainResults"/> is off: results then
    /// end in the result stream.
    /// </summary>
    public IReadOnlyList<TOut> Results => _results;

    /// <summary>Gets the inputs that failed for good — attempts used up (see <see cref="ParallelizeOptions.MaxAttempts"/>) or an exception not worth retrying — with every attempt's exception; a live list like <see cref="Results"/>.</summary>
    public IReadOnlyList<Failure<TIn>> Failures => _sink.Failures;

    /// <summary>
    /// Gets the inputs the pool aborted, in call order: the list <see cref="Stop(TimeSpan?)"/> returned, which
    /// <see cref="Dispose"/> also fills. Empty until the pool has stopped; readable after it is disposed.
    /// </summary>
    public IReadOnlyList<TIn> Aborted => Volatile.Read(ref _aborted);

    /// <summary>
    /// Gets the aborted inputs whose call was running when the pool stopped (a subset of <see cref="Aborted"/>, in call
    /// order): their outcome is unknown — the call may have had its effects — while every other aborted input never
    /// started its last attempt.
    /// </summary>
    public IReadOnlyList<TIn> AbortedWhileRunning => Volatile.Read(ref _abortedWhileRunning);

    /// <summary>Gets how many times executors have been restarted after a fault.</summary>
    public long Restarts => Interlocked.Read(ref _restarts);

    /// <summary>
    /// Gets the live executor instances (the delegates, objects, or objects the deferred factories created), first
    /// waiting until every deferred executor has been created or retired. Retired executors are left out.
    /// </summary>
    /// <remarks>Read from inside one of the pool's own executors or factories it does not wait: it returns the executors that exist.</remarks>
    /// <exception cref="ParallelizeException">Every executor has been retired.</exception>
    public IReadOnlyList<object> Executors
    {
        get
        {
            if (!IsInsideExecutor)
            {
                Task.WaitAll(Array.ConvertAll(_runners, static runner => runner.Ready));
            }

            return SnapshotExecutors();
        }
    }

    /// <summary>
    /// Gets the live executor instances of type <typeparamref name="TExecutor"/>, waiting like <see cref="Executors"/>
    /// for the deferred ones: the typed form of <see cref="Executors"/> for a pool whose executors are objects of a type
    /// the caller knows.
    /// </summary>
    /// <typeparam name="TExecutor">The type of the executors (an interface or a base type gives all that implement it).</typeparam>
    /// <returns>The live executors of that type, in executor order; executors of other types are left out.</returns>
    /// <exception cref="ParallelizeException">Every executor has been retired.</exception>
    public IReadOnlyList<TExecutor> GetExecutors<TExecutor>()
        where TExecutor : class
    {
        IReadOnlyList<object> all = Executors;
        var typed = new List<TExecutor>(all.Count);
        foreach (object executor in all)
        {
            if (executor is TExecutor match)
            {
                typed.Add(match);
            }
        }

        return typed;
    }

    /// <summary>Converts the pool to an <see cref="Action{T}"/> that queues one call per input.</summary>
    /// <param name="pool">The pool.</param>
    public static implicit operator Action<TIn>(Parallelize<TIn, TOut> pool) =>
        (pool ?? throw new ArgumentNullException(nameof(pool))).ToAction();

    /// <summary>Gets an <see cref="Action{T}"/> that queues one call per input, to hand the pool around like a delegate.</summary>
    /// <returns>The delegate (the same instance every time).</returns>
    public Action<TIn> ToAction() =>
        Volatile.Read(ref _asAction) ?? Interlocked.CompareExchange(ref _asAction, Invoke, null) ?? _asAction;

    /// <summary>
    /// Queues one call and returns at once — or, when <see cref="ParallelizeOptions.BoundedCapacity"/> is set and the
    /// queue is full, as soon as there is room. Any number of threads may call it at the same time.
    /// </summary>
    /// <param name="input">The input.</param>
    /// <exception cref="ObjectDisposedException">The pool has been disposed (or is being disposed).</exception>
    /// <exception cref="InvalidOperationException">The pool has been stopped or completed, or is faulted (every executor retired); also thrown to a caller blocked on a full queue when that happens.</exception>
    // PERF: compiled fully optimized at once; tiered compilation took millions of calls to promote the hot path.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Invoke(TIn input)
    {
        ThrowIfNotAccepting();
        bool slot = false;
        try
        {
            slot = _slots?.Wait(Timeout.Infinite, _noMoreCalls.Token) ?? false;
            _queue.WaitForRoom(Timeout.InfiniteTimeSpan, _noMoreCalls.Token);
        }
        catch (OperationCanceledException)
        {
            ReleaseSlot(slot);
            throw RefusalException();
        }

        Accept(input, slot);
    }

    /// <summary>Queues one call, waiting without a thread while a bounded queue is full.</summary>
    /// <param name="input">The input.</param>
    /// <param name="cancellationToken">Cancels the wait for room; the input is then not queued.</param>
    /// <returns>A task that completes when the call is queued.</returns>
    /// <exception cref="ObjectDisposedException">The pool has been disposed (or is being disposed).</exception>
    /// <exception cref="InvalidOperationException">The pool has been stopped or completed, or is faulted.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before there was room.</exception>
    public async ValueTask InvokeAsync(TIn input, CancellationToken cancellationToken = default)
    {
        ThrowIfNotAccepting();
        bool slot = false;
        if (_slots is not null)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _noMoreCalls.Token);
            try
            {
                await _slots.WaitAsync(linked.Token).ConfigureAwait(false);
                slot = true;
                await _queue.WaitForRoomAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                ReleaseSlot(slot);
                if (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }

                throw RefusalException();
            }
        }

        Accept(input, slot);
    }

    /// <summary>Queues one call if a bounded queue has room now; never waits.</summary>
    /// <param name="input">The input.</param>
    /// <returns><see langword="true"/> if the call was queued; <see langword="false"/> if the queue was full.</returns>
    /// <exception cref="ObjectDisposedException">The pool has been disposed (or is being disposed).</exception>
    /// <exception cref="InvalidOperationException">The pool has been stopped or completed, or is faulted.</exception>
    public bool TryInvoke(TIn input)
    {
        ThrowIfNotAccepting();
        bool slot = _slots?.Wait(0) ?? false;
        if (_slots is not null && !slot)
        {
            return false;
        }

        if (!_queue.WaitForRoom(TimeSpan.Zero, CancellationToken.None))
        {
            ReleaseSlot(slot);
            return false;
        }

        Accept(input, slot);
        return true;
    }

    /// <summary>
    /// Queues one call per input, in order, under one acquisition of the queue's lock per few hundred inputs: cheaper per
    /// input than <see cref="Invoke(TIn)"/>, so that one producer thread can feed many executors. On a bounded pool it
    /// blocks while the queue is full, like <see cref="Invoke(TIn)"/>.
    /// </summary>
    /// <param name="inputs">The inputs.</param>
    /// <returns>
    /// How many inputs were queued: all of them, unless the pool stopped, completed or faulted part of the way through;
    /// then the first that many were accepted and the others were not.
    /// </returns>
    /// <exception cref="ObjectDisposedException">The pool has been disposed (or is being disposed) before any input was queued.</exception>
    /// <exception cref="InvalidOperationException">The pool has been stopped or completed, or is faulted, before any input was queued.</exception>
    public int InvokeMany(ReadOnlySpan<TIn> inputs)
    {
        ThrowIfNotAccepting();
        object? context = CaptureContext();
        if (_slots is null)
        {
            // Chunks keep the queue's lock short for runners taking calls meanwhile.
            const int Chunk = 256;
            for (int start = 0; start < inputs.Length; start += Chunk)
            {
                if (!_queue.TryEnqueueMany(inputs.Slice(start, Math.Min(Chunk, inputs.Length - start)), context))
                {
                    return start > 0 ? start : throw RefusalException();
                }
            }

            return inputs.Length;
        }

        int queued = 0;
        while (queued < inputs.Length)
        {
            // Wait for one place, then take as many more as are free now, and queue those together.
            int held = 0;
            if (!TryTakePlace(wait: true))
            {
                return queued > 0 ? queued : throw RefusalException();
            }

            held++;
            while (queued + held < inputs.Length && TryTakePlace(wait: false))
            {
                held++;
            }

            if (!_queue.TryEnqueueMany(inputs.Slice(queued, held), context))
            {
                // The queue gave its places back; the result slots are ours to give back.
                _slots.Release(held);
                return queued > 0 ? queued : throw RefusalException();
            }

            queued += held;
        }

        return queued;
    }

    /// <summary>
    /// Queues one call per input like <see cref="InvokeMany(ReadOnlySpan{TIn})"/>, waiting without a thread while a
    /// bounded queue is full.
    /// </summary>
    /// <param name="inputs">The inputs.</param>
    /// <param name="cancellationToken">Cancels the wait for room; the inputs not queued by then are not accepted.</param>
    /// <returns>How many inputs were queued: all of them, unless the pool stopped, completed or faulted, or the token was cancelled, part of the way through (the first that many were accepted).</returns>
    /// <exception cref="ObjectDisposedException">The pool has been disposed (or is being disposed) before any input was queued.</exception>
    /// <exception cref="InvalidOperationException">The pool has been stopped or completed, or is faulted, before any input was queued.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before any input was queued.</exception>
    public async ValueTask<int> InvokeManyAsync(ReadOnlyMemory<TIn> inputs, CancellationToken cancellationToken = default)
    {
        ThrowIfNotAccepting();
        if (_slots is null)
        {
            return InvokeMany(inputs.Span);
        }

        object? context = CaptureContext();
        int queued = 0;
        while (queued < inputs.Length)
        {
            int held = 0;
            if (!TryTakePlace(wait: false))
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _noMoreCalls.Token);
                bool slot = false;
                try
                {
                    await _slots.WaitAsync(linked.Token).ConfigureAwait(false);
                    slot = true;
                    await _queue.WaitForRoomAsync(linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    ReleaseSlot(slot);
                    if (queued > 0)
                    {
                        return queued;
                    }

                    if (cancellationToken.IsCancellationRequested)
                    {
                        throw;
                    }

                    throw RefusalException();
                }
            }

            held++;
            while (queued + held < inputs.Length && TryTakePlace(wait: false))
            {
                held++;
            }

            if (!_queue.TryEnqueueMany(inputs.Span.Slice(queued, held), context))
            {
                _slots.Release(held);
                return queued > 0 ? queued : throw RefusalException();
            }

            queued += held;
        }

        return queued;
    }

    /// <summary>Queues one call per input like <see cref="InvokeMany(ReadOnlySpan{TIn})"/>, reading the inputs in chunks.</summary>
    /// <param name="inputs">The inputs; enumerated once, on the calling thread.</param>
    /// <returns>How many inputs were queued: all of them, unless the pool stopped, completed or faulted part of the way through (the sequence is then not read further).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inputs"/> is <see langword="null"/>.</exception>
    /// <exception cref="ObjectDisposedException">The pool has been disposed (or is being disposed) before any input was queued.</exception>
    /// <exception cref="InvalidOperationException">The pool has been stopped or completed, or is faulted, before any input was queued.</exception>
    public long InvokeMany(IEnumerable<TIn> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ThrowIfNotAccepting();
        const int Chunk = 256;
        TIn[] buffer = System.Buffers.ArrayPool<TIn>.Shared.Rent(Chunk);
        long queued = 0;
        try
        {
            int count = 0;
            foreach (TIn input in inputs)
            {
                buffer[count++] = input;
                if (count == Chunk)
                {
                    if (!QueueChunk(buffer.AsSpan(0, count), ref queued))
                    {
                        return queued;
                    }

                    count = 0;
                }
            }

            QueueChunk(buffer.AsSpan(0, count), ref queued);
            return queued;
        }
        finally
        {
            System.Buffers.ArrayPool<TIn>.Shared.Return(buffer, System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<TIn>());
        }

        bool QueueChunk(ReadOnlySpan<TIn> chunk, ref long total)
        {
            if (chunk.IsEmpty)
            {
                return true;
            }

            int done;
            try
            {
                done = InvokeMany(chunk);
            }
            catch (InvalidOperationException) when (total > 0)
            {
                // Refused part of the way through: what was queued so far is the answer.
                return false;
            }

            total += done;
            return done == chunk.Length;
        }
    }

    /// <summary>Takes a result slot and a queue place for one call on a bounded pool.</summary>
    /// <returns><see langword="false"/> if none is free and <paramref name="wait"/> is off, or the pool stopped taking calls while waiting.</returns>
    private bool TryTakePlace(bool wait)
    {
        try
        {
            if (!_slots!.Wait(wait ? Timeout.Infinite : 0, _noMoreCalls.Token))
            {
                return false;
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        bool room;
        try
        {
            room = _queue.WaitForRoom(wait ? Timeout.InfiniteTimeSpan : TimeSpan.Zero, _noMoreCalls.Token);
        }
        catch (OperationCanceledException)
        {
            room = false;
        }

        if (!room)
        {
            _slots.Release();
        }

        return room;
    }

    /// <summary>
    /// Says that no more calls will come: later calls are refused, and the result stream ends once every call made
    /// so far has ended. <see cref="Wait()"/>, <see cref="Stop(TimeSpan?)"/> and <see cref="Results"/> are unchanged.
    /// Idempotent.
    /// </summary>
    public void Complete()
    {
        _completed = true;
        _queue.StopAdding();
        CancelQuietly(_noMoreCalls);
        _sink.CheckEnd();
    }

    /// <summary>Queues a call that holds its place in the queue and its result slot (if bounded); the caller has checked the pool accepts calls.</summary>
    // PERF: compiled fully optimized at once; tiered compilation took millions of calls to promote the hot path.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void Accept(TIn input, bool slot)
    {
        if (!_queue.TryEnqueue(input, CaptureContext()))
        {
            // Stop, Complete, Dispose or a fault closed the queue to new calls after the check: the call was not accepted.
            ReleaseSlot(slot);
            throw RefusalException();
        }
    }

    private void ReleaseSlot(bool slot)
    {
        if (slot)
        {
            _slots!.Release();
        }
    }

    /// <summary>Waits like <see cref="Executors"/> without blocking a thread.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The live executor instances.</returns>
    /// <exception cref="ParallelizeException">Every executor has been retired.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<IReadOnlyList<object>> GetExecutorsAsync(CancellationToken cancellationToken = default)
    {
        if (!IsInsideExecutor)
        {
            await Task.WhenAll(Array.ConvertAll(_runners, static runner => runner.Ready)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return SnapshotExecutors();
    }

    private string DebuggerDisplay
    {
        get
        {
            ParallelizeProgress progress = _telemetry.Snapshot();
            return $"Queued = {progress.Queued}, Running = {progress.Running}, Results = {Results.Count}, Failures = {Failures.Count}";
        }
    }

    private const string StoppedMessage = "The pool has been stopped and accepts no more calls.";

    private List<object> SnapshotExecutors()
    {
        ThrowIfFaulted();
        var live = new List<object>(_runners.Length);
        foreach (SlotRunner<TIn, TOut> runner in _runners)
        {
            if (runner.Instance is { } instance)
            {
                live.Add(instance);
            }
        }

        return live;
    }

    private void ThrowIfNotAccepting()
    {
        if (!_accepting || _completed || _disposing || _disposed || Volatile.Read(ref _fault) is not null)
        {
            throw RefusalException();
        }
    }

    /// <summary>Says why a call is refused, in the order the states are entered.</summary>
    private Exception RefusalException()
    {
        // Read _accepting and _completed first: Dispose sets _disposing before it completes or stops the pool, so a call
        // refused because of Dispose always gets ObjectDisposedException, however the reads interleave with it.
        bool accepting = _accepting;
        bool completed = _completed;
        if (_disposed || _disposing)
        {
            return new ObjectDisposedException(GetType().FullName, "The pool has been disposed and accepts no more calls.");
        }

        if (!accepting)
        {
            return new InvalidOperationException(StoppedMessage);
        }

        if (completed)
        {
            return new InvalidOperationException("Complete has been called: the pool accepts no more calls.");
        }

        if (Volatile.Read(ref _fault) is { } fault)
        {
            return fault.Rethrown();
        }

        return new InvalidOperationException(StoppedMessage);
    }

    private void ThrowIfFaulted()
    {
        if (Volatile.Read(ref _fault) is { } fault)
        {
            throw fault.Rethrown();
        }
    }

    /// <summary>
    /// The caller's context for a call to run in: its <see cref="ExecutionContext"/> when contexts flow (the empty one
    /// is left out, so that calls from plain threads cost nothing more), or, when they do not, its current activity if
    /// a trace listener wants the call's span parented.
    /// </summary>
    // PERF: one thread-static read when contexts flow; a context the caller has not touched is stored as null.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private object? CaptureContext()
    {
        if (_flowContext)
        {
            ExecutionContext? context = ExecutionContext.Capture();
            return ReferenceEquals(context, _emptyContext) ? null : context;
        }

        return ParallelizeTracing.Source.HasListeners() ? Activity.Current : null;
    }


    private static List<Executor<TIn, TOut>> ToList<T>(IEnumerable<T> executors, Func<T, Executor<TIn, TOut>> create)
    {
        ArgumentNullException.ThrowIfNull(executors);
        var list = new List<Executor<TIn, TOut>>();
        foreach (T executor in executors)
        {
            if (executor is null)
            {
                throw new ArgumentException($"The executor at index {list.Count} is null.", nameof(executors));
            }

            list.Add(create(executor));
        }

        if (list.Count == 0)
        {
            throw new ArgumentException("At least one executor is required.", nameof(executors));
        }

        return list;
    }

    private static Executor<TIn, TOut>[] Repeat(Executor<TIn, TOut> executor, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var executors = new Executor<TIn, TOut>[count];
        Array.Fill(executors, executor);
        return executors;
    }
}
