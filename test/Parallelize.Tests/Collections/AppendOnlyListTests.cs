using Parallelize.Collections;

namespace Parallelize.Tests.Collections;

public sealed class AppendOnlyListTests
{
    [Fact]
    public void Add_AcrossChunkBoundaries_KeepsEveryItemAtItsIndex()
    {
        var list = new AppendOnlyList<int>();
        for (int i = 0; i < 10_000; i++)
        {
            list.Add(i * 3);
        }

        Assert.Equal(10_000, list.Count);
        for (int i = 0; i < 10_000; i++)
        {
            Assert.Equal(i * 3, list[i]);
        }

        Assert.Equal(Enumerable.Range(0, 10_000).Select(i => i * 3), list);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(3)]
    public void Indexer_OutsideTheItems_ThrowsArgumentOutOfRangeNamingIndex(int index)
    {
        var list = new AppendOnlyList<string> { "a", "b", "c" };

        Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => list[index]).ParamName);
    }

    [Fact]
    public void GetEnumerator_ItemsAddedDuringEnumeration_SeesTheItemsPresentWhenItStarted()
    {
        var list = new AppendOnlyList<int> { 1, 2 };
        var seen = new List<int>();

        foreach (int item in list)
        {
            seen.Add(item);
            list.Add(item + 10);
        }

        Assert.Equal([1, 2], seen);
        Assert.Equal(4, list.Count);
        Assert.Equal([1, 2], ((System.Collections.IEnumerable)new AppendOnlyList<int> { 1, 2 }).Cast<int>());
    }

    [Fact(Timeout = 60_000)]
    public async Task Readers_WhileOneWriterAppends_NeverSeeAMissingItem()
    {
        var list = new AppendOnlyList<string>();
        const int Items = 200_000;
        using var done = new CancellationTokenSource();

        Task reader = Task.Run(() =>
        {
            while (!done.IsCancellationRequested)
            {
                int count = list.Count;
                if (count > 0)
                {
                    Assert.Equal((count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), list[count - 1]);
                }
            }
        });
        for (int i = 0; i < Items; i++)
        {
            list.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        await done.CancelAsync();
        await reader;
        Assert.Equal(Items, list.Count);
    }
}
