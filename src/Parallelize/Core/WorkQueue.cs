using System.Buffers;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Parallelize.Core;

/// <summary>
/// The queue of calls not yet started, handed to workers in batches, and the count of calls in flight.
/// </summary>
/// <remarks>
/// <para><b>Storage.</b> Calls are <see cref="QueuedCall{TIn}"/> values in a ring buffer that grows by doubling and
/// never shrinks, so in steady state queuing a call allocates nothing. Rings are rented from
/// <see cref="ArrayPool{T}.Shared"/> and given back when outgrown or drained, so a large backlog does not cost a
/// fresh large-object allocation each time a pool builds one. A worker takes up to its batch size of calls
/// at once, under one acquisition of the lock.</para>
/// <para><b>Lock.</b> <c>_lock</c> guards the ring (<c>_ring</c>, <c>_head</c>, <c>_count</c>), <c>_retries</c>,
/// <c>_idle</c>, <c>_sequence</c>, <c>_addingStopped</c>, <c>_paused</c>, <c>_probes</c> and <c>_closed</c>, and
/// makes "take calls, hand them to the runner's lease (<see cref="IWorkTaker{TIn}.BeginBatch"/>), count them in
/// flight" one atomic step. So once
/// <see cref="Close"/> has returned, every call is either in the list it returned or in some worker's batch and
/// counted in <c>_inFlight</c>: none is in between. Under the lock only collection operations run, plus counting a
/// new call in the pending tracker (whose lock is therefore taken inside this one; it never calls back).
/// Semaphores are released after the lock is let go. No user code ever runs under it.</para>
/// <para><b>Waking.</b> <c>_searching</c> counts workers that are about to look at the queue under the lock: one
/// spinning worker, and workers woken from the idle stack. A worker leaves that count only inside the locked step
/// where it takes calls or parks. Under the lock, whoever adds calls (a producer, or a worker putting calls back)
/// and whoever takes calls and leaves some behind wakes an idle worker while more calls are queued than workers
/// search. So a call is never left queued with every worker parked: either a searching worker's later locked step
/// sees it, or someone woke a worker for it; and a worker that takes calls while others idle takes only a fair share
/// (the queued calls divided among it and the idle workers) and wakes the next for the rest. A worker may park
/// leaving fewer calls than its minimum batch only while another searches, and that one wakes the next in turn if it
/// leaves any behind. A fast producer that one spinning worker keeps up with wakes nobody.</para>
/// <para><b>A starved thread pool.</b> A woken asynchronous runner counts as searching until its continuation runs on a
/// thread-pool thread; while the application's thread pool is starved, that can be long, and producers (waking only
/// while more calls are queued than runners search) leave runners with threads of their own parked. The process's lease
/// watcher therefore calls <see cref="WakeIfStalled"/>: when calls have waited with runners idle and none was taken over
/// a few of its looks, it wakes one more that has a thread of its own. Its bookkeeping: <c>_takes</c> (under the lock,
/// read atomically without it), and <c>_stallMark</c>, <c>_stallLooks</c> and <c>_stallPatience</c> (the watcher's
/// one thread only, no lock).</para>
/// <para><b>Capacity.</b> When bounded, <c>_room</c> counts the free places among calls queued and not started. A
/// new call takes a place before it is queued and gives it back if refused; a worker gives a place back when it
/// first takes a call that holds one. Calls put back after a fault are queued without a place: they were accepted
/// already, and refusing them could lose them. So the queue holds at most the capacity plus the batches of the
/// executors.</para>
/// <para><b>Retries.</b> A call queued again for another attempt waits in <c>_retries</c>, first in line, with the
/// executor it failed on: a runner takes it before new calls, unless the call failed on that very runner and another
/// runner is idle — then it is left for that one, which is woken. A call that has failed only on that runner is kept
/// from it <em>firmly</em> while another runner is live, even a busy one, so that its next attempt tells whose fault
/// it was (see <see cref="CallHistory"/>). Retries hold no place.</para>
/// <para><b>Pause.</b> While <c>_paused</c> (an outage, see <c>OutageDetector</c>), runners take nothing and
/// producers wake nobody; <see cref="AllowProbe"/> lets exactly one call through at a time, to see whether the
/// outage is over — a new call rather than a retry when there is one — and <see cref="Resume"/> wakes as many idle
/// runners as there are calls.</para>
/// <para><b>In flight.</b> <c>_inFlight</c> counts calls taken from the queue and not yet settled: in leases, or
/// waiting in the retry scheduler for their next attempt. It rises only under the lock and only while open, so after
/// <see cref="Close"/> it only falls. It falls in <see cref="Settled"/>, called by whoever owns calls once each of them
/// has been routed to its place (or queued again). <see cref="Drained"/> completes when the queue is closed and
/// nothing is in flight.</para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage(
    "Reliability",
    "CA1001:Types that own disposable fields should be disposable",
    Justification = "SemaphoreSlim holds no unmanaged resource unless its AvailableWaitHandle is used, which it never is here; disposing it while a refused caller may still be leaving Wait would throw at that caller.")]
