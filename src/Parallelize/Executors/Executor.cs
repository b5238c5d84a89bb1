namespace Parallelize;

/// <summary>
/// Creates <see cref="Executor{TIn, TOut}"/> descriptions from delegates and callable objects. For a callable object
/// the input and result types are inferred: <c>Executor.Create(new Cache())</c>.
/// </summary>
public static class Executor
{
    /// <summary>Creates an executor from a synchronous function.</summary>
    /// <param name="function">The function to call once per input.</param>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <returns>The executor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="function"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> Create<TIn, TOut>(Func<TIn, TOut> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new Executor<TIn, TOut>(function, (input, _) => function(input), null, null, null);
    }

    /// <summary>Creates an executor from a synchronous function that observes cancellation.</summary>
    /// <param name="function">The function to call once per input; its token is cancelled when <c>Stop</c> gives up waiting.</param>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <returns>The executor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="function"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> Create<TIn, TOut>(Func<TIn, CancellationToken, TOut> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new Executor<TIn, TOut>(function, function, null, null, null);
    }

    /// <summary>Creates an executor from an asynchronous function.</summary>
    /// <param name="function">The function to call once per input; its token is cancelled when <c>Stop</c> gives up waiting.</param>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <returns>The executor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="function"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> Create<TIn, TOut>(Func<TIn, CancellationToken, ValueTask<TOut>> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new Executor<TIn, TOut>(function, null, function, null, null);
    }

    /// <summary>Creates an executor from a synchronous callable object, which the pool keeps across restarts.</summary>
    /// <param name="executor">The executor instance. The pool owns it from now on and disposes it when it is retired or the pool stops.</param>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <returns>The executor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="executor"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> Create<TIn, TOut>(IExecutor<TIn, TOut> executor)
    {
        ArgumentNullException.ThrowIfNull(executor);
        return new Executor<TIn, TOut>(executor, executor.Execute, null, null, null);
    }

    /// <summary>Creates an executor from an asynchronous callable object, which the pool keeps across restarts.</summary>
    /// <param name="executor">The executor instance. The pool owns it from now on and disposes it when it is retired or the pool stops.</param>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <returns>The executor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="executor"/> is <see langword="null"/>.</exception>
    public static Executor<TIn, TOut> Create<TIn, TOut>(IAsyncExecutor<TIn, TOut> executor)
    {
        ArgumentNullException.ThrowIfNull(executor);
        return new Executor<TIn, TOut>(executor, null, executor.ExecuteAsync, null, null);
    }
}
