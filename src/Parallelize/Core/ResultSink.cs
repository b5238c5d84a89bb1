using System.Threading.Channels;
using Parallelize.Collections;

namespace Parallelize.Core;

/// <summary>
/// Where finished calls are delivered — to <c>Results</c> or, when results are not retained, to the result stream,
/// and failures to <c>Failures</c> — in completion order or, when ordered, in call order; and where they are then
/// counted as ended.
/// </summary>
/// <remarks>
/// <para><b>Who delivers.</b> Whoever settles a lease's calls delivers them itself, in one step, under <c>_lock</c>:
/// its runner at the end of the lease (or at a failed call), or a thief releasing a stuck lease (see
/// <see cref="CallLease{TIn, TOut}"/>). No hand-off to another thread, so a delivery costs no wake-up.</para>
/// <para><b>Lock.</b> <c>_lock</c> guards the lists' writing end (<see cref="AppendOnlyList{T}"/> needs one writer at
/// a time, which the lock provides), the stream's writing end, the reorder buffer (<c>_reorder</c>, <c>_next</c>)
/// and the end-of-stream decision. Under it run only collection operations, the pending tracker's count (whose own
/// lock is taken inside this one and never calls back), the result-slot semaphore's release, and the completion of
/// the readers' pulse, which runs no continuation inline. No user code ever runs under it.</para>
/// <para><b>Ending.</b> A call is counted as ended only after it is visible in <c>Results</c>, the result stream or
/// <c>Failures</c>, so <c>Wait</c> never returns before they hold everything it waited for. Every change of the
/// pending count made here and the end-of-stream check that follows it happen in the same locked step, and the
/// "no more calls" flag is set before <see cref="CheckEnd"/> takes the lock; so whichever step brings the count to
/// zero last sees the flag, and the stream always ends.</para>
/// <para><b>Readers.</b> A reader of the retained list takes <see cref="NextPulse"/> <em>before</em> it looks at the
/// list and the pool's state. Taking it raises <c>_pulseWanted</c> with a full fence; a delivery publishes the list's
/// new count and then swaps the flag back with a full fence, completing the pulse if it was raised. So either the
/// reader sees the new count, or the delivery sees the flag and wakes it: no delivery is missed, and a delivery no
/// reader waits for costs no allocation.</para>
/// </remarks>
internal sealed class ResultSink<TIn, TOut>
{
    private readonly Lock _lock = new();
    private readonly CallHistories _histories;
    private readonly CallContexts _contexts;
    private readonly PendingTracker _pending;
    private readonly SemaphoreSlim? _slots;
    private readonly Func<bool> _noMoreCalls;
    private readonly Channel<Entry>? _stream;
    private readonly Dictionary<long, Entry>? _reorder;
    private TaskCompletionSource _pulse = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pulseWanted;
    private long _next = 1;
    private long _delivered;
    private ParallelizeException? _fault;
    private ParallelizeException? _deliveredFault;

    /// <summary>Initializes the sink.</summary>
    /// <param name="histories">The exceptions of calls whose attempts failed: forgotten when such a call succeeds, taken when it fails for good.</param>
    /// <param name="contexts">The contexts of calls that run in their caller's: forgotten when the call ends here.</param>
    /// <param name="pending">The count of calls not yet ended.</param>
    /// <param name="options">The pool's options.</param>
    /// <param name="slots">The result slots of a bounded pool (one released per result or failure delivered to the lists); <see langword="null"/> if unbounded.</param>
    /// <param name="noMoreCalls">Tells whether the pool can accept no more calls.</param>
    public ResultSink(CallHistories histories, CallContexts contexts, PendingTracker pending, ParallelizeOptions options, SemaphoreSlim? slots, Func<bool> noMoreCalls)
    {
        _histories = histories;
        _contexts = contexts;
        _pending = pending;
        _slots = slots;
        _noMoreCalls = noMoreCalls;
        if (options.RetainResults)
        {
            CallResults = new AppendOnlyList<CallResult<TIn, TOut>>();
        }
        else
        {
            _stream = Channel.CreateUnbounded<Entry>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        }

        if (options.OrderedResults)
        {
            _reorder = [];
        }
    }

