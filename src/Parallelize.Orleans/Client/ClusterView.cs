using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Parallelize.Orleans.Client;

/// <summary>
/// The client's view of the cluster for one executor set: which silos are active, which executor runs where, where
/// the next executor goes, and which executor should move to a silo that joined.
/// </summary>
/// <remarks>
/// <para><b>Source.</b> Every <see cref="OrleansExecutorOptions.MembershipRefreshInterval"/> it asks the cluster for
/// its silos and their status (<see cref="IManagementGrain.GetHosts(bool)"/>, a stateless worker on the gateway silo, which
/// reads the membership table). A silo is active while its status is; it is lost once the membership marks it dead
/// (or stopping), not when one answer merely leaves it out. Orleans itself fails a call whose target silo died only after the response timeout (30 s by
/// default) when the call went through another gateway; the membership declares the silo dead within seconds (with
/// its probe settings), and then every call in flight on it is abandoned at once through <see cref="LostToken"/>.</para>
/// <para><b>Placement.</b> A new executor goes to the active silo, not suspected lately, with the fewest of this set's
/// executors; the client passes it as Orleans' placement hint.</para>
/// <para><b>Locks.</b> <c>_lock</c> guards <c>_nodes</c>, <c>_slots</c> and <c>_moves</c>. Under it run only dictionary
/// work; token cancellations and log messages happen after it is released. Orleans is called only by the refresh loop,
/// which runs alone.</para>
/// </remarks>
internal sealed class ClusterView : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private readonly Lock _lock = new();
    private readonly IClusterClient _client;
    private readonly OrleansExecutorOptions _options;
    private readonly string _poolName;
    private readonly ILogger? _logger;
    private readonly Dictionary<SiloAddress, Node> _nodes = [];
    private readonly Dictionary<int, SiloAddress> _slots = [];
    private readonly Dictionary<int, SiloAddress> _moves = [];
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _disposed = new();
    private Task? _loop;
    private Exception? _lastError;

    public ClusterView(IClusterClient client, OrleansExecutorOptions options, string poolName)
    {
        _client = client;
        _options = options;
        _poolName = poolName;
        _logger = options.Logger;
    }

    /// <summary>Starts the refresh loop, if not started, and waits for the first list of active silos.</summary>
    /// <exception cref="TimeoutException">The cluster did not answer within 30 seconds.</exception>
    public async Task EnsureReadyAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _loop ??= Task.Run(RefreshLoopAsync, CancellationToken.None);
        }

        try
        {
            await _ready.Task.WaitAsync(ReadyTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException("The cluster did not list its silos within 30 seconds.", _lastError ?? ex);
        }
    }

    /// <summary>Reads the active silos now, outside the loop's rhythm.</summary>
    public Task RefreshNowAsync() => RefreshAsync();

    /// <summary>Chooses the silo for a new executor of <paramref name="slot"/> and counts it there.</summary>
    /// <exception cref="InvalidOperationException">No silo is active.</exception>
    public SiloAddress Reserve(int slot)
    {
        lock (_lock)
        {
            long now = Stopwatch.GetTimestamp();
            Node[] active = [.. _nodes.Values.Where(static n => n.IsActive).OrderBy(static n => n.Address.ToString(), StringComparer.Ordinal)];
            Node[] trusted = [.. active.Where(n => n.SuspectUntil <= now)];
            Node[] candidates = trusted.Length > 0 ? trusted : active;
            if (candidates.Length == 0)
            {
                throw new InvalidOperationException("No silo of the cluster is active.");
            }

            Dictionary<SiloAddress, int> load = LoadNeedsLock();
            Node best = candidates[0];
            int bestLoad = int.MaxValue;
            for (int k = 0; k < candidates.Length; k++)
            {
                // Start the scan at a different silo for each slot, so that ties spread rather than pile on the first.
                Node node = candidates[(slot + k) % candidates.Length];
                int count = load.GetValueOrDefault(node.Address);
                if (count < bestLoad)
                {
                    best = node;
                    bestLoad = count;
                }
            }

            _slots[slot] = best.Address;
            _moves.Remove(slot);
            return best.Address;
        }
    }

    /// <summary>Records that executor <paramref name="slot"/> runs on <paramref name="silo"/> (where Orleans placed it).</summary>
    public void Place(int slot, SiloAddress silo)
    {
        lock (_lock)
        {
            if (!_nodes.ContainsKey(silo))
            {
                _nodes[silo] = new Node(silo);
            }

            _slots[slot] = silo;
        }
    }

    /// <summary>Forgets where executor <paramref name="slot"/> runs (it was stopped or failed to start).</summary>
    public void Release(int slot)
    {
        lock (_lock)
        {
            _slots.Remove(slot);
            _moves.Remove(slot);
        }
    }

    /// <summary>Gets a token cancelled when <paramref name="silo"/> stops being active (already cancelled if it is not).</summary>
    public CancellationToken LostToken(SiloAddress silo)
    {
        lock (_lock)
        {
            return _nodes.TryGetValue(silo, out Node? node) && node.IsActive ? node.Lost.Token : new CancellationToken(canceled: true);
        }
    }

    /// <summary>
    /// Avoids, for new executors, every active silo that <paramref name="exception"/> names: the one a call could not
    /// reach. Not simply the executor's own silo: while a dead silo is not yet out of the membership, calls to grains
    /// on live silos fail too when their directory entry is held by the dead one, and blaming their silo would send new
    /// executors to the dead one.
    /// </summary>
    public void SuspectNamedIn(Exception exception)
    {
        string text = exception.ToString();
        lock (_lock)
        {
            long until = Stopwatch.GetTimestamp() + (long)(_options.SuspectDuration.TotalSeconds * Stopwatch.Frequency);
            foreach (Node node in _nodes.Values)
            {
                if (node.IsActive && text.Contains(node.Address.ToString(), StringComparison.Ordinal))
                {
                    node.SuspectUntil = until;
                }
            }
        }
    }

    /// <summary>Takes the move planned for executor <paramref name="slot"/>, if any.</summary>
    public bool TryTakeMove(int slot, out SiloAddress target)
    {
        lock (_lock)
        {
            if (_moves.Remove(slot, out SiloAddress? planned) && _nodes.TryGetValue(planned, out Node? node) && node.IsActive)
            {
                target = planned;
                return true;
            }
        }

        target = null!;
        return false;
    }

    /// <summary>Says whether a silo is active and how many executors it has.</summary>
    public (bool IsActive, int Executors) Describe(string silo)
    {
        lock (_lock)
        {
            Node? node = _nodes.Values.FirstOrDefault(n => n.Address.ToString() == silo);
            int executors = _slots.Values.Count(s => s.ToString() == silo);
            return (node?.IsActive ?? false, executors);
        }
    }

    /// <summary>Gets the active silos, in address order.</summary>
    public IReadOnlyList<SiloAddress> ActiveSilos()
    {
        lock (_lock)
        {
            return [.. _nodes.Values.Where(static n => n.IsActive).Select(static n => n.Address).OrderBy(static a => a.ToString(), StringComparer.Ordinal)];
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        await _disposed.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            await loop.ConfigureAwait(false);
        }

        _disposed.Dispose();
    }

    private async Task RefreshLoopAsync()
    {
        while (!_disposed.IsCancellationRequested)
        {
            await RefreshAsync().ConfigureAwait(false);
            try
            {
                await Task.Delay(_options.MembershipRefreshInterval, _disposed.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task RefreshAsync()
    {
        Dictionary<SiloAddress, SiloStatus> hosts;
        try
        {
            IManagementGrain management = _client.GetGrain<IManagementGrain>(0);
            TimeSpan timeout = TimeSpan.FromTicks(Math.Max(_options.MembershipRefreshInterval.Ticks * 3, TimeSpan.FromSeconds(2).Ticks));
            hosts = await management.GetHosts(onlyActive: false).WaitAsync(timeout, _disposed.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
            return;
        }
#pragma warning disable CA1031 // A failed read is retried at the next interval; the last error is kept for EnsureReadyAsync.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _lastError = ex;
            if (_logger is not null)
            {
                ClusterLog.MembershipRefreshFailed(_logger, ex, _poolName);
            }

            return;
        }

        List<SiloAddress> joined = [];
        List<Node> left = [];
        lock (_lock)
        {
            foreach ((SiloAddress silo, SiloStatus status) in hosts)
            {
                if (status != SiloStatus.Active)
                {
                    continue;
                }

                if (!_nodes.TryGetValue(silo, out Node? node))
                {
                    _nodes[silo] = new Node(silo);
                    joined.Add(silo);
                }
                else if (!node.IsActive)
                {
                    // Back in the list (a stale answer had left it out, or it was placed before it was listed): calls
                    // made from now on watch a fresh token.
                    node.IsActive = true;
                    node.Lost = new CancellationTokenSource();
                    joined.Add(silo);
                }
            }

            foreach (Node node in _nodes.Values)
            {
                // Lost only when the membership says so (or has forgotten it): a silo merely missing from one silo's
                // view of the table is not dead, and giving up its calls would run them twice for nothing.
                if (node.IsActive && (!hosts.TryGetValue(node.Address, out SiloStatus status) || status is SiloStatus.Dead or SiloStatus.ShuttingDown or SiloStatus.Stopping))
                {
                    node.IsActive = false;
                    left.Add(node);
                }
            }

            if (_options.Rebalance && _ready.Task.IsCompleted && (joined.Count > 0 || left.Count > 0 || _moves.Count == 0))
            {
                // Also when nothing changed: a move that failed, or a silo that came back, is planned again.
                PlanMovesNeedsLock();
            }
        }

        foreach (Node node in left)
        {
            node.Lost.Cancel();
            if (_logger is not null)
            {
                ClusterLog.NodeLeft(_logger, _poolName, node.Address);
            }
        }

        if (_logger is not null && _ready.Task.IsCompleted)
        {
            foreach (SiloAddress silo in joined)
            {
                ClusterLog.NodeJoined(_logger, _poolName, silo);
            }
        }

        _ready.TrySetResult();
    }

    /// <summary>
    /// While one active silo has two or more executors more than another, plans to move one executor from the
    /// busiest to the idlest; the executor moves between two leases of calls (see <see cref="TryTakeMove"/>).
    /// </summary>
    private void PlanMovesNeedsLock()
    {
        _moves.Clear();
        Dictionary<SiloAddress, int> load = LoadNeedsLock();
        foreach (Node node in _nodes.Values.Where(static n => n.IsActive))
        {
            load.TryAdd(node.Address, 0);
        }

        foreach (SiloAddress inactive in load.Keys.Where(a => !_nodes[a].IsActive).ToList())
        {
            load.Remove(inactive);
        }

        while (load.Count > 1)
        {
            (SiloAddress busiest, int most) = load.MaxBy(static p => p.Value);
            (SiloAddress idlest, int least) = load.MinBy(static p => p.Value);
            if (most - least < 2)
            {
                break;
            }

            int slot = _slots.FirstOrDefault(p => p.Value.Equals(busiest) && !_moves.ContainsKey(p.Key), new(-1, busiest)).Key;
            if (slot < 0)
            {
                break;
            }

            _moves[slot] = idlest;
            load[busiest] = most - 1;
            load[idlest] = least + 1;
        }
    }

    private Dictionary<SiloAddress, int> LoadNeedsLock()
    {
        var load = new Dictionary<SiloAddress, int>();
        foreach (SiloAddress silo in _slots.Values)
        {
            load[silo] = load.GetValueOrDefault(silo) + 1;
        }

        return load;
    }

    private sealed class Node(SiloAddress address)
    {
        public SiloAddress Address { get; } = address;

        public bool IsActive { get; set; } = true;

        public long SuspectUntil { get; set; }

        public CancellationTokenSource Lost { get; set; } = new();
    }
}
