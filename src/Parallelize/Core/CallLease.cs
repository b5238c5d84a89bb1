using System.Diagnostics;

namespace Parallelize.Core;

/// <summary>
/// The calls one runner took from the queue, owned by the pool until each of them is settled — delivered, failed,
/// handed back or aborted — exactly once, by exactly one party: the runner's executor slot, or a thief (the
/// <see cref="LeaseWatcher"/> or an idle runner releasing the calls of a stuck one, or <c>Stop</c>).
/// </summary>
/// <remarks>
/// <para>A lease is reused: one per runner, begun by the queue (<see cref="Begin"/>, under the queue's lock, only while
/// idle) and ended by its settlement. It runs in one of two modes, fixed for the runner.</para>
/// <para><b>In order</b> (executors in this process). The owner runs the calls one after another. Before it starts call
/// <c>i</c> it writes <c>Next = i + 1</c> — so every call below <c>i</c> has its output stored — and then reads
/// <c>Limit</c>; calls at or above <c>Limit</c> belong to a thief. Both are plain volatile accesses, so the per-call
/// cost stays that of a store and a load. A thief, under <c>_lock</c>, proposes a new limit at the <c>Next</c> it read,
/// then issues a process-wide memory barrier (<see cref="Interlocked.MemoryBarrierProcessWide"/>), which orders every
/// other thread's earlier accesses as a full fence on each would, and reads <c>Next</c> again. Every claim the owner
/// made before the barrier is then visible, and every claim after it sees the proposed limit; so the final limit is the
/// larger of the two readings, everything below it is the owner's and everything from it on the thief's. An owner that
/// finds <c>i</c> at or above the limit takes <c>_lock</c> (<see cref="TryContinue"/>), where the limit is final, and
/// goes on or stops accordingly. This is the asymmetric Dekker pattern: the rare thief pays for the barrier so that the
/// owner, on every call, pays nothing but a store and a load. It assumes, as the runtime guarantees on every platform
/// it supports, that a volatile write and a later volatile read on the same thread are not reordered by the compiler.</para>
/// <para><b>Settling in order.</b> <c>_settledBelow</c> (under <c>_lock</c>) counts the calls from the start already
/// settled. The owner settles the rest at the end of the lease (<see cref="Finish"/>) or at a failed call
/// (<see cref="FailAt"/>); a thief delivers the finished calls before the running one (<see cref="Release"/>), or, for
/// <c>Stop</c> after its finish timeout, takes every call including the running one (<see cref="Abandon"/>). All of
/// them move <c>_settledBelow</c> under <c>_lock</c>, so a call is settled once. <c>Abandoned</c> tells an owner whose
/// call returns late that nothing of the lease is its any more: its outcome is dropped.</para>
/// <para><b>Any order</b> (executors elsewhere: a worker process, a cluster node). The slot may run the calls at once
/// and report them in any order, by index, through a <see cref="LeaseHandle{TIn, TOut}"/> stamped with the lease's
/// number (<c>_epoch</c>), since the lease object is reused for the runner's next lease: <see cref="TryComplete"/>,
/// <see cref="TryFail"/>; <see cref="MarkSent"/> records that a call left this process. Each call has a state in
/// <c>_states</c> (under <c>_lock</c>); a report for a call already settled or taken back (<see cref="TakeBack"/>,
/// <see cref="Abandon"/>), or for an earlier lease, is a late outcome, dropped and counted.</para>
/// <para><b>Lock.</b> <c>_lock</c> guards <c>_state</c> (also written by <see cref="Begin"/> while idle, when no
/// one else writes it), <c>_settledBelow</c>, the final <c>Limit</c> and <c>_states</c>. Under it run only the
/// copy of calls and the result sink's delivery (its own short lock; no user code). Failed calls are routed, and
/// calls handed back queued again, after it is let go, from copies or from the owner's own arrays, which the owner does
/// not reuse until its next lease: routing may log, and logging is user code. Lock order: lease, then the queue, the
/// sink, the scheduler or the outage detector.</para>
/// </remarks>
internal sealed class CallLease<TIn, TOut>
{
    private const int Idle = 0;
    private const int Active = 1;
    private const int Abandoned = 2;

    private const byte Open = 0;
    private const byte Sent = 1;
    private const byte Settled = 2;

