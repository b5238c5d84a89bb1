using System.Diagnostics;
using Parallelize.Telemetry;

namespace Parallelize.Core;

// How a runner's executor runs a lease: the synchronous loops (a fast one, and one that also times, traces and
// enforces the call timeout), the asynchronous loop, and leases run by a slot elsewhere. Each call runs in the
// caller's ExecutionContext when it brought one (ParallelizeOptions.FlowExecutionContext).
internal sealed partial class SlotRunner<TIn, TOut>
{
    private Func<TIn, CancellationToken, TOut>? _call;
    private Func<TIn, TOut>? _plainCall;
    private Func<TIn, CancellationToken, ValueTask<TOut>>? _callAsync;

    // The context calls from a fresh thread bring (the empty one); such calls run directly, in the runner's own context.
    private ExecutionContext? _ownContext;

    // The last caller context seen, and a copy of it marked "inside this pool's executors": callers rarely change theirs.
    private ExecutionContext? _lastCallerContext;
    private ExecutionContext? _lastMarkedContext;

    // The per-call cancellation of ParallelizeOptions.CallTimeout: reset after each call, recreated after it fires.
    private CancellationTokenSource? _callTimeout;
    private CancellationTokenRegistration _callTimeoutLink;

    // State handed to the ExecutionContext.Run callbacks (one call at a time per runner).
    private int _runIndex;
    private CancellationToken _runToken;
    private Activity? _runSpan;
    private ValueTask<TOut> _runPending;

    private static readonly ContextCallback s_runSync = static state => ((SlotRunner<TIn, TOut>)state!).RunOneSync();
    private static readonly ContextCallback s_startAsync = static state => ((SlotRunner<TIn, TOut>)state!).StartOneAsync();
    private static readonly ContextCallback s_mark = static state => ((SlotRunner<TIn, TOut>)state!).MarkContext();

    /// <summary>
    /// Runs a lease on a synchronous executor, in call order. See <see cref="CallLease{TIn, TOut}"/> for the claim
    /// protocol: a store of <c>Next</c> and a load of <c>Limit</c> per call, nothing else shared.
    /// </summary>
    // PERF: compiled fully optimized at once; tiered compilation took millions of calls to promote the hot path.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private LeaseOutcome RunLease()
    {
        PoolTelemetry telemetry = _pool.Telemetry;
        if (telemetry.CallDuration.Enabled || ParallelizeTracing.Source.HasListeners() || _pool.Options.CallTimeout is not null)
        {
            return RunLeaseObserved();
        }

        CallLease<TIn, TOut> lease = _lease;
        QueuedCall<TIn>[] calls = lease.Calls;
        TOut[] outputs = lease.Outputs;
        int count = lease.Count;
        Func<TIn, CancellationToken, TOut> call = _call!;
        Func<TIn, TOut>? plain = _plainCall;
        CancellationToken token = _pool.CallToken;
        ExecutionContext? own = _ownContext;
        for (int i = 0; i < count; i++)
        {
            Volatile.Write(ref lease.Next.Value, i + 1);
            if (i >= Volatile.Read(ref lease.Limit.Value) && !lease.TryContinue(i))
            {
                return new LeaseOutcome(i, null, FaultAction.None);
            }

            try
            {
                object? context = calls[i].HasContext ? _pool.Contexts.Find(calls[i].Sequence) : null;
                if (context is null || ReferenceEquals(context, own))
                {
                    // A plain function is called directly rather than through the wrapper that adds the token.
                    outputs[i] = plain is not null ? plain(calls[i].Input) : call(calls[i].Input, token);
                }
                else
                {
                    outputs[i] = RunInContext(i, context, token);
                }
            }
            catch (Exception ex)
            {
                LastError = ex;
                return new LeaseOutcome(i, ex, lease.FailAt(i, ex, FailureKind.Threw));
            }
        }

        lease.Finish();
        return new LeaseOutcome(count, null, FaultAction.None);
    }

