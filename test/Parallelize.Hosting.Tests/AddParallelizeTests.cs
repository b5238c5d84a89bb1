using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Parallelize.Hosting.Tests.Support;

namespace Parallelize.Hosting.Tests;

/// <summary>Registration and options: what AddParallelize binds, checks and takes from the container.</summary>
public sealed class AddParallelizeTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task AddParallelize_ConfigurationSection_IsBoundIntoThePoolsOptions()
    {
        using IHost host = TestHost.Build(
            services => services.AddParallelize<int, int>("Jobs").AddAsyncExecutor<EchoAsyncExecutor>(count: 2),
            new()
            {
                ["Jobs:Name"] = "jobs",
                ["Jobs:MaxAttempts"] = "5",
                ["Jobs:MaxRestarts"] = "0",
                ["Jobs:RestartWindow"] = "00:00:30",
                ["Jobs:RestartBackoff"] = "00:00:00.005",
                ["Jobs:MaxRestartBackoff"] = "00:00:02",
                ["Jobs:BoundedCapacity"] = "64",
                ["Jobs:RetainResults"] = "false",
                ["Jobs:OrderedResults"] = "true",
                ["Jobs:ProgressInterval"] = "00:00:01",
                ["Jobs:RetryDelay"] = "00:00:00.250",
                ["Jobs:MaxRetryDelay"] = "00:00:05",
                ["Jobs:CallTimeout"] = "00:00:30",
                ["Jobs:RestartOnEveryFault"] = "true",
                ["Jobs:DetectOutages"] = "false",
                ["Jobs:FlowExecutionContext"] = "false",
            });

        await host.StartAsync();
        ParallelizeOptions options = host.Services.GetRequiredService<Parallelize<int, int>>().Options;
        await host.StopAsync();

        Assert.Equal("jobs", options.Name);
        Assert.Equal(5, options.MaxAttempts);
        Assert.Equal(0, options.MaxRestarts);
        Assert.Equal(TimeSpan.FromSeconds(30), options.RestartWindow);
        Assert.Equal(TimeSpan.FromMilliseconds(5), options.RestartBackoff);
        Assert.Equal(TimeSpan.FromSeconds(2), options.MaxRestartBackoff);
        Assert.Equal(64, options.BoundedCapacity);
        Assert.False(options.RetainResults);
        Assert.True(options.OrderedResults);
        Assert.Equal(TimeSpan.FromSeconds(1), options.ProgressInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.RetryDelay);
        Assert.Equal(TimeSpan.FromSeconds(5), options.MaxRetryDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), options.CallTimeout);
        Assert.True(options.RestartOnEveryFault);
        Assert.Null(options.Outages);
        Assert.False(options.FlowExecutionContext);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task AddParallelize_NoConfiguration_UsesTheDefaultsOfTheCore()
    {
        using IHost host = TestHost.Build(services => services.AddParallelize<int, int>().AddAsyncExecutor<EchoAsyncExecutor>());

        await host.StartAsync();
        ParallelizeOptions options = host.Services.GetRequiredService<Parallelize<int, int>>().Options;
        await host.StopAsync();

        Assert.Equal(new ParallelizeOptions() with { Logger = options.Logger, MeterFactory = options.MeterFactory }, options);
        var settings = new ParallelizeHostingOptions();
        Assert.Null(settings.ShutdownFinishTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.ShutdownMargin);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task AddParallelize_LoggerMeterFactoryAndClock_ComeFromTheContainer()
    {
        var clock = new ManualTimeProvider();
        using IHost host = TestHost.Build(services =>
        {
            services.AddSingleton<TimeProvider>(clock);
            services.AddParallelize<int, int>().AddAsyncExecutor<EchoAsyncExecutor>();
        });

        await host.StartAsync();
        ParallelizeOptions options = host.Services.GetRequiredService<Parallelize<int, int>>().Options;
        await host.StopAsync(new CancellationToken(canceled: true));

        Assert.NotNull(options.Logger);
        Assert.Same(host.Services.GetRequiredService<IMeterFactory>(), options.MeterFactory);
        Assert.Same(clock, options.TimeProvider);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Configure_InCode_OverridesConfigurationAndConfigurePoolSetsWhatConfigurationCannot()
    {
        var progress = new Progress<ParallelizeProgress>();
        using IHost host = TestHost.Build(
            services => services.AddParallelize<int, int>()
                .AddAsyncExecutor<EchoAsyncExecutor>()
                .Configure(settings => settings.MaxAttempts = 7)
                .ConfigurePool((options, provider) => options with { Progress = progress, Name = options.Name + "+" + (provider is not null) }),
            new() { ["Parallelize:MaxAttempts"] = "2", ["Parallelize:Name"] = "named" });

        await host.StartAsync();
        ParallelizeOptions options = host.Services.GetRequiredService<Parallelize<int, int>>().Options;
        await host.StopAsync();

        Assert.Equal(7, options.MaxAttempts);
        Assert.Same(progress, options.Progress);
        Assert.Equal("named+True", options.Name);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Start_InvalidSettings_FailsListingEveryBadValue()
    {
        using IHost host = TestHost.Build(
            services => services.AddParallelize<int, int>().AddAsyncExecutor<EchoAsyncExecutor>(),
            new()
            {
                ["Parallelize:MaxAttempts"] = "0",
                ["Parallelize:RestartWindow"] = "-00:00:01",
                ["Parallelize:BoundedCapacity"] = "0",
                ["Parallelize:ShutdownMargin"] = "-00:00:01",
                ["Parallelize:ShutdownFinishTimeout"] = "-00:00:01",
                ["Parallelize:CallTimeout"] = "00:00:00",
            });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal(6, error.Failures.Count());
        Assert.Contains(error.Failures, failure => failure.Contains("CallTimeout must be greater than zero", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.Contains("MaxAttempts must be at least 1", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.Contains("RestartWindow must be greater than zero", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.Contains("BoundedCapacity must be at least 1", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.Contains("ShutdownMargin must be zero or more", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.Contains("ShutdownFinishTimeout must be zero or more", StringComparison.Ordinal));
        Assert.Equal(0, host.Services.GetRequiredService<ProbeLog>().Creations.Count); // no executor was made
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Start_NoExecutors_FailsNamingTheMethodsThatAddThem()
    {
        using IHost host = TestHost.Build(services => services.AddParallelize<int, int>());

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("Parallelize<Int32, Int32> has no executors", error.Message, StringComparison.Ordinal);
        Assert.Contains("AddExecutor or AddAsyncExecutor", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Start_ExecutorRegisteredAsASingleton_IsRefusedBecauseExecutorsWouldShareIt()
    {
        using IHost host = TestHost.Build(services =>
        {
            services.AddSingleton<EchoAsyncExecutor>();
            services.AddParallelize<int, int>().AddAsyncExecutor<EchoAsyncExecutor>(count: 2);
        });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("registered as a singleton", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddParallelize_SameTypesTwice_Throws()
    {
        var services = new ServiceCollection();
        services.AddParallelize<int, int>();

        var error = Assert.Throws<InvalidOperationException>(() => services.AddParallelize<int, int>());

        Assert.Contains("registered already", error.Message, StringComparison.Ordinal);
        services.AddParallelize<int, string>(); // other types are another pool
    }

    [Fact]
    public void Builder_BadArguments_ThrowNamingThem()
    {
        ParallelizeBuilder<int, int> builder = new ServiceCollection().AddParallelize<int, int>();

        Assert.Equal("services", Assert.Throws<ArgumentNullException>(() => ParallelizeServiceCollectionExtensions.AddParallelize<int, int>(null!)).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => builder.AddExecutor<EchoExecutor>(0)).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => builder.AddAsyncExecutor<EchoAsyncExecutor>(-1)).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => builder.AddExecutor(_ => Executor.Create<int, int>(x => x), 0)).ParamName);
        Assert.Equal("factory", Assert.Throws<ArgumentNullException>(() => builder.AddExecutor(null!)).ParamName);
        Assert.Equal("factory", Assert.Throws<ArgumentNullException>(() => builder.UseAbortedInputStore(null!)).ParamName);
        Assert.Equal("configure", Assert.Throws<ArgumentNullException>(() => builder.Configure(null!)).ParamName);
        Assert.Equal("configure", Assert.Throws<ArgumentNullException>(() => builder.ConfigurePool(null!)).ParamName);
        Assert.Equal("path", Assert.Throws<ArgumentException>(() => builder.UseJsonFileAbortedInputStore(" ")).ParamName);
        Assert.Equal(typeof(Parallelize<int, int>).FullName, builder.OptionsName);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ConfigurePool_ReturnsNull_StartFailsSayingSo()
    {
        using IHost host = TestHost.Build(services => services.AddParallelize<int, int>()
            .AddAsyncExecutor<EchoAsyncExecutor>()
            .ConfigurePool((_, _) => null!));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("returned null", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task AddExecutor_Factory_IsCalledOncePerExecutorWithTheContainer()
    {
        int made = 0;
        using IHost host = TestHost.Build(services => services.AddParallelize<int, int>().AddExecutor(
            provider =>
            {
                Interlocked.Increment(ref made);
                Assert.NotNull(provider.GetService<IHostEnvironment>());
                return Executor.Create<int, int>(x => x * 2);
            },
            count: 3));

        await host.StartAsync();
        Parallelize<int, int> pool = host.Services.GetRequiredService<Parallelize<int, int>>();
        pool.Invoke(21);
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);
        await host.StopAsync();

        Assert.Equal(3, made);
        Assert.Equal([42], pool.Results);
    }
}