    private readonly Lock _lock = new();
    private readonly Settlement<TIn, TOut> _settlement;
    private readonly ILeaseOwner _owner;
    private readonly bool _anyOrder;
    private int _count;
    private int _settledBelow;
    private int _state;
    private long _epoch;
    private int _generation;
    private bool _probe;
    private byte[] _states = [];
    private int _open;
    private int _succeeded;

    // Any order, from the slot's threads. A restart asked for by a failure, stamped with the executor generation of
    // the failed call's lease (written without the lock after the failure's settlement, so one that races the end of
    // its lease is acted on after the next lease — late, never lost — unless the executor was restarted meanwhile:
    // then it is dropped, and never restarts the new generation). And the run time the slot reported, with the epoch
    // it was reported for (both under _lock), so a report that races Begin is never counted for the next lease.
    private long _restartAskedFor;
    private long _reportedRunTicks;
    private long _reportedEpoch;

    /// <summary>Initializes a lease for one runner.</summary>
    /// <param name="settlement">Where calls are settled.</param>
    /// <param name="owner">The runner.</param>
    /// <param name="anyOrder">The runner's slot runs calls elsewhere, in any order.</param>
    public CallLease(Settlement<TIn, TOut> settlement, ILeaseOwner owner, bool anyOrder)
    {
        _settlement = settlement;
        _owner = owner;
        _anyOrder = anyOrder;
    }

    /// <summary>The calls (the first <see cref="Count"/>); written by the queue at <see cref="Begin"/>, read by the owner and, under the lock, by thieves.</summary>
    internal QueuedCall<TIn>[] Calls = new QueuedCall<TIn>[1];

    /// <summary>The outputs of calls run in order, at the calls' indexes.</summary>
    internal TOut[] Outputs = new TOut[1];

    /// <summary>In order: one more than the index of the call the owner has started last.</summary>
    internal PaddedInt32 Next;

    /// <summary>In order: calls at or above this index belong to a thief.</summary>
    internal PaddedInt32 Limit;

    /// <summary>Gets how many calls the lease holds.</summary>
    public int Count => _count;

    /// <summary>Gets how many calls of an "any order" lease succeeded so far.</summary>
    public int Succeeded => Volatile.Read(ref _succeeded);

    /// <summary>Gets the generation of the executor the lease was begun for, which its faults are blamed on.</summary>
    public int Generation => _generation;

    /// <summary>Gets or sets the generation the next lease is begun for: set by the runner (its own thread) after each restart, read under the queue's lock by <see cref="Begin"/>.</summary>
    internal int NextGeneration { get; set; }

    /// <summary>Gets a value indicating whether the lease is the outage detector's probe (one call).</summary>
    public bool IsProbe => _probe;

    /// <summary>Gets the lease's number, which changes with every lease the runner takes (for the watcher).</summary>
    public long Epoch => Volatile.Read(ref _epoch);

    /// <summary>Gets a value indicating whether the lease holds calls now (a snapshot).</summary>
    public bool IsActive => Volatile.Read(ref _state) == Active;

    /// <summary>Gets a handle on the current lease for a slot that runs its calls in any order (see <see cref="LeaseHandle{TIn, TOut}"/>).</summary>
    public LeaseHandle<TIn, TOut> Handle() => new(this, Volatile.Read(ref _epoch));

    /// <summary>Reads call <paramref name="index"/> of lease <paramref name="epoch"/> while it is open.</summary>
    /// <returns><see langword="false"/> if the call is settled or taken back, or the lease is over.</returns>
    public bool TryRead(long epoch, int index, out TIn input, out long callId, out int attempt)
    {
        lock (_lock)
        {
            if (Volatile.Read(ref _state) != Active || _epoch != epoch || (uint)index >= (uint)_count || _states[index] == Settled)
            {
                input = default!;
                callId = 0;
                attempt = 0;
                return false;
            }

            input = Calls[index].Input;
            callId = Calls[index].Sequence;
            attempt = Calls[index].HasHistory ? (_settlement.FailedAttempts(callId) + 1) : 1;
            return true;
        }
    }

    /// <summary>Hands call <paramref name="index"/> of lease <paramref name="epoch"/> back unrun (the slot did not send it): it is queued again at once.</summary>
    /// <returns><see langword="false"/> if the call was settled or taken back already, or the lease is over.</returns>
    public bool TryReturn(long epoch, int index)
    {
        QueuedCall<TIn> call;
        lock (_lock)
        {
            if (Volatile.Read(ref _state) != Active || _epoch != epoch || _states[index] != Open)
            {
                return false;
            }

            _states[index] = Settled;
            _open--;
            call = Calls[index];
            EndIfSettledLocked();
        }

        _settlement.Return(new ReadOnlySpan<QueuedCall<TIn>>(in call), _probe);
        return true;
    }