    /// <summary>Runs a lease on a synchronous executor like <see cref="RunLease"/>, also timing calls for a listening meter, tracing them for a listening <see cref="ActivitySource"/>, and enforcing <see cref="ParallelizeOptions.CallTimeout"/>.</summary>
    private LeaseOutcome RunLeaseObserved()
    {
        CallLease<TIn, TOut> lease = _lease;
        QueuedCall<TIn>[] calls = lease.Calls;
        TOut[] outputs = lease.Outputs;
        int count = lease.Count;
        PoolTelemetry telemetry = _pool.Telemetry;
        bool timed = telemetry.CallDuration.Enabled;
        bool traced = ParallelizeTracing.Source.HasListeners();
        TimeSpan? limit = _pool.Options.CallTimeout;
        for (int i = 0; i < count; i++)
        {
            Volatile.Write(ref lease.Next.Value, i + 1);
            if (i >= Volatile.Read(ref lease.Limit.Value) && !lease.TryContinue(i))
            {
                return new LeaseOutcome(i, null, FaultAction.None);
            }

            long started = timed ? telemetry.Clock.GetTimestamp() : 0;
            CancellationToken token = limit is { } timeout ? ArmTimeout(timeout) : _pool.CallToken;
            _runSpan = null;
            Exception? error = null;
            try
            {
                object? context = calls[i].HasContext ? _pool.Contexts.Find(calls[i].Sequence) : null;
                if (context is ExecutionContext flowing && !ReferenceEquals(flowing, _ownContext))
                {
                    // A synchronous runner's thread carries the pool's mark itself: the caller's context is used as is.
                    _runSpan = null;
                    _runIndex = i;
                    _runToken = token;
                    _tracing = traced;
                    ExecutionContext.Run(flowing, s_runSync, this);
                }
                else
                {
                    _runSpan = traced ? StartSpan(calls[i], context as Activity) : null;
                    outputs[i] = _plainCall is { } plain ? plain(calls[i].Input) : _call!(calls[i].Input, token);
                }
            }
            catch (Exception ex)
            {
                error = ex;
            }

            FailureKind kind = FailureKind.Threw;
            if (limit is not null && DisarmTimeout())
            {
                error = new TimeoutException($"The call took longer than its timeout of {limit.Value.TotalMilliseconds:0.###} ms (ParallelizeOptions.CallTimeout).", error);
                kind = FailureKind.TimedOut;
            }

            EndSpan(_runSpan, error);
            _runSpan = null;
            if (error is not null)
            {
                LastError = error;
                return new LeaseOutcome(i, error, lease.FailAt(i, error, kind));
            }

            if (timed)
            {
                RecordDuration(telemetry, started);
            }
        }

        lease.Finish();
        return new LeaseOutcome(count, null, FaultAction.None);
    }

    /// <summary>Runs a lease on an asynchronous executor, in call order; the asynchronous twin of <see cref="RunLeaseObserved"/>.</summary>
    private async ValueTask<LeaseOutcome> RunLeaseAsync()
    {
        CallLease<TIn, TOut> lease = _lease;
        int count = lease.Count;
        PoolTelemetry telemetry = _pool.Telemetry;
        bool timed = telemetry.CallDuration.Enabled;
        bool traced = ParallelizeTracing.Source.HasListeners();
        TimeSpan? limit = _pool.Options.CallTimeout;
        for (int i = 0; i < count; i++)
        {
            Volatile.Write(ref lease.Next.Value, i + 1);
            if (i >= Volatile.Read(ref lease.Limit.Value) && !lease.TryContinue(i))
            {
                return new LeaseOutcome(i, null, FaultAction.None);
            }

            long started = timed ? telemetry.Clock.GetTimestamp() : 0;
            CancellationToken token = limit is { } timeout ? ArmTimeout(timeout) : _pool.CallToken;
            Exception? error = null;
            Activity? span = null;
            try
            {
                ValueTask<TOut> pending;
                object? context = lease.Calls[i].HasContext ? _pool.Contexts.Find(lease.Calls[i].Sequence) : null;
                if (context is ExecutionContext flowing && !ReferenceEquals(flowing, _ownContext))
                {
                    _runIndex = i;
                    _runToken = token;
                    _tracing = traced;
                    ExecutionContext.Run(MarkedContext(flowing), s_startAsync, this);
                    pending = _runPending;
                    span = _runSpan;
                    _runPending = default;
                    _runSpan = null;
                }
                else
                {
                    span = traced ? StartSpan(lease.Calls[i], context as Activity) : null;
                    pending = _callAsync!(lease.Calls[i].Input, token);
                }

                lease.Outputs[i] = await pending.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                error = ex;
            }

            FailureKind kind = FailureKind.Threw;
            if (limit is not null && DisarmTimeout())
            {
                error = new TimeoutException($"The call took longer than its timeout of {limit.Value.TotalMilliseconds:0.###} ms (ParallelizeOptions.CallTimeout).", error);
                kind = FailureKind.TimedOut;
            }

            EndSpan(span, error);
            if (error is not null)
            {
                LastError = error;
                return new LeaseOutcome(i, error, lease.FailAt(i, error, kind));
            }

            if (timed)
            {
                RecordDuration(telemetry, started);
            }
        }

        lease.Finish();
        return new LeaseOutcome(count, null, FaultAction.None);
    }

