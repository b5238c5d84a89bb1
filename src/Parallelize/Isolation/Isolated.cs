using System.Buffers;
using System.Reflection;

namespace Parallelize.Isolation;

/// <summary>
/// Creates executors that run in worker processes of their own, so that an executor that crashes its process
/// (<c>Environment.FailFast</c>, a stack overflow, a native fault, <c>kill -9</c>), hangs or leaks takes only its
/// worker down: the call fails, the worker is started again, and the pool carries on.
/// </summary>
/// <remarks>
/// <para>Workers are this program started again; the first line of <c>Main</c> must be
/// <see cref="IsolatedWorker.RunIfWorker"/>. Inputs and results cross the process boundary through
/// <see cref="IsolationOptions.Codecs"/> (System.Text.Json by default).</para>
/// <para>The executor is named by its type (with a public parameterless constructor) or by a factory that can be found
/// again in the worker: a static method, or a lambda that captures nothing, with an optional argument that is
/// encoded like an input. A lambda that captures variables is refused, since its variables do not exist in the
/// worker.</para>
/// <para>What a crash costs: the input that was running uses one of its attempts (<see cref="ParallelizeOptions.MaxAttempts"/>),
/// and ends in <c>Failures</c> with a <see cref="WorkerCrashedException"/> once they are used up; the executor gets a
/// new worker process before its next call. Execution is at-least-once (a killed call may have had
/// side effects, and runs again), accounting exactly-once.</para>
/// <example>
/// <code>
/// static int Main(string[] args)
/// {
///     IsolatedWorker.RunIfWorker(args);
///     using var pool = new Parallelize&lt;string, Thumbnail&gt;(Isolated.Create&lt;NativeResizer, string, Thumbnail&gt;(count: 4));
///     foreach (string path in paths) pool.Invoke(path);
///     pool.Wait();
///     return 0;
/// }
/// </code>
/// </example>
/// </remarks>
public static class Isolated
{
    /// <summary>
    /// Creates <paramref name="count"/> isolated executors, each an instance of <typeparamref name="TExecutor"/>
    /// created in its own worker process.
    /// </summary>
    /// <typeparam name="TExecutor">An <see cref="IExecutor{TIn, TOut}"/> or <see cref="IAsyncExecutor{TIn, TOut}"/> with a public parameterless constructor.</typeparam>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="count">How many executors (worker processes at a time).</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <returns>The executors, to pass to a pool.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    /// <exception cref="ArgumentException"><typeparamref name="TExecutor"/> implements neither executor interface, or is abstract.</exception>
    /// <exception cref="InvalidOperationException">The worker program cannot be run (it has no runtime configuration beside it).</exception>
    public static IsolatedExecutors<TIn, TOut> Create<TExecutor, TIn, TOut>(int count, IsolationOptions? options = null)
        where TExecutor : class, new()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Type type = typeof(TExecutor);
        if (type.IsAbstract || !(typeof(IExecutor<TIn, TOut>).IsAssignableFrom(type) || typeof(IAsyncExecutor<TIn, TOut>).IsAssignableFrom(type)))
        {
            throw new ArgumentException(
                $"{type.FullName} must be a concrete class implementing IExecutor<{typeof(TIn).Name}, {typeof(TOut).Name}> or IAsyncExecutor<{typeof(TIn).Name}, {typeof(TOut).Name}>.",
                nameof(TExecutor));
        }

