using System.Diagnostics;

namespace Parallelize.Orleans.Client;

/// <summary>
/// The caller's ledger of calls sent to the cluster: a call id per dispatch, one terminal state each, late replies
/// dropped and counted, and the inputs whose outcome is unknown.
/// </summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <remarks>
/// <para><b>Why accounting stays exactly-once.</b> The pool owns the inputs: each ends in exactly one of Results,
/// Failures or the aborted list, whatever its executors do. This ledger makes sure an executor hands the pool exactly
/// one outcome per dispatch: a reply, a loss (the pool runs the input again) or a cancellation (the pool aborts it),
/// decided by <see cref="CallEntry{TIn}.TryEnd"/>. A reply that arrives after the loss or the cancellation won is
/// counted as late and never reaches the pool. Execution is at-least-once: a lost call may have run.</para>
/// <para><b>Unresolved inputs.</b> An input whose dispatch was lost, or cancelled by a stop, may have run. It is kept in
/// <c>_unresolved</c> until an equal input is dispatched again (the pool's retry); whatever is left there when the
/// pool stops is the candidates for <see cref="ClusterStopResult{TIn}.OutcomeUnknown"/>.</para>
/// <para><b>Locks.</b> <c>_lock</c> guards <c>_unresolved</c> and <c>_nodes</c>; under it run only list and dictionary
/// operations, never user code or Orleans calls. Counts are interlocked. Entries in flight are held by the executor
/// that sent them, not here, so memory does not grow with the number of calls.</para>
/// </remarks>
internal sealed class CallLedger<TIn>
{
    private readonly Lock _lock = new();
    private readonly List<TIn> _unresolved = [];
    private readonly Dictionary<string, NodeCounters> _nodes = new(StringComparer.Ordinal);
    private readonly EqualityComparer<TIn> _comparer = EqualityComparer<TIn>.Default;
    private long _nextCallId;
    private long _dispatched;
    private long _completed;
    private long _failed;
    private long _lost;
    private long _redispatched;
    private long _cancelledByStop;
    private long _lateReplies;
    private long _recoveredReplies;
    private long _resent;
    private int _unresolvedCount;

    /// <summary>Gets the counters of a silo, creating them on first use.</summary>
    public NodeCounters Node(string node, string? siloName = null)
    {
        lock (_lock)
        {
            if (!_nodes.TryGetValue(node, out NodeCounters? counters))
            {
                _nodes[node] = counters = new NodeCounters(node);
            }

            counters.SiloName ??= siloName;
            return counters;
        }
    }

    /// <summary>Records a dispatch of <paramref name="input"/> to executor <paramref name="slot"/> on <paramref name="node"/>.</summary>
    public CallEntry<TIn> Dispatch(TIn input, int slot, NodeCounters node)
    {
        if (Volatile.Read(ref _unresolvedCount) > 0)
        {
            lock (_lock)
            {
                for (int i = 0; i < _unresolved.Count; i++)
                {
                    if (_comparer.Equals(_unresolved[i], input))
                    {
                        _unresolved.RemoveAt(i);
                        _unresolvedCount = _unresolved.Count;
                        _redispatched++;
                        break;
                    }
                }
            }
        }

        Interlocked.Increment(ref _dispatched);
        Interlocked.Increment(ref node.Dispatched);
        return new CallEntry<TIn>(Interlocked.Increment(ref _nextCallId), input, slot, node);
    }

    /// <summary>Ends a call with its result.</summary>
    /// <returns><see langword="false"/> if it had already ended (lost or cancelled): the reply is late, and counted so.</returns>
    public bool TryComplete(CallEntry<TIn> entry)
    {
        if (!entry.TryEnd(CallEntry<TIn>.Completed))
        {
            CountLateReply(entry);
            return false;
        }

        Interlocked.Increment(ref _completed);
        Interlocked.Increment(ref entry.Node.Completed);
        return true;
    }

    /// <summary>Ends a call whose executor threw (or whose reply could not travel).</summary>
    /// <returns><see langword="false"/> if it had already ended: the reply is late, and counted so.</returns>
    public bool TryFail(CallEntry<TIn> entry)
    {
        if (!entry.TryEnd(CallEntry<TIn>.Failed))
        {
            CountLateReply(entry);
            return false;
        }

        Interlocked.Increment(ref _failed);
        Interlocked.Increment(ref entry.Node.Failed);
        return true;
    }

