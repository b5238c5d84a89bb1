namespace Parallelize;

/// <summary>
/// Describes one executor of a <see cref="Parallelize{TIn, TOut}"/>: a delegate, a callable object, or a
/// deferred factory that the pool runs on its own worker so that slow start-ups overlap.
/// </summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <typeparam name="TOut">The type of the results.</typeparam>
/// <remarks>
/// <para>Create one with <see cref="Executor"/> or <see cref="Deferred"/>; delegates also convert implicitly, so a list of executors can mix forms:
/// <c>Executor&lt;int, int&gt;[] executors = [Square, Executor.Create(new Cache()), Deferred.Create(() =&gt; new Client())];</c></para>
/// <para>Synchronous executors each get a dedicated thread, so executors that block (I/O, sleeps, external
/// processes) never starve the .NET thread pool. Asynchronous executors run on the thread pool and hold no
/// thread while they await.</para>
/// </remarks>
public sealed class Executor<TIn, TOut>
{
    internal Executor(
        object? instance,
        Func<TIn, CancellationToken, TOut>? call,
        Func<TIn, CancellationToken, ValueTask<TOut>>? callAsync,
        Func<IExecutor<TIn, TOut>>? factory,
        Func<CancellationToken, ValueTask<IAsyncExecutor<TIn, TOut>>>? factoryAsync,
        Func<int, CancellationToken, ValueTask<Core.IExecutorSlot<TIn, TOut>>>? slotFactory = null)
    {
        SlotFactory = slotFactory;
        Instance = instance;
        Call = call;
        CallAsync = callAsync;
        Factory = factory;
        FactoryAsync = factoryAsync;
    }

    /// <summary>Gets a value indicating whether the pool creates this executor itself, on its worker.</summary>
    public bool IsDeferred => Factory is not null || FactoryAsync is not null || SlotFactory is not null;

    /// <summary>Gets a value indicating whether this executor is asynchronous (runs on the thread pool).</summary>
    public bool IsAsynchronous => CallAsync is not null || FactoryAsync is not null || SlotFactory is not null;

    /// <summary>Creates the slot of an executor that runs outside the pool's threads (a worker process, a cluster node), given the executor's index; called again after a restart.</summary>
    internal Func<int, CancellationToken, ValueTask<Core.IExecutorSlot<TIn, TOut>>>? SlotFactory { get; }

    /// <summary>Describes an executor that runs in a slot.</summary>
    /// <param name="slotFactory">Creates the slot for the executor at an index.</param>
    /// <returns>The executor.</returns>
    internal static Executor<TIn, TOut> InSlot(Func<int, CancellationToken, ValueTask<Core.IExecutorSlot<TIn, TOut>>> slotFactory) =>
        new(null, null, null, null, null, slotFactory);

    /// <summary>The delegate or object given directly; <see langword="null"/> for a deferred executor.</summary>
    internal object? Instance { get; }

    /// <summary>The synchronous call of a directly given executor.</summary>
    internal Func<TIn, CancellationToken, TOut>? Call { get; }

    /// <summary>The asynchronous call of a directly given executor.</summary>
    internal Func<TIn, CancellationToken, ValueTask<TOut>>? CallAsync { get; }

    /// <summary>The synchronous factory of a deferred executor.</summary>
    internal Func<IExecutor<TIn, TOut>>? Factory { get; }

    /// <summary>The asynchronous factory of a deferred executor.</summary>
    internal Func<CancellationToken, ValueTask<IAsyncExecutor<TIn, TOut>>>? FactoryAsync { get; }

    /// <summary>Converts a synchronous function to an executor.</summary>
    /// <param name="function">The function.</param>
    public static implicit operator Executor<TIn, TOut>(Func<TIn, TOut> function) => Executor.Create(function);

    /// <summary>Converts a synchronous function that observes cancellation to an executor.</summary>
    /// <param name="function">The function.</param>
    public static implicit operator Executor<TIn, TOut>(Func<TIn, CancellationToken, TOut> function) => Executor.Create(function);

    /// <summary>Converts an asynchronous function to an executor.</summary>
    /// <param name="function">The function.</param>
    public static implicit operator Executor<TIn, TOut>(Func<TIn, CancellationToken, ValueTask<TOut>> function) => Executor.Create(function);
}
