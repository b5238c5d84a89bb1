using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orleans.Placement;
using Orleans.Runtime;
using Parallelize.Orleans.Hosting;

namespace Parallelize.Orleans.Grains;

/// <summary>Hosts one executor of a client's pool on this silo (see <see cref="IExecutorGrain{TIn, TOut}"/>).</summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <typeparam name="TOut">The type of the results.</typeparam>
/// <remarks>
/// <para><b>Placement.</b> The client chooses the silo of every new executor and says so with Orleans' placement hint;
/// when there is no hint (or the hinted silo is gone), activation-count-based placement picks the least loaded of two
/// random silos, so a silo that just joined, with few activations, is preferred. Never <c>[StatelessWorker]</c>: its
/// calls stay on the caller's silo and it ignores cancellation (orleans#9383, #9877).</para>
/// <para><b>Turns.</b> Orleans runs one turn of this grain at a time. <see cref="ExecuteAsync"/> is not reentrant, so
/// batches run one at a time; <see cref="CancelAsync"/> and <see cref="StopAsync"/> interleave with it while it awaits
/// the user's code. The fields are touched only on the grain's turns, so they need no lock; the user's synchronous
/// executor runs on its own thread and touches none of them. Awaits here keep the grain's context
/// (<c>ConfigureAwait(true)</c>), as grain code must.</para>
/// <para><b>Lifetime.</b> The executor is created by <see cref="StartAsync"/>, or by the first batch if the grain was
/// re-activated without it (after idle collection, say): the key names the executor type, so any activation can
/// create it. It is disposed by <see cref="StopAsync"/> or when the grain deactivates.</para>
/// </remarks>
[ActivationCountBasedPlacement]
internal sealed partial class ExecutorGrain<TIn, TOut> : Grain, IExecutorGrain<TIn, TOut>
{
    private readonly ExecutorRegistry _registry;
    private readonly IServiceProvider _services;
    private readonly ILocalSiloDetails _silo;
    private readonly ILogger _logger;
    private HostedExecutor<TIn, TOut>? _executor;
    private Task? _running;
    private CancellationTokenSource? _runningCancellation;
    private long _runningBatch = -1;
    private long _cancelledUpTo = -1;
    private BatchReply<TOut>? _lastReply;
    private long _lastBatch = -1;
    private bool _stopped;

    public ExecutorGrain(ExecutorRegistry registry, IServiceProvider services, ILocalSiloDetails silo, ILogger<ExecutorGrain<TIn, TOut>> logger)
    {
        _registry = registry;
        _services = services;
        _silo = silo;
        _logger = logger;
    }

    private ExecutorHost Host => new(_silo.SiloAddress, _silo.Name, Environment.ProcessId, Environment.MachineName, GrainContext.ActivationId.ToString());

    public async Task<ExecutorHost> StartAsync(CancellationToken cancellationToken)
    {
        await EnsureStartedAsync(cancellationToken).ConfigureAwait(true);
        return Host;
    }

    public async Task<BatchReply<TOut>> ExecuteAsync(CallBatch<TIn> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.CallIds.Length != batch.Inputs.Length)
        {
            throw new ArgumentException($"The batch has {batch.CallIds.Length} call ids for {batch.Inputs.Length} inputs.", nameof(batch));
        }

        if (_stopped || batch.BatchId <= _cancelledUpTo)
        {
            return new BatchReply<TOut>([.. batch.CallIds.Select(static id => new CallOutcome<TOut>(id, CallStatus.NotRun, default, null))], Host);
        }

        await EnsureStartedAsync(CancellationToken.None).ConfigureAwait(true);
        if (batch.BatchId <= _cancelledUpTo)
        {
            // Fenced off (probed as not received, or cancelled) while the executor was being created.
            return new BatchReply<TOut>([.. batch.CallIds.Select(static id => new CallOutcome<TOut>(id, CallStatus.NotRun, default, null))], Host);
        }

