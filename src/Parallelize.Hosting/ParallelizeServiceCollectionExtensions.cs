using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Parallelize.Hosting;

/// <summary>Registers a <see cref="Parallelize{TIn, TOut}"/> that lives and dies with the Generic Host.</summary>
public static class ParallelizeServiceCollectionExtensions
{
    /// <summary>The configuration section <see cref="AddParallelize{TIn, TOut}(IServiceCollection, string?)"/> binds unless told otherwise.</summary>
    public const string DefaultConfigurationSection = "Parallelize";

    /// <summary>
    /// Registers a pool of <typeparamref name="TIn"/> to <typeparamref name="TOut"/> as a singleton, with its settings
    /// bound from configuration and checked when the host starts, and a hosted service that starts it with the host
    /// and stops it with the host.
    /// </summary>
    /// <typeparam name="TIn">The type of the pool's inputs.</typeparam>
    /// <typeparam name="TOut">The type of the pool's results.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configurationSectionPath">The configuration section bound to the pool's <see cref="ParallelizeHostingOptions"/>; <see langword="null"/> to bind none.</param>
    /// <returns>A builder to add the executors with, and optionally a store for aborted inputs.</returns>
    /// <remarks>
    /// <para><b>Producers</b> get the pool by injecting <see cref="Parallelize{TIn, TOut}"/> and call
    /// <c>Invoke</c>/<c>InvokeAsync</c>; once the host's stop has stopped the pool, a call is refused with
    /// <see cref="InvalidOperationException"/>.</para>
    /// <para><b>Start.</b> The pool is created (and its executors started) when the host starts, after the settings are
    /// validated; if an <see cref="IAbortedInputStore{TIn}"/> is registered, the inputs it saved are queued before any
    /// hosted service registered after this call starts.</para>
    /// <para><b>Stop.</b> When the host stops (SIGTERM, Ctrl-C, <c>StopApplication</c>), the pool refuses new calls,
    /// aborts the queued ones, gives calls in flight what is left of <c>HostOptions.ShutdownTimeout</c> less
    /// <see cref="ParallelizeHostingOptions.ShutdownMargin"/> (or <see cref="ParallelizeHostingOptions.ShutdownFinishTimeout"/>
    /// if shorter), aborts those still running, and hands every aborted input to the store. Hosted services stop in the
    /// reverse order of registration, so a producer registered after this call stops before the pool does.</para>
    /// <para>One pool per pair of types: a second call for the same types throws.</para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">A pool of these types is registered already.</exception>
    public static ParallelizeBuilder<TIn, TOut> AddParallelize<TIn, TOut>(this IServiceCollection services, string? configurationSectionPath = DefaultConfigurationSection)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(static d => d.ServiceType == typeof(PoolRegistration<TIn, TOut>)))
        {
            throw new InvalidOperationException(
                $"A {PoolRegistration<TIn, TOut>.PoolName} is registered already; AddParallelize registers one pool per pair of types.");
        }

        var registration = new PoolRegistration<TIn, TOut>(services, typeof(Parallelize<TIn, TOut>).FullName!);
        services.AddSingleton(registration);

        OptionsBuilder<ParallelizeHostingOptions> options = services.AddOptions<ParallelizeHostingOptions>(registration.OptionsName);
        if (configurationSectionPath is not null)
        {
            options.BindConfiguration(configurationSectionPath);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ParallelizeHostingOptions>, ParallelizeHostingOptionsValidator>());

        services.AddSingleton(static provider => provider.GetRequiredService<PoolRegistration<TIn, TOut>>().CreatePool(provider));
        services.AddHostedService<ParallelizeHostedService<TIn, TOut>>();
        return new ParallelizeBuilder<TIn, TOut>(services, registration);
    }
}