    /// <summary>Gets the retained results with their inputs, in delivery order; <see langword="null"/> when results are not retained.</summary>
    public AppendOnlyList<CallResult<TIn, TOut>>? CallResults { get; }

    /// <summary>Gets the failures, in delivery order.</summary>
    public AppendOnlyList<Failure<TIn>> Failures { get; } = new();

    /// <summary>Gets the reader of the result stream; <see langword="null"/> when results are retained.</summary>
    public ChannelReader<Entry>? Stream => _stream?.Reader;

    /// <summary>Gets how many results and failures have been delivered.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Gets a task that completes after the next delivery (or end-of-stream check).</summary>
    public Task NextPulse
    {
        get
        {
            Task pulse = Volatile.Read(ref _pulse).Task;
            Interlocked.Exchange(ref _pulseWanted, 1);
            return pulse;
        }
    }

    /// <summary>Gets the fault once everything delivered before it is in the lists; <see langword="null"/> until then.</summary>
    public ParallelizeException? DeliveredFault => Volatile.Read(ref _deliveredFault);

    /// <summary>Delivers the successful calls of a lease and counts them as ended; a call that had failed before settles its blame (see <see cref="CallHistories.Succeeded"/>).</summary>
    /// <param name="calls">The calls.</param>
    /// <param name="outputs">Their results, at the same indexes.</param>
    /// <param name="executor">The executor that ran them.</param>
    // PERF: compiled fully optimized at once; tiered compilation took millions of calls to promote the hot path.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void DeliverResults(ReadOnlySpan<QueuedCall<TIn>> calls, ReadOnlySpan<TOut> outputs, int executor)
    {
        if (calls.IsEmpty)
        {
            return;
        }

        lock (_lock)
        {
            if (_reorder is null && CallResults is not null)
            {
                for (int i = 0; i < calls.Length; i++)
                {
                    CallResults.AddUnpublished(new CallResult<TIn, TOut>(calls[i].Input, outputs[i]));
                    if (calls[i].HasRecords)
                    {
                        ForgetRecords(calls[i], executor);
                    }
                }

                CallResults.Publish();
                _slots?.Release(calls.Length);
                Ended(calls.Length);
                return;
            }

            long ended = 0;
            for (int i = 0; i < calls.Length; i++)
            {
                if (calls[i].HasRecords)
                {
                    ForgetRecords(calls[i], executor);
                }

                ended += Route(new Entry(calls[i].Input, outputs[i], null, calls[i].Sequence));
            }

            CallResults?.Publish();
            Ended(ended);
        }
    }

    /// <summary>Delivers a call that failed for good and counts it as ended.</summary>
    /// <param name="call">The call.</param>
    /// <returns>The failure delivered.</returns>
    public Failure<TIn> DeliverFailure(in QueuedCall<TIn> call)
    {
        Exception[] errors = call.HasHistory ? _histories.Take(call.Sequence) : [];
        if (call.HasContext)
        {
            _contexts.Forget(call.Sequence);
        }

        var failure = new Failure<TIn>(call.Input, errors.Length, errors) { CallNumber = call.Sequence };
        var entry = new Entry(call.Input, default!, failure, call.Sequence);
        lock (_lock)
        {
            long ended = Route(entry);
            CallResults?.Publish();
            Ended(ended);
        }

        return failure;
    }

    /// <summary>Counts calls <c>Stop</c> aborted as ended; in call order, their places are skipped so later results are not held back.</summary>
    /// <param name="drained">The calls that were queued.</param>
    /// <param name="others">The other aborted calls: from batches, and those that could not be tried again.</param>
    public void EndAborted(in WorkQueue<TIn>.DrainedCalls drained, List<QueuedCall<TIn>> others)
    {
        lock (_lock)
        {
            long ended = drained.Count + others.Count;
            if (_reorder is not null)
            {
                for (int i = 0; i < drained.Count; i++)
                {
                    ended += Route(new Entry(drained[i].Input, default!, null, drained[i].Sequence, skip: true));
                }

                foreach (QueuedCall<TIn> call in others)
                {
                    ended += Route(new Entry(call.Input, default!, null, call.Sequence, skip: true));
                }
            }

            CallResults?.Publish();
            _pending.Remove(ended);
            CheckEndLocked(pulse: true);
        }
    }

