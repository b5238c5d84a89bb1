namespace Parallelize;

/// <summary>
/// Creates deferred executors with their input and result types inferred from the factory:
/// <c>Deferred.Create(() =&gt; new ExampleExecutor(name))</c>.
/// </summary>
/// <remarks>
/// A deferred executor is created inside the pool, on its own worker, with every other deferred executor
/// created at the same time; calls queued meanwhile wait for the first executor that is ready.
/// This mirrors <c>Deferred(ExampleExecutor, i)</c> of the original Python <c>Parallelize</c>.
/// </remarks>
public static class Deferred
{
    /// <summary>
    /// Creates a deferred synchronous executor: the pool calls <paramref name="factory"/> on the executor's own
    /// worker thread, in parallel with the other executors' factories, and again after each fault.
    /// </summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="factory">Creates the executor. Throwing or returning <see langword="null"/> counts as a fault under the restart policy.</param>
    /// <returns>The executor description to pass to the pool.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> Create<TIn, TOut>(Func<IExecutor<TIn, TOut>> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return new Executor<TIn, TOut>(null, null, null, factory, null);
    }

    /// <summary>
    /// Creates a deferred asynchronous executor: the pool awaits <paramref name="factory"/> inside the pool, in
    /// parallel with the other executors' factories, and again after each fault.
    /// </summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="factory">Creates the executor; its token is cancelled when the pool stops. Throwing or returning <see langword="null"/> counts as a fault under the restart policy.</param>
    /// <returns>The executor description to pass to the pool.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> Create<TIn, TOut>(Func<CancellationToken, ValueTask<IAsyncExecutor<TIn, TOut>>> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return new Executor<TIn, TOut>(null, null, null, null, factory);
    }
}
