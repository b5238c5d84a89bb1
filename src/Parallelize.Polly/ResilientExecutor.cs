using Polly;

namespace Parallelize.Polly;

/// <summary>
/// Makes executors that run each call inside a Polly v8 <see cref="ResiliencePipeline"/> (or a
/// <see cref="ResiliencePipeline{T}"/> of the result type), for every kind of executor the pool takes: functions,
/// callable objects and deferred factories.
/// </summary>
/// <remarks>
/// <para><b>Cancellation.</b> The call's token (cancelled when <c>Stop</c> gives up waiting for calls in flight)
/// is the pipeline's token: a retry delay, a timeout, a hedged attempt or a rate limiter's queue ends with it, and the
/// executor sees the token the pipeline passes on (linked to it by strategies such as the timeout).</para>
/// <para><b>Outcomes.</b> A result the pipeline returns goes to <c>Results</c>. An exception it lets through (retries
/// exhausted, <c>TimeoutRejectedException</c>, <c>BrokenCircuitException</c>, ...) is one failed attempt to the pool,
/// which then applies its own policy (<see cref="ParallelizeOptions"/>): whose fault it was, a retry on another
/// executor, a restart, an outage pause. So the pipeline handles transient trouble inside a call, and the pool keeps
/// the accounting of every input.</para>
/// <para>One pipeline may serve any number of executors (pipelines are thread-safe); a circuit breaker in it then
/// sees every executor's calls, as it should.</para>
/// </remarks>
public static class ResilientExecutor
{
    /// <summary>Creates a synchronous executor that runs <paramref name="function"/> inside <paramref name="pipeline"/>.</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="pipeline">The pipeline, run around each call.</param>
    /// <param name="function">The function; its token is the one the pipeline passes on.</param>
    /// <returns>The executor, on a dedicated thread like every synchronous one.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pipeline"/> or <paramref name="function"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> Create<TIn, TOut>(ResiliencePipeline pipeline, Func<TIn, CancellationToken, TOut> function)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(function);
        return Executor.Create<TIn, TOut>((input, cancellationToken) =>
            pipeline.Execute(static (state, token) => state.function(state.input, token), (function, input), cancellationToken));
    }

    /// <summary>Creates an asynchronous executor that runs <paramref name="function"/> inside <paramref name="pipeline"/>.</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="pipeline">The pipeline, run around each call.</param>
    /// <param name="function">The function; its token is the one the pipeline passes on.</param>
    /// <returns>The executor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pipeline"/> or <paramref name="function"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> Create<TIn, TOut>(ResiliencePipeline pipeline, Func<TIn, CancellationToken, ValueTask<TOut>> function)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(function);
        return Executor.Create<TIn, TOut>((input, cancellationToken) =>
            pipeline.ExecuteAsync(static (state, token) => state.function(state.input, token), (function, input), cancellationToken));
    }

    /// <summary>Creates a synchronous executor that runs <paramref name="function"/> inside a pipeline of its result type (for fallbacks and result-based strategies).</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="pipeline">The pipeline, run around each call.</param>
    /// <param name="function">The function; its token is the one the pipeline passes on.</param>
    /// <returns>The executor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pipeline"/> or <paramref name="function"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> Create<TIn, TOut>(ResiliencePipeline<TOut> pipeline, Func<TIn, CancellationToken, TOut> function)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(function);
        return Executor.Create<TIn, TOut>((input, cancellationToken) =>
            pipeline.Execute(static (state, token) => state.function(state.input, token), (function, input), cancellationToken));
    }

    /// <summary>Creates an asynchronous executor that runs <paramref name="function"/> inside a pipeline of its result type.</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="pipeline">The pipeline, run around each call.</param>
    /// <param name="function">The function; its token is the one the pipeline passes on.</param>
    /// <returns>The executor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pipeline"/> or <paramref name="function"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> Create<TIn, TOut>(ResiliencePipeline<TOut> pipeline, Func<TIn, CancellationToken, ValueTask<TOut>> function)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(function);
        return Executor.Create<TIn, TOut>((input, cancellationToken) =>
            pipeline.ExecuteAsync(static (state, token) => state.function(state.input, token), (function, input), cancellationToken));
    }

    /// <summary>
    /// Creates a synchronous executor that calls <paramref name="executor"/> inside <paramref name="pipeline"/>. The pool
    /// owns the executor, as with <see cref="Executor.Create{TIn, TOut}(IExecutor{TIn, TOut})"/>, and disposes it
    /// through the wrapper; pass each instance once.
    /// </summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="pipeline">The pipeline, run around each call.</param>
    /// <param name="executor">The executor instance.</param>
    /// <returns>The executor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pipeline"/> or <paramref name="executor"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> Create<TIn, TOut>(ResiliencePipeline pipeline, IExecutor<TIn, TOut> executor)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(executor);
        return Executor.Create(new PipelineExecutor<TIn, TOut>(new Pipeline<TOut>(pipeline), executor));
    }

    /// <summary>Creates an asynchronous executor that calls <paramref name="executor"/> inside <paramref name="pipeline"/>; the pool owns the executor and disposes it through the wrapper.</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="pipeline">The pipeline, run around each call.</param>
    /// <param name="executor">The executor instance.</param>
    /// <returns>The executor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pipeline"/> or <paramref name="executor"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> Create<TIn, TOut>(ResiliencePipeline pipeline, IAsyncExecutor<TIn, TOut> executor)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(executor);
        return Executor.Create(new PipelineAsyncExecutor<TIn, TOut>(new Pipeline<TOut>(pipeline), executor));
    }

    /// <summary>Creates a synchronous executor that calls <paramref name="executor"/> inside a pipeline of its result type; the pool owns the executor.</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="pipeline">The pipeline, run around each call.</param>
    /// <param name="executor">The executor instance.</param>
    /// <returns>The executor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pipeline"/> or <paramref name="executor"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> Create<TIn, TOut>(ResiliencePipeline<TOut> pipeline, IExecutor<TIn, TOut> executor)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(executor);
        return Executor.Create(new PipelineExecutor<TIn, TOut>(new Pipeline<TOut>(pipeline), executor));
    }

    /// <summary>Creates an asynchronous executor that calls <paramref name="executor"/> inside a pipeline of its result type; the pool owns the executor.</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="pipeline">The pipeline, run around each call.</param>
    /// <param name="executor">The executor instance.</param>
    /// <returns>The executor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pipeline"/> or <paramref name="executor"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> Create<TIn, TOut>(ResiliencePipeline<TOut> pipeline, IAsyncExecutor<TIn, TOut> executor)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(executor);
        return Executor.Create(new PipelineAsyncExecutor<TIn, TOut>(new Pipeline<TOut>(pipeline), executor));
    }

    /// <summary>
    /// Creates a deferred synchronous executor (see <see cref="Deferred.Create{TIn, TOut}(Func{IExecutor{TIn, TOut}})"/>)
    /// whose calls run inside <paramref name="pipeline"/>: the pool calls <paramref name="factory"/> on the executor's
    /// worker, and again after each fault.
    /// </summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="pipeline">The pipeline, run around each call (not around the factory).</param>
    /// <param name="factory">Creates the executor; throwing or returning <see langword="null"/> is a fault, as for any deferred executor.</param>
    /// <returns>The executor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pipeline"/> or <paramref name="factory"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> CreateDeferred<TIn, TOut>(ResiliencePipeline pipeline, Func<IExecutor<TIn, TOut>> factory)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(factory);
        var around = new Pipeline<TOut>(pipeline);
        return Deferred.Create<TIn, TOut>(() => factory() is { } executor ? new PipelineExecutor<TIn, TOut>(around, executor) : null!);
    }

    /// <summary>Creates a deferred asynchronous executor whose calls run inside <paramref name="pipeline"/>; the pool awaits <paramref name="factory"/> inside the pool, and again after each fault.</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="pipeline">The pipeline, run around each call (not around the factory).</param>
    /// <param name="factory">Creates the executor; its token is cancelled when the pool stops.</param>
    /// <returns>The executor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pipeline"/> or <paramref name="factory"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> CreateDeferred<TIn, TOut>(ResiliencePipeline pipeline, Func<CancellationToken, ValueTask<IAsyncExecutor<TIn, TOut>>> factory)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(factory);
        var around = new Pipeline<TOut>(pipeline);
        return Deferred.Create<TIn, TOut>(async cancellationToken =>
            await factory(cancellationToken).ConfigureAwait(false) is { } executor ? new PipelineAsyncExecutor<TIn, TOut>(around, executor) : null!);
    }

    /// <summary>Creates a deferred synchronous executor whose calls run inside a pipeline of its result type.</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="pipeline">The pipeline, run around each call.</param>
    /// <param name="factory">Creates the executor.</param>
    /// <returns>The executor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pipeline"/> or <paramref name="factory"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> CreateDeferred<TIn, TOut>(ResiliencePipeline<TOut> pipeline, Func<IExecutor<TIn, TOut>> factory)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(factory);
        var around = new Pipeline<TOut>(pipeline);
        return Deferred.Create<TIn, TOut>(() => factory() is { } executor ? new PipelineExecutor<TIn, TOut>(around, executor) : null!);
    }

    /// <summary>Creates a deferred asynchronous executor whose calls run inside a pipeline of its result type.</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="pipeline">The pipeline, run around each call.</param>
    /// <param name="factory">Creates the executor; its token is cancelled when the pool stops.</param>
    /// <returns>The executor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pipeline"/> or <paramref name="factory"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> CreateDeferred<TIn, TOut>(ResiliencePipeline<TOut> pipeline, Func<CancellationToken, ValueTask<IAsyncExecutor<TIn, TOut>>> factory)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(factory);
        var around = new Pipeline<TOut>(pipeline);
        return Deferred.Create<TIn, TOut>(async cancellationToken =>
            await factory(cancellationToken).ConfigureAwait(false) is { } executor ? new PipelineAsyncExecutor<TIn, TOut>(around, executor) : null!);
    }
}
