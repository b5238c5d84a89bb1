using Parallelize.Orleans.Hosting;

namespace Parallelize.Orleans;

/// <summary>
/// Creates the executors of a <see cref="Parallelize{TIn, TOut}"/> pool as grains on an Orleans cluster, from a
/// client: every executor is an instance of a type registered on the silos
/// (<see cref="ParallelizeSiloBuilderExtensions.AddParallelizeExecutors"/>), created on a silo chosen by the client,
/// one grain per executor.
/// </summary>
/// <example>
/// <code>
/// await using ClusterExecutors&lt;int, string&gt; executors = OrleansExecutors.Create&lt;Thumbnailer, int, string&gt;(client, count: 30);
/// using var pool = new Parallelize&lt;int, string&gt;(executors);
/// foreach (int photo in photos) pool.Invoke(photo);
/// pool.Wait();
/// </code>
/// </example>
public static class OrleansExecutors
{
    /// <summary>Creates <paramref name="count"/> executors of type <typeparamref name="TExecutor"/>, registered on the silos under its full name.</summary>
    /// <typeparam name="TExecutor">The executor type, an <see cref="IExecutor{TIn, TOut}"/> or <see cref="IAsyncExecutor{TIn, TOut}"/> registered on every silo with <c>r.Add&lt;TExecutor&gt;()</c>.</typeparam>
    /// <typeparam name="TIn">The type of the inputs; Orleans must be able to serialize it.</typeparam>
    /// <typeparam name="TOut">The type of the results; Orleans must be able to serialize it.</typeparam>
    /// <param name="client">A started client of the cluster.</param>
    /// <param name="count">How many executors (grains) to run, at least 1.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <returns>The executors, to pass to the pool. Dispose them after the pool.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    /// <exception cref="ArgumentException"><typeparamref name="TExecutor"/> does not implement <c>IExecutor&lt;TIn, TOut&gt;</c> or <c>IAsyncExecutor&lt;TIn, TOut&gt;</c>.</exception>
    public static ClusterExecutors<TIn, TOut> Create<TExecutor, TIn, TOut>(IClusterClient client, int count, OrleansExecutorOptions? options = null)
        where TExecutor : class
    {
        Type type = typeof(TExecutor);
        if (!ExecutorRegistration.ServedBy(type).Contains((typeof(TIn), typeof(TOut))))
        {
            throw new ArgumentException(
                $"{type.FullName} implements neither IExecutor<{typeof(TIn).Name}, {typeof(TOut).Name}> nor IAsyncExecutor<{typeof(TIn).Name}, {typeof(TOut).Name}>.",
                nameof(TExecutor));
        }

        return Create<TIn, TOut>(client, type.FullName ?? type.Name, count, options);
    }

    /// <summary>Creates <paramref name="count"/> executors of the type registered on the silos as <paramref name="executorName"/>.</summary>
    /// <typeparam name="TIn">The type of the inputs; Orleans must be able to serialize it.</typeparam>
    /// <typeparam name="TOut">The type of the results; Orleans must be able to serialize it.</typeparam>
    /// <param name="client">A started client of the cluster.</param>
    /// <param name="executorName">The name given to <see cref="ExecutorRegistry.Add{TExecutor}(string?)"/> on the silos.</param>
    /// <param name="count">How many executors (grains) to run, at least 1.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <returns>The executors, to pass to the pool. Dispose them after the pool.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> or <paramref name="executorName"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="executorName"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    public static ClusterExecutors<TIn, TOut> Create<TIn, TOut>(IClusterClient client, string executorName, int count, OrleansExecutorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(executorName);
        if (count < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "The number of executors must be at least 1.");
        }

        return new ClusterExecutors<TIn, TOut>(client, executorName, count, options ?? new OrleansExecutorOptions());
    }
}
