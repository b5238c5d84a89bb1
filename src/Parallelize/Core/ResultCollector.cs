using System.Collections.Concurrent;
using System.Threading.Channels;
using Parallelize.Collections;

namespace Parallelize.Core;

/// <summary>
/// The background collector: workers hand it finished calls; it delivers them — to <c>Results</c> or, when results
/// are not retained, to the result stream, and failures to <c>Failures</c> — in completion order or, when ordered, in
/// call order, and then counts them as ended.
/// </summary>
/// <remarks>
/// <para><b>Thread.</b> The collector runs on a dedicated background thread, not on the thread pool: callers that
/// block in <c>Wait</c>, <c>Stop</c> or <c>Dispose</c> on thread-pool threads (many requests of a web server, say)
/// must never be waiting for a collector that needs one of those threads. That thread is the single writer that
/// <see cref="AppendOnlyList{T}"/>, the result channel and the reorder buffer (<c>_reorder</c>, <c>_next</c>)
/// require, which is why none of them needs a lock. It ends when the pool has stopped and it has delivered
/// everything.</para>
/// <para><b>Waking.</b> Workers only enqueue to a lock-free queue and wake the thread if it sleeps. Before sleeping
/// the thread sets <c>_sleeping</c> and then looks at the queue once more; a worker enqueues and then reads
/// <c>_sleeping</c>. Both steps are full fences, so either the thread sees the entry or the worker sees it asleep and
/// wakes it: no entry is stranded. Only the worker that changes <c>_sleeping</c> from 1 to 0 releases <c>_wake</c>, so
/// its count never exceeds one.</para>
/// <para><b>Ending.</b> A call is counted as ended only after it is visible in <c>Results</c>, the result stream or
/// <c>Failures</c>, so <c>Wait</c> never returns before they hold everything it waited for. Calls aborted by
/// <c>Stop</c> are counted by <c>Stop</c>; in call order they arrive here as skips, so that results after them are
/// not held back. The collector runs no user code.</para>
/// <para><b>Readers.</b> After each batch the collector completes the current pulse task and installs a new one;
/// a reader of the retained list takes the pulse <em>before</em> it looks at the list and the pool's state, so it
/// cannot miss a wake-up.</para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage(
    "Reliability",
    "CA1001:Types that own disposable fields should be disposable",
    Justification = "SemaphoreSlim holds no unmanaged resource unless its AvailableWaitHandle is used, which it never is here.")]
internal sealed class ResultCollector<TIn, TOut>
{
    private readonly ConcurrentQueue<Entry> _entries = new();
    private readonly PendingTracker _pending;
    private readonly Action<WorkItem<TIn>> _releaseSlot;
    private readonly Func<bool> _noMoreCalls;
    private readonly Channel<Entry>? _stream;
    private readonly Dictionary<long, Entry>? _reorder;
    private readonly SemaphoreSlim _wake = new(0);
    private TaskCompletionSource _pulse = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _next = 1;
    private int _sleeping;
    private volatile bool _shuttingDown;
    private ParallelizeException? _fault;
    private ParallelizeException? _deliveredFault;

