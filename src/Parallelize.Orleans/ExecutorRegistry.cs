using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Parallelize.Orleans.Hosting;

namespace Parallelize.Orleans;

/// <summary>
/// The executor types a silo can host, by name. Filled by
/// <see cref="ParallelizeSiloBuilderExtensions.AddParallelizeExecutors(global::Orleans.Hosting.ISiloBuilder, Action{ExecutorRegistry})"/>;
/// register the same types on every silo of the cluster.
/// </summary>
/// <remarks>
/// An executor is a type implementing <see cref="IExecutor{TIn, TOut}"/> (run on a thread of its own on the silo) or
/// <see cref="IAsyncExecutor{TIn, TOut}"/> (run on the silo's thread pool). The silo creates one instance per executor
/// of a client's pool, through dependency injection: its constructor may take the silo's services, or nothing. An
/// instance that implements <see cref="IDisposable"/> or <see cref="IAsyncDisposable"/> is disposed when the pool stops
/// or the executor is re-created. This type is thread-safe.
/// </remarks>
public sealed class ExecutorRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ExecutorRegistration> _byName = new(StringComparer.Ordinal);

    /// <summary>Gets the registered names.</summary>
    public IReadOnlyCollection<string> Names
    {
        get
        {
            lock (_lock)
            {
                return [.. _byName.Keys];
            }
        }
    }

    /// <summary>Registers an executor type, created through the silo's dependency injection.</summary>
    /// <typeparam name="TExecutor">The executor type: an <see cref="IExecutor{TIn, TOut}"/> or an <see cref="IAsyncExecutor{TIn, TOut}"/>.</typeparam>
    /// <param name="name">The name clients use; <see langword="null"/> for the type's full name, which
    /// <see cref="OrleansExecutors.Create{TExecutor, TIn, TOut}(IClusterClient, int, OrleansExecutorOptions?)"/> uses.</param>
    /// <returns>This registry, to chain calls.</returns>
    /// <exception cref="ArgumentException"><typeparamref name="TExecutor"/> is abstract or implements neither interface, or <paramref name="name"/> is empty or already registered.</exception>
    public ExecutorRegistry Add<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TExecutor>(string? name = null)
        where TExecutor : class
    {
        Type type = typeof(TExecutor);
        if (type.IsAbstract)
        {
            throw new ArgumentException($"{type.FullName} is abstract; register a concrete executor type.", nameof(TExecutor));
        }

        List<(Type Input, Type Output)> serves = ExecutorRegistration.ServedBy(type);
        if (serves.Count == 0)
        {
            throw new ArgumentException($"{type.FullName} implements neither IExecutor<TIn, TOut> nor IAsyncExecutor<TIn, TOut>.", nameof(TExecutor));
        }

        ObjectFactory create = ActivatorUtilities.CreateFactory(type, []);
        return Add(new ExecutorRegistration(NameOrDefault(name, type), type, serves, services => create(services, null)));
    }

    /// <summary>Registers an asynchronous executor made by a factory.</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="name">The name clients use.</param>
    /// <param name="factory">Creates an executor from the silo's services, once per executor of a client's pool.</param>
    /// <returns>This registry, to chain calls.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="factory"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or already registered.</exception>
    public ExecutorRegistry Add<TIn, TOut>(string name, Func<IServiceProvider, IAsyncExecutor<TIn, TOut>> factory)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(factory);
        return Add(new ExecutorRegistration(NameOrDefault(name, typeof(IAsyncExecutor<TIn, TOut>)), typeof(IAsyncExecutor<TIn, TOut>), [(typeof(TIn), typeof(TOut))], factory));
    }

    /// <summary>Registers a synchronous executor made by a factory.</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="name">The name clients use.</param>
    /// <param name="factory">Creates an executor from the silo's services, once per executor of a client's pool.</param>
    /// <returns>This registry, to chain calls.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="factory"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or already registered.</exception>
    public ExecutorRegistry Add<TIn, TOut>(string name, Func<IServiceProvider, IExecutor<TIn, TOut>> factory)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(factory);
        return Add(new ExecutorRegistration(NameOrDefault(name, typeof(IExecutor<TIn, TOut>)), typeof(IExecutor<TIn, TOut>), [(typeof(TIn), typeof(TOut))], factory));
    }

    /// <summary>Finds a registration by name.</summary>
    internal bool TryGet(string name, [NotNullWhen(true)] out ExecutorRegistration? registration)
    {
        lock (_lock)
        {
            return _byName.TryGetValue(name, out registration);
        }
    }

    private static string NameOrDefault(string? name, Type type)
    {
        if (name is null)
        {
            return type.FullName ?? type.Name;
        }

        return name.Length > 0 ? name : throw new ArgumentException("An executor's name must not be empty.", nameof(name));
    }

    private ExecutorRegistry Add(ExecutorRegistration registration)
    {
        lock (_lock)
        {
            if (!_byName.TryAdd(registration.Name, registration))
            {
                throw new ArgumentException($"An executor named '{registration.Name}' is already registered on this silo.");
            }
        }

        return this;
    }
}