internal sealed class WorkQueue<TIn>
{
    private const int InitialCapacity = 64;

    private readonly Lock _lock = new();
    private readonly Stack<IWorkTaker<TIn>> _idle = new();
    private readonly Queue<(QueuedCall<TIn> Call, int Avoid, bool Firmly)> _retries = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim? _room;
    private readonly PendingTracker? _pending;
    private readonly CallContexts? _contexts;
    private QueuedCall<TIn>[] _ring = RentRing(InitialCapacity);
    private int _head;
    private int _count;
    private int _searching;
    private long _sequence;
    private bool _addingStopped;
    private bool _paused;
    private int _probes;
    private PaddedInt32 _closed;
    private int _inFlight;
    private long _requeues;

    // The watcher's view of a stall (WakeIfStalled): calls taken so far (under _lock), their count at the watcher's
    // last look while calls waited with runners idle, the looks since then without a call taken, and how many such
    // looks it waits for before waking a runner (doubled after each wake that did not help, back to 2 on progress).
    // The last three belong to the watcher's one thread: no lock.
    private long _takes;
    private long _stallMark = -1;
    private int _stallLooks;
    private int _stallPatience = 2;
    private int _liveTakers = int.MaxValue;
    private int _retryCount;
    private int _pausedFlag;

    /// <summary>Initializes a new queue.</summary>
    /// <param name="capacity">The most calls queued and not started; <see langword="null"/> for no limit.</param>
    /// <param name="pending">Counts each new call accepted, at the moment it is accepted (under the lock).</param>
    /// <param name="contexts">Where the contexts of calls that bring one are kept.</param>
    public WorkQueue(int? capacity = null, PendingTracker? pending = null, CallContexts? contexts = null)
    {
        _pending = pending;
        _contexts = contexts;
        if (capacity is int places)
        {
            _room = new SemaphoreSlim(places, places);
        }
    }

    /// <summary>Gets a value indicating whether the queue is closed: nothing is taken or queued any more.</summary>
    public bool IsClosed => Volatile.Read(ref _closed.Value) != 0;

    /// <summary>Gets a task that completes once the queue is closed and no taken call is unsettled.</summary>
    public Task Drained => _drained.Task;

    /// <summary>Gets the number of new calls queued and not yet started (a snapshot); retries waiting their turn are in <see cref="RetriesQueued"/>.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Gets the number of calls queued again for another attempt and not yet taken (a snapshot).</summary>
    public int RetriesQueued => Volatile.Read(ref _retryCount);

    /// <summary>Gets a value indicating whether runners are held back by an outage (a snapshot).</summary>
    public bool IsPaused => Volatile.Read(ref _pausedFlag) != 0;

    /// <summary>Gets the number of calls taken and not yet settled.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Gets the number of calls accepted so far.</summary>
    public long Accepted => Interlocked.Read(ref _sequence);

    /// <summary>Gets a number that changes whenever calls come in or may be taken again (new calls, calls queued again, a resume or a probe), for an idle runner to tell whether anything is new.</summary>
    public long Pushes => Interlocked.Read(ref _sequence) + Interlocked.Read(ref _requeues);

    /// <summary>Queues a new call, waking an idle worker if needed. On a bounded queue the caller must hold a place (see <see cref="WaitForRoom"/>).</summary>
    /// <param name="input">The input.</param>
    /// <returns><see langword="false"/> if the queue takes no new calls (completed or closed); the call was not queued and its place, if any, was given back.</returns>
    // PERF: compiled fully optimized at once; tiered compilation took millions of calls to promote the hot path.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public bool TryEnqueue(TIn input) => TryEnqueue(input, null);