    /// <summary>Makes room for <paramref name="size"/> calls; only the owner, while idle.</summary>
    public void EnsureCapacity(int size)
    {
        // An abandoned lease holds no call either (Stop aborted them); its runner is about to find the queue closed.
        Debug.Assert(Volatile.Read(ref _state) is Idle or Abandoned, "Resized a lease that holds calls.");
        if (Calls.Length < size)
        {
            Calls = new QueuedCall<TIn>[size];
            Outputs = new TOut[size];
        }

        if (_anyOrder && _states.Length < size)
        {
            _states = new byte[size];
        }
    }

    /// <summary>Makes the calls just copied into <see cref="Calls"/> the lease's own. Called by the queue under its lock, while the lease is idle.</summary>
    public void Begin(int count, bool probe)
    {
        Debug.Assert(Volatile.Read(ref _state) == Idle, "Began a lease that still holds calls.");
        _count = count;
        _probe = probe;
        _generation = NextGeneration;
        _settledBelow = 0;
        Next.Value = 0;
        Limit.Value = count;
        if (_anyOrder)
        {
            Array.Clear(_states, 0, count);
            _open = count;
            _succeeded = 0;
        }

        // Only Begin writes the epoch (under the queue's lock, while idle): a plain increment, published by the write of the state.
        Volatile.Write(ref _epoch, _epoch + 1);
        Volatile.Write(ref _state, Active);
    }

    /// <summary>
    /// Gets a value indicating whether a watcher could do something for this lease: finished calls wait behind the one
    /// running, or calls not started wait behind it (a racy snapshot; <see cref="Release"/> decides under the lock).
    /// </summary>
    /// <param name="next">The owner's progress read, for the watcher to compare with its next look.</param>
    public bool IsStuckCandidate(out int next)
    {
        next = Volatile.Read(ref Next.Value);
        return !_anyOrder && Volatile.Read(ref _state) == Active && next >= 1 && _count > 1
            && (next < Volatile.Read(ref Limit.Value) || next - 1 > Volatile.Read(ref _settledBelow));
    }

    // ---- In order: the owner ----

    /// <summary>
    /// The owner found call <paramref name="index"/> at or above the limit: under the lock, where the limit is final,
    /// says whether the call is still its own. If not, settles the finished calls before it and ends the lease.
    /// </summary>
    /// <returns><see langword="true"/> if the owner runs the call; <see langword="false"/> if the lease is over for it.</returns>
    public bool TryContinue(int index)
    {
        lock (_lock)
        {
            if (Volatile.Read(ref _state) != Active)
            {
                return false;
            }

            if (index < Limit.Value)
            {
                return true;
            }

            DeliverLocked(index);
            Volatile.Write(ref _state, Idle);
            return false;
        }
    }

    /// <summary>The owner ran every call of its part: delivers them and ends the lease (unless <c>Stop</c> abandoned it: then they are dropped).</summary>
    public void Finish()
    {
        lock (_lock)
        {
            if (Volatile.Read(ref _state) != Active)
            {
                return;
            }

            DeliverLocked(Limit.Value);
            Volatile.Write(ref _state, Idle);
        }
    }

    /// <summary>
    /// Call <paramref name="index"/> failed: delivers the calls before it, routes it, and hands the owner's calls after it
    /// back to the queue (first in line); the lease ends.
    /// </summary>
    /// <returns>What the runner must do with its executor, or <see cref="FaultAction.None"/> if <c>Stop</c> had abandoned the lease (the outcome is dropped).</returns>
    public FaultAction FailAt(int index, Exception error, FailureKind kind)
    {
        int end;
        lock (_lock)
        {
            if (Volatile.Read(ref _state) != Active)
            {
                return FaultAction.None;
            }

            DeliverLocked(index);
            end = Limit.Value;
            _settledBelow = end;
            Volatile.Write(ref _state, Idle);
        }

        // The calls from index to end are the owner's alone now, in its own arrays, which it reuses only for its next lease.
        FaultAction action = _settlement.Failed(ref Calls[index], error, kind, _owner, _generation, _probe);
        _settlement.Return(Calls.AsSpan(index + 1, end - index - 1), probe: false);
        Clear(index, end);
        return action;
    }

