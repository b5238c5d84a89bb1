using System.Collections;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Runtime.Placement;
using Parallelize.Orleans.Client;
using Parallelize.Orleans.Grains;

namespace Parallelize.Orleans;

/// <summary>
/// The executors of a pool, running as grains on an Orleans cluster: pass them to
/// <see cref="Parallelize{TIn, TOut}"/>, which creates each one on a silo (all at once) and re-creates it on a live silo
/// after a fault or the loss of its silo. Made by <see cref="OrleansExecutors"/>.
/// </summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <typeparam name="TOut">The type of the results.</typeparam>
/// <remarks>
/// <para><b>How calls travel.</b> Each executor is an executor slot of the pool: the pool hands it leases of calls (one
/// call when calls are slow, more when they are tiny, at most <see cref="OrleansExecutorOptions.MaxBatchSize"/>), and
/// the slot sends a lease's calls to its grain in one message and reports each call's outcome back to the pool.</para>
/// <para><b>Guarantees.</b> The pool accounts for every input exactly once (Results, Failures, or what <c>Stop</c>
/// returns); execution on the cluster is at-least-once: an input in flight on a silo that dies is run again elsewhere,
/// without using one of its attempts, and may have run on the dead silo too. The executor is re-created on a live silo
/// (one restart). A reply that comes after its call was given up is dropped and counted
/// (<see cref="ClusterStatistics.LateReplies"/>, and the pool's <see cref="ParallelizeProgress.LateOutcomes"/>).</para>
/// <para><b>Stop.</b> Stop the pool with <see cref="Stop(Parallelize{TIn, TOut}, TimeSpan?)"/> (or stop it yourself and
/// call <see cref="GetStopReport"/>): calls still running when the finish timeout ends are cancelled on their silos, and
/// the aborted inputs come back split into those that never started and those whose outcome is unknown.</para>
/// <para><b>Where they run.</b> <see cref="Placements"/> and <see cref="GetStatistics"/> say which silo runs each
/// executor and what each silo did; <see cref="OrleansExecutorOptions.Logger"/> logs placements, losses and moves, and
/// the <c>Parallelize.Orleans</c> meter counts calls per silo (<see cref="ClusterMetrics"/>).</para>
/// <para>Dispose it after the pool: that stops reading the cluster's membership. This type is thread-safe.</para>
/// </remarks>
public sealed class ClusterExecutors<TIn, TOut> : IReadOnlyList<Executor<TIn, TOut>>, IAsyncDisposable, IDisposable
{
    private readonly Executor<TIn, TOut>[] _executors;
    private readonly long[] _generations;
    private readonly long[] _calls;
    private readonly ExecutorPlacement[] _placements;
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private long _batchIds;

    internal ClusterExecutors(IClusterClient client, string executorName, int count, OrleansExecutorOptions options)
    {
        Client = client;
        ExecutorName = executorName;
        Options = options;
        PoolName = options.Name ?? "pool-" + Guid.NewGuid().ToString("N")[..12];
        View = new ClusterView(client, options, PoolName);
        _generations = new long[count];
        _calls = new long[count];
        _placements = new ExecutorPlacement[count];
        _executors = new Executor<TIn, TOut>[count];
        for (int i = 0; i < count; i++)
        {
            int slot = i;
            _placements[i] = new ExecutorPlacement(slot, 0, null, null, 0, ExecutorState.Starting, 0);
            // The pool creates each slot inside itself, all at once, and again after each restart. Its own index for the
            // executor is not used: the executors may be given to the pool among others, in any order.
            _executors[i] = Executor<TIn, TOut>.InSlot((_, cancellationToken) => CreateSlotAsync(slot, cancellationToken));
        }

        _ownsMeter = options.MeterFactory is null;
        _meter = options.MeterFactory?.Create(new MeterOptions(ClusterMetrics.MeterName)) ?? new Meter(ClusterMetrics.MeterName);
        CreateInstruments();
    }