    public ResultCollector(PendingTracker pending, ParallelizeOptions options, Action<WorkItem<TIn>> releaseSlot, Func<bool> noMoreCalls)
    {
        _pending = pending;
        _releaseSlot = releaseSlot;
        _noMoreCalls = noMoreCalls;
        if (options.RetainResults)
        {
            Completions = new AppendOnlyList<Completion<TIn, TOut>>();
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
    public AppendOnlyList<Completion<TIn, TOut>>? Completions { get; }

    /// <summary>Gets the failures, in delivery order.</summary>
    public AppendOnlyList<Failure<TIn>> Failures { get; } = new();

    /// <summary>Gets the reader of the result stream; <see langword="null"/> when results are retained.</summary>
    public ChannelReader<Entry>? Stream => _stream?.Reader;

    /// <summary>Gets a task that completes after the next batch the collector delivers (or the next nudge).</summary>
    public Task NextPulse => Volatile.Read(ref _pulse).Task;

    /// <summary>Hands over a successful call.</summary>
    /// <param name="item">The item; the caller has claimed it.</param>
    /// <param name="output">Its result.</param>
    public void AddResult(WorkItem<TIn> item, TOut output) => Add(new Entry(item, output, EntryKind.Result));

    /// <summary>Hands over an input that used up its attempts.</summary>
    /// <param name="item">The item; the caller has claimed it.</param>
    public void AddFailure(WorkItem<TIn> item) => Add(new Entry(item, default!, EntryKind.Failure));

    /// <summary>Tells an ordered collector that a call was aborted, so its place is skipped. Counted as ended by the caller.</summary>
    /// <param name="item">The aborted item.</param>
    public void Skip(WorkItem<TIn> item)
    {
        if (_reorder is not null)
        {
            Add(new Entry(item, default!, EntryKind.Skip));
        }
    }

    /// <summary>Gets the fault once the collector has delivered everything handed to it before the fault; <see langword="null"/> until then.</summary>
    public ParallelizeException? DeliveredFault => Volatile.Read(ref _deliveredFault);

    /// <summary>Ends the result stream with <paramref name="fault"/> once what was delivered before has been read: the pool can run no more calls.</summary>
    /// <param name="fault">Why.</param>
    public void Fault(ParallelizeException fault)
    {
        Volatile.Write(ref _fault, fault);
        Nudge();
    }

    /// <summary>
    /// Runs the collector once more even with nothing to deliver, so that it and the readers re-check whether the
    /// stream has ended. It is an entry, not just a schedule, so a collector already running goes round again.
    /// </summary>
    public void Nudge() => Add(new Entry(null!, default!, EntryKind.Nudge));

    /// <summary>Starts the collector's thread.</summary>
    public void Start()
    {
        var thread = new Thread(static state => ((ResultCollector<TIn, TOut>)state!).Run())
        {
            IsBackground = true,
            Name = "Parallelize collector",
        };
        thread.UnsafeStart(this);
    }

    /// <summary>Ends the collector's thread once it has delivered everything handed to it so far.</summary>
    public void Shutdown()
    {
        _shuttingDown = true;
        Nudge();
    }

    private void Run()
    {
        while (true)
        {
            DeliverAll();
            if (_shuttingDown && _entries.IsEmpty)
            {
                return;
            }

            Interlocked.Exchange(ref _sleeping, 1);
            if (!_entries.IsEmpty)
            {
                if (Interlocked.Exchange(ref _sleeping, 0) == 0)
                {
                    // A worker saw us asleep and released the semaphore: take that release so the count stays 0 or 1.
                    _wake.Wait();
                }

                continue;
            }

            _wake.Wait();
        }
    }

    private void DeliverAll()
    {
        long ended = 0;
        while (_entries.TryDequeue(out Entry entry))
        {
            if (entry.Kind == EntryKind.Nudge)
            {
                continue;
            }

            if (_reorder is null)
            {
                ended += Deliver(entry);
                continue;
            }

            _reorder[entry.Item.Sequence] = entry;
            while (_reorder.Remove(_next, out Entry ready))
            {
                ended += Deliver(ready);
                _next++;
            }
        }

        _pending.Remove(ended);
        if (_stream is not null && _noMoreCalls() && _pending.Count == 0)
        {
            _stream.Writer.TryComplete();
        }
        else if (Volatile.Read(ref _fault) is { } fault)
        {
            // Everything delivered before the fault is in the lists now: readers may end with it.
            _stream?.Writer.TryComplete(fault);
            Volatile.Write(ref _deliveredFault, fault);
        }

        Interlocked.Exchange(ref _pulse, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    private int Deliver(Entry entry)
    {
        WorkItem<TIn> item = entry.Item;
        switch (entry.Kind)
        {
            case EntryKind.Result when Completions is not null:
                Completions.Add(new Completion<TIn, TOut>(item.Input, entry.Output));
                _releaseSlot(item);
                return 1;
            case EntryKind.Result:
                // The reader gives the slot back when it takes the result.
                _stream!.Writer.TryWrite(entry);
                return 1;
            case EntryKind.Failure:
                Failures.Add(new Failure<TIn>(item.Input, item.Attempts, item.Errors?.ToArray() ?? []));
                _releaseSlot(item);

                // The stream carries failures at their place too (its public readers skip them), so that a map can
                // fail exactly where the failed input was.
                _stream?.Writer.TryWrite(entry);
                return 1;
            default:
                return 0;
        }
    }

    private void Add(Entry entry)
    {
        _entries.Enqueue(entry);

        // The enqueue must be visible before _sleeping is read (see Waking in the remarks).
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _sleeping) == 1 && Interlocked.Exchange(ref _sleeping, 0) == 1)
        {
            _wake.Release();
        }
    }

    /// <summary>What the collector receives: a result, a failure, or (ordered only) the place of an aborted call.</summary>
    internal enum EntryKind
    {
        Result,
        Failure,
        Skip,
        Nudge,
    }

    /// <summary>One finished call on its way to the lists or the stream.</summary>
    internal readonly struct Entry(WorkItem<TIn> item, TOut output, EntryKind kind)
    {
        public WorkItem<TIn> Item { get; } = item;

        public TOut Output { get; } = output;

        public EntryKind Kind { get; } = kind;
    }
}
