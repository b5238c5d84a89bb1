namespace Parallelize.Orleans.Hosting;

/// <summary>One executor type registered on a silo: how to create it, and which input and result types it serves.</summary>
/// <param name="Name">The name clients ask for.</param>
/// <param name="ExecutorType">The executor's type (for messages).</param>
/// <param name="Serves">The (input, result) type pairs of the <see cref="IExecutor{TIn, TOut}"/> and <see cref="IAsyncExecutor{TIn, TOut}"/> interfaces it implements.</param>
/// <param name="Create">Creates an instance from the silo's services.</param>
internal sealed record ExecutorRegistration(
    string Name,
    Type ExecutorType,
    IReadOnlyList<(Type Input, Type Output)> Serves,
    Func<IServiceProvider, object> Create)
{
    /// <summary>Finds the (input, result) pairs a type serves as an executor.</summary>
    public static List<(Type Input, Type Output)> ServedBy(Type type) =>
    [
        .. type.GetInterfaces()
            .Where(static i => i.IsGenericType
                && (i.GetGenericTypeDefinition() == typeof(IExecutor<,>) || i.GetGenericTypeDefinition() == typeof(IAsyncExecutor<,>)))
            .Select(static i => (i.GetGenericArguments()[0], i.GetGenericArguments()[1]))
            .Distinct(),
    ];
}