    /// <summary>Gets the name of this executor set: its grains' keys start with it, and its logs and metrics carry it.</summary>
    public string PoolName { get; }

    /// <summary>Gets the name of the executor type on the silos.</summary>
    public string ExecutorName { get; }

    /// <summary>Gets the number of executors.</summary>
    public int Count => _executors.Length;

    /// <summary>Gets where each executor runs now, as last known.</summary>
    public IReadOnlyList<ExecutorPlacement> Placements
    {
        get
        {
            var placements = new ExecutorPlacement[_placements.Length];
            for (int i = 0; i < placements.Length; i++)
            {
                placements[i] = Volatile.Read(ref _placements[i]) with { Calls = Interlocked.Read(ref _calls[i]) };
            }

            return placements;
        }
    }

    internal IClusterClient Client { get; }

    internal OrleansExecutorOptions Options { get; }

    internal ClusterView View { get; }

    internal ClusterCounters Counters { get; } = new();

    /// <summary>Gets the executor at <paramref name="index"/>, to pass to the pool.</summary>
    /// <param name="index">The executor's index.</param>
    public Executor<TIn, TOut> this[int index] => _executors[index];

    /// <summary>Gets what the executors did on the cluster: calls sent, grain messages, completed, failed, lost, re-dispatched, cancelled by a stop, late replies; in all and per silo.</summary>
    /// <returns>A snapshot.</returns>
    public ClusterStatistics GetStatistics() => Counters.Snapshot(View.Describe);

    /// <summary>
    /// Splits the inputs <paramref name="pool"/> aborted into those that never started (no silo ran their last attempt)
    /// and those whose outcome is unknown (running on a silo when the run stopped): <see cref="Parallelize{TIn, TOut}.Aborted"/>
    /// minus <see cref="Parallelize{TIn, TOut}.AbortedWhileRunning"/>, and the latter.
    /// </summary>
    /// <param name="pool">The pool, stopped (by <c>Stop</c>, <c>StopAsync</c>, a signal or <c>Dispose</c>); before it stops, both parts are empty.</param>
    /// <returns>The aborted inputs, split, each part in call order.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pool"/> is <see langword="null"/>.</exception>
    public ClusterStopReport<TIn> GetStopReport(Parallelize<TIn, TOut> pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return ClusterStopReport<TIn>.Of(pool);
    }

    /// <summary>
    /// Stops <paramref name="pool"/> across the cluster: it refuses new calls and aborts queued ones, lets calls in
    /// flight finish until <paramref name="finishTimeout"/>, then cancels them on their silos; returns the aborted
    /// inputs split into never started and outcome unknown.
    /// </summary>
    /// <param name="pool">The pool these executors were given to.</param>
    /// <param name="finishTimeout">How long calls in flight may take to finish, as for <see cref="Parallelize{TIn, TOut}.Stop(TimeSpan?)"/>.</param>
    /// <returns>The aborted inputs, split (empty if the pool had stopped already: call <see cref="GetStopReport"/> for that stop's).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pool"/> is <see langword="null"/>.</exception>
    public ClusterStopReport<TIn> Stop(Parallelize<TIn, TOut> pool, TimeSpan? finishTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return pool.Stop(finishTimeout).Count == 0 ? new ClusterStopReport<TIn>([], []) : ClusterStopReport<TIn>.Of(pool);
    }