    /// <summary>Ends the result stream with <paramref name="fault"/> after what was delivered: the pool can run no more calls.</summary>
    /// <param name="fault">Why.</param>
    public void Fault(ParallelizeException fault)
    {
        lock (_lock)
        {
            _fault = fault;
            CheckEndLocked(pulse: true);
        }
    }

    /// <summary>Re-checks whether the stream has ended and wakes the readers, after the pool stopped taking calls.</summary>
    public void CheckEnd()
    {
        lock (_lock)
        {
            CheckEndLocked(pulse: true);
        }
    }

    // Under _lock: a call that ran in its caller's context lets it go; one that had failed settles its blame.
    private void ForgetRecords(in QueuedCall<TIn> call, int executor)
    {
        if (call.HasHistory)
        {
            _histories.Succeeded(call.Sequence, executor);
        }

        if (call.HasContext)
        {
            _contexts.Forget(call.Sequence);
        }
    }

    // Under _lock. Counts calls as ended, then decides the end of the stream.
    private void Ended(long count)
    {
        Interlocked.Add(ref _delivered, count);
        _pending.Remove(count);
        CheckEndLocked(pulse: false);
    }

    // Under _lock: delivers one entry, or parks it in the reorder buffer until its turn. Returns how many calls ended.
    private long Route(Entry entry)
    {
        if (_reorder is null)
        {
            return Deliver(entry);
        }

        long ended = 0;
        _reorder[entry.Sequence] = entry;
        while (_reorder.Remove(_next, out Entry ready))
        {
            ended += Deliver(ready);
            _next++;
        }

        return ended;
    }

    // Under _lock. A skip was counted by Stop already, so it ends nothing here.
    private int Deliver(in Entry entry)
    {
        if (entry.Skip)
        {
            return 0;
        }

        if (entry.Failure is { } failure)
        {
            Failures.Add(failure);
            _slots?.Release();

            // The stream carries failures at their place too (its public readers skip them), so that a map can fail
            // exactly where the failed input was.
            _stream?.Writer.TryWrite(entry);
            return 1;
        }

        if (CallResults is not null)
        {
            CallResults.AddUnpublished(new CallResult<TIn, TOut>(entry.Input, entry.Output));
            _slots?.Release();
        }
        else
        {
            // The reader gives the slot back when it takes the result.
            _stream!.Writer.TryWrite(entry);
        }

        return 1;
    }

    // Under _lock.
    private void CheckEndLocked(bool pulse)
    {
        if (_stream is not null && _noMoreCalls() && _pending.Count == 0)
        {
            _stream.Writer.TryComplete();
        }
        else if (_fault is { } fault)
        {
            // Everything delivered before the fault is in the lists now: readers may end with it.
            _stream?.Writer.TryComplete(fault);
            Volatile.Write(ref _deliveredFault, fault);
        }

        // The full fence of the exchange orders it after the count published above (see Readers in the remarks).
        if (Interlocked.Exchange(ref _pulseWanted, 0) == 1 || pulse)
        {
            Interlocked.Exchange(ref _pulse, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    /// <summary>One finished call on its way to the lists or the stream: a result, a failure, or (ordered only) the place of an aborted call.</summary>
    internal readonly struct Entry(TIn input, TOut output, Failure<TIn>? failure, long sequence, bool skip = false)
    {
        public TIn Input { get; } = input;

        public TOut Output { get; } = output;

        public Failure<TIn>? Failure { get; } = failure;

        public long Sequence { get; } = sequence;

        public bool Skip { get; } = skip;
    }
}
