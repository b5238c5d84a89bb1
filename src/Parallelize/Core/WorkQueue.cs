using System.Diagnostics;

namespace Parallelize.Core;

/// <summary>
/// The queue of calls not yet started, and the count of calls in flight.
/// </summary>
/// <remarks>
/// <para><b>Capacity.</b> When bounded, <c>_room</c> counts the free places among calls queued and not started. A
/// new call takes a place before it is queued (waiting, or not, as the caller chooses) and gives it back if it is
/// refused; a worker gives a place back when it takes a call that holds one. Retries are queued without a place: they were
/// accepted already, and refusing them could lose them. So the queue holds at most the capacity plus the retries of
/// calls in flight, which the number of executors bounds.</para>
/// <para><b>Lock order.</b> Under <c>_lock</c> the queue counts an accepted call in the pending tracker, whose lock is
/// therefore taken inside this one; the tracker never calls back, so the order is always queue, then tracker.</para>
/// <para><b>Lock.</b> <c>_lock</c> guards <c>_items</c>, <c>_idle</c>, <c>_sequence</c>, <c>_addingCompleted</c> and <c>_closed</c>, and makes
/// "take an item, mark it running, publish it as the worker's <see cref="IWorkTaker{TIn}.Current"/>, count it
/// in flight" one atomic step. So once <see cref="Close"/> has returned, every item is either in the list it
/// returned or visible as some worker's <c>Current</c> and counted in <c>_inFlight</c>: none is in between.
/// Nothing is called under the lock but collection operations; semaphores are released after it is let go.</para>
/// <para><b>In flight.</b> <c>_inFlight</c> rises only under the lock and only while open, so after
/// <see cref="Close"/> it only falls. It falls once per taken item, in <see cref="Complete"/>, called by
/// whoever won <see cref="WorkItem{TIn}.TryClaim"/> once it has routed the item. <see cref="Drained"/>
/// completes when the queue is closed and nothing is in flight.</para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage(
    "Reliability",
    "CA1001:Types that own disposable fields should be disposable",
    Justification = "SemaphoreSlim holds no unmanaged resource unless its AvailableWaitHandle is used, which it never is here; disposing it while a refused caller may still be leaving Wait would throw at that caller.")]
internal sealed class WorkQueue<TIn>
{
    private readonly Lock _lock = new();
    private readonly Queue<WorkItem<TIn>> _items = new();
    private readonly Stack<IWorkTaker<TIn>> _idle = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim? _room;
    private readonly PendingTracker? _pending;
    private long _sequence;
    private bool _addingCompleted;
    private bool _closed;
    private int _inFlight;

    /// <summary>Initializes a new queue.</summary>
    /// <param name="capacity">The most calls queued and not started; <see langword="null"/> for no limit.</param>
    /// <param name="pending">Counts each new call accepted, at the moment it is accepted (under the lock).</param>
    public WorkQueue(int? capacity = null, PendingTracker? pending = null)
    {
        _pending = pending;
        if (capacity is int places)
        {
            _room = new SemaphoreSlim(places, places);
        }
    }

    /// <summary>Gets a value indicating whether the queue has a capacity.</summary>
    public bool IsBounded => _room is not null;

    /// <summary>Gets a task that completes once the queue is closed and no taken item is unsettled.</summary>
    public Task Drained => _drained.Task;

    /// <summary>Gets the number of calls queued and not yet started.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>Gets the number of calls taken and not yet settled.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Queues a new call, waking one idle worker. On a bounded queue the caller must hold a place (see <see cref="WaitForRoom"/>).</summary>
    /// <param name="item">The item; its <see cref="WorkItem{TIn}.Sequence"/> is set if it is accepted.</param>
    /// <returns><see langword="false"/> if the queue takes no new calls (completed or closed); the item was not queued and its place, if any, was given back.</returns>
    public bool TryEnqueue(WorkItem<TIn> item)
    {
        if (TryEnqueue(item, isNew: true))
        {
            return true;
        }

        _room?.Release();
        return false;
    }

    /// <summary>Takes a place for a new call on a bounded queue, blocking while it is full.</summary>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> to block, <see cref="TimeSpan.Zero"/> not to wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns><see langword="false"/> if no place came free in time.</returns>
    public bool WaitForRoom(TimeSpan timeout, CancellationToken cancellationToken) =>
        _room is null || _room.Wait(timeout, cancellationToken);