    /// <summary>Stops <paramref name="pool"/> across the cluster like <see cref="Stop"/>, without blocking a thread.</summary>
    /// <param name="pool">The pool these executors were given to.</param>
    /// <param name="finishTimeout">How long calls in flight may take to finish.</param>
    /// <param name="cancellationToken">Cuts the finish period short.</param>
    /// <returns>The aborted inputs, split (empty if the pool had stopped already).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pool"/> is <see langword="null"/>.</exception>
    public async Task<ClusterStopReport<TIn>> StopAsync(Parallelize<TIn, TOut> pool, TimeSpan? finishTimeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pool);
        IReadOnlyList<TIn> aborted = await pool.StopAsync(finishTimeout, cancellationToken).ConfigureAwait(false);
        return aborted.Count == 0 ? new ClusterStopReport<TIn>([], []) : ClusterStopReport<TIn>.Of(pool);
    }

    /// <inheritdoc />
    public IEnumerator<Executor<TIn, TOut>> GetEnumerator() => ((IEnumerable<Executor<TIn, TOut>>)_executors).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Stops reading the cluster's membership. Dispose the pool first: it stops the grains.</summary>
    /// <returns>A task that completes when the membership loop has ended.</returns>
    public async ValueTask DisposeAsync()
    {
        await View.DisposeAsync().ConfigureAwait(false);
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    /// <summary>Stops reading the cluster's membership, like <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Creates a grain for executor <paramref name="slot"/> on <paramref name="target"/> and waits until the user's executor exists there.</summary>
    internal async Task<(IExecutorGrain<TIn, TOut> Grain, ExecutorHost Host, long Generation)> StartGrainAsync(int slot, SiloAddress target, CancellationToken cancellationToken)
    {
        long generation = Interlocked.Increment(ref _generations[slot]);
        var key = new ExecutorKey(PoolName, slot, generation, ExecutorName);
        IExecutorGrain<TIn, TOut> grain = Client.GetGrain<IExecutorGrain<TIn, TOut>>(key.ToString());
        Place(slot, new ExecutorPlacement(slot, generation, target.ToString(), null, 0, ExecutorState.Starting, 0));
        ExecutorHost host;
        try
        {
            host = await StartWithHintAsync(grain, target, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The pool stopped while the executor was being created; it may exist on its silo all the same.
            StopQuietly(grain);
            throw;
        }
        catch (Exception ex)
        {
            StopQuietly(grain);
            if (GrainSlot<TIn, TOut>.IsLoss(ex))
            {
                View.SuspectNamedIn(ex);
            }

            if (Options.Logger is { } logger)
            {
                ClusterLog.ExecutorStartFailed(logger, ex, PoolName, slot, generation, target);
            }

            throw;
        }

        View.Place(slot, host.Silo);
        Counters.Node(host.Silo.ToString(), host.SiloName);
        Placed(slot, generation, host, ExecutorState.Running);
        if (Options.Logger is { } log)
        {
            ClusterLog.ExecutorPlaced(log, PoolName, slot, generation, host.Silo, host.SiloName, host.ProcessId);
        }

        return (grain, host, generation);
    }

    /// <summary>Records where executor <paramref name="slot"/> runs and in what state; news of an older generation (a slot lost or disposed after its successor was created) never replaces a newer one's.</summary>
    internal void Placed(int slot, long generation, ExecutorHost host, ExecutorState state) =>
        Place(slot, new ExecutorPlacement(slot, generation, host.Silo.ToString(), host.SiloName, host.ProcessId, state, 0));

    private void Place(int slot, ExecutorPlacement placement)
    {
        ExecutorPlacement current = Volatile.Read(ref _placements[slot]);
        while (placement.Generation >= current.Generation)
        {
            ExecutorPlacement seen = Interlocked.CompareExchange(ref _placements[slot], placement, current);
            if (ReferenceEquals(seen, current))
            {
                return;
            }

            current = seen;
        }
    }

    internal void CountCalls(int slot, int calls) => Interlocked.Add(ref _calls[slot], calls);

    /// <summary>Gets a batch id: increasing across every grain of this set, so increasing per grain.</summary>
    internal long NextBatchId() => Interlocked.Increment(ref _batchIds);

    internal void LogLost(int slot, string node, int calls, string reason, Exception? cause)
    {
        if (Options.Logger is { } logger)
        {
            ClusterLog.ExecutorLost(logger, cause, PoolName, slot, node, calls, reason);
        }
    }

    internal void LogLateReply(int slot, string node, long callId)
    {
        if (Options.Logger is { } logger)
        {
            ClusterLog.LateReplyDropped(logger, PoolName, node, slot, callId);
        }
    }

    internal void LogMoved(int slot, string from, string to, long generation)
    {
        if (Options.Logger is { } logger)
        {
            ClusterLog.ExecutorMoved(logger, PoolName, slot, from, to, generation);
        }
    }

    internal void LogMoveFailed(int slot, string from, string to, Exception exception)
    {
        if (Options.Logger is { } logger)
        {
            ClusterLog.ExecutorMoveFailed(logger, exception, PoolName, slot, from, to);
        }
    }

    internal void LogStopFailed(int slot, string node, Exception exception)
    {
        if (Options.Logger is { } logger)
        {
            ClusterLog.ExecutorStopFailed(logger, exception, PoolName, slot, node);
        }
    }

    /// <summary>Tells a grain whose start failed or was given up to stop, without waiting: it may hold an executor all the same.</summary>
    private static void StopQuietly(IExecutorGrain<TIn, TOut> grain)
    {
        try
        {
            grain.StopAsync().Ignore();
        }
#pragma warning disable CA1031 // Best effort: an idle grain is collected in the end anyway, and disposes its executor then.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private static async Task<ExecutorHost> StartWithHintAsync(IExecutorGrain<TIn, TOut> grain, SiloAddress target, CancellationToken cancellationToken)
    {
        // The hint travels with this call only: request context is async-local, and this method's changes to it end
        // when it returns. A grain activated by this call is placed on `target` if that silo is still compatible.
        RequestContext.Set(IPlacementDirector.PlacementHintKey, target);
        try
        {
            return await grain.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }
    }

    /// <summary>Creates the slot of executor <paramref name="slot"/>: runs inside the pool, all executors at once, and again after each restart (a new grain, placed afresh).</summary>
    private async ValueTask<Parallelize.Core.IExecutorSlot<TIn, TOut>> CreateSlotAsync(int slot, CancellationToken cancellationToken)
    {
        await View.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        SiloAddress target = View.Reserve(slot);
        try
        {
            (IExecutorGrain<TIn, TOut> grain, ExecutorHost host, long generation) = await StartGrainAsync(slot, target, cancellationToken).ConfigureAwait(false);
            return new GrainSlot<TIn, TOut>(this, slot, generation, grain, host);
        }
        catch
        {
            View.Release(slot);
            throw;
        }
    }

    private void CreateInstruments()
    {
        _meter.CreateObservableCounter(ClusterMetrics.Dispatched, () => PerNode(static n => n.Dispatched), "{call}", "Calls sent to a silo.");
        _meter.CreateObservableCounter(ClusterMetrics.Batches, () => PerNode(static n => n.Batches), "{message}", "Grain messages that carried calls to a silo.");
        _meter.CreateObservableCounter(ClusterMetrics.Succeeded, () => PerNode(static n => n.Succeeded), "{call}", "Calls a silo returned a result for.");
        _meter.CreateObservableCounter(ClusterMetrics.Failed, () => PerNode(static n => n.Failed), "{call}", "Calls whose executor threw on a silo.");
        _meter.CreateObservableCounter(ClusterMetrics.Lost, () => PerNode(static n => n.Lost), "{call}", "Calls in flight on a silo when it was lost (queued again without using an attempt).");
        _meter.CreateObservableCounter(ClusterMetrics.LateReplies, () => PerNode(static n => n.LateReplies), "{reply}", "Replies dropped because their call was already lost or cancelled.");
        _meter.CreateObservableUpDownCounter(ClusterMetrics.Executors, () => PerNode(static n => n.Executors), "{executor}", "Executors placed on a silo.");
    }

    private IEnumerable<Measurement<long>> PerNode(Func<NodeStatistics, long> read)
    {
        foreach (NodeStatistics node in GetStatistics().Nodes)
        {
            yield return new Measurement<long>(read(node), new KeyValuePair<string, object?>(ClusterMetrics.PoolNameTag, PoolName), new KeyValuePair<string, object?>(ClusterMetrics.NodeTag, node.Node));
        }
    }
}
