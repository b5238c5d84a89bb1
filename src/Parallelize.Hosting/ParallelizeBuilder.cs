using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Parallelize.Hosting;

/// <summary>
/// Configures the pool that
/// <see cref="ParallelizeServiceCollectionExtensions.AddParallelize{TIn, TOut}(IServiceCollection, string?)"/>
/// registered: its executors, its options, and where its aborted inputs go.
/// </summary>
/// <typeparam name="TIn">The type of the pool's inputs.</typeparam>
/// <typeparam name="TOut">The type of the pool's results.</typeparam>
/// <remarks>
/// <code>
/// builder.Services.AddParallelize&lt;Uri, Page&gt;()          // binds the "Parallelize" section
///     .AddAsyncExecutor&lt;PageFetcher&gt;(count: 8)            // 8 executors, each with its own scope
///     .UseJsonFileAbortedInputStore("state/aborted.json"); // what a stop aborted, done first by the next run
/// </code>
/// </remarks>
public sealed class ParallelizeBuilder<TIn, TOut>
{
    private readonly PoolRegistration<TIn, TOut> _registration;

    internal ParallelizeBuilder(IServiceCollection services, PoolRegistration<TIn, TOut> registration)
    {
        Services = services;
        _registration = registration;
    }

    /// <summary>Gets the service collection the pool is registered in.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Gets the name of the pool's <see cref="ParallelizeHostingOptions"/> (named options, one name per pool type), for <c>services.Configure&lt;ParallelizeHostingOptions&gt;(name, ...)</c>.</summary>
    public string OptionsName => _registration.OptionsName;

    /// <summary>
    /// Adds <paramref name="count"/> synchronous executors of type <typeparamref name="TExecutor"/>, each resolved from
    /// dependency injection in a scope of its own, created on the executor's worker thread and disposed with the
    /// executor (when the pool restarts it after a fault, retires it, or stops). <typeparamref name="TExecutor"/> is
    /// registered as scoped unless it is registered already; a singleton registration is refused when the pool is
    /// created, since executors must not share an instance.
    /// </summary>
    /// <typeparam name="TExecutor">The executor type.</typeparam>
    /// <param name="count">How many executors of this type the pool runs; each gets a dedicated thread.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    public ParallelizeBuilder<TIn, TOut> AddExecutor<TExecutor>(int count = 1)
        where TExecutor : class, IExecutor<TIn, TOut>
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Services.TryAddScoped<TExecutor>();
        _registration.AddScopedExecutorType(typeof(TExecutor));
        _registration.AddExecutor(
            static services =>
            {
                IServiceScopeFactory scopes = services.GetRequiredService<IServiceScopeFactory>();
                var logger = PoolRegistration<TIn, TOut>.CreateLogger(services);
                return Deferred.Create<TIn, TOut>(() => ScopedExecutor<TIn, TOut>.Create<TExecutor>(scopes, logger));
            },
            count);
        return this;
    }

    /// <summary>
    /// Adds <paramref name="count"/> asynchronous executors of type <typeparamref name="TExecutor"/>, each resolved
    /// from dependency injection in a scope of its own and disposed with the executor, like
    /// <see cref="AddExecutor{TExecutor}(int)"/>.
    /// </summary>
    /// <typeparam name="TExecutor">The executor type.</typeparam>
    /// <param name="count">How many executors of this type the pool runs, that is how many of its calls run at once.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    public ParallelizeBuilder<TIn, TOut> AddAsyncExecutor<TExecutor>(int count = 1)
        where TExecutor : class, IAsyncExecutor<TIn, TOut>
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Services.TryAddScoped<TExecutor>();
        _registration.AddScopedExecutorType(typeof(TExecutor));
        _registration.AddExecutor(
            static services =>
            {
                IServiceScopeFactory scopes = services.GetRequiredService<IServiceScopeFactory>();
                var logger = PoolRegistration<TIn, TOut>.CreateLogger(services);
                return Deferred.Create<TIn, TOut>(_ => ScopedAsyncExecutor<TIn, TOut>.CreateAsync<TExecutor>(scopes, logger));
            },
            count);
        return this;
    }

    /// <summary>
    /// Adds <paramref name="count"/> executors made by <paramref name="factory"/> from the root service provider when
    /// the pool is created: delegates, instances, <see cref="Deferred"/> factories, or what an adapter such as
    /// Parallelize.Polly makes. The factory is called once per executor.
    /// </summary>
    /// <param name="factory">Makes one executor.</param>
    /// <param name="count">How many executors to make.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    public ParallelizeBuilder<TIn, TOut> AddExecutor(Func<IServiceProvider, Executor<TIn, TOut>> factory, int count = 1)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        _registration.AddExecutor(factory, count);
        return this;
    }

    /// <summary>Changes the pool's settings in code, after configuration is bound (the options pattern's <c>Configure</c>).</summary>
    /// <param name="configure">Changes the settings.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="configure"/> is <see langword="null"/>.</exception>
    public ParallelizeBuilder<TIn, TOut> Configure(Action<ParallelizeHostingOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(OptionsName, configure);
        return this;
    }

    /// <summary>
    /// Changes the pool's own options when the pool is created, for what configuration cannot express (such as
    /// <see cref="ParallelizeOptions.Progress"/>). The options passed in carry the bound settings, the logger and meter
    /// factory of the container, and its <see cref="TimeProvider"/> if one is registered.
    /// </summary>
    /// <param name="configure">Returns the options to use, typically <c>(options, services) =&gt; options with { ... }</c>.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="configure"/> is <see langword="null"/>.</exception>
    public ParallelizeBuilder<TIn, TOut> ConfigurePool(Func<ParallelizeOptions, IServiceProvider, ParallelizeOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        _registration.ConfigurePool(configure);
        return this;
    }

    /// <summary>Uses <typeparamref name="TStore"/> (a singleton, resolved from dependency injection) to keep the inputs a stopping host aborted; replaces any store set before.</summary>
    /// <typeparam name="TStore">The store type.</typeparam>
    /// <returns>This builder.</returns>
    public ParallelizeBuilder<TIn, TOut> UseAbortedInputStore<TStore>()
        where TStore : class, IAbortedInputStore<TIn>
    {
        Services.RemoveAll<IAbortedInputStore<TIn>>();
        Services.AddSingleton<IAbortedInputStore<TIn>, TStore>();
        return this;
    }

    /// <summary>Uses the store <paramref name="factory"/> makes (once, as a singleton) to keep the inputs a stopping host aborted; replaces any store set before.</summary>
    /// <param name="factory">Makes the store from the container's services.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is <see langword="null"/>.</exception>
    public ParallelizeBuilder<TIn, TOut> UseAbortedInputStore(Func<IServiceProvider, IAbortedInputStore<TIn>> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Services.RemoveAll<IAbortedInputStore<TIn>>();
        Services.AddSingleton(factory);
        return this;
    }

    /// <summary>
    /// Keeps the inputs a stopping host aborted in a JSON file (see <see cref="JsonFileAbortedInputStore{TIn}"/>); the
    /// next run loads them and does them first. Replaces any store set before.
    /// </summary>
    /// <param name="path">The file; a relative path is taken from the host's content root.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or white space.</exception>
    public ParallelizeBuilder<TIn, TOut> UseJsonFileAbortedInputStore(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return UseAbortedInputStore(services =>
        {
            string root = services.GetService<IHostEnvironment>()?.ContentRootPath ?? Directory.GetCurrentDirectory();
            return new JsonFileAbortedInputStore<TIn>(Path.Combine(root, path));
        });
    }
}
