using Agentry.Memory;

namespace Agentry.Tests.Memory.Stores;

/// The contract for long-term memory items, on every backend.
public sealed partial class When_a_store_keeps_memory
{
    private static MemoryItem Item(string tenant, string user, string text, int minute, MemoryKind kind = MemoryKind.Fact) =>
        new(Guid.NewGuid(), tenant, user, text, kind, Guid.NewGuid(), At.AddMinutes(minute).AddTicks(1234));

    [Test]
    public async Task Should_list_a_users_items_oldest_first_and_add_each_only_once()
    {
        var user = Guid.NewGuid().ToString();
        var later = Item("acme", user, "Prefers answers in French", 5, MemoryKind.Preference);
        var earlier = Item("acme", user, "Works at the Lyon office", 1) with { SourceRunId = null };
        await Store.Items.AddItemAsync(later, None);
        await Store.Items.AddItemAsync(earlier, None);
        await Store.Items.AddItemAsync(later with { Text = "redelivered" }, None);

        var items = await Store.Items.ListItemsAsync("acme", user, None);

        Assert.That(items, Is.EqualTo(new[] { earlier, later }));
    }

    [Test]
    public async Task Should_delete_one_item_then_all_of_a_users_items()
    {
        var user = Guid.NewGuid().ToString();
        var (a, b, c) = (Item("acme", user, "a", 1), Item("acme", user, "b", 2), Item("acme", user, "c", 3));
        var otherUser = Item("acme", "someone-else", "kept", 1);
        foreach (var item in new[] { a, b, c, otherUser })
        {
            await Store.Items.AddItemAsync(item, None);
        }

        Assert.That(await Store.Items.DeleteItemAsync("acme", user, b.Id, None), Is.True);
        Assert.That(await Store.Items.DeleteItemAsync("acme", user, b.Id, None), Is.False);
        Assert.That(await Store.Items.DeleteItemAsync("acme", user, otherUser.Id, None), Is.False, "an item is deleted only through its own user");
        Assert.That((await Store.Items.ListItemsAsync("acme", user, None)).Select(i => i.Text), Is.EqualTo(new[] { "a", "c" }));

        Assert.That(await Store.Items.DeleteItemsAsync("acme", user, None), Is.EqualTo(2));
        Assert.That(await Store.Items.ListItemsAsync("acme", user, None), Is.Empty);
        Assert.That(await Store.Items.ListItemsAsync("acme", "someone-else", None), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Should_find_a_users_items_by_shared_words_best_first()
    {
        var user = Guid.NewGuid().ToString();
        await Store.Items.AddItemAsync(Item("acme", user, "Likes green tea in the morning", 1), None);
        await Store.Items.AddItemAsync(Item("acme", user, "Drinks TEA, never coffee", 2), None);
        await Store.Items.AddItemAsync(Item("acme", user, "Owns a steam engine", 3), None);
        await Store.Items.AddItemAsync(Item("acme", user, "Green is the favourite colour", 4), None);

        var found = await Store.Items.SearchItemsAsync("acme", user, "green tea?", 10, None);
        var top = await Store.Items.SearchItemsAsync("acme", user, "tea", 1, None);

        Assert.That(found.Select(i => i.Text), Is.EqualTo(new[] { "Likes green tea in the morning", "Green is the favourite colour", "Drinks TEA, never coffee" }),
            "two shared words first, then one, newest first; 'steam' contains 'tea' but not as a word");
        Assert.That(top.Select(i => i.Text), Is.EqualTo(new[] { "Drinks TEA, never coffee" }));
        Assert.That(await Store.Items.SearchItemsAsync("acme", user, "  ?! ", 10, None), Is.Empty);
    }

    [Test]
    public async Task Should_keep_one_tenants_items_from_another_with_the_same_user()
    {
        var user = Guid.NewGuid().ToString();
        var acme = Item("acme", user, "secret plan for tea", 1);
        await Store.Items.AddItemAsync(acme, None);

        Assert.That(await Store.Items.ListItemsAsync("globex", user, None), Is.Empty);
        Assert.That(await Store.Items.SearchItemsAsync("globex", user, "tea", 10, None), Is.Empty);
        Assert.That(await Store.Items.DeleteItemAsync("globex", user, acme.Id, None), Is.False);
        Assert.That(await Store.Items.DeleteItemsAsync("globex", user, None), Is.EqualTo(0));
        Assert.That(await Store.Items.ListItemsAsync("acme", user, None), Is.EqualTo(new[] { acme }));
    }
}