    // ---- In order: thieves ----

    /// <summary>
    /// For a runner stuck in a call (the watcher), or <c>Stop</c> as it closes the queue: delivers the calls finished
    /// before the running one and hands the calls not started back to the queue — which runs them on idle runners, or
    /// aborts them if the pool is stopping. The running call stays the owner's.
    /// </summary>
    /// <returns><see langword="true"/> if anything was delivered or handed back.</returns>
    public bool Release()
    {
        if (_anyOrder)
        {
            return ReleaseAnyOrder();
        }

        QueuedCall<TIn>[]? unstarted = null;
        lock (_lock)
        {
            if (Volatile.Read(ref _state) != Active)
            {
                return false;
            }

            int proposed = Volatile.Read(ref Next.Value);
            int limit = Limit.Value;
            int boundary = limit;
            if (proposed < limit)
            {
                Volatile.Write(ref Limit.Value, proposed);
                Interlocked.MemoryBarrierProcessWide();
                // The owner may have written Next = limit + 1 on its way into TryContinue: never past the old limit.
                boundary = Math.Min(Math.Max(proposed, Volatile.Read(ref Next.Value)), limit);
                Volatile.Write(ref Limit.Value, boundary);
                if (boundary < limit)
                {
                    unstarted = Calls.AsSpan(boundary, limit - boundary).ToArray();
                }
            }

            // Call boundary - 1 is running (or just finished, its output maybe not yet stored): the owner's. Before it, every output is stored.
            int finished = Math.Max(_settledBelow, boundary - 1);
            bool delivered = finished > _settledBelow;
            DeliverLocked(finished);
            if (unstarted is null)
            {
                return delivered;
            }
        }

        _settlement.Return(unstarted, probe: false);
        return true;
    }

    /// <summary>
    /// For <c>Stop</c> after its finish timeout: takes every call back — the finished ones are delivered, the running
    /// one is aborted (it may have run: its outcome is unknown), the rest are aborted as never started. A later outcome
    /// of the running call is dropped.
    /// </summary>
    public void Abandon()
    {
        QueuedCall<TIn>[] running = [];
        QueuedCall<TIn>[] unstarted = [];
        lock (_lock)
        {
            if (Volatile.Read(ref _state) != Active)
            {
                return;
            }

            Volatile.Write(ref _state, Abandoned);
            if (_anyOrder)
            {
                var sent = new List<QueuedCall<TIn>>();
                var open = new List<QueuedCall<TIn>>();
                for (int i = 0; i < _count; i++)
                {
                    if (_states[i] != Settled)
                    {
                        (_states[i] == Sent ? sent : open).Add(Calls[i]);
                        _states[i] = Settled;
                    }
                }

                _open = 0;
                running = [.. sent];
                unstarted = [.. open];
            }
            else
            {
                int limit = Limit.Value;
                Volatile.Write(ref Limit.Value, 0);
                Interlocked.MemoryBarrierProcessWide();
                int next = Math.Min(Volatile.Read(ref Next.Value), limit);
                int finished = Math.Max(_settledBelow, next - 1);
                DeliverLocked(finished);
                running = Calls.AsSpan(finished, Math.Max(0, next - finished)).ToArray();
                unstarted = Calls.AsSpan(finished + running.Length, limit - finished - running.Length).ToArray();
                _settledBelow = limit;
            }
        }

        _settlement.Abort(running, mayHaveRun: true);
        _settlement.Abort(unstarted, mayHaveRun: false);
    }

    /// <summary>
    /// For a runner whose own code failed (a bug of the pool, never user code): delivers what finished and hands every
    /// other call back, the running one included, so that nothing waits for a runner that is gone.
    /// </summary>
    public void Salvage()
    {
        if (_anyOrder)
        {
            _ = TakeBack(FailureKind.Lost, new InvalidOperationException("The executor's runner failed."));
            return;
        }

        int start;
        int end;
        bool ranFirst;
        lock (_lock)
        {
            if (Volatile.Read(ref _state) != Active)
            {
                return;
            }

            end = Limit.Value;
            int running = Volatile.Read(ref Next.Value) - 1;
            start = Math.Clamp(running, _settledBelow, end);
            ranFirst = start == running && start < end;
            DeliverLocked(start);
            _settledBelow = end;
            Volatile.Write(ref _state, Idle);
        }

        if (ranFirst)
        {
            // The call its owner was running when it crashed may have run: aborted as outcome unknown if the pool is stopping.
            _settlement.Return(Calls.AsSpan(start, 1), _probe, mayHaveRun: true);
        }

        int unstarted = ranFirst ? start + 1 : start;
        _settlement.Return(Calls.AsSpan(unstarted, end - unstarted), _probe);
        Clear(start, end);
    }