    /// <summary>Has the slot run a lease (in any order); a slot that is lost, or returns with calls unsettled, has them taken back.</summary>
    private async ValueTask<LeaseOutcome> RunSlotLeaseAsync()
    {
        IExecutorSlot<TIn, TOut> slot = _slot!;
        Task<Exception> lost = slot.Lost;
        Exception? failure = null;
        try
        {
            Task running = slot.RunAsync(_lease.Handle(), _pool.CallToken).AsTask();
            if (await Task.WhenAny(running, lost).ConfigureAwait(false) == running)
            {
                await running.ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_pool.CallToken.IsCancellationRequested)
        {
            // Stop gave up on the calls in flight: abandoned below.
        }
#pragma warning disable CA1031 // A slot that throws is a lost slot: its calls are taken back, not lost.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            failure = ex;
        }

        if (_pool.CallToken.IsCancellationRequested)
        {
            // Stop gave up waiting: what is still unsettled is aborted — a sent call as one whose outcome is unknown —
            // whether Stop's own abandon or this one comes first (the second finds the lease over). Taking it back
            // instead would requeue into a closed queue, which aborts a sent call as never started.
            _lease.Abandon();
        }

        if (lost.IsCompleted)
        {
            failure = lost.Result;
        }

        // Calls the slot never reported: queued again (at least once) if it was lost, which restarts it.
        FaultAction action = _lease.TakeBack(
            FailureKind.Lost,
            failure ?? new ExecutorLostException($"Executor {Index} ({Location}) returned without settling every call."));
        if (_lease.TakeFaultAction() == FaultAction.Restart)
        {
            // A call it reported crashed its process, or every fault restarts (RestartOnEveryFault).
            action = FaultAction.Restart;
        }

        if (failure is not null)
        {
            // Lost: the executor's fault, even when no call was running, or a slot that dies at once would restart forever.
            LastError = failure;
            _pool.Blame(Index, _lease.Generation, failure);
            action = FaultAction.Restart;
        }

        return new LeaseOutcome(_lease.Succeeded, failure, action);
    }

    private bool _tracing;

    /// <summary>Runs call <paramref name="index"/> in the caller's context (with the pool's mark added), returning its output.</summary>
    private TOut RunInContext(int index, object context, CancellationToken token)
    {
        if (context is not ExecutionContext flowing)
        {
            // A parent activity only matters when tracing, which RunLeaseObserved handles.
            return _plainCall is { } plain ? plain(_lease.Calls[index].Input) : _call!(_lease.Calls[index].Input, token);
        }

        _runIndex = index;
        _runToken = token;
        _tracing = false;

        // A synchronous runner's thread carries the pool's mark itself: the caller's context is used as is.
        ExecutionContext.Run(flowing, s_runSync, this);
        return _lease.Outputs[index];
    }

    // In the caller's context: one synchronous call, its span started here so that it has the caller's activity as parent.
    private void RunOneSync()
    {
        ref QueuedCall<TIn> call = ref _lease.Calls[_runIndex];
        if (_tracing)
        {
            _runSpan = StartSpan(call, null);
        }

        _lease.Outputs[_runIndex] = _plainCall is { } plain ? plain(call.Input) : _call!(call.Input, _runToken);
    }