    /// <summary>Queues a new call that runs in <paramref name="context"/>; see <see cref="TryEnqueue(TIn)"/>.</summary>
    /// <param name="input">The input.</param>
    /// <param name="context">The caller's context (see <see cref="QueuedCall{TIn}.HasContext"/>), or <see langword="null"/>.</param>
    /// <returns><see langword="false"/> if the queue takes no new calls.</returns>
    // PERF: compiled fully optimized at once; tiered compilation took millions of calls to promote the hot path.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public bool TryEnqueue(TIn input, object? context)
    {
        IWorkTaker<TIn>? wake = null;
        bool accepted = false;
        lock (_lock)
        {
            if (_closed.Value == 0 && !_addingStopped)
            {
                // Counted as pending here, where it is accepted, never before: a refused call must not show as pending
                // even for an instant, or a stream could miss its end.
                _pending?.Add();
                long sequence = _sequence + 1;
                Volatile.Write(ref _sequence, sequence);
                if (context is not null)
                {
                    _contexts!.Add(sequence, context);
                }

                Push(new QueuedCall<TIn>(input, sequence, _room is not null, context is not null));
                wake = WakeOneIfNeeded();
                accepted = true;
            }
        }

        if (!accepted)
        {
            _room?.Release();
            return false;
        }

        wake?.Signal.Release();
        return true;
    }

