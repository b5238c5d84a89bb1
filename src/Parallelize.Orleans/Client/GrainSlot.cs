using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using Parallelize.Core;
using Parallelize.Orleans.Grains;

namespace Parallelize.Orleans.Client;

/// <summary>
/// One executor of a pool as its runner sees it: an executor slot (see <see cref="IExecutorSlot{TIn, TOut}"/>) whose
/// calls run on an executor grain. Created inside the pool by <see cref="ClusterExecutors{TIn, TOut}"/>, on the silo the
/// client chose, and again (a new grain) after each restart.
/// </summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <typeparam name="TOut">The type of the results.</typeparam>
/// <remarks>
/// <para><b>A lease, one message.</b> <see cref="RunAsync"/> sends the lease's open calls (their pool ids and inputs) to
/// the grain in one message, marking each sent first, and reports each outcome through the lease's handle: a result,
/// the executor's exception (<see cref="RemoteExecutorException"/>, an attempt of the input), or the executor's own
/// <see cref="ExecutorLostException"/>. The lease decides where every call ends; a report it refuses (the call was
/// taken back, or the lease is over) is a late reply, dropped there and counted here too.</para>
/// <para><b>What ends a message.</b> Its reply; a probe, when the reply is overdue by
/// <see cref="OrleansExecutorOptions.ReplyProbeInterval"/> (the grain says whether the message runs, has ended — the
/// reply comes with the answer — or never arrived, in which case it is fenced off there and sent again); the loss of the
/// silo (the membership no longer lists it as active, Orleans fails a call as unavailable, or a probe finds the grain
/// re-activated), which completes <see cref="Lost"/> with a <see cref="SiloLostException"/>: the runner takes the calls
/// back without using their attempts and restarts this executor as a new grain elsewhere; or the pool's stop, which
/// cancels the token: the grain is told to cancel (<see cref="IExecutorGrain{TIn, TOut}.CancelAsync"/>) and the pool
/// aborts the calls as outcome unknown. After a loss or a stop the reply is still watched for in the background, and
/// counted as late if it comes.</para>
/// <para><b>Threads.</b> The runner calls <see cref="RunAsync"/> for one lease at a time; after a loss it stops waiting
/// for it and disposes the slot while a run may still be awaiting. The membership callback (<c>OnSiloLeft</c>), the stop
/// callback and the background watch of a late reply run on other threads. <c>_lock</c> guards the placement
/// (<c>_grain</c>, <c>_host</c>, <c>_node</c>, <c>_generation</c>) and <c>_membership</c>, which the run changes when the
/// executor moves or follows its grain; nothing else runs under it, and no Orleans call. <see cref="SentBatch"/>
/// keeps the counts of a message exact when a reply races a loss or a stop.</para>
/// </remarks>
internal sealed class GrainSlot<TIn, TOut> : IExecutorSlot<TIn, TOut>
{
    private static readonly string ExecutorLostType = typeof(ExecutorLostException).FullName!;

    private readonly ClusterExecutors<TIn, TOut> _owner;
    private readonly int _slot;
    private readonly TaskCompletionSource<Exception> _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _lostSignal = new();
    private readonly Lock _lock = new();
    private IExecutorGrain<TIn, TOut> _grain;
    private ExecutorHost _host;
    private NodeCounters _node;
    private long _generation;
    private CancellationTokenRegistration _membership;
    private SentBatch? _current;
    private volatile bool _reactivated;
    private int _losing;
    private int _disposed;

    public GrainSlot(ClusterExecutors<TIn, TOut> owner, int slot, long generation, IExecutorGrain<TIn, TOut> grain, ExecutorHost host)
    {
        _owner = owner;
        _slot = slot;
        _generation = generation;
        _grain = grain;
        _host = host;
        _node = owner.Counters.Node(host.Silo.ToString(), host.SiloName);
        Location = $"silo {host.Silo} ({host.SiloName})";
        Watch(host.Silo);
    }

    /// <summary>Gets the silo the executor was created on, for the pool's messages; <see cref="ClusterExecutors{TIn, TOut}.Placements"/> follows it when it moves.</summary>
    public string Location { get; }

    /// <summary>Gets the most calls one grain message carries (<see cref="OrleansExecutorOptions.MaxBatchSize"/>).</summary>
    public int MaxLease => _owner.Options.MaxBatchSize;

    /// <summary>Gets a task that completes with a <see cref="SiloLostException"/> when the executor's silo is lost.</summary>
    public Task<Exception> Lost => _lost.Task;