    /// <summary>Ends a call whose silo was lost; its input may have run.</summary>
    /// <returns><see langword="false"/> if it had already ended.</returns>
    public bool TryLose(CallEntry<TIn> entry)
    {
        if (!entry.TryEnd(CallEntry<TIn>.Lost))
        {
            return false;
        }

        Interlocked.Increment(ref _lost);
        Interlocked.Increment(ref entry.Node.Lost);
        AddUnresolved(entry.Input);
        return true;
    }

    /// <summary>Ends a call that the pool's stop cancelled while it ran; its input may have run.</summary>
    /// <returns><see langword="false"/> if it had already ended.</returns>
    public bool TryCancelByStop(CallEntry<TIn> entry)
    {
        if (!entry.TryEnd(CallEntry<TIn>.CancelledByStop))
        {
            return false;
        }

        Interlocked.Increment(ref _cancelledByStop);
        AddUnresolved(entry.Input);
        return true;
    }

    /// <summary>Counts a reply that came for a call already lost or cancelled: dropped.</summary>
    public void CountLateReply(CallEntry<TIn> entry)
    {
        Debug.Assert(entry.State is CallEntry<TIn>.Lost or CallEntry<TIn>.CancelledByStop, "Only a lost or cancelled call can have a late reply.");
        Interlocked.Increment(ref _lateReplies);
        Interlocked.Increment(ref entry.Node.LateReplies);
    }

    /// <summary>Counts a reply taken from the grain by a probe after the call's own reply was lost on the way.</summary>
    public void CountRecoveredReply() => Interlocked.Increment(ref _recoveredReplies);

    /// <summary>Counts a batch sent again after a probe found that it never arrived (and fenced it off).</summary>
    public void CountResent() => Interlocked.Increment(ref _resent);

    /// <summary>Splits what the pool's stop aborted into inputs never sent and inputs whose outcome is unknown.</summary>
    /// <param name="aborted">What the pool's <c>Stop</c> returned, in call order.</param>
    public ClusterStopResult<TIn> Split(IReadOnlyList<TIn> aborted)
    {
        List<TIn> candidates;
        lock (_lock)
        {
            candidates = [.. _unresolved];
        }

        var neverStarted = new List<TIn>();
        var unknown = new List<TIn>();
        foreach (TIn input in aborted)
        {
            int match = candidates.FindIndex(candidate => _comparer.Equals(candidate, input));
            if (match >= 0)
            {
                candidates.RemoveAt(match);
                unknown.Add(input);
            }
            else
            {
                neverStarted.Add(input);
            }
        }

        return new ClusterStopResult<TIn>(neverStarted, unknown);
    }

    /// <summary>Takes a snapshot of the counts.</summary>
    /// <param name="describe">Adds, for each silo, whether it is active and how many executors it has now.</param>
    public ClusterStatistics Snapshot(Func<string, (bool IsActive, int Executors)> describe)
    {
        NodeCounters[] nodes;
        lock (_lock)
        {
            nodes = [.. _nodes.Values];
        }

        long dispatched = Interlocked.Read(ref _dispatched);
        long completed = Interlocked.Read(ref _completed);
        long failed = Interlocked.Read(ref _failed);
        long lost = Interlocked.Read(ref _lost);
        long cancelled = Interlocked.Read(ref _cancelledByStop);
        var perNode = new List<NodeStatistics>(nodes.Length);
        foreach (NodeCounters node in nodes.OrderBy(static n => n.Node, StringComparer.Ordinal))
        {
            (bool active, int executors) = describe(node.Node);
            perNode.Add(new NodeStatistics(
                node.Node,
                node.SiloName,
                active,
                executors,
                Interlocked.Read(ref node.Dispatched),
                Interlocked.Read(ref node.Completed),
                Interlocked.Read(ref node.Failed),
                Interlocked.Read(ref node.Lost),
                Interlocked.Read(ref node.LateReplies)));
        }

        long redispatched;
        lock (_lock)
        {
            redispatched = _redispatched;
        }

        return new ClusterStatistics(
            dispatched,
            completed,
            failed,
            lost,
            redispatched,
            cancelled,
            Interlocked.Read(ref _lateReplies),
            Interlocked.Read(ref _recoveredReplies),
            Interlocked.Read(ref _resent),
            Math.Max(0, dispatched - completed - failed - lost - cancelled),
            perNode);
    }

    private void AddUnresolved(TIn input)
    {
        lock (_lock)
        {
            _unresolved.Add(input);
            _unresolvedCount = _unresolved.Count;
        }
    }
}
