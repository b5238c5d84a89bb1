namespace Parallelize.Orleans.Client;

/// <summary>
/// What the slots of one executor set did on the cluster, in all and per silo (see <see cref="ClusterStatistics"/>).
/// Only counts: which call ends where is the pool's lease's business, not this.
/// </summary>
/// <remarks>
/// <b>Locks.</b> <c>_lock</c> guards <c>_nodes</c> and <c>_lostCalls</c> (the ids of calls lost with their silo and not
/// yet sent again, to count re-dispatches); under it run only dictionary and set operations. The other counts are
/// interlocked.
/// </remarks>
internal sealed class ClusterCounters
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, NodeCounters> _nodes = new(StringComparer.Ordinal);
    private readonly HashSet<long> _lostCalls = [];
    private long _dispatched;
    private long _batches;
    private long _completed;
    private long _failed;
    private long _lost;
    private long _redispatched;
    private long _cancelledByStop;
    private long _lateReplies;
    private long _recoveredReplies;
    private long _resent;
    private int _lostPending;

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

    /// <summary>Counts one grain message carrying <paramref name="callIds"/>; a call lost earlier and sent again counts as re-dispatched.</summary>
    public void Sent(NodeCounters node, ReadOnlySpan<long> callIds)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Increment(ref node.Batches);
        Interlocked.Add(ref _dispatched, callIds.Length);
        Interlocked.Add(ref node.Dispatched, callIds.Length);
        if (Volatile.Read(ref _lostPending) == 0)
        {
            return;
        }

        lock (_lock)
        {
            foreach (long id in callIds)
            {
                if (_lostCalls.Remove(id))
                {
                    _redispatched++;
                }
            }

            _lostPending = _lostCalls.Count;
        }
    }

    public void Succeeded(NodeCounters node)
    {
        Interlocked.Increment(ref _completed);
        Interlocked.Increment(ref node.Succeeded);
    }

    public void Failed(NodeCounters node)
    {
        Interlocked.Increment(ref _failed);
        Interlocked.Increment(ref node.Failed);
    }

    /// <summary>Counts calls in flight on a lost executor; their ids are watched for being sent again.</summary>
    public void Lost(NodeCounters node, ReadOnlySpan<long> callIds)
    {
        if (callIds.IsEmpty)
        {
            return;
        }

        Interlocked.Add(ref _lost, callIds.Length);
        Interlocked.Add(ref node.Lost, callIds.Length);
        lock (_lock)
        {
            foreach (long id in callIds)
            {
                _lostCalls.Add(id);
            }

            _lostPending = _lostCalls.Count;
        }
    }

    /// <summary>A call counted as lost was reported to the pool after all (its reply raced the loss): it is counted where its outcome put it instead.</summary>
    public void NotLostAfterAll(NodeCounters node, long callId)
    {
        Interlocked.Decrement(ref _lost);
        Interlocked.Decrement(ref node.Lost);
        lock (_lock)
        {
            _lostCalls.Remove(callId);
            _lostPending = _lostCalls.Count;
        }
    }

    public void CancelledByStop(int count) => Interlocked.Add(ref _cancelledByStop, count);

    public void LateReply(NodeCounters node)
    {
        Interlocked.Increment(ref _lateReplies);
        Interlocked.Increment(ref node.LateReplies);
    }

    /// <summary>Counts a reply taken from the grain by a probe after the message's own reply was lost on the way.</summary>
    public void RecoveredReply() => Interlocked.Increment(ref _recoveredReplies);

    /// <summary>Counts a message sent again after a probe found that it never arrived (and fenced it off).</summary>
    public void Resent() => Interlocked.Increment(ref _resent);

    /// <summary>Takes a snapshot of the counts.</summary>
    /// <param name="describe">Says, for each silo, whether it is active and how many executors it has now.</param>
    public ClusterStatistics Snapshot(Func<string, (bool IsActive, int Executors)> describe)
    {
        NodeCounters[] nodes;
        long redispatched;
        lock (_lock)
        {
            nodes = [.. _nodes.Values];
            redispatched = _redispatched;
        }

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
                Interlocked.Read(ref node.Batches),
                Interlocked.Read(ref node.Succeeded),
                Interlocked.Read(ref node.Failed),
                Interlocked.Read(ref node.Lost),
                Interlocked.Read(ref node.LateReplies)));
        }

        return new ClusterStatistics(
            Interlocked.Read(ref _dispatched),
            Interlocked.Read(ref _batches),
            Interlocked.Read(ref _completed),
            Interlocked.Read(ref _failed),
            Interlocked.Read(ref _lost),
            redispatched,
            Interlocked.Read(ref _cancelledByStop),
            Interlocked.Read(ref _lateReplies),
            Interlocked.Read(ref _recoveredReplies),
            Interlocked.Read(ref _resent),
            perNode);
    }
}