        options ??= new IsolationOptions();
        ExecutorSpec spec = Spec<TIn, TOut>(options) with { ExecutorType = type.AssemblyQualifiedName };
        return Build<TIn, TOut>(count, options, type.Assembly, spec);
    }

    /// <summary>Creates <paramref name="count"/> isolated executors, each created in its own worker process by <paramref name="factory"/>.</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="count">How many executors (worker processes at a time).</param>
    /// <param name="factory">A static method, or a lambda that captures nothing; it runs in the worker process.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <returns>The executors, to pass to a pool.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="factory"/> captures variables, or is generic.</exception>
    /// <exception cref="InvalidOperationException">The worker program cannot be run.</exception>
    public static IsolatedExecutors<TIn, TOut> Create<TIn, TOut>(int count, Func<IExecutor<TIn, TOut>> factory, IsolationOptions? options = null) =>
        FromFactory<TIn, TOut>(count, factory, null, null, options);

    /// <summary>Creates <paramref name="count"/> isolated executors, each created in its own worker process by <paramref name="factory"/>.</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="count">How many executors (worker processes at a time).</param>
    /// <param name="factory">A static method, or a lambda that captures nothing; it runs in the worker process.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <returns>The executors, to pass to a pool.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="factory"/> captures variables, or is generic.</exception>
    /// <exception cref="InvalidOperationException">The worker program cannot be run.</exception>
    public static IsolatedExecutors<TIn, TOut> Create<TIn, TOut>(int count, Func<IAsyncExecutor<TIn, TOut>> factory, IsolationOptions? options = null) =>
        FromFactory<TIn, TOut>(count, factory, null, null, options);

    /// <summary>
    /// Creates <paramref name="count"/> isolated executors, each created in its own worker process by
    /// <paramref name="factory"/> called with <paramref name="argument"/>, which crosses into the worker through the
    /// codecs like an input.
    /// </summary>
    /// <typeparam name="TArgument">The type of the factory's argument.</typeparam>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="count">How many executors (worker processes at a time).</param>
    /// <param name="factory">A static method, or a lambda that captures nothing; it runs in the worker process.</param>
    /// <param name="argument">The factory's argument (a connection string, a model path, settings).</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <returns>The executors, to pass to a pool.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="factory"/> captures variables, or is generic.</exception>
    /// <exception cref="InvalidOperationException">The worker program cannot be run.</exception>
    public static IsolatedExecutors<TIn, TOut> Create<TArgument, TIn, TOut>(int count, Func<TArgument, IExecutor<TIn, TOut>> factory, TArgument argument, IsolationOptions? options = null) =>
        FromFactory<TIn, TOut>(count, factory, typeof(TArgument), Encode(argument, options), options);

    /// <summary>
    /// Creates <paramref name="count"/> isolated executors, each created in its own worker process by
    /// <paramref name="factory"/> called with <paramref name="argument"/>, which crosses into the worker through the
    /// codecs like an input.
    /// </summary>
    /// <typeparam name="TArgument">The type of the factory's argument.</typeparam>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="count">How many executors (worker processes at a time).</param>
    /// <param name="factory">A static method, or a lambda that captures nothing; it runs in the worker process.</param>
    /// <param name="argument">The factory's argument.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <returns>The executors, to pass to a pool.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="factory"/> captures variables, or is generic.</exception>
    /// <exception cref="InvalidOperationException">The worker program cannot be run.</exception>
    public static IsolatedExecutors<TIn, TOut> Create<TArgument, TIn, TOut>(int count, Func<TArgument, IAsyncExecutor<TIn, TOut>> factory, TArgument argument, IsolationOptions? options = null) =>
        FromFactory<TIn, TOut>(count, factory, typeof(TArgument), Encode(argument, options), options);

    private static byte[] Encode<TArgument>(TArgument argument, IsolationOptions? options)
    {
        var buffer = new ArrayBufferWriter<byte>();
        (options ?? new IsolationOptions()).Codecs.GetCodec<TArgument>().Encode(argument, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static IsolatedExecutors<TIn, TOut> FromFactory<TIn, TOut>(int count, Delegate factory, Type? argumentType, byte[]? argument, IsolationOptions? options)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        (string type, int token, string name) = ExecutorSpec.DescribeFactory(factory, nameof(factory));
        options ??= new IsolationOptions();
        ExecutorSpec spec = Spec<TIn, TOut>(options) with
        {
            MethodType = type,
            MethodToken = token,
            MethodName = name,
            ArgumentType = argumentType?.AssemblyQualifiedName,
            Argument = argument,
        };
        return Build<TIn, TOut>(count, options, factory.Method.DeclaringType!.Assembly, spec);
    }

    private static ExecutorSpec Spec<TIn, TOut>(IsolationOptions options) => new()
    {
        InputType = typeof(TIn).AssemblyQualifiedName!,
        OutputType = typeof(TOut).AssemblyQualifiedName!,
        Codec = options.Codecs.GetType().AssemblyQualifiedName!,
    };

    private static IsolatedExecutors<TIn, TOut> Build<TIn, TOut>(int count, IsolationOptions options, Assembly executorAssembly, ExecutorSpec spec)
    {
        WorkerLaunch launch = WorkerLaunch.For(WorkerLaunch.ChooseAssembly(options.WorkerAssembly, executorAssembly));
        return new IsolatedExecutors<TIn, TOut>(count, options, launch, spec);
    }
}
