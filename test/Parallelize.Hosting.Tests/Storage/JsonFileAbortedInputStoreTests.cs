using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Parallelize.Hosting.Tests.Support;

namespace Parallelize.Hosting.Tests.Storage;

public sealed class JsonFileAbortedInputStoreTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("parallelize-store-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact(Timeout = Timeouts.Test)]
    public async Task SaveAsync_ThenLoadAsync_ReturnsTheInputsInOrderAndLeavesNoTemporaryFile()
    {
        var store = new JsonFileAbortedInputStore<string>(Path.Combine(_folder.FullName, "nested", "aborted.json"));

        await store.SaveAsync(["b", "a", "c"], CancellationToken.None);

        Assert.Equal(["b", "a", "c"], await store.LoadAsync(CancellationToken.None));
        Assert.Equal(["aborted.json"], Directory.GetFiles(Path.GetDirectoryName(store.Path)!).Select(Path.GetFileName));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task SaveAsync_Again_ReplacesTheSaveAndNoneRemovesTheFile()
    {
        var store = new JsonFileAbortedInputStore<int>(Path.Combine(_folder.FullName, "aborted.json"));
        await store.SaveAsync([1, 2, 3], CancellationToken.None);

        await store.SaveAsync([4], CancellationToken.None);
        IReadOnlyList<int> replaced = await store.LoadAsync(CancellationToken.None);
        await store.SaveAsync([], CancellationToken.None);

        Assert.Equal([4], replaced);
        Assert.False(File.Exists(store.Path));
        Assert.Empty(await store.LoadAsync(CancellationToken.None));
        await store.SaveAsync([], CancellationToken.None); // no file and nothing to save: still fine
    }

    [Fact]
    public void Constructor_BadPath_ThrowsNamingIt()
    {
        Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => new JsonFileAbortedInputStore<int>(null!)).ParamName);
        Assert.Equal("path", Assert.Throws<ArgumentException>(() => new JsonFileAbortedInputStore<int>("")).ParamName);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task UseJsonFileAbortedInputStore_RelativePath_IsTakenFromTheContentRoot()
    {
        using IHost host = new HostBuilder()
            .UseContentRoot(_folder.FullName)
            .ConfigureServices(services => services.AddParallelize<int, int>().UseJsonFileAbortedInputStore("state/aborted.json"))
            .Build();

        var store = (JsonFileAbortedInputStore<int>)host.Services.GetRequiredService<IAbortedInputStore<int>>();

        Assert.Equal(Path.Combine(_folder.FullName, "state", "aborted.json"), store.Path);
    }
}
