namespace Parallelize.Core;

/// <summary>The execution context a thread starts with when nothing flows into it: what calls from an untouched context carry.</summary>
internal static class EmptyContext
{
    /// <summary>Gets the empty context (the runtime's single default instance), read once, on a thread started with nothing flowing into it.</summary>
    public static ExecutionContext? Value { get; } = Read();

    private static ExecutionContext? Read()
    {
        ExecutionContext? empty = null;
        var thread = new Thread(() => empty = ExecutionContext.Capture()) { IsBackground = true, Name = "Parallelize context probe" };
        thread.UnsafeStart();
        thread.Join();
        return empty;
    }
}