    // In the caller's context: starts one asynchronous call; the runner awaits it outside.
    private void StartOneAsync()
    {
        ref QueuedCall<TIn> call = ref _lease.Calls[_runIndex];
        if (_tracing)
        {
            _runSpan = StartSpan(call, null);
        }

#pragma warning disable CA2012 // Handed to the runner, which awaits it once, right after ExecutionContext.Run returns.
        _runPending = _callAsync!(call.Input, _runToken);
#pragma warning restore CA2012
    }

    // For asynchronous calls, which may continue on any thread: the caller's context with this pool's "inside an
    // executor" mark, made once per caller context and reused while callers keep theirs.
    private ExecutionContext MarkedContext(ExecutionContext caller)
    {
        if (!ReferenceEquals(caller, _lastCallerContext))
        {
            ExecutionContext.Run(caller, s_mark, this);
            _lastCallerContext = caller;
        }

        return _lastMarkedContext!;
    }

    private void MarkContext()
    {
        _pool.EnterWorker();
        _lastMarkedContext = ExecutionContext.Capture();
    }

    private Activity? StartSpan(in QueuedCall<TIn> call, Activity? parent)
    {
        Activity? span = parent is null
            ? ParallelizeTracing.Source.StartActivity(ParallelizeTracing.CallActivityName, ActivityKind.Internal)
            : ParallelizeTracing.Source.StartActivity(ParallelizeTracing.CallActivityName, ActivityKind.Internal, parent.Context);
        if (span is { IsAllDataRequested: true })
        {
            int attempt = call.HasHistory ? (_pool.Histories.Find(call.Sequence)?.Errors.Count ?? 0) + 1 : 1;
            span.SetTag(ParallelizeTracing.ExecutorTag, Index);
            span.SetTag(ParallelizeTracing.CallIdTag, call.Sequence);
            span.SetTag(ParallelizeTracing.AttemptTag, attempt);
            if (_pool.Options.Name is { } name)
            {
                span.SetTag(ParallelizeMetrics.PoolNameTag, name);
            }
        }

        return span;
    }

    private static void EndSpan(Activity? span, Exception? error)
    {
        if (span is null)
        {
            return;
        }

        if (span.IsAllDataRequested)
        {
            span.SetTag(ParallelizeTracing.OutcomeTag, error is null ? "result" : error is TimeoutException ? "timeout" : "failure");
            if (error is not null)
            {
                span.SetStatus(ActivityStatusCode.Error, error.Message);
                span.AddException(error);
            }
        }

        span.Stop();
    }

    /// <summary>Gets a token for one call, cancelled by <c>Stop</c> (its finish timeout) or after <paramref name="timeout"/> on the pool's clock.</summary>
    private CancellationToken ArmTimeout(TimeSpan timeout)
    {
        if (_callTimeout is null || !_callTimeout.TryReset())
        {
            _callTimeoutLink.Dispose();
            _callTimeout?.Dispose();
            _callTimeout = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _pool.Options.TimeProvider);
            _callTimeoutLink = _pool.CallToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _callTimeout);
        }

        _callTimeout.CancelAfter(timeout);
        return _callTimeout.Token;
    }

    /// <summary>Ends the timeout of the call just finished.</summary>
    /// <returns><see langword="true"/> if the call overran it (rather than being cancelled by <c>Stop</c>).</returns>
    private bool DisarmTimeout()
    {
        CancellationTokenSource source = _callTimeout!;
        bool fired = source.IsCancellationRequested && !_pool.CallToken.IsCancellationRequested;
        source.CancelAfter(Timeout.InfiniteTimeSpan);
        return fired;
    }

    /// <summary>Records the duration of a call that started at <paramref name="started"/>; a listener that throws is the user's bug, never the pool's problem.</summary>
    private static void RecordDuration(PoolTelemetry telemetry, long started)
    {
        try
        {
            telemetry.CallDuration.Record(telemetry.Clock.GetElapsedTime(started).TotalSeconds, telemetry.Tags);
        }
#pragma warning disable CA1031 // A MeterListener callback runs inside Record: its exception must not take the runner down.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