    // ---- Any order: the slot ----

    /// <summary>Records that call <paramref name="index"/> of lease <paramref name="epoch"/> left this process: if it is taken back later, it may have run.</summary>
    /// <returns><see langword="false"/> if the call is settled or taken back already, or the lease is over: do not send it.</returns>
    public bool MarkSent(long epoch, int index)
    {
        lock (_lock)
        {
            if (Volatile.Read(ref _state) != Active || _epoch != epoch || _states[index] != Open)
            {
                return false;
            }

            _states[index] = Sent;
            return true;
        }
    }

    /// <summary>Call <paramref name="index"/> of lease <paramref name="epoch"/> returned <paramref name="output"/>: it is delivered now.</summary>
    /// <returns><see langword="false"/> if the call was settled or taken back already, or its lease is over: the late result is dropped and counted.</returns>
    public bool TryComplete(long epoch, int index, TOut output)
    {
        lock (_lock)
        {
            if (Volatile.Read(ref _state) != Active || _epoch != epoch || _states[index] == Settled)
            {
                _owner.OnLateOutcome();
                return false;
            }

            _states[index] = Settled;
            _open--;
            _succeeded++;
            Outputs[index] = output;
            _settlement.Succeeded(Calls.AsSpan(index, 1), Outputs.AsSpan(index, 1), _owner);
            Outputs[index] = default!;
            EndIfSettledLocked();
            return true;
        }
    }

    /// <summary>Call <paramref name="index"/> of lease <paramref name="epoch"/> failed with <paramref name="error"/>.</summary>
    /// <returns>What the runner must do with its executor; <see langword="null"/> if the call was settled or taken back already, or its lease is over (the late failure is dropped and counted).</returns>
    public FaultAction? TryFail(long epoch, int index, Exception error, FailureKind kind)
    {
        QueuedCall<TIn> call;
        int generation;
        bool probe;
        lock (_lock)
        {
            if (Volatile.Read(ref _state) != Active || _epoch != epoch || _states[index] == Settled)
            {
                _owner.OnLateOutcome();
                return null;
            }

            _states[index] = Settled;
            _open--;
            call = Calls[index];

            // Read with the call: once the lease ends (below, or on another thread right after the lock), Begin may change them.
            generation = _generation;
            probe = _probe;
            EndIfSettledLocked();
        }

        FaultAction action = _settlement.Failed(ref call, error, kind, _owner, generation, probe);
        if (action == FaultAction.Restart)
        {
            Volatile.Write(ref _restartAskedFor, (long)generation + 1);
        }

        return action;
    }

    /// <summary>
    /// Any order: the slot measured how long the calls of lease <paramref name="epoch"/> ran where they run (without
    /// the round trip), so that the runner sizes its leases on the calls' cost rather than the transport's.
    /// </summary>
    public void ReportRunTime(long epoch, TimeSpan elapsed)
    {
        if (elapsed <= TimeSpan.Zero)
        {
            return;
        }

        long ticks = Math.Max(1, (long)(elapsed.Ticks * ((double)Stopwatch.Frequency / TimeSpan.TicksPerSecond)));
        lock (_lock)
        {
            // Counted for its lease until the runner takes it; a report for an earlier lease is dropped. Begin bumps the
            // epoch without this lock, but only after the runner has taken the last lease's report (same thread), and a
            // report tagged with the old epoch is never taken for the new one.
            if (Volatile.Read(ref _epoch) != epoch)
            {
                return;
            }

            if (_reportedEpoch != epoch)
            {
                _reportedEpoch = epoch;
                _reportedRunTicks = 0;
            }

            _reportedRunTicks += ticks;
        }
    }

    /// <summary>Owner, after a lease ended: takes the run time the slot reported for it, in <see cref="Stopwatch"/> ticks; 0 if it reported none.</summary>
    public long TakeReportedRunTicks()
    {
        lock (_lock)
        {
            long ticks = _reportedEpoch == Volatile.Read(ref _epoch) ? _reportedRunTicks : 0;
            _reportedRunTicks = 0;
            return ticks;
        }
    }

