using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;

namespace Parallelize.Isolation;

/// <summary>
/// A set of isolated executors, each hosting its executor in a worker process of its own, to pass to a pool:
/// <c>new Parallelize&lt;TIn, TOut&gt;(Isolated.Create&lt;MyExecutor, TIn, TOut&gt;(8))</c>. Counts what happened to
/// the worker processes.
/// </summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <typeparam name="TOut">The type of the results.</typeparam>
/// <remarks>
/// <para>The pool starts their worker processes inside itself, all at the same time, and starts one again when its
/// worker is lost; each executor keeps up to <see cref="IsolationOptions.MaxCallsInFlight"/> calls in its worker at
/// once, so that the worker never waits for this process between calls. Execution is at-least-once — a call whose worker was killed may have had
/// side effects before it died, and is run again — while the pool's accounting stays exactly-once: every input ends
/// in exactly one of <c>Results</c>, <c>Failures</c> or the list <c>Stop</c> returns.</para>
/// <para>The counters are thread-safe and may be read at any time.</para>
/// </remarks>
[DebuggerDisplay("{Count} isolated executors, {ProcessesStarted} processes started, {Crashes} crashes")]
public sealed class IsolatedExecutors<TIn, TOut> : IReadOnlyList<Executor<TIn, TOut>>
{
    private readonly Executor<TIn, TOut>[] _executors;
    private readonly ConcurrentDictionary<WorkerProcess, byte> _live = new();
    private long _started;
    private long _crashes;
    private long _callTimeouts;
    private long _recycles;

    internal IsolatedExecutors(int count, IsolationOptions options, WorkerLaunch launch, ExecutorSpec spec)
    {
        Options = options;
        Launch = launch;
        SpecJson = spec.ToJson();
        InputCodec = options.Codecs.GetCodec<TIn>();
        OutputCodec = options.Codecs.GetCodec<TOut>();
        _executors = new Executor<TIn, TOut>[count];
        for (int i = 0; i < count; i++)
        {
            var factory = new IsolatedExecutorFactory<TIn, TOut>(this);
            _executors[i] = Executor<TIn, TOut>.InSlot(factory.CreateSlotAsync);
        }
    }

    /// <summary>Gets the number of executors, that is of worker processes at a time.</summary>
    public int Count => _executors.Length;

    /// <summary>Gets how many worker processes have been started so far, restarts and recycling included.</summary>
    public long ProcessesStarted => Interlocked.Read(ref _started);

    /// <summary>Gets how many worker processes were lost without being asked to exit: crashes, kills, and calls or start-ups past their timeout.</summary>
    public long Crashes => Interlocked.Read(ref _crashes);

    /// <summary>Gets how many of the <see cref="Crashes"/> were calls killed at <see cref="IsolationOptions.CallTimeout"/>.</summary>
    public long CallTimeouts => Interlocked.Read(ref _callTimeouts);

    /// <summary>Gets how many worker processes were replaced between calls by <see cref="IsolationOptions.RecycleAfterCalls"/> or <see cref="IsolationOptions.MaxMemory"/>.</summary>
    public long Recycles => Interlocked.Read(ref _recycles);

    internal IsolationOptions Options { get; }

    internal WorkerLaunch Launch { get; }

    internal byte[] SpecJson { get; }

    internal IWireCodec<TIn> InputCodec { get; }

    internal IWireCodec<TOut> OutputCodec { get; }

    internal CrashLedger Ledger { get; } = new();

    /// <inheritdoc/>
    public Executor<TIn, TOut> this[int index] => _executors[index];

    /// <summary>Gets the ids of the worker processes running now (for monitoring, or for tests that kill them).</summary>
    /// <returns>A snapshot of the process ids.</returns>
    public IReadOnlyList<int> GetProcessIds() => [.. _live.Keys.Where(w => !w.IsLost).Select(w => w.ProcessId)];

    /// <inheritdoc/>
    public IEnumerator<Executor<TIn, TOut>> GetEnumerator() => ((IEnumerable<Executor<TIn, TOut>>)_executors).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Starts a worker process and creates its executor.</summary>
    /// <exception cref="WorkerCrashedException">The process could not be started, or was lost before its executor was created.</exception>
    /// <exception cref="RemoteExecutorException">Creating the executor threw; the process is returned in the exception's data for reuse.</exception>
    internal async Task<WorkerProcess> StartAsync(CancellationToken cancellationToken)
    {
        WorkerProcess worker;
        try
        {
            worker = await WorkerProcess.StartAsync(Launch, Options, cancellationToken, OnLostCallback).ConfigureAwait(false);
        }
        catch (WorkerCrashedException crash)
        {
            // A process lost before it said hello was counted by the callback; one that never started was not.
            Interlocked.Increment(ref _started);
            if (crash.Reason == WorkerExitReason.StartFailed)
            {
                Interlocked.Increment(ref _crashes);
            }

            throw;
        }

        Interlocked.Increment(ref _started);
        _live.TryAdd(worker, 0);
        if (worker.IsLost)
        {
            _live.TryRemove(worker, out _);
        }

        return worker;
    }

    /// <summary>Asks a worker to create its executor (again).</summary>
    /// <exception cref="RemoteExecutorException">The factory or constructor threw in the worker; the worker is still up.</exception>
    /// <exception cref="WorkerCrashedException">The worker was lost (or killed at <see cref="IsolationOptions.StartTimeout"/>) first.</exception>
    internal async Task CreateAsync(WorkerProcess worker, CancellationToken cancellationToken)
    {
        var frame = new System.Buffers.ArrayBufferWriter<byte>(SpecJson.Length + Frame.HeaderSize);
        Task<WorkerReply> sent = worker.SendAsync(0, Frame.Build(frame, FrameKind.Create, 0, SpecJson).Span, Options.StartTimeout, WorkerExitReason.StartTimeout, CancellationToken.None);
        WorkerReply reply;
        try
        {
            reply = await sent.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            worker.Kill(WorkerExitReason.Shutdown);
            throw;
        }

        if (reply.Exit is { } exit)
        {
            throw new WorkerCrashedException(exit, "while creating its executor");
        }

        if (reply.Kind == FrameKind.CreateFailed)
        {
            throw RemoteError.Read(reply.Payload).ToException(worker.ProcessId);
        }

        if (reply.Kind != FrameKind.Created)
        {
            worker.Kill(WorkerExitReason.ProtocolError);
            throw new WorkerCrashedException(await worker.Lost.ConfigureAwait(false), "while creating its executor");
        }
    }

    internal void OnRecycle() => Interlocked.Increment(ref _recycles);

    private void OnLostCallback(WorkerProcess worker, WorkerExit exit)
    {
        _live.TryRemove(worker, out _);
        if (exit.Reason == WorkerExitReason.Shutdown)
        {
            return;
        }

        Interlocked.Increment(ref _crashes);
        if (exit.Reason == WorkerExitReason.CallTimeout)
        {
            Interlocked.Increment(ref _callTimeouts);
        }
    }
}