        _lastReply = null;
        _lastBatch = -1;
        using var cancellation = new CancellationTokenSource();
        _runningCancellation = cancellation;
        _runningBatch = batch.BatchId;
        Task<CallOutcome<TOut>[]> run = _executor!.RunAsync(batch, cancellation.Token);
        _running = run;
        try
        {
            CallOutcome<TOut>[] outcomes = await run.ConfigureAwait(true);
            var reply = new BatchReply<TOut>(outcomes, Host, _executor.LastRunTime);
            _lastReply = reply;
            _lastBatch = batch.BatchId;
            return reply;
        }
        finally
        {
            _runningCancellation = null;
            _runningBatch = -1;
            _running = null;
        }
    }

    public Task<ProbeReply<TOut>> ProbeAsync(long batchId)
    {
        if (_runningBatch == batchId)
        {
            return Task.FromResult(new ProbeReply<TOut>(BatchProgress.Running, null, Host));
        }

        if (_lastBatch == batchId && _lastReply is { } reply)
        {
            return Task.FromResult(new ProbeReply<TOut>(BatchProgress.Done, reply, Host));
        }

        // Turns are one at a time, so the batch has not begun: fence it off, and it will not run if it comes.
        _cancelledUpTo = Math.Max(_cancelledUpTo, batchId);
        return Task.FromResult(new ProbeReply<TOut>(BatchProgress.NotReceived, null, Host));
    }

    public Task CancelAsync(long batchId)
    {
        _cancelledUpTo = Math.Max(_cancelledUpTo, batchId);
        if (_runningBatch == batchId)
        {
            _runningCancellation?.Cancel();
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync()
    {
        _stopped = true;
        _runningCancellation?.Cancel();
        await DisposeExecutorAsync().ConfigureAwait(true);
        DeactivateOnIdle();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _stopped = true;
        _runningCancellation?.Cancel();
        await DisposeExecutorAsync().ConfigureAwait(true);
        await base.OnDeactivateAsync(reason, cancellationToken).ConfigureAwait(true);
    }

    private async Task EnsureStartedAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_stopped, this);
        if (_executor is not null)
        {
            return;
        }

        // StartAsync and ExecuteAsync are not reentrant, so no second creation can begin while this one awaits.
        ExecutorKey key = ExecutorKey.Parse(this.GetPrimaryKeyString());
        if (!_registry.TryGet(key.ExecutorName, out ExecutorRegistration? registration))
        {
            throw new InvalidOperationException(
                $"No executor named '{key.ExecutorName}' is registered on silo {_silo.Name} ({_silo.SiloAddress}); register it on every silo with "
                + "siloBuilder.AddParallelizeExecutors(r => r.Add<TExecutor>()). Registered: "
                + (_registry.Names.Count == 0 ? "none." : string.Join(", ", _registry.Names) + "."));
        }

        if (!registration.Serves.Contains((typeof(TIn), typeof(TOut))))
        {
            throw new InvalidOperationException(
                $"The executor '{key.ExecutorName}' ({registration.ExecutorType.FullName}) does not take {typeof(TIn).FullName} and return {typeof(TOut).FullName}.");
        }

        // A slow constructor (a model to load, a connection to open) runs off the grain's scheduler; executors of
        // many pools are created on many silos at once.
        object instance = await Task.Run(() => registration.Create(_services), cancellationToken).ConfigureAwait(true)
            ?? throw new InvalidOperationException($"The factory of executor '{key.ExecutorName}' returned null.");
        HostedExecutor<TIn, TOut> executor = HostedExecutor<TIn, TOut>.Wrap(instance, $"Parallelize {key.Pool}/{key.Slot}");
        if (_stopped)
        {
            await executor.DisposeAsync().ConfigureAwait(true);
            throw new ObjectDisposedException(GetType().Name, $"Executor grain {this.GetPrimaryKeyString()} was stopped while its executor was created.");
        }

        _executor = executor;
        LogExecutorCreated(_logger, key.Pool, key.Slot, key.Generation, key.ExecutorName, _silo.SiloAddress);
    }

    private async Task DisposeExecutorAsync()
    {
        if (_running is { } running)
        {
            // Let the batch running see its cancellation and end before its executor is disposed under it.
            await running.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Current).ConfigureAwait(true);
        }

        HostedExecutor<TIn, TOut>? executor = _executor;
        _executor = null;
        if (executor is not null)
        {
            await executor.DisposeAsync().ConfigureAwait(true);
        }
    }

    [LoggerMessage(EventId = 120, EventName = "ExecutorCreated", Level = LogLevel.Debug,
        Message = "Pool {PoolName}: executor {Slot} (generation {Generation}, '{ExecutorName}') created on silo {Silo}")]
    private static partial void LogExecutorCreated(ILogger logger, string poolName, int slot, long generation, string executorName, SiloAddress silo);
}
