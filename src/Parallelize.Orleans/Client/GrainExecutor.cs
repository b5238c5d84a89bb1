using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using Parallelize.Orleans.Grains;

namespace Parallelize.Orleans.Client;

/// <summary>
/// One executor of a pool as the pool sees it (an <see cref="IAsyncExecutor{TIn, TOut}"/>), running its calls on an
/// executor grain; created inside the pool by the deferred factory of <see cref="ClusterExecutors{TIn, TOut}"/>.
/// </summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <typeparam name="TOut">The type of the results.</typeparam>
/// <remarks>
/// <para><b>One call, one outcome.</b> Each call gets a call id from the ledger and is sent as a batch of one. A reply
/// overdue by <see cref="OrleansExecutorOptions.ReplyProbeInterval"/> is probed: the grain says whether the batch runs,
/// has ended (its reply comes with the answer: it was lost on the way) or never arrived (it is fenced off on the grain
/// and sent again, so it runs at most once there). What comes first ends the call (see <see cref="CallLedger{TIn}"/>):
/// the reply (a result, or the executor's exception as <see cref="RemoteExecutorException"/>); the loss of the silo (the
/// membership marks it dead, Orleans fails the call as unavailable, or a probe finds the grain re-activated), thrown as <see cref="ExecutorLostException"/> so that the pool runs the input again and
/// re-creates this executor on a live silo; or the pool's stop, which cancels the call's token: the grain is told to
/// cancel, and the input is aborted. The grain's reply is still awaited in the background after a loss or a stop, and
/// counted as late if it comes.</para>
/// <para><b>Threads.</b> The pool calls <see cref="ExecuteAsync"/> for one input at a time and
/// <see cref="DisposeAsync"/> after the last; the stop callback may run on another thread at any time, and only ends
/// the entry (a compare-and-swap) and queues the cancel message. The mutable fields (<c>_grain</c>, <c>_host</c>,
/// <c>_node</c>, <c>_generation</c>) are touched only by the pool's calls.</para>
/// </remarks>
internal sealed class GrainExecutor<TIn, TOut> : IAsyncExecutor<TIn, TOut>, IAsyncDisposable
{
    private readonly ClusterExecutors<TIn, TOut> _owner;
    private readonly int _slot;
    private IExecutorGrain<TIn, TOut> _grain;
    private ExecutorHost _host;
    private NodeCounters _node;
    private long _generation;
    private bool _lost;
    private bool _reactivated;
    private bool _disposed;

    public GrainExecutor(ClusterExecutors<TIn, TOut> owner, int slot, long generation, IExecutorGrain<TIn, TOut> grain, ExecutorHost host)
    {
        _owner = owner;
        _slot = slot;
        _generation = generation;
        _grain = grain;
        _host = host;
        _node = owner.Ledger.Node(host.Silo.ToString(), host.SiloName);
    }

    /// <summary>Gets the silo this executor runs on.</summary>
    public string Node => _host.Silo.ToString();

    public override string ToString() => $"executor {_slot} of pool {_owner.PoolName} on silo {Node}";

    public async ValueTask<TOut> ExecuteAsync(TIn input, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_owner.View.TryTakeMove(_slot, out SiloAddress target))
        {
            await MoveAsync(target, cancellationToken).ConfigureAwait(false);
        }

        CallEntry<TIn> entry = _owner.Ledger.Dispatch(input, _slot, _node);
        _owner.CountCall(_slot);
        var batch = new CallBatch<TIn>(_owner.NextBatchId(), [entry.CallId], [input]);
        Task<BatchReply<TOut>> call;
        try
        {
            call = _grain.ExecuteAsync(batch);
        }
        catch (Exception ex) when (IsLoss(ex))
        {
            throw Lose(entry, "the call could not be sent", ex);
        }