    /// <summary>
    /// Queues new calls under one acquisition of the lock, waking as many idle runners as needed. On a bounded queue the
    /// caller must hold a place for each (see <see cref="WaitForRoom"/>).
    /// </summary>
    /// <param name="inputs">The inputs, in call order.</param>
    /// <param name="context">The caller's context, shared by these calls.</param>
    /// <returns><see langword="false"/> if the queue takes no new calls: none was queued, and their places, if any, were given back.</returns>
    public bool TryEnqueueMany(ReadOnlySpan<TIn> inputs, object? context)
    {
        if (inputs.IsEmpty)
        {
            return true;
        }

        List<IWorkTaker<TIn>>? wake = null;
        bool accepted = false;
        lock (_lock)
        {
            if (_closed.Value == 0 && !_addingStopped)
            {
                bool holdsPlace = _room is not null;
                long sequence = _sequence;
                foreach (TIn input in inputs)
                {
                    _pending?.Add();
                    sequence++;
                    if (context is not null)
                    {
                        _contexts!.Add(sequence, context);
                    }

                    Push(new QueuedCall<TIn>(input, sequence, holdsPlace, context is not null));
                }

                Volatile.Write(ref _sequence, sequence);
                while (WakeOneIfNeeded() is { } taker)
                {
                    (wake ??= []).Add(taker);
                }

                accepted = true;
            }
        }

        if (!accepted)
        {
            _room?.Release(inputs.Length);
            return false;
        }

        wake?.ForEach(static taker => taker.Signal.Release());
        return true;
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

    /// <summary>Queues again calls their owner took, for another attempt (at the back) or because their batch ended early (at the front).</summary>
    /// <param name="calls">The calls; they hold no place.</param>
    /// <param name="atFront">Put them first in line, in the given order.</param>
    /// <returns><see langword="false"/> if the queue is closed; the caller still owns the calls.</returns>
    public bool TryRequeue(ReadOnlySpan<QueuedCall<TIn>> calls, bool atFront)
    {
        if (calls.IsEmpty)
        {
            return true;
        }

        IWorkTaker<TIn>? wake;
        lock (_lock)
        {
            if (_closed.Value != 0)
            {
                return false;
            }

            Interlocked.Increment(ref _requeues);
            if (atFront)
            {
                for (int i = calls.Length - 1; i >= 0; i--)
                {
                    PushFront(calls[i]);
                }
            }
            else
            {
                foreach (QueuedCall<TIn> call in calls)
                {
                    Push(call);
                }
            }

            wake = WakeOneIfNeeded();
        }

        wake?.Signal.Release();
        return true;
    }

    /// <summary>Sets how many runners can take calls, before any runs; a retry kept firmly from one runner is given to it after all when it is the last.</summary>
    /// <param name="count">The number of runners.</param>
    public void SetLiveTakers(int count)
    {
        lock (_lock)
        {
            _liveTakers = count;
        }
    }

    /// <summary>A runner retired: one runner fewer can take calls.</summary>
    public void TakerRetired()
    {
        IWorkTaker<TIn>? wake = null;
        lock (_lock)
        {
            _liveTakers--;
            Interlocked.Increment(ref _requeues);

            // A retry kept from the runner that retired, or kept from the last live runner, which may now take it: make
            // sure an idle runner looks.
            if (_retries.Count > 0 && _idle.TryPop(out IWorkTaker<TIn>? taker))
            {
                Interlocked.Increment(ref _searching);
                wake = taker;
            }
        }

        wake?.Signal.Release();
    }

    /// <summary>Gives back, for an outage, the last attempt of each retry waiting in line whose last counted failure is at or after outcome <paramref name="from"/>; the queue owns these calls.</summary>
    /// <returns>How many attempts were given back.</returns>
    public int Refund(long from, CallHistories histories)
    {
        int refunded = 0;
        lock (_lock)
        {
            foreach ((QueuedCall<TIn> call, _, _) in _retries)
            {
                if (histories.Find(call.Sequence) is { LastCountedOutcome: > 0 } record && record.LastCountedOutcome >= from)
                {
                    // The outage made it fail, not the input and not its executor: nobody is a suspect any more.
                    record.Counted--;
                    record.LastCountedOutcome = 0;
                    record.Suspect = -1;
                    refunded++;
                }
            }
        }

        return refunded;
    }

    /// <summary>A runner leaves for good (retired) without taking what it may have been woken for: wakes the next idle runner instead.</summary>
    /// <param name="searching">The runner is counted as searching (it was woken) and leaves that count now.</param>
    public void Leave(bool searching)
    {
        IWorkTaker<TIn>? wake;
        lock (_lock)
        {
            if (searching)
            {
                Interlocked.Decrement(ref _searching);
            }

            wake = WakeOneIfNeeded();
        }

        wake?.Signal.Release();
    }

    /// <summary>Queues a call again for another attempt, first in line among new calls, avoiding the executor it failed on.</summary>
    /// <param name="call">The call; it holds no place.</param>
    /// <param name="avoid">The index of the executor the call failed on, or -1.</param>
    /// <param name="firmly">Keep it from that executor while any other is live, not only while another is idle.</param>
    /// <returns><see langword="false"/> if the queue is closed; the caller still owns the call.</returns>
    public bool TryRequeueRetry(in QueuedCall<TIn> call, int avoid, bool firmly)
    {
        IWorkTaker<TIn>? wake;
        lock (_lock)
        {
            if (_closed.Value != 0)
            {
                return false;
            }

            _retries.Enqueue((call, avoid, firmly));
            Interlocked.Increment(ref _requeues);
            Volatile.Write(ref _retryCount, _retries.Count);
            wake = WakeOneIfNeeded();
        }

        wake?.Signal.Release();
        return true;
    }

    /// <summary>Holds runners back: from now on they take no call (but probes, see <see cref="AllowProbe"/>) until <see cref="Resume"/>.</summary>
    public void Pause()
    {
        lock (_lock)
        {
            _paused = true;
            _probes = 0;
            Volatile.Write(ref _pausedFlag, 1);
        }
    }

    /// <summary>Lets one call through a paused queue, waking a runner for it.</summary>
    public void AllowProbe()
    {
        IWorkTaker<TIn>? wake = null;
        lock (_lock)
        {
            if (!_paused || _closed.Value != 0)
            {
                return;
            }

            _probes = 1;
            Interlocked.Increment(ref _requeues);
            if (Volatile.Read(ref _searching) == 0 && _count + _retries.Count > 0 && _idle.TryPop(out IWorkTaker<TIn>? taker))
            {
                Interlocked.Increment(ref _searching);
                wake = taker;
            }
        }

        wake?.Signal.Release();
    }

    /// <summary>Lets runners take calls again after <see cref="Pause"/>, waking as many idle ones as there are calls.</summary>
    public void Resume()
    {
        List<IWorkTaker<TIn>>? wake = null;
        lock (_lock)
        {
            if (!_paused)
            {
                return;
            }

            _paused = false;
            _probes = 0;
            Volatile.Write(ref _pausedFlag, 0);
            Interlocked.Increment(ref _requeues);
            while (WakeOneIfNeeded() is { } taker)
            {
                (wake ??= []).Add(taker);
            }
        }

        wake?.ForEach(static taker => taker.Signal.Release());
    }

    /// <summary>Refuses new calls from now on, while calls already accepted may still be queued again.</summary>
    public void StopAdding()
    {
        lock (_lock)
        {
            _addingStopped = true;
        }
    }

    /// <summary>
    /// Takes up to <paramref name="max"/> calls into the worker's batch; if there are none, optionally parks the worker on
    /// the idle stack (it then waits for its signal).
    /// </summary>
    /// <param name="taker">The worker.</param>
    /// <param name="batch">Where the calls go; at least <paramref name="max"/> long.</param>
    /// <param name="max">The most calls to take.</param>
    /// <param name="minimum">Take nothing while fewer calls than this are queued, unless the worker would park and no other worker is searching (then anything queued is taken).</param>
    /// <param name="searching">The worker is counted as searching (it spun, or was woken) and leaves that count now.</param>
    /// <param name="park">If nothing is queued, park the worker.</param>
    /// <param name="closed">Set when the queue is closed: the worker must end.</param>
    /// <returns>How many calls were taken, now in the worker's batch and counted in flight.</returns>
    // PERF: compiled fully optimized at once; tiered compilation took millions of calls to promote the hot path.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public int TakeOrPark(IWorkTaker<TIn> taker, QueuedCall<TIn>[] batch, int max, int minimum, bool searching, bool park, out bool closed)
    {
        Debug.Assert(max >= 1 && batch.Length >= max, "The batch cannot hold the calls asked for.");
        int places = 0;
        int taken = 0;
        IWorkTaker<TIn>? wake = null;
        lock (_lock)
        {
            if (searching)
            {
                Interlocked.Decrement(ref _searching);
            }

            closed = _closed.Value != 0;
            if (closed)
            {
                return 0;
            }

            bool probe = false;
            int available = _count + _retries.Count;
            if (_paused)
            {
                // An outage: nothing is taken but the one probe call, which goes alone.
                if (_probes > 0 && available > 0)
                {
                    _probes--;
                    probe = true;
                    max = 1;
                    minimum = 1;
                }
                else
                {
                    available = 0;
                }
            }

            // Leaving calls below the minimum lets them gather into a larger batch. A runner about to park takes them
            // anyway if no runner is searching: nobody else would be sure to come for them.
            if (available > 0 && (available >= minimum || probe || (park && Volatile.Read(ref _searching) == 0)))
            {
                // With idle runners about, take only a fair share, so that a burst of slow calls after fast ones
                // spreads over the executors instead of filling one large lease.
                int want = Math.Min(available, max);
                if (_idle.Count > 0)
                {
                    want = Math.Max(1, Math.Min(want, (available + _idle.Count) / (_idle.Count + 1)));
                }

                // A probe is a new call when there is one: retries may be bad inputs, which fail whatever the service
                // does; and it is taken whoever asks, since holding it back for another runner could leave the outage
                // unprobed.
                taken = probe && _count > 0 ? 0 : TakeRetries(taker, batch, want, avoidance: !probe);
                int fresh = Math.Min(want - taken, _count);
                for (int i = taken, end = taken + fresh; i < end; i++)
                {
                    ref QueuedCall<TIn> slot = ref _ring[_head];
                    if (slot.HoldsPlace)
                    {
                        slot.HoldsPlace = false;
                        places++;
                    }

                    batch[i] = slot;
                    if (RuntimeHelpers.IsReferenceOrContainsReferences<TIn>())
                    {
                        // Let the GC have the input; a value-type input is left as it is, so the producer's next write
                        // to this slot does not have to fetch a line this runner dirtied.
                        slot = default;
                    }

                    _head = (_head + 1) & (_ring.Length - 1);
                }

                taken += fresh;
                Volatile.Write(ref _count, _count - fresh);

                // Calls left behind (a fair share, more than the lease holds, or retries left for another runner) must
                // not wait for a producer that may never come again: wake the next idle runner for them, as a producer
                // would.
                if (taken > 0)
                {
                    Interlocked.Add(ref _inFlight, taken);
                    _takes += taken;
                    taker.BeginBatch(taken, probe);
                    wake = WakeOneIfNeeded();
                }
                else
                {
                    // Only retries that failed on this runner are queued, and another runner is idle: wake it for them
                    // before this one parks, so this one is never the one woken.
                    _probes += probe ? 1 : 0;
                    wake = WakeOneIfNeeded();
                    if (park)
                    {
                        _idle.Push(taker);
                    }
                }
            }
            else if (park)
            {
                _idle.Push(taker);
            }
        }

        wake?.Signal.Release();

        if (places > 0)
        {
            _room!.Release(places);
        }

        return taken;
    }

    /// <summary>
    /// Under the lock: takes retries first in line into the lease, at most <paramref name="want"/>. A retry that failed
    /// on this very runner while another runner is idle is left for the idle one (woken by the caller's
    /// <see cref="WakeOneIfNeeded"/>), and so is everything behind it.
    /// </summary>
    private int TakeRetries(IWorkTaker<TIn> taker, QueuedCall<TIn>[] batch, int want, bool avoidance)
    {
        int taken = 0;
        while (taken < want && _retries.TryPeek(out (QueuedCall<TIn> Call, int Avoid, bool Firmly) next))
        {
            if (avoidance && next.Avoid == taker.Index && (_idle.Count > 0 || (next.Firmly && _liveTakers > 1)))
            {
                break;
            }

            batch[taken++] = _retries.Dequeue().Call;
        }

        if (taken > 0)
        {
            Volatile.Write(ref _retryCount, _retries.Count);
        }

        return taken;
    }

    /// <summary>Counts the calling worker as searching, if no other worker is: it may then spin briefly before parking.</summary>
    /// <returns><see langword="true"/> if the caller now searches; it must call <see cref="TakeOrPark"/> with <c>searching</c> set.</returns>
    public bool TryStartSearching() => Interlocked.CompareExchange(ref _searching, 1, 0) == 0;

    /// <summary>Counts calls out of flight: their owner has routed each of them to its place, or queued it again.</summary>
    /// <param name="count">How many calls.</param>
    public void Settled(int count)
    {
        int left = Interlocked.Add(ref _inFlight, -count);
        Debug.Assert(left >= 0, "More calls completed than taken.");
        if (left == 0 && IsClosed)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>Closes the queue: no call is queued or taken after this.</summary>
    /// <param name="retries">Receives the calls that were queued for another attempt; the caller now owns them.</param>
    /// <returns>The new calls that were queued, in queue order; the caller now owns them and must <see cref="DrainedCalls.Dispose"/> them.</returns>
    public DrainedCalls Close(List<QueuedCall<TIn>> retries)
    {
        DrainedCalls drained;
        IWorkTaker<TIn>[] idle;
        lock (_lock)
        {
            Volatile.Write(ref _closed.Value, 1);
            foreach ((QueuedCall<TIn> call, _, _) in _retries)
            {
                retries.Add(call);
            }

            _retries.Clear();
            Volatile.Write(ref _retryCount, 0);
            drained = new DrainedCalls(_ring, _head, _count);
            _ring = [];
            _head = 0;
            Volatile.Write(ref _count, 0);
            idle = _idle.ToArray();
            _idle.Clear();
            Interlocked.Add(ref _searching, idle.Length);
        }

        // Pairs with the full fence of Interlocked.Add in Settled: either Settled sees _closed, or this read sees
        // its decrement. Both may see each other; TrySetResult makes that harmless.
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

    /// <summary>
    /// Wakes an idle runner that has a thread of its own when calls have been queued with runners idle and none was
    /// taken over the last few looks: the runners counted as searching for them are then asynchronous ones whose
    /// continuations a starved thread pool holds back, while runners with threads of their own stay parked (a producer
    /// wakes a runner only while more calls are queued than runners search). Waking an asynchronous runner could not help
    /// there, so none is woken. Called by the lease watcher's one thread only; the wake counts as searching, like any
    /// other, so the waking protocol above is unchanged.
    /// </summary>
    /// <returns>
    /// <see langword="true"/> while calls wait with runners idle and the last wakes have not yet been shown useless: the
    /// watcher should keep looking closely. After three wakes in a row that led to no call taken (calls kept from the idle
    /// runners: a retry kept firmly, fewer calls than a lease's minimum while another runner searches), it goes back to
    /// its parked looks, and its patience keeps doubling up to 128 looks.
    /// </returns>
    public bool WakeIfStalled()
    {
        // Looked at without the lock, as hints: on a busy machine the watcher's thread may be preempted while holding
        // the queue's lock, and every producer and runner would wait for it. The lock is taken only to wake, and what
        // the hints said is checked again under it. _idle.Count is read racily (an int; a stale value only delays or
        // spares one look); _takes is written under the lock and read atomically here.
        bool waiting = !IsClosed && !IsPaused && Count + RetriesQueued > 0 && _idle.Count > 0;
        long takes = Interlocked.Read(ref _takes);
        if (!waiting || takes != _stallMark)
        {
            // Nothing waits, or calls were taken since the last look: no stall.
            _stallMark = waiting ? takes : -1;
            _stallLooks = 0;
            _stallPatience = 2;
            return waiting;
        }

        if (++_stallLooks < _stallPatience)
        {
            return _stallPatience <= 8;
        }

        IWorkTaker<TIn>? wake = null;
        lock (_lock)
        {
            if (_closed.Value == 0 && !_paused && _count + _retries.Count > 0 && _takes == takes)
            {
                wake = PopIdleWithOwnThread();
                if (wake is not null)
                {
                    Interlocked.Increment(ref _searching);
                }
            }
        }

        _stallLooks = 0;
        _stallPatience = Math.Min(_stallPatience * 2, 128);
        wake?.Signal.Release();
        return _stallPatience <= 8;
    }

    /// <summary>Under the lock: pops the topmost idle runner that has a thread of its own, if any, keeping the others' order.</summary>
    private IWorkTaker<TIn>? PopIdleWithOwnThread()
    {
        if (_idle.Count == 0)
        {
            return null;
        }

        if (!_idle.Peek().RunsOnThreadPool)
        {
            return _idle.Pop();
        }

        // Rare (a stall the watcher breaks): take the runner out of the middle.
        IWorkTaker<TIn>[] idle = _idle.ToArray();
        int pick = Array.FindIndex(idle, static taker => !taker.RunsOnThreadPool);
        if (pick < 0)
        {
            return null;
        }

        _idle.Clear();
        for (int i = idle.Length - 1; i >= 0; i--)
        {
            if (i != pick)
            {
                _idle.Push(idle[i]);
            }
        }

        return idle[pick];
    }

    /// <summary>Under the lock: pops an idle worker to wake if there are more queued calls than searching workers.</summary>
    private IWorkTaker<TIn>? WakeOneIfNeeded()
    {
        if ((!_paused || _probes > 0) && _count + _retries.Count > Volatile.Read(ref _searching) && _idle.TryPop(out IWorkTaker<TIn>? taker))
        {
            Interlocked.Increment(ref _searching);
            return taker;
        }

        return null;
    }

    private void Push(in QueuedCall<TIn> call)
    {
        if (_count == _ring.Length)
        {
            Grow();
        }

        _ring[(_head + _count) & (_ring.Length - 1)] = call;
        Volatile.Write(ref _count, _count + 1);
    }

    private void PushFront(in QueuedCall<TIn> call)
    {
        if (_count == _ring.Length)
        {
            Grow();
        }

        _head = (_head - 1) & (_ring.Length - 1);
        _ring[_head] = call;
        Volatile.Write(ref _count, _count + 1);
    }

    private void Grow()
    {
        QueuedCall<TIn>[] larger = RentRing(_ring.Length * 2);
        for (int i = 0; i < _count; i++)
        {
            larger[i] = _ring[(_head + i) & (_ring.Length - 1)];
        }

        ReturnRing(_ring);
        _ring = larger;
        _head = 0;
    }

    private static QueuedCall<TIn>[] RentRing(int length)
    {
        QueuedCall<TIn>[] ring = ArrayPool<QueuedCall<TIn>>.Shared.Rent(length);

        // The index arithmetic masks with Length - 1, so the length must be a power of two; the shared pool's are.
        return BitOperations.IsPow2(ring.Length) ? ring : new QueuedCall<TIn>[BitOperations.RoundUpToPowerOf2((uint)length)];
    }

    private static void ReturnRing(QueuedCall<TIn>[] ring)
    {
        if (ring.Length > 0)
        {
            ArrayPool<QueuedCall<TIn>>.Shared.Return(ring, RuntimeHelpers.IsReferenceOrContainsReferences<QueuedCall<TIn>>());
        }
    }

    /// <summary>The calls a closed queue held, in queue order, read straight from its ring.</summary>
    internal readonly struct DrainedCalls(QueuedCall<TIn>[] ring, int head, int count) : IDisposable
    {
        /// <summary>Gets how many calls there are.</summary>
        public int Count => count;

        /// <summary>Gets the call at a position in queue order.</summary>
        /// <param name="index">The position.</param>
        public ref readonly QueuedCall<TIn> this[int index] => ref ring[(head + index) & (ring.Length - 1)];

        /// <summary>Gives the ring back to the shared pool; the calls must not be read after this.</summary>
        public void Dispose() => ReturnRing(ring);
    }
}