    /// <summary>
    /// Owner, after a lease ended: takes whether a failure the slot reported asked for a restart of its executor
    /// (<see cref="FailureKind.Crashed"/>, <see cref="ParallelizeOptions.RestartOnEveryFault"/>) — one asked of the
    /// executor generation that ran this lease; one asked of an earlier generation (already restarted) is dropped.
    /// </summary>
    public FaultAction TakeFaultAction()
    {
        long asked = Interlocked.Exchange(ref _restartAskedFor, 0);
        return asked != 0 && asked - 1 == _generation ? FaultAction.Restart : FaultAction.None;
    }

    /// <summary>
    /// The slot is done with the lease, or was lost: every call not yet settled is taken back. Calls never sent are
    /// queued again; sent ones are queued again too when the executor was lost (<see cref="FailureKind.Lost"/>: at
    /// least once), or fail with <paramref name="error"/> when its process crashed running them (<see cref="FailureKind.Crashed"/>).
    /// </summary>
    /// <param name="kind">Why sent calls did not report.</param>
    /// <param name="error">What happened to them.</param>
    /// <returns>What the runner must do with its executor.</returns>
    public FaultAction TakeBack(FailureKind kind, Exception error)
    {
        List<QueuedCall<TIn>> sent = [];
        List<QueuedCall<TIn>> open = [];
        lock (_lock)
        {
            if (Volatile.Read(ref _state) != Active)
            {
                return FaultAction.None;
            }

            for (int i = 0; i < _count; i++)
            {
                if (_states[i] != Settled)
                {
                    (_states[i] == Sent ? sent : open).Add(Calls[i]);
                    _states[i] = Settled;
                }
            }

            _open = 0;
            Volatile.Write(ref _state, Idle);
        }

        FaultAction action = FaultAction.None;
        for (int i = 0; i < sent.Count; i++)
        {
            QueuedCall<TIn> call = sent[i];
            FaultAction one = _settlement.Failed(ref call, error, kind, _owner, _generation, _probe);
            action = one > action ? one : action;
        }

        _settlement.Return(open.ToArray(), _probe && sent.Count == 0);
        return action;
    }

    // Any order: hands back the calls never sent (Stop closing the queue).
    private bool ReleaseAnyOrder()
    {
        List<QueuedCall<TIn>> open = [];
        lock (_lock)
        {
            if (Volatile.Read(ref _state) != Active)
            {
                return false;
            }

            for (int i = 0; i < _count; i++)
            {
                if (_states[i] == Open)
                {
                    open.Add(Calls[i]);
                    _states[i] = Settled;
                    _open--;
                }
            }

            EndIfSettledLocked();
        }

        _settlement.Return(open.ToArray(), probe: false);
        return open.Count > 0;
    }

    // Under _lock (any order): the lease ends when its last call is settled.
    private void EndIfSettledLocked()
    {
        if (_open == 0)
        {
            Volatile.Write(ref _state, Idle);
        }
    }

    // Under _lock (in order): delivers the finished calls from _settledBelow up to `end`.
    private void DeliverLocked(int end)
    {
        if (end <= _settledBelow)
        {
            return;
        }

        int start = _settledBelow;
        _settledBelow = end;
        _settlement.Succeeded(Calls.AsSpan(start, end - start), Outputs.AsSpan(start, end - start), _owner);
        Clear(start, end);
    }

    // Lets the GC have what the pool no longer needs.
    private void Clear(int start, int end)
    {
        if (System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<QueuedCall<TIn>>())
        {
            Calls.AsSpan(start, end - start).Clear();
        }

        if (System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<TOut>())
        {
            Outputs.AsSpan(start, end - start).Clear();
        }
    }
}

/// <summary>What a lease needs to know of the runner that owns it.</summary>
internal interface ILeaseOwner
{
    /// <summary>Gets the index of the runner's executor.</summary>
    int Index { get; }

    /// <summary>Gets the executor's generation (restarts so far), to blame a fault on the right one.</summary>
    int Generation { get; }

    /// <summary>Counts an outcome that arrived for a call already settled or taken back (and dropped).</summary>
    void OnLateOutcome();
}

/// <summary>What a runner must do with its executor after a failed call.</summary>
internal enum FaultAction
{
    /// <summary>Carry on.</summary>
    None,

    /// <summary>Restart the executor (a deferred one is created again).</summary>
    Restart,
}