        CancellationToken lost = _owner.View.LostToken(_host.Silo);
        var stop = new StopCallback(this, entry, _grain, batch.BatchId);
        BatchReply<TOut> reply;
        using (CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(static s => ((StopCallback)s!).OnStop(), stop))
        using (CancellationTokenSource either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lost))
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

                    ProbeReply<TOut> probe = await _grain.ProbeAsync(batch.BatchId).WaitAsync(either.Token).ConfigureAwait(false);
                    if (probe.Host.Activation != _host.Activation)
                    {
                        // The probe re-activated the grain elsewhere: the activation that got the batch is gone with
                        // its silo (the membership will say so), and the batch may have run there.
                        call.Ignore();
                        _reactivated = true;
                        throw Lose(entry, $"its grain was re-activated on silo {probe.Host.Silo}", null);
                    }

                    if (probe.Progress == BatchProgress.Done)
                    {
                        // The grain answered but the reply was lost on the way (its gateway died): take it from the grain.
                        _owner.Ledger.CountRecoveredReply();
                        call.Ignore();
                        reply = probe.Reply!;
                        break;
                    }

                    if (probe.Progress == BatchProgress.NotReceived)
                    {
                        // The batch was lost on the way and is now fenced off on the grain: it never ran, send it again.
                        _owner.Ledger.CountResent();
                        call.Ignore();
                        batch = batch with { BatchId = _owner.NextBatchId() };
                        stop.BatchId = batch.BatchId;
                        call = _grain.ExecuteAsync(batch);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                stop.OnStop();
                WatchForLateReply(call, entry);
                throw new OperationCanceledException("The pool stopped while the call ran on the cluster.", cancellationToken);
            }
            catch (OperationCanceledException) when (lost.IsCancellationRequested)
            {
                WatchForLateReply(call, entry);
                throw Lose(entry, "the membership no longer lists the silo as active", null);
            }
            catch (Exception ex) when (IsLoss(ex))
            {
                _owner.View.SuspectNamedIn(ex);
                WatchForLateReply(call, entry);
                throw Lose(entry, ex.GetType().Name, ex);
            }
            catch (Exception ex) when (ex is not ExecutorLostException)
            {
                // Not the silo's loss: the reply could not be read, say. The pool counts it as a fault of the call.
                _owner.Ledger.TryFail(entry);
                throw;
            }
        }

        if (!reply.Host.Silo.Equals(_host.Silo))
        {
            // Orleans re-activated the grain elsewhere (it was collected while idle): follow it.
            _host = reply.Host;
            _node = _owner.Ledger.Node(_host.Silo.ToString(), _host.SiloName);
            _owner.View.Place(_slot, _host.Silo);
            _owner.Placed(_slot, _generation, _host, ExecutorState.Running);
        }

        CallOutcome<TOut> outcome = reply.Outcomes[0];
        switch (outcome.Status)
        {
            case CallStatus.Completed:
                if (!_owner.Ledger.TryComplete(entry))
                {
                    _owner.LogLateReply(entry);
                    throw new OperationCanceledException("The pool stopped while the call ran on the cluster.", cancellationToken);
                }

                return outcome.Result!;

            case CallStatus.Failed:
                if (!_owner.Ledger.TryFail(entry))
                {
                    _owner.LogLateReply(entry);
                    throw new OperationCanceledException("The pool stopped while the call ran on the cluster.", cancellationToken);
                }

                throw ToException(outcome.Failure!);

            default:
                // Cancelled or not run: our stop, or the grain was stopped under us (its silo shutting down).
                if (cancellationToken.IsCancellationRequested)
                {
                    stop.OnStop();
                    throw new OperationCanceledException("The pool stopped while the call ran on the cluster.", cancellationToken);
                }

                throw Lose(entry, $"the grain answered {outcome.Status}", null);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _owner.View.Release(_slot);
        _owner.Placed(_slot, _generation, _host, _lost ? ExecutorState.Lost : ExecutorState.Stopped);
        if (!_lost || _reactivated)
        {
            // A grain re-activated by a probe holds a new executor on a live silo: stop that one too.
            await StopGrainAsync(_grain, _host).ConfigureAwait(false);
        }
    }

    /// <summary>Says whether an exception from an Orleans call means that the silo (or the way to it) is gone.</summary>
    internal static bool IsLoss(Exception exception) =>
        exception is SiloUnavailableException
            or OrleansMessageRejectionException
            or ConnectionFailedException
            or TimeoutException
            or GatewayTooBusyException;

    private static Exception ToException(RemoteFailure failure)
    {
        if (failure.IsRetry)
        {
            return new RetryException(failure.Message);
        }

        return new RemoteExecutorException($"{failure.TypeName}: {failure.Message}")
        {
            RemoteType = failure.TypeName,
            RemoteStackTrace = failure.StackTrace,
        };
    }

    private ExecutorLostException Lose(CallEntry<TIn> entry, string reason, Exception? cause)
    {
        _owner.Ledger.TryLose(entry);
        _lost = true;
        _owner.Placed(_slot, _generation, _host, ExecutorState.Lost);
        _owner.LogLost(_slot, Node, entry.CallId, reason, cause);
        return new ExecutorLostException($"Silo {Node} was lost with call {entry.CallId} of executor {_slot} in flight: {reason}.", cause)
        {
            Node = Node,
            Slot = _slot,
        };
    }

    private void WatchForLateReply(Task<BatchReply<TOut>> call, CallEntry<TIn> entry)
    {
        _ = call.ContinueWith(
            static (t, state) =>
            {
                var (owner, entry) = ((ClusterExecutors<TIn, TOut>, CallEntry<TIn>))state!;
                if (t.IsCompletedSuccessfully && t.Result.Outcomes[0].Status is CallStatus.Completed or CallStatus.Failed)
                {
                    owner.Ledger.CountLateReply(entry);
                    owner.LogLateReply(entry);
                }
            },
            (_owner, entry),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private async Task MoveAsync(SiloAddress target, CancellationToken cancellationToken)
    {
        IExecutorGrain<TIn, TOut> old = _grain;
        ExecutorHost from = _host;
        (IExecutorGrain<TIn, TOut> grain, ExecutorHost host, long generation) started;
        try
        {
            started = await _owner.StartGrainAsync(_slot, target, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _owner.View.Place(_slot, from.Silo);
            _owner.Placed(_slot, _generation, from, ExecutorState.Running);
            throw;
        }
#pragma warning disable CA1031 // A move that fails leaves the executor where it is.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _owner.View.Place(_slot, from.Silo);
            _owner.Placed(_slot, _generation, from, ExecutorState.Running);
            _owner.LogMoveFailed(_slot, from.Silo.ToString(), target.ToString(), ex);
            return;
        }

        (_grain, _host, _generation) = started;
        _node = _owner.Ledger.Node(_host.Silo.ToString(), _host.SiloName);
        _owner.Placed(_slot, _generation, _host, ExecutorState.Running);
        _owner.LogMoved(_slot, from.Silo.ToString(), _host.Silo.ToString(), _generation);
        _ = StopGrainAsync(old, from);
    }

    private async Task StopGrainAsync(IExecutorGrain<TIn, TOut> grain, ExecutorHost host)
    {
        try
        {
            await grain.StopAsync().WaitAsync(_owner.Options.StopTimeout).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Dispose never throws; the grain is collected in the end anyway.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _owner.LogStopFailed(_slot, host.Silo.ToString(), ex);
        }
    }

    /// <summary>What the pool's stop does to a call in flight: end its entry and tell the grain to cancel it.</summary>
    private sealed class StopCallback(GrainExecutor<TIn, TOut> executor, CallEntry<TIn> entry, IExecutorGrain<TIn, TOut> grain, long batchId)
    {
        private long _batchId = batchId;
        private int _done;

        /// <summary>Gets or sets the batch the call is now in (a batch lost on the way is sent again under a new id).</summary>
        public long BatchId
        {
            get => Interlocked.Read(ref _batchId);
            set => Interlocked.Exchange(ref _batchId, value);
        }

        public void OnStop()
        {
            if (Interlocked.Exchange(ref _done, 1) != 0 || !executor._owner.Ledger.TryCancelByStop(entry))
            {
                return;
            }

            // Runs inside the pool's Cancel: send the cancel message from the thread pool, not from here.
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
                (grain, BatchId),
                preferLocal: false);
        }
    }
}
