namespace Parallelize.Orleans.Grains;

/// <summary>The user's executor as a grain runs it: a batch in, an outcome per call out.</summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <typeparam name="TOut">The type of the results.</typeparam>
/// <remarks>
/// Each call of a batch runs on its own: a call that throws is recorded and the next one runs on the same instance
/// (the client decides what a failure means). Once the token is cancelled, the calls not yet begun are
/// <see cref="CallStatus.NotRun"/>. Not thread-safe: the grain runs one batch at a time.
/// </remarks>
internal abstract class HostedExecutor<TIn, TOut> : IAsyncDisposable
{
    /// <summary>Gets the user's executor.</summary>
    public abstract object Instance { get; }

    /// <summary>Wraps a user executor, which must implement <see cref="IExecutor{TIn, TOut}"/> or <see cref="IAsyncExecutor{TIn, TOut}"/>.</summary>
    /// <param name="instance">The user's executor.</param>
    /// <param name="threadName">The name of the thread a synchronous executor gets.</param>
    /// <exception cref="InvalidOperationException"><paramref name="instance"/> implements neither.</exception>
    public static HostedExecutor<TIn, TOut> Wrap(object instance, string threadName) => instance switch
    {
        IAsyncExecutor<TIn, TOut> asynchronous => new Asynchronous(asynchronous),
        IExecutor<TIn, TOut> synchronous => new Synchronous(synchronous, threadName),
        _ => throw new InvalidOperationException(
            $"{instance.GetType().FullName} implements neither IExecutor<{typeof(TIn).Name}, {typeof(TOut).Name}> nor IAsyncExecutor<{typeof(TIn).Name}, {typeof(TOut).Name}>."),
    };

    /// <summary>
    /// Gets how long the last batch's calls ran, measured around the calls themselves: for a synchronous executor on
    /// its own thread, without the hand-off to it and back to the grain, which on a loaded silo can outlast tiny calls
    /// many times over and would keep the client's messages small. Read after <see cref="RunAsync"/> has completed.
    /// </summary>
    public TimeSpan LastRunTime { get; protected set; }

    /// <summary>Runs every call of <paramref name="batch"/>.</summary>
    public abstract Task<CallOutcome<TOut>[]> RunAsync(CallBatch<TIn> batch, CancellationToken cancellationToken);

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();

    private static CallOutcome<TOut> Failed(long callId, Exception exception, CancellationToken cancellationToken) =>
        exception is OperationCanceledException && cancellationToken.IsCancellationRequested
            ? new CallOutcome<TOut>(callId, CallStatus.Cancelled, default, null)
            : new CallOutcome<TOut>(callId, CallStatus.Failed, default, RemoteFailure.From(exception));

    private static async ValueTask DisposeInstanceAsync(object instance)
    {
        try
        {
            if (instance is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
            }
            else if (instance is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }
#pragma warning disable CA1031 // An executor's Dispose that throws is swallowed, as the local pool does.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private sealed class Asynchronous(IAsyncExecutor<TIn, TOut> executor) : HostedExecutor<TIn, TOut>
    {
        public override object Instance => executor;

        public override async Task<CallOutcome<TOut>[]> RunAsync(CallBatch<TIn> batch, CancellationToken cancellationToken)
        {
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            var outcomes = new CallOutcome<TOut>[batch.Inputs.Length];
            for (int i = 0; i < outcomes.Length; i++)
            {
                long callId = batch.CallIds[i];
                if (cancellationToken.IsCancellationRequested)
                {
                    outcomes[i] = new CallOutcome<TOut>(callId, CallStatus.NotRun, default, null);
                    continue;
                }

                try
                {
                    // On the grain's context (grain code must stay there): the executor may call other grains.
                    TOut result = await executor.ExecuteAsync(batch.Inputs[i], cancellationToken).ConfigureAwait(true);
                    outcomes[i] = new CallOutcome<TOut>(callId, CallStatus.Succeeded, result, null);
                }
#pragma warning disable CA1031 // Whatever the user's code throws is that call's outcome.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    outcomes[i] = Failed(callId, ex, cancellationToken);
                }
            }

            LastRunTime = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            return outcomes;
        }

        public override ValueTask DisposeAsync() => DisposeInstanceAsync(executor);
    }

    private sealed class Synchronous(IExecutor<TIn, TOut> executor, string threadName) : HostedExecutor<TIn, TOut>
    {
        private readonly DedicatedThread _thread = new(threadName);

        public override object Instance => executor;

        public override Task<CallOutcome<TOut>[]> RunAsync(CallBatch<TIn> batch, CancellationToken cancellationToken) =>
            _thread.RunAsync(() =>
            {
                long started = System.Diagnostics.Stopwatch.GetTimestamp();
                var outcomes = new CallOutcome<TOut>[batch.Inputs.Length];
                for (int i = 0; i < outcomes.Length; i++)
                {
                    long callId = batch.CallIds[i];
                    if (cancellationToken.IsCancellationRequested)
                    {
                        outcomes[i] = new CallOutcome<TOut>(callId, CallStatus.NotRun, default, null);
                        continue;
                    }

                    try
                    {
                        outcomes[i] = new CallOutcome<TOut>(callId, CallStatus.Succeeded, executor.Execute(batch.Inputs[i], cancellationToken), null);
                    }
#pragma warning disable CA1031 // Whatever the user's code throws is that call's outcome.
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        outcomes[i] = Failed(callId, ex, cancellationToken);
                    }
                }

                // Written on the executor's thread; the task's completion publishes it to the grain.
                LastRunTime = System.Diagnostics.Stopwatch.GetElapsedTime(started);
                return outcomes;
            });

        public override async ValueTask DisposeAsync()
        {
            // Disposed on the grain's turn after the batch running has ended (the grain waits for it), so the thread is idle.
            _thread.Dispose();
            await DisposeInstanceAsync(executor).ConfigureAwait(false);
        }
    }
}