    /// <summary>Gets the address of the silo the executor runs on now.</summary>
    public string Node
    {
        get
        {
            lock (_lock)
            {
                return _host.Silo.ToString();
            }
        }
    }

    public override string ToString() => $"executor {_slot} of pool {_owner.PoolName} on silo {Node}";

    /// <summary>Says whether an exception from an Orleans call means that the silo (or the way to it) is gone.</summary>
    internal static bool IsLoss(Exception exception) =>
        exception is SiloUnavailableException
            or OrleansMessageRejectionException
            or ConnectionFailedException
            or TimeoutException
            or GatewayTooBusyException;

    public async ValueTask RunAsync(LeaseHandle<TIn, TOut> lease, CancellationToken cancellationToken)
    {
        if (_lost.Task.IsCompleted || cancellationToken.IsCancellationRequested || Volatile.Read(ref _disposed) != 0)
        {
            // Nothing sent: the runner takes the calls back as never started.
            return;
        }

        if (_owner.View.TryTakeMove(_slot, out SiloAddress target))
        {
            await MoveAsync(target, cancellationToken).ConfigureAwait(false);
            if (_lost.Task.IsCompleted || cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }

        if (Collect(lease, out TIn[] inputs) is not { } batch)
        {
            return;
        }

        (IExecutorGrain<TIn, TOut> grain, ExecutorHost host, NodeCounters node) = Placement();
        _owner.Counters.Sent(node, batch.CallIds);
        _owner.CountCalls(_slot, batch.CallIds.Length);
        Volatile.Write(ref _current, batch);
        try
        {
            await SendAsync(lease, batch, new CallBatch<TIn>(_owner.NextBatchId(), batch.CallIds, inputs), grain, host, node, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _current, null);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            CancellationTokenRegistration membership;
            IExecutorGrain<TIn, TOut> grain;
            ExecutorHost host;
            long generation;
            lock (_lock)
            {
                membership = _membership;
                _membership = default;
                (grain, host, generation) = (_grain, _host, _generation);
            }

            await membership.DisposeAsync().ConfigureAwait(false);
            bool lost = _lost.Task.IsCompleted;
            _owner.View.Release(_slot);
            _owner.Placed(_slot, generation, host, lost ? ExecutorState.Lost : ExecutorState.Stopped);
            if (!lost || _reactivated)
            {
                // A grain re-activated by a probe holds a new executor on a live silo: stop that one too.
                await StopGrainAsync(grain, host).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // Dispose never throws; an idle grain is collected in the end anyway.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>Reads and marks sent every call of the lease still open.</summary>
    /// <returns>The calls to send; <see langword="null"/> if none is open.</returns>
    private static SentBatch? Collect(LeaseHandle<TIn, TOut> lease, out TIn[] inputs)
    {
        int count = lease.Count;
        var indexes = new int[count];
        var ids = new long[count];
        inputs = new TIn[count];
        int n = 0;
        for (int i = 0; i < count; i++)
        {
            // Marked sent before it leaves: if it is taken back later, it may have run.
            if (lease.TryRead(i, out TIn input, out long callId) && lease.MarkSent(i))
            {
                indexes[n] = i;
                ids[n] = callId;
                inputs[n] = input;
                n++;
            }
        }

        if (n == 0)
        {
            return null;
        }

        if (n < count)
        {
            Array.Resize(ref indexes, n);
            Array.Resize(ref ids, n);
            Array.Resize(ref inputs, n);
        }

        return new SentBatch(0, indexes, ids);
    }

    private async Task SendAsync(
        LeaseHandle<TIn, TOut> lease,
        SentBatch batch,
        CallBatch<TIn> message,
        IExecutorGrain<TIn, TOut> grain,
        ExecutorHost host,
        NodeCounters node,
        CancellationToken cancellationToken)
    {
        batch.BatchId = message.BatchId;
        Task<BatchReply<TOut>> call;
        try
        {
            call = grain.ExecuteAsync(message);
        }
        catch (Exception ex) when (IsLoss(ex))
        {
            Lose("the message could not be sent", ex);
            return;
        }

        BatchReply<TOut> reply;
        var stop = new StopCallback(this, batch, grain, node);
        using (CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(static s => ((StopCallback)s!).OnStop(), stop))
        using (CancellationTokenSource either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lostSignal.Token))
        {
            try
            {
                while (true)
                {
                    try
                    {
                        reply = await call.WaitAsync(_owner.Options.ReplyProbeInterval, either.Token).ConfigureAwait(false);
                        break;
                    }
                    catch (TimeoutException) when (!call.IsCompleted)
                    {
                        // Overdue: ask the grain, whose silo is alive as far as the membership knows.
                    }

                    ProbeReply<TOut> probe = await grain.ProbeAsync(batch.BatchId).WaitAsync(either.Token).ConfigureAwait(false);
                    if (probe.Host.Activation != host.Activation)
                    {
                        // The probe re-activated the grain elsewhere: the activation that got the message is gone with
                        // its silo (the membership will say so), and the calls may have run there.
                        call.Ignore();
                        _reactivated = true;
                        Lose($"its grain answered from a new activation, on silo {probe.Host.Silo}: the one that got the calls is gone, or cut off with a silo that held its directory entry", null);
                        return;
                    }

                    if (probe.Progress == BatchProgress.Done)
                    {
                        // The grain answered but the reply was lost on the way (its gateway died): take it from the grain.
                        _owner.Counters.RecoveredReply();
                        call.Ignore();
                        reply = probe.Reply!;
                        break;
                    }

                    if (probe.Progress == BatchProgress.NotReceived)
                    {
                        // The message was lost on the way and is now fenced off on the grain: it never ran, send it again.
                        _owner.Counters.Resent();
                        call.Ignore();
                        message = message with { BatchId = _owner.NextBatchId() };
                        batch.BatchId = message.BatchId;
                        call = grain.ExecuteAsync(message);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The stop gives the calls up and tells the grain to cancel them. Done here too (a second time does
                // nothing): the linked token's callback may resume this method inside the pool's Cancel, before the stop
                // callback has run, and leaving the using block then unregisters it unrun.
                stop.OnStop();

                // The runner abandons the lease: the sent calls are aborted as outcome unknown.
                WatchForLateReply(call, lease, batch, node);
                return;
            }
            catch (OperationCanceledException) when (_lostSignal.IsCancellationRequested)
            {
                GiveUp(batch, SentBatch.Lost, node);
                WatchForLateReply(call, lease, batch, node);
                return;
            }
            catch (Exception ex) when (IsLoss(ex))
            {
                _owner.View.SuspectNamedIn(ex);
                Lose(ex.GetType().Name, ex);
                WatchForLateReply(call, lease, batch, node);
                return;
            }
#pragma warning disable CA1031 // Not the silo's loss (the reply could not be read, say): a failed attempt of each call.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                FailOpen(lease, batch, node, ex);
                return;
            }
        }

        if (!reply.Host.Silo.Equals(host.Silo))
        {
            // Orleans re-activated the grain elsewhere (it was collected while idle): follow it.
            node = Follow(reply.Host);
        }

        Report(lease, batch, reply, node);
        // After our stop, the calls not reported (cancelled or not run on the grain) are the runner's: it abandons the
        // lease, which aborts them as outcome unknown.
        if (!cancellationToken.IsCancellationRequested && batch.Open > 0)
        {
            // Not run, and not because of our stop: the grain was stopped under us (its silo is shutting down).
            Lose($"the grain did not run {batch.Open} call(s): it was stopped", null);
        }
    }

    /// <summary>Reports each call's outcome in <paramref name="reply"/> through the lease (once per call); a report the lease refuses is a late reply.</summary>
    private void Report(LeaseHandle<TIn, TOut> lease, SentBatch batch, BatchReply<TOut> reply, NodeCounters node)
    {
        // Leases are sized on the calls' time on the silo, not the round trip (ignored for a lease already over).
        lease.ReportRunTime(reply.RunTime);
        CallOutcome<TOut>[] outcomes = reply.Outcomes;
        for (int k = 0; k < outcomes.Length && k < batch.CallIds.Length; k++)
        {
            CallOutcome<TOut> outcome = outcomes[k];
            if (outcome.Status is not (CallStatus.Succeeded or CallStatus.Failed) || outcome.CallId != batch.CallIds[k] || !batch.TryTake(k, out int givenUpAs))
            {
                continue;
            }

            int index = batch.Indexes[k];
            bool accepted = outcome.Status == CallStatus.Succeeded
                ? lease.TryComplete(index, outcome.Result!)
                : TryFail(lease, index, outcome.Failure!, node.Node);
            if (!accepted)
            {
                _owner.Counters.LateReply(node);
                _owner.LogLateReply(_slot, node.Node, outcome.CallId);
                continue;
            }

            if (givenUpAs == SentBatch.Lost)
            {
                _owner.Counters.NotLostAfterAll(node, outcome.CallId);
            }
            else if (givenUpAs == SentBatch.Stopped)
            {
                _owner.Counters.CancelledByStop(-1);
            }

            if (outcome.Status == CallStatus.Succeeded)
            {
                _owner.Counters.Succeeded(node);
            }
            else
            {
                _owner.Counters.Failed(node);
            }
        }
    }

    private static bool TryFail(LeaseHandle<TIn, TOut> lease, int index, RemoteFailure failure, string node)
    {
        if (failure.IsRetry)
        {
            return lease.TryFail(index, new RetryException(failure.Message), FailureKind.Threw) is not null;
        }

        if (failure.TypeName == ExecutorLostType)
        {
            // The executor said so itself: its connection (or whatever it stands for) is gone, not the input's fault.
            return lease.TryFail(index, new ExecutorLostException($"{failure.Message} (on silo {node})"), FailureKind.Lost) is not null;
        }

        var error = new RemoteExecutorException($"{failure.TypeName}: {failure.Message}")
        {
            RemoteType = failure.TypeName,
            RemoteStackTrace = failure.StackTrace,
            Node = node,
        };
        return lease.TryFail(index, error, FailureKind.Threw) is not null;
    }

    /// <summary>The message failed in a way that is not the silo's loss: each open call has a failed attempt.</summary>
    private void FailOpen(LeaseHandle<TIn, TOut> lease, SentBatch batch, NodeCounters node, Exception error)
    {
        for (int k = 0; k < batch.CallIds.Length; k++)
        {
            if (!batch.TryTake(k, out int givenUpAs))
            {
                continue;
            }

            if (lease.TryFail(batch.Indexes[k], error, FailureKind.Threw) is null)
            {
                continue;
            }

            if (givenUpAs == SentBatch.Lost)
            {
                _owner.Counters.NotLostAfterAll(node, batch.CallIds[k]);
            }

            _owner.Counters.Failed(node);
        }
    }

    /// <summary>Gives up the calls of <paramref name="batch"/> not reported yet, counting them as lost or cancelled by the stop.</summary>
    /// <returns>How many were given up.</returns>
    private int GiveUp(SentBatch batch, int how, NodeCounters node)
    {
        int[] open = batch.End(how);
        if (how == SentBatch.Lost)
        {
            _owner.Counters.Lost(node, batch.IdsAt(open));
        }
        else
        {
            _owner.Counters.CancelledByStop(open.Length);
        }

        return open.Length;
    }

    /// <summary>The silo is lost (or as good as): gives up the calls in flight and completes <see cref="Lost"/>, once.</summary>
    private void Lose(string reason, Exception? cause)
    {
        (_, ExecutorHost host, NodeCounters node) = Placement();
        long generation = Volatile.Read(ref _generation);

        // Counted before Lost completes, so the counts are in when the runner takes the calls back.
        int inFlight = Volatile.Read(ref _current) is { } batch ? GiveUp(batch, SentBatch.Lost, node) : 0;
        if (Interlocked.Exchange(ref _losing, 1) != 0)
        {
            return;
        }

        // Recorded and logged before Lost completes: from then on the runner restarts the executor (a new generation,
        // placed afresh), on another thread.
        _owner.Placed(_slot, generation, host, ExecutorState.Lost);
        _owner.LogLost(_slot, host.Silo.ToString(), inFlight, reason, cause);
        _lostSignal.Cancel();
        _lost.TrySetResult(new SiloLostException($"Silo {host.Silo} was lost with {inFlight} call(s) of executor {_slot} in flight: {reason}.", cause)
        {
            Node = host.Silo.ToString(),
            Slot = _slot,
            CallsInFlight = inFlight,
        });
    }

    private void OnSiloLeft(SiloAddress silo)
    {
        bool current;
        lock (_lock)
        {
            current = _host.Silo.Equals(silo);
        }

        if (current)
        {
            Lose("the membership no longer lists the silo as active", null);
        }
    }

    /// <summary>Watches the membership for the loss of <paramref name="silo"/>, instead of the silo watched so far.</summary>
    private void Watch(SiloAddress silo)
    {
        CancellationToken lost = _owner.View.LostToken(silo);
        CancellationTokenRegistration previous;
        lock (_lock)
        {
            previous = _membership;
            _membership = default;
        }

        previous.Dispose();

        // Outside the lock: a token already cancelled runs the callback here, and the callback takes the lock.
        CancellationTokenRegistration registration = lost.UnsafeRegister(
            static state =>
            {
                var (slot, silo) = ((GrainSlot<TIn, TOut>, SiloAddress))state!;
                slot.OnSiloLeft(silo);
            },
            (this, silo));
        lock (_lock)
        {
            _membership = registration;
        }
    }

    private (IExecutorGrain<TIn, TOut> Grain, ExecutorHost Host, NodeCounters Node) Placement()
    {
        lock (_lock)
        {
            return (_grain, _host, _node);
        }
    }

    /// <summary>The grain was re-activated on another silo between two messages (idle collection): from now on the executor runs there.</summary>
    private NodeCounters Follow(ExecutorHost host)
    {
        NodeCounters node = _owner.Counters.Node(host.Silo.ToString(), host.SiloName);
        long generation;
        lock (_lock)
        {
            _host = host;
            _node = node;
            generation = _generation;
        }

        _owner.View.Place(_slot, host.Silo);
        _owner.Placed(_slot, generation, host, ExecutorState.Running);
        Watch(host.Silo);
        return node;
    }

    /// <summary>Moves the executor to <paramref name="target"/> between two leases: a new grain there, then the old one stopped. A move that fails leaves it where it is.</summary>
    private async Task MoveAsync(SiloAddress target, CancellationToken cancellationToken)
    {
        (IExecutorGrain<TIn, TOut> old, ExecutorHost from, _) = Placement();
        long oldGeneration = Volatile.Read(ref _generation);
        (IExecutorGrain<TIn, TOut> Grain, ExecutorHost Host, long Generation) started;
        try
        {
            started = await _owner.StartGrainAsync(_slot, target, cancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A move that fails (or is cut short by the stop) leaves the executor where it is.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _owner.View.Place(_slot, from.Silo);
            _owner.Placed(_slot, oldGeneration, from, ExecutorState.Running);
            if (!cancellationToken.IsCancellationRequested)
            {
                _owner.LogMoveFailed(_slot, from.Silo.ToString(), target.ToString(), ex);
            }

            return;
        }

        NodeCounters node = _owner.Counters.Node(started.Host.Silo.ToString(), started.Host.SiloName);
        lock (_lock)
        {
            (_grain, _host, _node, _generation) = (started.Grain, started.Host, node, started.Generation);
        }

        Watch(started.Host.Silo);
        _owner.LogMoved(_slot, from.Silo.ToString(), started.Host.Silo.ToString(), started.Generation);
        _ = StopGrainAsync(old, from);
    }

    private void WatchForLateReply(Task<BatchReply<TOut>> call, LeaseHandle<TIn, TOut> lease, SentBatch batch, NodeCounters node) =>
        _ = call.ContinueWith(
            static (t, state) =>
            {
                var (slot, lease, batch, node) = ((GrainSlot<TIn, TOut>, LeaseHandle<TIn, TOut>, SentBatch, NodeCounters))state!;
                if (t.IsCompletedSuccessfully)
                {
                    slot.Report(lease, batch, t.Result, node);
                }
            },
            (this, lease, batch, node),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    private async Task StopGrainAsync(IExecutorGrain<TIn, TOut> grain, ExecutorHost host)
    {
        try
        {
            await grain.StopAsync().WaitAsync(_owner.Options.StopTimeout).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Best effort; the grain is collected in the end anyway.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _owner.LogStopFailed(_slot, host.Silo.ToString(), ex);
        }
    }

    /// <summary>What the pool's stop does to a message in flight: give its open calls up and tell the grain to cancel them.</summary>
    private sealed class StopCallback(GrainSlot<TIn, TOut> slot, SentBatch batch, IExecutorGrain<TIn, TOut> grain, NodeCounters node)
    {
        public void OnStop()
        {
            // Runs inside the pool's Cancel: no Orleans call here, the cancel message goes from the thread pool.
            if (slot.GiveUp(batch, SentBatch.Stopped, node) == 0)
            {
                return;
            }

            ThreadPool.UnsafeQueueUserWorkItem(
                static state =>
                {
                    try
                    {
                        state.grain.CancelAsync(state.BatchId).Ignore();
                    }
#pragma warning disable CA1031 // The client may be closing; the grain's batch then ends on its own.
                    catch (Exception)
#pragma warning restore CA1031
                    {
                    }
                },
                (grain, batch.BatchId),
                preferLocal: false);
        }
    }
}
