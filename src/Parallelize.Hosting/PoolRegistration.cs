using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Parallelize.Hosting;

/// <summary>
/// What <see cref="ParallelizeBuilder{TIn, TOut}"/> recorded for one pool type: its options name, its executors and
/// the changes to its options; and how the pool is made from them once the container is built.
/// </summary>
/// <remarks>Filled while the services are registered (one thread, as service registration always is); read only after the container is built.</remarks>
internal sealed class PoolRegistration<TIn, TOut>
{
    /// <summary>The logger category of the pool (the core's own messages).</summary>
    public const string LoggerCategory = "Parallelize";

    /// <summary>The logger category of the hosting package's messages (start, stop, saving).</summary>
    public const string HostingLoggerCategory = "Parallelize.Hosting";

    private readonly IServiceCollection _services;
    private readonly List<(Func<IServiceProvider, Executor<TIn, TOut>> Create, int Count)> _executors = [];
    private readonly List<Type> _scopedExecutorTypes = [];
    private readonly List<Func<ParallelizeOptions, IServiceProvider, ParallelizeOptions>> _configurePool = [];

    public PoolRegistration(IServiceCollection services, string optionsName)
    {
        _services = services;
        OptionsName = optionsName;
    }

    public string OptionsName { get; }

    public void AddExecutor(Func<IServiceProvider, Executor<TIn, TOut>> create, int count) => _executors.Add((create, count));

    /// <summary>Records an executor type resolved per scope, to refuse it at start if it turns out registered as a singleton.</summary>
    public void AddScopedExecutorType(Type type) => _scopedExecutorTypes.Add(type);

    public void ConfigurePool(Func<ParallelizeOptions, IServiceProvider, ParallelizeOptions> configure) => _configurePool.Add(configure);

    /// <summary>Makes the pool's options: the bound settings, then what dependency injection provides, then the user's changes.</summary>
    public ParallelizeOptions CreateOptions(IServiceProvider services)
    {
        ParallelizeHostingOptions settings = services.GetRequiredService<IOptionsMonitor<ParallelizeHostingOptions>>().Get(OptionsName);
        ParallelizeOptions options = settings.ToPoolOptions() with
        {
            Logger = services.GetService<ILoggerFactory>()?.CreateLogger(LoggerCategory),
            MeterFactory = services.GetService<IMeterFactory>(),
            TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System,
        };
        foreach (Func<ParallelizeOptions, IServiceProvider, ParallelizeOptions> configure in _configurePool)
        {
            options = configure(options, services)
                ?? throw new InvalidOperationException($"A ConfigurePool callback of {PoolName} returned null; return the options, changed or not.");
        }

        return options;
    }

    /// <summary>Creates the pool and starts its executors (deferred ones are created on their workers).</summary>
    public Parallelize<TIn, TOut> CreatePool(IServiceProvider services)
    {
        foreach (Type type in _scopedExecutorTypes)
        {
            ServiceDescriptor? descriptor = _services.LastOrDefault(d => d.ServiceType == type && !d.IsKeyedService);
            if (descriptor?.Lifetime == ServiceLifetime.Singleton)
            {
                throw new InvalidOperationException(
                    $"{type} is registered as a singleton, so every executor of {PoolName} would share one instance, but the pool calls each "
                    + "executor from one worker at a time. Register it as scoped or transient, or leave it unregistered: AddExecutor registers it as scoped.");
            }
        }

        ParallelizeOptions options = CreateOptions(services);
        var executors = new List<Executor<TIn, TOut>>();
        foreach ((Func<IServiceProvider, Executor<TIn, TOut>> create, int count) in _executors)
        {
            for (int i = 0; i < count; i++)
            {
                executors.Add(create(services) ?? throw new InvalidOperationException($"An executor factory of {PoolName} returned null."));
            }
        }

        if (executors.Count == 0)
        {
            throw new InvalidOperationException(
                $"{PoolName} has no executors: call AddExecutor or AddAsyncExecutor on the builder that AddParallelize returned.");
        }

        return new Parallelize<TIn, TOut>(executors, options);
    }

    /// <summary>Creates the logger of the hosting package's messages.</summary>
    public static ILogger CreateLogger(IServiceProvider services) =>
        services.GetService<ILoggerFactory>()?.CreateLogger(HostingLoggerCategory) ?? NullLogger.Instance;

    public static string PoolName => $"Parallelize<{typeof(TIn).Name}, {typeof(TOut).Name}>";
}