    /// <summary>Takes a place for a new call on a bounded queue, waiting without a thread while it is full.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the caller holds a place.</returns>
    public Task WaitForRoomAsync(CancellationToken cancellationToken) =>
        _room is null ? Task.CompletedTask : _room.WaitAsync(cancellationToken);

    /// <summary>Queues again an item its owner took and claimed, for another attempt.</summary>
    /// <param name="item">The item.</param>
    /// <returns><see langword="false"/> if the queue is closed; the caller still owns the item.</returns>
    public bool TryRequeue(WorkItem<TIn> item)
    {
        item.MarkQueued();
        return TryEnqueue(item, isNew: false);
    }

    /// <summary>Refuses new calls from now on, while retries of calls already accepted are still queued.</summary>
    public void CompleteAdding()
    {
        lock (_lock)
        {
            _addingCompleted = true;
        }
    }

    /// <summary>Takes the next item, blocking the calling thread while the queue is empty.</summary>
    /// <param name="taker">The worker taking it.</param>
    /// <param name="item">The item, now running and counted in flight.</param>
    /// <returns><see langword="false"/> once the queue is closed.</returns>
    public bool TryTake(IWorkTaker<TIn> taker, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out WorkItem<TIn>? item)
    {
        while (true)
        {
            if (TryTakeOrPark(taker, out item, out bool closed))
            {
                return true;
            }

            if (closed)
            {
                return false;
            }

            taker.Signal.Wait();
        }
    }

    /// <summary>Takes the next item, waiting without a thread while the queue is empty.</summary>
    /// <param name="taker">The worker taking it.</param>
    /// <returns>The item, now running and counted in flight; <see langword="null"/> once the queue is closed.</returns>
    public async ValueTask<WorkItem<TIn>?> TakeAsync(IWorkTaker<TIn> taker)
    {
        while (true)
        {
            if (TryTakeOrPark(taker, out WorkItem<TIn>? item, out bool closed))
            {
                return item;
            }

            if (closed)
            {
                return null;
            }

            await taker.Signal.WaitAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Settles one taken item: its claimant has routed it to its destination.</summary>
    public void Complete()
    {
        int left = Interlocked.Decrement(ref _inFlight);
        Debug.Assert(left >= 0, "More items completed than taken.");
        if (left == 0 && Volatile.Read(ref _closed))
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>Closes the queue: no item is queued or taken after this.</summary>
    /// <returns>The items that were queued, in queue order; the caller now owns them.</returns>
    public List<WorkItem<TIn>> Close()
    {
        List<WorkItem<TIn>> drained;
        IWorkTaker<TIn>[] idle;
        lock (_lock)
        {
            Volatile.Write(ref _closed, true);
            drained = new List<WorkItem<TIn>>(_items);
            _items.Clear();
            idle = _idle.ToArray();
            _idle.Clear();
        }

        // Pairs with the full fence of Interlocked.Decrement in Complete: either Complete sees _closed, or
        // this read sees its decrement. Both may see each other; TrySetResult makes that harmless.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _inFlight) == 0)
        {
            _drained.TrySetResult();
        }

        foreach (IWorkTaker<TIn> taker in idle)
        {
            taker.Signal.Release();
        }

        return drained;
    }

    private bool TryEnqueue(WorkItem<TIn> item, bool isNew)
    {
        IWorkTaker<TIn>? idle;
        lock (_lock)
        {
            if (_closed || (isNew && _addingCompleted))
            {
                return false;
            }

            if (isNew)
            {
                // Counted as pending here, where it is accepted, never before: a refused call must not show as pending
                // even for an instant, or a stream could miss its end (the collector may already have finished).
                _pending?.Add();
                item.Sequence = ++_sequence;
                item.HoldsPlace = _room is not null;
            }

            _items.Enqueue(item);
            _idle.TryPop(out idle);
        }

        idle?.Signal.Release();
        return true;
    }

    private bool TryTakeOrPark(IWorkTaker<TIn> taker, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out WorkItem<TIn>? item, out bool closed)
    {
        lock (_lock)
        {
            closed = _closed;
            if (!closed && _items.TryDequeue(out item))
            {
                item.MarkRunning();
                taker.Current = item;
                Interlocked.Increment(ref _inFlight);

                if (item.HoldsPlace)
                {
                    item.HoldsPlace = false;
                    _room!.Release();
                }

                return true;
            }

            if (!closed)
            {
                _idle.Push(taker);
            }

            item = null;
            return false;
        }
    }
}
